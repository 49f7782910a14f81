"""Per-stem features in one streamed pass over the file.

:func:`analyse_stem` reads a stem once, in blocks (:func:`workbench.audio_io.iter_blocks`,
which also resamples an off-rate stem to the session rate), and feeds each block to

- the loudness meter (:class:`~workbench.analysis.loudness.LoudnessMeter`:
  integrated loudness, loudness range, short-term loudness, per-frame sample peak),
- the band-power analysis of the mono fold ``mean(channels)``
  (:class:`~workbench.analysis.spectrum.BandPowerAccumulator`),
- per-frame sums: mean square per channel (with and without the frame's mean,
  i.e. its DC), and the L·R product for stereo;

then re-reads only the few frames near the sample peak for the true peak
(:func:`~workbench.analysis.loudness.true_peak`). Memory is a few arrays per
analysis frame, whatever the stem's length.

Definitions
-----------
Every time series lives on the analysis frame grid of
:func:`~workbench.analysis.spectrum.frame_length` (frame ``k`` covers samples
``[k L, (k + 1) L)``).

activity
    :func:`~workbench.analysis.spectrum.activity_from_power` of the frame's *AC
    power*: the mean over channels of each channel's mean square after removing
    the frame's own mean. Taking every channel (not the mono fold) keeps a stem
    whose channels cancel when folded "playing"; removing the frame mean (a
    high-pass at about ``1 / frame duration`` ≈ 10 Hz, below the 20 Hz lowest
    band) keeps a DC offset — a common stem defect the checks report — from
    making silence look active.
rms_dbfs
    RMS over the active frames, all channels (a full-scale sine reads
    −3.01 dBFS; the AES17 "+3 dB" sine convention is *not* used, so the crest
    factor of a sine is 3.01 dB).
crest_db
    ``sample_peak_dbfs - rms_dbfs``: peak-to-RMS ratio of the playing part.
noise_floor_dbfs
    10th percentile of the frame RMS over all the stem's frames: the level the
    stem sits on between its notes — its hiss, hum or bleed when it pauses for
    at least a tenth of its length, its quietest playing otherwise. ``-inf``
    when that level is digital silence (mean square below −140 dBFS, under the
    dither floor of 24-bit audio).
first_active_s
    Start time of the first active frame (``None`` when none is active).
active_fraction
    Active frames over the stem's own frames (the stem's length, not the
    session's).
stereo_correlation
    Zero-lag normalised cross-correlation of the first two channels over the
    active frames, ``sum(L R) / sqrt(sum(L^2) sum(R^2))`` (what a
    phase-correlation meter reads, −1..1): 1 for mono or
    identical channels, −1 for ``R = −L``, 0 when one channel is silent or the
    stem is silent.
stereo_width
    Side share of the mid/side energy over the active frames,
    ``sum(S^2) / (sum(M^2) + sum(S^2))`` with ``M = (L+R)/2``, ``S = (L−R)/2``:
    0 for mono, 0.5 for uncorrelated channels of equal level, 1 for ``R = −L``.
low_end_share
    Fraction of the stem's band energy (20 Hz – 20 kHz, all frames) below
    ``LOW_END_HZ``; a band straddling it counts in proportion to its width.
centroid_hz, rolloff_hz, long_term_band_db
    From :class:`~workbench.analysis.spectrum.SpectrumResult` (power-weighted
    mean centroid and mean 85 % roll-off over the spectrum's active frames; the
    mean band power over those frames in dB).

Silence: levels are ``-inf`` (see :mod:`workbench.analysis.loudness`), undefined
quantities (``crest_db``, ``first_active_s``) are ``None``; :meth:`StemFeatures.to_dict`
writes both as JSON ``null``.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from .. import audio_io
from . import loudness, spectrum
from .bands import Bands, erb_bands

#: Upper edge of the "low end" (Hz): the bandwidth of the low-frequency-effects
#: channel of 5.1 (ATSC A/52 AC-3 LFE, 120 Hz), the range bass management and
#: mixing engineers treat as the shared, mono low end. Chosen in the issue.
LOW_END_HZ = 120.0
#: Noise floor percentile (see module doc).
NOISE_FLOOR_PERCENTILE = 10.0
#: Mean square below which a frame is digital silence: −140 dBFS, just above
#: the TPDF-dithered quantisation noise of 24-bit audio (step q = 2**-23, noise
#: power q²/4, i.e. −144.5 dBFS RMS), so silence exported at 24 bits reads as
#: silence while 16-bit dither (−96.3 dBFS) is a measurable floor.
DIGITAL_SILENCE_MS = 1e-14


@dataclass(eq=False)
class StemFeatures:
    """What one stem measures, at the session's sample rate.

    Levels are in dB; ``-inf`` means silence. ``short_term_lufs`` is on the
    analysis frame grid (``Analysis.frame_hop_s``), padded with ``-inf`` to the
    session's frame count when the stem is shorter.
    """

    file: str
    name: str
    sample_rate: int
    channels: int
    duration_s: float
    integrated_lufs: float
    loudness_range_lu: float
    short_term_lufs: np.ndarray = field(repr=False)
    sample_peak_dbfs: float
    true_peak_dbtp: float
    loud_peak_dbfs: float
    rms_dbfs: float
    crest_db: float | None
    noise_floor_dbfs: float
    active_fraction: float
    first_active_s: float | None
    stereo_correlation: float
    stereo_width: float
    low_end_share: float
    centroid_hz: float
    rolloff_hz: float
    long_term_band_db: np.ndarray = field(repr=False)

    #: Fields holding per-frame arrays (left out of :meth:`to_dict`).
    ARRAY_FIELDS = ("short_term_lufs",)

    def to_dict(self, *, arrays: bool = False) -> dict:
        """A JSON-safe dict: non-finite levels and undefined values become ``None``.

        ``long_term_band_db`` (one value per band) is included as a list; the
        per-frame ``short_term_lufs`` only with ``arrays=True``.
        """
        out: dict = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in self.ARRAY_FIELDS and not arrays:
                continue
            if isinstance(v, np.ndarray):
                out[f.name] = [loudness.json_level(x) for x in v.tolist()]
            elif isinstance(v, float):
                out[f.name] = loudness.json_level(v)
            else:
                out[f.name] = v
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StemFeatures):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if not np.array_equal(np.asarray(a), np.asarray(b)):
                    return False
            elif a != b and not (_isnan(a) and _isnan(b)):
                return False
        return True


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def analyse_stem(
    path: str | os.PathLike,
    *,
    sample_rate: int,
    frames: int | None = None,
    name: str | None = None,
    bands: Bands | None = None,
    block_frames: int = audio_io.BLOCK_FRAMES,
) -> tuple[StemFeatures, np.ndarray, np.ndarray]:
    """Measure one stem in one streamed pass (plus a short true-peak pass).

    Parameters
    ----------
    path : path-like
        The stem's audio file.
    sample_rate : int
        The session's rate (Hz); a stem at another rate is resampled while read.
    frames : int or None
        The session's length in samples at ``sample_rate``. The per-frame
        outputs are padded (silence) or cut to ``ceil(frames / L)`` analysis
        frames so that every stem of a session has the same frame count; audio
        beyond ``frames`` is not read. ``None``: the stem's own length.
    name : str or None
        Display name (default: the file name without its extension).
    bands : Bands or None
        Band layout (default: 40 ERB bands, :func:`~workbench.analysis.bands.erb_bands`).
    block_frames : int
        Read block size (samples); results do not depend on it.

    Returns
    -------
    features : StemFeatures
    band_power : np.ndarray, shape ``(n_bands, n_frames)``, float32
        Linear mean-square band power of the mono fold per analysis frame.
    activity : np.ndarray, shape ``(n_frames,)``, bool
        Where the stem plays (see the module doc).

    Examples
    --------
    >>> import tempfile, soundfile as sf
    >>> sr = 44100
    >>> t = np.arange(5 * sr) / sr
    >>> x = 0.5 * np.sin(2 * np.pi * 440 * t)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sf.write(f"{d}/tone.wav", x, sr, subtype="FLOAT")
    ...     feats, power, active = analyse_stem(f"{d}/tone.wav", sample_rate=sr)
    >>> round(feats.crest_db, 2), feats.stereo_correlation, bool(active.all())
    (3.01, 1.0, True)
    """
    with blas_single_thread():
        result = measure_stem(path, sample_rate=sample_rate, frames=frames, name=name,
                              bands=bands, block_frames=block_frames)
    if frames is None:
        return result
    return fit_frames(*result, spectrum.frame_count(frames, sample_rate))


def measure_stem(
    path: str | os.PathLike,
    *,
    sample_rate: int,
    frames: int | None = None,
    name: str | None = None,
    bands: Bands | None = None,
    block_frames: int = audio_io.BLOCK_FRAMES,
) -> tuple[StemFeatures, np.ndarray, np.ndarray]:
    """:func:`analyse_stem` without the padding: per-frame outputs span the audio read."""
    path = Path(path)
    channels = sf.info(str(path)).channels
    L = spectrum.frame_length(sample_rate)
    bands = erb_bands() if bands is None else bands

    # One pass: each block goes to the loudness meter, the band-power analysis
    # of the mono fold, and the per-frame sums.
    meter = loudness.LoudnessMeter(channels, sample_rate, frame_length=L)
    spec = spectrum.BandPowerAccumulator(sample_rate, bands=bands)
    sums = _FrameSums(channels, L)
    for block, raw in audio_io.iter_blocks_interleaved(path, sample_rate=sample_rate, frames=frames,
                                                       block_frames=block_frames):
        meter.push(block, interleaved=raw)
        spec.push(block[0] if channels == 1 else _mono_fold(block))
        sums.push(block)
    loud = meter.finish()
    spec_result = spec.finish()
    n_samples = meter.n_samples

    # Second, short pass: oversample only the frames near the sample peak.
    def read_span(start: int, count: int):
        return audio_io.iter_blocks(path, start=start, frames=count, sample_rate=sample_rate,
                                    block_frames=block_frames)

    tp, tp_frames = loudness.true_peak(read_span, loud.frame_peak, frame_curvature=loud.frame_curvature,
                                       frame_length=L,
                                       n_samples=n_samples, channels=channels,
                                       sample_rate=sample_rate)

    per_frame = sums.finish()
    activity = spectrum.activity_from_power(per_frame["ac"])
    band_power = spec_result.band_power
    if not band_power.shape[1] == activity.size == loud.short_term_lufs.size:
        raise RuntimeError(  # the three frame grids must be the one of spectrum.frame_length
            f"frame grids disagree: band power {band_power.shape[1]}, activity {activity.size}, "
            f"short-term {loud.short_term_lufs.size} frames")
    features = StemFeatures(
        file=path.name,
        name=name if name is not None else path.stem,
        sample_rate=int(sample_rate),
        channels=int(channels),
        duration_s=n_samples / sample_rate,
        integrated_lufs=loud.integrated_lufs,
        loudness_range_lu=loud.loudness_range_lu,
        short_term_lufs=loud.short_term_lufs,
        sample_peak_dbfs=loud.sample_peak_dbfs,
        true_peak_dbtp=float(loudness.db_from_amplitude(tp)),
        loud_peak_dbfs=_loud_peak(loud.frame_peak, activity),
        long_term_band_db=np.asarray(spec_result.long_term_db, dtype=np.float32),
        centroid_hz=float(spec_result.centroid_hz_mean),
        rolloff_hz=float(spec_result.rolloff_hz),
        low_end_share=_low_end_share(band_power, bands),
        **_level_stats(per_frame["ms"], activity, per_frame["sizes"], loud.sample_peak_dbfs),
        **_stereo_stats(per_frame["lr"], per_frame["sq"], activity, channels),
        first_active_s=(float(np.argmax(activity)) * L / sample_rate if activity.any() else None),
        active_fraction=float(activity.mean()) if activity.size else 0.0,
    )
    return features, band_power, activity


@contextlib.contextmanager
def blas_single_thread() -> Iterator[None]:
    """Keep BLAS (OpenBLAS/MKL) to one thread while stems are measured.

    The band sums and the true-peak interpolator are many small matrix
    products; with BLAS's own threads on top of the analysis' worker threads
    the cores are oversubscribed: on a busy 2-core machine one 3-minute stem
    took 5.8 s with OpenBLAS's default threads and 1.5 s with one (measured
    while writing this module).
    Uses ``threadpoolctl`` (installed with librosa/scikit-learn) when present.
    The limit is process-wide while it lasts.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with librosa
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _mono_fold(block: np.ndarray) -> np.ndarray:
    """``mean(channels)`` in float32 (one output array, no float64 temporaries)."""
    out = np.add(block[0], block[1])
    for c in range(2, block.shape[0]):
        out += block[c]
    out *= np.float32(1.0 / block.shape[0])
    return out


