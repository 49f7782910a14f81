"""Measuring a reference track (or a mix) for mixing toward it.

A reference is a finished stereo song the user wants the mix to resemble. It is
measured on its *representative loud section* and summarised by the
descriptors a mastering engineer compares by ear and meter:

=====================  ===================================================================
descriptor             how
=====================  ===================================================================
integrated loudness    ITU-R BS.1770-4 gated loudness of the whole track (LUFS)
loudness range         EBU Tech 3342 LRA of the whole track (LU)
PLR                    true peak (BS.1770-4 Annex 2) − integrated loudness (dB): the
                       peak-to-loudness ratio of EBU R 128 s1 / AES TD1008
crest                  sample peak − RMS of the loud section (dB)
tonal balance          long-term level per ERB band of the mono fold over the loud section,
                       relative to the power mean over 50 Hz–16 kHz (dB): the bands the
                       analysis uses (:mod:`workbench.analysis.bands`, Glasberg & Moore 1990)
width per band         side share ``E_S / (E_M + E_S)`` per band, ``M = (L + R) / 2``,
                       ``S = (L − R) / 2`` (Blumlein's sum/difference): 0 mono, 0.5 two
                       uncorrelated channels of equal level
L/R imbalance          level of the left channel − the right (dB) over the loud section
low-end mono           side share below :data:`LOW_END_HZ`
=====================  ===================================================================

The loud section is the set of 3-second pieces whose RMS is at or above the RMS
of the whole track (of the mid signal) — the rule matchering 2.0 uses to choose
the parts of a target and a reference it compares
(``matchering/stage_helpers/match_levels.py``, ``get_lpis_and_match_rms``:
``rmses >= average_rms``); a quiet intro or a breakdown then does not pull the
tonal balance. Several references combine by weight (:func:`combine`): levels in
dB and shares are weighted means.

:func:`load_reference` decodes WAV, FLAC, MP3 and OGG at any sample rate
(libsndfile through ``soundfile``; librosa/audioread when libsndfile cannot) and
resamples to the analysis rate (``soxr``, the resampler librosa uses).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import WorkbenchError
from .bands import Bands, erb_bands
from .spectrum import BandPowerAccumulator

__all__ = ["ReferenceMeasurement", "combine", "load_reference", "measure_audio", "measure_reference",
           "parse_reference_spec", "tonal_distance_db", "tonal_distance_file", "REFERENCE_FORMATS"]

#: Containers a reference may come in (``soundfile.info(...).format``), and their names for users.
REFERENCE_FORMATS = {"WAV": "WAV", "WAVEX": "WAV", "RF64": "WAV (RF64)", "W64": "WAV (W64)", "FLAC": "FLAC",
                     "MP3": "MP3", "MPEG": "MP3", "OGG": "OGG"}
#: Suffixes tried with librosa/audioread when libsndfile cannot open the file.
FALLBACK_SUFFIXES = (".mp3", ".ogg", ".oga", ".flac", ".wav")
#: The rate references are measured at (Hz): the project's default mix rate.
MEASURE_RATE = 44100
#: Length of the pieces the loud section is chosen from (s): matchering's pieces are at most 15 s
#: (``max_piece_size`` in ``matchering/defaults.py``); we take 3 s, the EBU short-term window (EBU Tech
#: 3341), so that short songs still have enough pieces to choose from.
PIECE_S = 3.0
#: A reference shorter than this cannot be measured (s): one short-term window.
MIN_REFERENCE_S = 3.0
#: Band range the tonal balance is normalised over and compared on (Hz), as the authored benchmark.
TONAL_RANGE_HZ = (50.0, 16000.0)
#: Upper edge of the "low end" whose mono-ness is measured (Hz): the 120 Hz the pan rules use for the
#: stems kept centred because their energy is mostly low (:mod:`workbench.mixing.rules.pan`).
LOW_END_HZ = 120.0
#: Broad regions the width is summarised over (Hz) for reports and plans.
WIDTH_REGIONS_HZ = ((20.0, 120.0), (120.0, 2000.0), (2000.0, 20000.0))
_FLOOR = 1e-20


@dataclass(frozen=True)
class ReferenceMeasurement:
    """The descriptors of a reference (or of several, combined), on the analysis' ERB bands.

    Attributes
    ----------
    source : str
        What was measured (file names and weights).
    integrated_lufs, loudness_range_lu, plr_db, crest_db : float
        Loudness (LUFS), loudness range (LU), peak-to-loudness ratio (dB), loud-section crest (dB).
    centres_hz : tuple of float
        Band centres (40 ERB bands, 20 Hz–20 kHz).
    tonal_db : tuple of float
        Level per band relative to the power mean over :data:`TONAL_RANGE_HZ` (dB).
    side_share : tuple of float
        ``E_S / (E_M + E_S)`` per band (0 mono … 0.5 uncorrelated … 1 out of phase).
    imbalance_db : float
        Left − right level of the loud section (dB).
    low_side_share : float
        Side share below :data:`LOW_END_HZ` (0: a mono low end).
    loud_seconds : float
        Length of the loud section measured (s).
    """

    source: str
    integrated_lufs: float
    loudness_range_lu: float
    plr_db: float
    crest_db: float
    centres_hz: tuple[float, ...]
    tonal_db: tuple[float, ...]
    side_share: tuple[float, ...]
    imbalance_db: float
    low_side_share: float
    loud_seconds: float

    def region_side_share(self, lo_hz: float, hi_hz: float) -> float:
        """Mean side share of the bands whose centres lie in ``[lo_hz, hi_hz)``."""
        c = np.asarray(self.centres_hz)
        keep = (c >= lo_hz) & (c < hi_hz)
        return float(np.mean(np.asarray(self.side_share)[keep])) if keep.any() else math.nan

    def to_dict(self) -> dict:
        """Plain JSON-ready numbers (rounded for reading)."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = round(v, 3)
            elif isinstance(v, tuple):
                d[k] = [round(float(x), 3) for x in v]
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "target") -> "ReferenceMeasurement":
        """Rebuild from :meth:`to_dict` output, checking each field.

        Raises
        ------
        WorkbenchError
            ``bad_style`` naming the missing or wrong field.
        """
        values = {}
        n = erb_bands().n_bands
        for name in ("integrated_lufs", "loudness_range_lu", "plr_db", "crest_db", "imbalance_db",
                     "low_side_share", "loud_seconds"):
            v = d.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise WorkbenchError("bad_style", f"{where}.{name} is {v!r}; it must be a finite number.",
                                     f"Write {where}.{name} as a number, or make the file again with "
                                     "`workbench style make`.")
            values[name] = float(v)
        for name in ("centres_hz", "tonal_db", "side_share"):
            v = d.get(name)
            if (not isinstance(v, list) or len(v) != n
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                               for x in v)):
                raise WorkbenchError("bad_style", f"{where}.{name} must be a list of {n} finite numbers "
                                     "(one per ERB band).",
                                     "Make the file again with `workbench style make`.")
            values[name] = tuple(float(x) for x in v)
        if not -36.0 <= values["integrated_lufs"] <= 0.0:
            raise WorkbenchError("bad_style", f"{where}.integrated_lufs is {values['integrated_lufs']:g}; it must "
                                 "be from -36 to 0 LUFS.", "Use a loudness a finished song has.")
        return cls(source=str(d.get("source", "")), **values)