def fit_frames(features: StemFeatures, band_power: np.ndarray, activity: np.ndarray,
               n_frames: int) -> tuple[StemFeatures, np.ndarray, np.ndarray]:
    """Pad (with silence) or cut the per-frame outputs to ``n_frames`` frames."""
    have = band_power.shape[1]
    if have == n_frames:
        return features, band_power, activity
    if have > n_frames:
        return (replace(features, short_term_lufs=features.short_term_lufs[:n_frames]),
                band_power[:, :n_frames], activity[:n_frames])
    pad = n_frames - have
    st = np.concatenate([features.short_term_lufs,
                         np.full(pad, -np.inf, dtype=np.float32)])
    return (replace(features, short_term_lufs=st),
            np.pad(band_power, ((0, 0), (0, pad))),
            np.pad(activity, (0, pad)))


class _FrameSums:
    """Per-frame sums on the analysis grid, from blocks of any size.

    Keeps, per frame: the sum of squares and the sum of each channel, and for
    two or more channels the sum of ``x0 * x1``.
    """

    def __init__(self, channels: int, frame_length: int) -> None:
        self.channels = channels
        self.L = frame_length
        self._carry = np.zeros((channels, 0), dtype=np.float32)
        self._sq: list[np.ndarray] = []     # (channels, m) sum x^2
        self._sum: list[np.ndarray] = []    # (channels, m) sum x
        self._lr: list[np.ndarray] = []     # (m,) sum x0 x1

    def push(self, block: np.ndarray) -> None:
        if self._carry.shape[1]:
            block = np.concatenate([self._carry, block], axis=1)
        m = block.shape[1] // self.L
        if m:
            self._add(block[:, : m * self.L].reshape(self.channels, m, self.L))
        self._carry = block[:, m * self.L:].copy()

    def _add(self, v: np.ndarray) -> None:
        # float32 products summed over one frame (4096 terms): relative error
        # ~1e-6, far below anything reported; frames are summed in float64.
        self._sq.append(np.einsum("cml,cml->cm", v, v).astype(np.float64))
        self._sum.append(v.sum(axis=2, dtype=np.float64))
        if self.channels >= 2:
            self._lr.append(np.einsum("ml,ml->m", v[0], v[1]).astype(np.float64))

    def finish(self) -> dict[str, np.ndarray]:
        """Per-frame arrays: ``sizes`` (samples), ``ms`` (mean square over channels),
        ``ac`` (mean over channels of the mean-removed mean square), ``sq``
        (``(channels, n)`` sums of squares) and ``lr`` (sums of ``x0 x1``)."""
        partial = self._carry.shape[1]
        if partial:
            self._add(self._carry[:, None, :])
            self._carry = self._carry[:, :0]
        ch = self.channels
        sq = np.concatenate(self._sq, axis=1) if self._sq else np.zeros((ch, 0))
        sm = np.concatenate(self._sum, axis=1) if self._sum else np.zeros((ch, 0))
        lr = np.concatenate(self._lr) if self._lr else np.zeros(sq.shape[1])
        sizes = np.full(sq.shape[1], float(self.L))
        if partial:
            sizes[-1] = partial
        ms = sq.mean(axis=0) / sizes
        # AC power: mean square minus squared mean, per channel (Var = E[x²] − E[x]²).
        ac = np.maximum(sq / sizes - (sm / sizes) ** 2, 0.0).mean(axis=0)
        return {"sizes": sizes, "ms": ms, "ac": ac, "sq": sq, "lr": lr}


#: Percentile of the per-frame peaks (over active frames) taken as the level of
#: the stem's loud hits: robust to one stray spike, unlike the sample peak.
LOUD_PEAK_PERCENTILE = 90


def _loud_peak(frame_peak: np.ndarray, activity: np.ndarray) -> float:
    """Level (dBFS) the stem's loud moments reach: a high percentile of its frame peaks."""
    n = min(frame_peak.size, activity.size)
    peaks = np.asarray(frame_peak[:n], dtype=np.float64)[activity[:n]]
    if peaks.size == 0:
        return float("-inf")
    return float(loudness.db_from_amplitude(np.percentile(peaks, LOUD_PEAK_PERCENTILE)))


def _level_stats(frame_ms: np.ndarray, activity: np.ndarray, sizes: np.ndarray,
                 peak_dbfs: float) -> dict:
    """RMS over active frames, crest factor, noise floor."""
    if activity.any():
        energy = float((frame_ms[activity] * sizes[activity]).sum())
        rms_dbfs = float(loudness.db_from_power(energy / sizes[activity].sum()))
    else:
        rms_dbfs = -math.inf
    crest = peak_dbfs - rms_dbfs if math.isfinite(rms_dbfs) else None
    if frame_ms.size:
        floor_ms = float(np.percentile(frame_ms, NOISE_FLOOR_PERCENTILE))
        noise_floor = float(loudness.db_from_power(floor_ms)) if floor_ms > DIGITAL_SILENCE_MS else -math.inf
    else:
        noise_floor = -math.inf
    return {"rms_dbfs": rms_dbfs, "crest_db": crest, "noise_floor_dbfs": noise_floor}