def parse_reference_spec(spec: str) -> tuple[str, float]:
    """Split ``"song.wav:2"`` into ``("song.wav", 2.0)``; no weight means 1.

    Raises
    ------
    WorkbenchError
        ``bad_reference`` for a weight that is not a positive number.
    """
    path, sep, weight = str(spec).rpartition(":")
    if not sep or not path or os.sep in weight or "/" in weight:
        return str(spec), 1.0
    try:
        w = float(weight)
    except ValueError:
        return str(spec), 1.0      # a colon in the name (C:\...), not a weight
    if not math.isfinite(w) or w <= 0:
        raise WorkbenchError("bad_reference", f"The reference weight in {spec!r} is {weight}; it must be a "
                             "positive number.", "Write --reference song.wav:2 (twice the weight of a "
                             "reference without one), or leave the weight out.")
    return path, w


def load_reference(path: str | os.PathLike, sample_rate: int = MEASURE_RATE) -> np.ndarray:
    """Decode a reference to float32 ``(2, samples)`` at ``sample_rate`` (mono is doubled).

    Parameters
    ----------
    path : path-like
        A WAV, FLAC, MP3 or OGG file at any sample rate.
    sample_rate : int
        The rate to return (Hz).

    Returns
    -------
    np.ndarray
        ``(2, samples)`` float32.

    Raises
    ------
    WorkbenchError
        ``bad_reference``: missing, unreadable, of another format, more than two
        channels, shorter than :data:`MIN_REFERENCE_S`, non-finite or silent.
    """
    import soundfile as sf

    p = Path(path)
    fix = "Give a WAV, FLAC, MP3 or OGG file of the finished song (export one from your player or DAW)."
    if not p.is_file():
        raise WorkbenchError("bad_reference", f"The reference {p} does not exist or is not a file.", fix)
    try:
        info = sf.info(str(p))
        if info.format not in REFERENCE_FORMATS:
            raise WorkbenchError("bad_reference", f"The reference {p.name} is a {info.format_info or info.format} "
                                 "file; references may be WAV, FLAC, MP3 or OGG.", fix)
        audio, rate = sf.read(str(p), dtype="float32", always_2d=True)
        audio = audio.T
    except WorkbenchError:
        raise
    except Exception:   # libsndfile cannot open it: try librosa/audioread for the compressed formats
        audio, rate = _fallback_decode(p, fix)
    if audio.shape[0] > 2:
        raise WorkbenchError("bad_reference", f"The reference {p.name} has {audio.shape[0]} channels; a reference "
                             "is a stereo (or mono) song.", "Export the stereo mix of the song.")
    if audio.shape[0] == 1:
        audio = np.concatenate([audio, audio])
    if audio.shape[1] < MIN_REFERENCE_S * rate:
        raise WorkbenchError("bad_reference", f"The reference {p.name} lasts {audio.shape[1] / rate:.1f} s; at "
                             f"least {MIN_REFERENCE_S:g} s are needed to measure it.", "Give the whole song.")
    if not np.all(np.isfinite(audio)):
        raise WorkbenchError("bad_reference", f"The reference {p.name} holds NaN or infinite samples.",
                             "Export the song again as 16- or 24-bit audio.")
    if not np.any(audio):
        raise WorkbenchError("bad_reference", f"The reference {p.name} is silent.", fix)
    if rate != sample_rate:
        import soxr

        audio = soxr.resample(audio.T, rate, sample_rate, quality="HQ").T
    return np.ascontiguousarray(audio, dtype=np.float32)


def _fallback_decode(p: Path, fix: str) -> tuple[np.ndarray, int]:
    if p.suffix.lower() not in FALLBACK_SUFFIXES:
        raise WorkbenchError("bad_reference", f"The reference {p.name} cannot be decoded: it is not a WAV, FLAC, "
                             "MP3 or OGG file.", fix)
    try:
        import warnings

        import librosa

        with warnings.catch_warnings():       # librosa announces its audioread fallback: we say it ourselves
            warnings.simplefilter("ignore")
            y, rate = librosa.load(str(p), sr=None, mono=False)
    except Exception as exc:
        raise WorkbenchError("bad_reference", f"The reference {p.name} cannot be decoded "
                             f"({type(exc).__name__}).", fix) from None
    return np.atleast_2d(np.asarray(y, dtype=np.float32)), int(rate)


def measure_reference(path: str | os.PathLike, *, bands: Bands | None = None) -> ReferenceMeasurement:
    """Load and measure one reference file (:func:`load_reference`, :func:`measure_audio`)."""
    audio = load_reference(path, MEASURE_RATE)
    return measure_audio(audio, MEASURE_RATE, source=Path(path).name, bands=bands)


def _loud_pieces(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """Boolean mask of samples in pieces whose RMS is at or above the whole signal's RMS (matchering's rule)."""
    piece = int(PIECE_S * sample_rate)
    n = mono.size // piece
    keep = np.zeros(mono.size, dtype=bool)
    if n < 2:
        keep[:] = True
        return keep
    ms = (mono[:n * piece].astype(np.float64) ** 2).reshape(n, piece).mean(axis=1)
    loud = ms >= ms.mean()
    for i in np.nonzero(loud)[0]:
        keep[i * piece:(i + 1) * piece] = True
    return keep


def _band_energy(x: np.ndarray, sample_rate: int, bands: Bands) -> np.ndarray:
    acc = BandPowerAccumulator(sample_rate, bands=bands)
    acc.push(x)
    return np.asarray(acc.finish().band_power, dtype=np.float64).mean(axis=1)


def tonal_balance_db(band_power: np.ndarray, centres_hz: Sequence[float] | np.ndarray) -> np.ndarray:
    """Band levels (dB) relative to their power mean over :data:`TONAL_RANGE_HZ`."""
    c = np.asarray(centres_hz)
    keep = (c >= TONAL_RANGE_HZ[0]) & (c <= TONAL_RANGE_HZ[1])
    p = np.maximum(np.asarray(band_power, dtype=np.float64), _FLOOR)
    return 10 * np.log10(p) - 10 * np.log10(p[keep].mean())


def measure_audio(audio: np.ndarray, sample_rate: int, *, source: str = "", bands: Bands | None = None
                  ) -> ReferenceMeasurement:
    """Measure a stereo signal's descriptors (see the module table).

    Parameters
    ----------
    audio : np.ndarray
        ``(2, samples)`` (or ``(1, samples)``/``(samples,)``, taken as mono) float.
    sample_rate : int
        Its rate (Hz).
    source : str
        A label for reports.
    bands : Bands, optional
        Band layout (default: the analysis' 40 ERB bands).

    Returns
    -------
    ReferenceMeasurement

    Examples
    --------
    >>> sr = 44100
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.standard_normal((2, 10 * sr)).astype(np.float32) * 0.1
    >>> m = measure_audio(noise, sr)
    >>> 0.45 < m.region_side_share(120, 20000) < 0.55    # two independent channels
    True
    """
    from .loudness import measure

    bands = bands or erb_bands()
    x = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    if x.shape[0] == 1:
        x = np.concatenate([x, x])
    loud = measure(x, sample_rate)
    mid = 0.5 * (x[0] + x[1])
    side = 0.5 * (x[0] - x[1])
    keep = _loud_pieces(mid, sample_rate)
    m_sec, s_sec = mid[keep], side[keep]
    e_mid = _band_energy(m_sec, sample_rate, bands)
    e_side = _band_energy(s_sec, sample_rate, bands)
    share = e_side / np.maximum(e_mid + e_side, _FLOOR)
    c = np.asarray(bands.centres_hz)
    low = c < LOW_END_HZ
    low_share = float(e_side[low].sum() / max(float((e_mid[low] + e_side[low]).sum()), _FLOOR))
    lx, rx = x[0][keep].astype(np.float64), x[1][keep].astype(np.float64)
    imbalance = 10 * math.log10(max(float(np.mean(lx ** 2)), _FLOOR) / max(float(np.mean(rx ** 2)), _FLOOR))
    rms_db = 10 * math.log10(max(float(np.mean(np.concatenate([lx, rx]) ** 2)), _FLOOR))
    peak_db = 20 * math.log10(max(float(np.abs(x).max()), 1e-10))
    return ReferenceMeasurement(
        source=source, integrated_lufs=float(loud.integrated_lufs), loudness_range_lu=float(loud.loudness_range_lu),
        plr_db=float(loud.true_peak_dbtp - loud.integrated_lufs), crest_db=float(peak_db - rms_db),
        centres_hz=tuple(float(f) for f in c), tonal_db=tuple(float(v) for v in tonal_balance_db(e_mid, c)),
        side_share=tuple(float(v) for v in share), imbalance_db=float(imbalance), low_side_share=low_share,
        loud_seconds=float(keep.sum() / sample_rate))


def combine(measured: Sequence[tuple[ReferenceMeasurement, float]]) -> ReferenceMeasurement:
    """Several references as one target: weighted means of the descriptors.

    Levels combine as weighted means in dB (a target between the references), shares as weighted
    means; the tonal balance is re-normalised after averaging.

    Raises
    ------
    WorkbenchError
        ``bad_reference`` when nothing is given.
    """
    if not measured:
        raise WorkbenchError("bad_reference", "No reference was given.", "Give at least one --reference.")
    if len(measured) == 1:
        return measured[0][0]
    w = np.array([float(wt) for _, wt in measured])
    w = w / w.sum()
    ms = [m for m, _ in measured]

    def mean(name: str) -> float:
        return float(np.sum([wi * getattr(m, name) for wi, m in zip(w, ms)]))

    def vec(name: str) -> np.ndarray:
        return np.sum([wi * np.asarray(getattr(m, name)) for wi, m in zip(w, ms)], axis=0)

    centres = ms[0].centres_hz
    tonal = tonal_balance_db(10 ** (vec("tonal_db") / 10), centres)
    return ReferenceMeasurement(
        source=", ".join(f"{m.source} ×{wi:.2f}" for m, wi in zip(ms, w)),
        integrated_lufs=mean("integrated_lufs"), loudness_range_lu=mean("loudness_range_lu"),
        plr_db=mean("plr_db"), crest_db=mean("crest_db"), centres_hz=centres,
        tonal_db=tuple(float(v) for v in tonal), side_share=tuple(float(v) for v in vec("side_share")),
        imbalance_db=mean("imbalance_db"), low_side_share=mean("low_side_share"),
        loud_seconds=mean("loud_seconds"))


def tonal_distance_db(a: ReferenceMeasurement, b: ReferenceMeasurement) -> float:
    """RMS difference (dB) of two tonal balances over the bands in :data:`TONAL_RANGE_HZ`, mean removed."""
    c = np.asarray(a.centres_hz)
    keep = (c >= TONAL_RANGE_HZ[0]) & (c <= TONAL_RANGE_HZ[1])
    d = np.asarray(a.tonal_db)[keep] - np.asarray(b.tonal_db)[keep]
    d -= d.mean()
    return float(np.sqrt(np.mean(d ** 2)))


def tonal_distance_file(mix_path: str | os.PathLike, reference: ReferenceMeasurement) -> float:
    """Tonal distance (dB, :func:`tonal_distance_db`) of a mix file to a reference measurement.

    For the release check: the same loud-section measurement as the reference's.
    """
    audio = load_reference(mix_path, MEASURE_RATE)
    return tonal_distance_db(measure_audio(audio, MEASURE_RATE, source=Path(mix_path).name), reference)


def tonal_distance_audio(audio: np.ndarray, sample_rate: int, reference: ReferenceMeasurement) -> float:
    """Tonal distance (dB, :func:`tonal_distance_db`) of a ``(2, samples)`` signal to a reference measurement.

    The release check's measure (:mod:`workbench.release_check`): the signal is brought to the
    measuring rate and measured on its loud section, as the reference was.
    """
    x = np.asarray(audio, dtype=np.float32)
    if sample_rate != MEASURE_RATE:
        import soxr

        x = soxr.resample(np.atleast_2d(x).T, sample_rate, MEASURE_RATE, quality="HQ").T
    return tonal_distance_db(measure_audio(np.ascontiguousarray(x), MEASURE_RATE, source="this file"), reference)