def _stereo_stats(lr: np.ndarray, sq: np.ndarray, activity: np.ndarray, channels: int) -> dict:
    """Correlation and width of channels 0 and 1 over the active frames."""
    if channels < 2:
        return {"stereo_correlation": 1.0, "stereo_width": 0.0}
    ll = float(sq[0, activity].sum())
    rr = float(sq[1, activity].sum())
    xy = float(lr[activity].sum())
    if ll + rr <= 0.0:
        return {"stereo_correlation": 0.0, "stereo_width": 0.0}
    corr = float(np.clip(xy / math.sqrt(ll * rr), -1.0, 1.0)) if ll > 0 and rr > 0 else 0.0
    # M = (L+R)/2, S = (L−R)/2: sum S² / (sum M² + sum S²) = (ll + rr − 2xy) / (2 (ll + rr)).
    width = float(np.clip((ll + rr - 2.0 * xy) / (2.0 * (ll + rr)), 0.0, 1.0))
    return {"stereo_correlation": corr, "stereo_width": width}


def _low_end_share(band_power: np.ndarray, bands: Bands) -> float:
    """Share of band energy below :data:`LOW_END_HZ` (straddling band pro rata)."""
    energy = band_power.sum(axis=1, dtype=np.float64)
    total = float(energy.sum())
    if total <= 0.0:
        return 0.0
    edges = np.asarray(bands.edges_hz)
    lo, hi = edges[:-1], edges[1:]
    below = np.clip((LOW_END_HZ - lo) / (hi - lo), 0.0, 1.0)
    return float((energy * below).sum() / total)
