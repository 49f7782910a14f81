"""Category from audio, for stems whose names say nothing ("Track 7", "Audio 03").

The name of a stem is the best clue to what it is (see :mod:`workbench.categories`).
When the name says nothing, this module listens instead:

1. :func:`excerpt` reads the loudest up-to-20 s of the file (a few windows found
   with one cheap RMS pass over blocks), so the cost per stem is bounded whatever
   the stem's length;
2. :func:`audio_features` turns that excerpt into a small vector of documented,
   physically meaningful numbers (:data:`FEATURE_NAMES`), with numpy and scipy only
   (librosa's first call costs seconds, see the project notes);
3. a small model shipped as JSON (``workbench/data/category_model.json``, written by
   ``scripts/train_category_model.py`` from real recorded instruments that install
   from Debian's registry) turns the features into class probabilities
   (:func:`suggest_from_audio`);
4. :func:`combine` merges that with the name's suggestion: a confident name wins,
   an empty name lets the audio decide, and a confident name the audio contradicts
   in a way physics can check ("Bass" with no low end) gets a mislabel note.

What the audio cannot tell apart, the model does not pretend to: it has one
``Vocal`` class (lead and backing vocals sound alike stem by stem; the role is a
mixing decision), reported as ``Lead Vocal`` with its confidence halved; it never
says ``Backing Vocal`` or ``Other``; a drum loop and a played kit are both ``Drums``.

Examples
--------
>>> import numpy as np
>>> sr = 44100
>>> t = np.arange(4 * sr) / sr
>>> audio = (0.5 * np.sin(2 * np.pi * 55.0 * t)).astype(np.float32)[None, :]
>>> audio_features(audio, sr).shape == (len(FEATURE_NAMES),)
True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio_array import as_audio, sample_rate_hz
from ..errors import ParameterError
from . import stft

__all__ = [
    "FEATURE_NAMES",
    "AudioSuggestion",
    "audio_features",
    "excerpt",
    "excerpt_array",
    "suggest_from_audio",
    "combine",
    "load_model",
]

#: Where the shipped model lives (package data; see ``pyproject.toml``).
MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "category_model.json"

#: Length of the excerpt the features are computed on (s). 20 s holds several bars
#: at any tempo, and bounds the cost per stem (measured: see
#: ``benchmarks/results/category_accuracy.md``).
EXCERPT_SECONDS = 20.0
#: The excerpt is made of this many windows taken where the stem is loudest, so a
#: part that plays only in the chorus is still heard.
EXCERPT_WINDOWS = 4
#: Fade at each join of the excerpt (s): a dip, not a click, so joins are not onsets.
JOIN_FADE_SECONDS = 0.01

#: A name suggestion at or above this confidence wins over the audio. Plain
#: instrument words score ~0.9 in :func:`workbench.categories.suggest_from_name`;
#: a modifier alone ("Lead", "Acoustic", "Beat") scores 0.55 and is only a hint,
#: so the audio may overrule it.
NAME_CONFIDENT = 0.6
#: The audio must be at least this sure before its disagreement is worth a note.
AUDIO_SURE = 0.6
#: Factor on the confidence of a ``Vocal`` prediction reported as ``Lead Vocal``:
#: the audio of one stem cannot tell a lead from a backing vocal.
VOCAL_ROLE_UNCERTAINTY = 0.5
#: Below this confidence a category guessed from the audio alone is shown as
#: unsure ("Synth? — please check") and the checks add a ``category_unsure``
#: note. Calibrated on the 109 stems of the 12 authored songs the model did
#: not train on whose category the name, GM program, drum-note group or sample
#: gives, heard as if their names said nothing (``scripts/calibrate_categories.py``,
#: ``benchmarks/results/category_calibration.md``): guesses at 0.7 or more were
#: right 83 % of the time, those below it 43 %.
UNSURE_BELOW = 0.7
#: Evidence a stem must show before the audio alone may call it a vocal
#: (see :func:`_vocal_evidence`).
VOCAL_MIN_PROBABILITY = 0.8
VOCAL_MIN_VOICED = 0.5

#: The feature vector, in order. Each entry: name, meaning (units).
FEATURES: tuple[tuple[str, str], ...] = (
    ("active_fraction", "fraction of 5 ms frames within 40 dB of the excerpt's loud level"),
    ("crest_db", "peak over RMS of the active part (dB)"),
    ("level_spread_db", "standard deviation of the 5 ms level over active frames (dB)"),
    ("attack_db", "median 10 ms level rise at the onsets (dB; 95th percentile of rises when there are "
                  "none): hits score high"),
    ("decay_db", "median level drop 150 ms after each onset's peak (dB): plucks and hits decay, pads do not"),
    ("onset_rate_hz", "onsets per second (spectral-flux peaks)"),
    ("onset_contrast", "log ratio of the 95th percentile to the median spectral flux: hits stand out from the bed"),
    ("low_onset_rate_hz", "onsets per second in the band below 150 Hz (0 when it holds under 1 % of the energy)"),
    ("high_onset_rate_hz", "onsets per second in the band above 5 kHz (0 when it holds under 1 % of the energy)"),
    ("percussive_ratio", "share of energy in the percussive part of a median-filter HPSS"),
    ("percussive_low_share", "share of the percussive energy below 150 Hz"),
    ("percussive_high_share", "share of the percussive energy above 5 kHz"),
    ("centroid_mean_oct", "mean spectral centroid over active frames (log2 Hz)"),
    ("centroid_std_oct", "spread of the spectral centroid over active frames (octaves)"),
    ("rolloff_mean_oct", "mean 85 % spectral roll-off (log2 Hz)"),
    ("rolloff_std_oct", "spread of the roll-off (octaves)"),
    ("bandwidth_mean_oct", "mean spectral bandwidth around the centroid (log2 Hz)"),
    ("flatness_mean", "mean log10 spectral flatness (0 = white noise, very negative = pure tones)"),
    ("flatness_std", "spread of the log10 spectral flatness"),
    ("share_below_60", "log10 share of energy below 60 Hz"),
    ("share_below_120", "log10 share of energy below 120 Hz"),
    ("share_below_250", "log10 share of energy below 250 Hz"),
    ("share_250_2k", "log10 share of energy 250 Hz - 2 kHz"),
    ("share_2k_5k", "log10 share of energy 2 - 5 kHz"),
    ("share_above_5k", "log10 share of energy above 5 kHz"),
    ("periodicity_mean", "mean autocorrelation periodicity strength over active frames (0-1)"),
    ("voiced_fraction", "fraction of active frames with a clear period (strength > 0.7)"),
    ("f0_median_oct", "median fundamental of the voiced frames (log2 Hz; 220 Hz when none)"),
    ("f0_range_oct", "10th-90th percentile range of the fundamental (octaves)"),
    ("f0_step_semitones", "median change of the fundamental between voiced neighbour frames (semitones)"),
    ("harmonic_centroid_oct", "spectral centroid of the harmonic (sustained) part (log2 Hz)"),
    ("percussive_centroid_oct", "spectral centroid of the percussive part (log2 Hz)"),
) + tuple((f"timbre_{k}", f"cepstral coefficient {k} of the long-term log spectrum in 96 log-spaced bands "
           "(DCT-II, orthonormal; the overall shape of the spectrum, level removed)") for k in range(1, 7))
FEATURE_NAMES: tuple[str, ...] = tuple(n for n, _ in FEATURES)

_EPS = 1e-12
_SILENCE_DBFS = -80.0        # below this a frame is silence whatever the stem
_ACTIVE_RANGE_DB = 40.0      # a frame is active within this of the loud level
_VOICED_STRENGTH = 0.7       # normalised autocorrelation peak that counts as pitched
_F0_MIN_HZ, _F0_MAX_HZ = 35.0, 1000.0
_DEFAULT_F0_HZ = 220.0


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AudioSuggestion:
    """What the audio says a stem is.

    Attributes
    ----------
    category : str or None
        A workbench category name, or ``None`` when the audio is silent (there is
        nothing to hear).
    confidence : float
        0-1. The model's probability of ``category`` (halved for ``Lead Vocal``,
        whose role the audio cannot tell).
    probabilities : dict of str to float
        Probability per category the model can predict (sums to 1; empty when
        silent). The model's ``Vocal`` class is reported as ``Lead Vocal``.
    features : dict of str to float
        The measured features (:data:`FEATURE_NAMES`), kept so that a finding can
        say what was heard ("3 % of the energy is below 250 Hz").
    """

    category: str | None
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Excerpt
# ---------------------------------------------------------------------------

def _tile_frames(sample_rate: int) -> int:
    return max(1, int(round(0.25 * sample_rate)))   # 250 ms RMS tiles


class TilePower:
    """Mean power (mean over channels of ``x²``) of consecutive 250 ms tiles, streamed.

    The level pass of :func:`excerpt`. The checks' streamed pass runs it too and
    hands the result to :func:`suggest_from_audio` (``tile_power=``), so that a
    session's stems are not read once more just to find their loudest part; the
    arithmetic is the same whichever pass runs it and however the file is cut
    into blocks.
    """

    def __init__(self, sample_rate: int) -> None:
        self.tile = _tile_frames(sample_rate)
        self._tiles: list[np.ndarray] = []
        self._carry = np.zeros(0, dtype=np.float64)

    def push(self, block: np.ndarray) -> None:
        """Add a ``(channels, n)`` float block."""
        self.push_power(np.einsum("cn,cn->n", block, block, dtype=np.float64) / block.shape[0])

    def push_power(self, sq: np.ndarray) -> None:
        """Add per-sample powers already computed: ``(x.astype(float64) ** 2).sum(axis=0) / channels``
        (the same float64 arithmetic as :meth:`push`)."""
        if self._carry.size:
            sq = np.concatenate((self._carry, sq))
        n_full = sq.size // self.tile
        if n_full:
            self._tiles.append(sq[: n_full * self.tile].reshape(n_full, self.tile).mean(axis=1))
        self._carry = sq[n_full * self.tile:]

    def result(self) -> np.ndarray:
        """The tile powers so far (a last, shorter tile included)."""
        parts = list(self._tiles)
        if self._carry.size:
            parts.append(np.array([self._carry.mean()]))
        return np.concatenate(parts) if parts else np.zeros(0)


def _choose_windows(tile_power: np.ndarray, tile: int, total_frames: int,
                    seconds: float, sample_rate: int) -> list[tuple[int, int]]:
    """Pick the :data:`EXCERPT_WINDOWS` loudest windows of a grid over the file.

    The file is cut into consecutive windows of ``seconds / EXCERPT_WINDOWS``;
    the loudest ones are kept (ties: the earliest). A grid, rather than windows
    slid to the loudest spots, always fills the excerpt. A file shorter than
    ``EXCERPT_WINDOWS + 1`` windows gives one ``seconds`` window slid to where
    it is loudest. Returns ``(start, frames)`` pairs in time order covering at
    most ``seconds``.
    """
    want = int(round(seconds * sample_rate))
    if total_frames <= want:
        return [(0, total_frames)] if total_frames > 0 else []
    win_tiles = max(1, want // EXCERPT_WINDOWS // tile)
    n_win = tile_power.size // win_tiles
    if n_win <= EXCERPT_WINDOWS:                 # a little longer than the excerpt: slide one window
        span = want // tile
        csum = np.concatenate(([0.0], np.cumsum(tile_power)))
        i = int(np.argmax(csum[span:] - csum[:-span])) if tile_power.size > span else 0
        return [(i * tile, min(want, total_frames - i * tile))]
    energy = tile_power[: n_win * win_tiles].reshape(n_win, win_tiles).sum(axis=1)
    best = np.sort(np.argsort(-energy, kind="stable")[:EXCERPT_WINDOWS])
    return [(int(i) * win_tiles * tile, win_tiles * tile) for i in best]


def _join(segments: list[np.ndarray], sample_rate: int) -> np.ndarray:
    """Concatenate segments with short raised-cosine fades at the joins."""
    if len(segments) == 1:
        return segments[0]
    n_fade = max(1, int(JOIN_FADE_SECONDS * sample_rate))
    out = []
    for k, seg in enumerate(segments):
        seg = seg.copy()
        m = min(n_fade, seg.shape[1] // 2)
        if m > 0:
            ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, m))).astype(np.float32)
            if k > 0:
                seg[:, :m] *= ramp
            if k < len(segments) - 1:
                seg[:, -m:] *= ramp[::-1]
        out.append(seg)
    return np.concatenate(out, axis=1)


def excerpt(path: str | os.PathLike, sample_rate: int | None = None, seconds: float = EXCERPT_SECONDS,
            *, tile_power: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Read the most active up-to-``seconds`` of a file.

    One streamed pass (:func:`workbench.audio_io.iter_blocks`, at the file's own
    rate) measures the level in 250 ms tiles; then up to :data:`EXCERPT_WINDOWS`
    non-overlapping windows where the stem is loudest are read again and joined
    with 10 ms fades. Memory is bounded by the excerpt; the time is one read of
    the file plus the excerpt's.

    Parameters
    ----------
    path : path-like
        The audio file.
    sample_rate : int or None
        Rate of the returned excerpt; ``None`` (the cheap choice: the features do
        not need a particular rate) keeps the file's rate. Otherwise only the
        excerpt is resampled (``scipy.signal.resample_poly``).
    seconds : float
        Longest excerpt (s), > 0.
    tile_power : np.ndarray or None
        The file's :class:`TilePower` result when another pass already
        measured it (the level pass is then skipped).

    Returns
    -------
    audio : np.ndarray
        ``float32``, shape ``(channels, frames)``, ``frames <= seconds * rate``.
    sample_rate : int
        The rate of ``audio``.
    """
    import soundfile as sf

    from ..audio_io import iter_blocks, read

    if not seconds > 0:
        raise ParameterError(f"seconds must be > 0, got {seconds!r}")
    info = sf.info(str(path))
    native = int(info.samplerate)
    rate = int(sample_rate or native)
    # The level pass runs at the file's own rate (no resampling of the whole file);
    # only the excerpt is resampled, at the end.
    tile = _tile_frames(native)
    if tile_power is None:
        level = TilePower(native)
        total = 0
        for block in iter_blocks(path, block_frames=tile * 256):
            level.push(block)
            total += block.shape[1]
        powers = level.result()
    else:
        powers = np.asarray(tile_power, dtype=np.float64)
        total = int(info.frames)
    windows = _choose_windows(powers, tile, total, seconds, native)
    if not windows:
        return np.zeros((info.channels, 0), dtype=np.float32), rate
    segments = [read(path, start=s, frames=n) for s, n in windows]
    audio = _join([s for s in segments if s.shape[1]], native)
    if rate != native:                   # resample only the excerpt (polyphase, ~30 ms for 20 s)
        from scipy.signal import resample_poly

        g = int(np.gcd(rate, native))
        audio = resample_poly(audio, rate // g, native // g, axis=1).astype(np.float32)
    return audio, rate


def excerpt_array(audio: np.ndarray, sample_rate: int, seconds: float = EXCERPT_SECONDS) -> np.ndarray:
    """:func:`excerpt` for audio already in memory.

    Parameters
    ----------
    audio : np.ndarray
        ``(channels, samples)`` (1-D is taken as mono).
    sample_rate : int
        Hz.
    seconds : float
        Longest excerpt (s).

    Returns
    -------
    np.ndarray
        ``float32`` ``(channels, frames)``: the audio itself when it is no longer
        than ``seconds``, else its loudest windows joined with 10 ms fades.
    """
    audio = _as_2d(audio)
    tile = _tile_frames(sample_rate)
    n = audio.shape[1]
    want = int(round(seconds * sample_rate))
    if n <= want:
        return audio
    mono_sq = np.mean(np.square(audio, dtype=np.float64), axis=0)
    n_full = n // tile
    powers = mono_sq[: n_full * tile].reshape(n_full, tile).mean(axis=1)
    windows = _choose_windows(powers, tile, n_full * tile, seconds, sample_rate)
    return _join([audio[:, s:s + k] for s, k in windows], sample_rate)


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------

def _as_2d(audio: np.ndarray) -> np.ndarray:
    return as_audio(audio, dtype=np.float32)


def _onset_frames(flux: np.ndarray, hop_s: float, n_bands: int) -> np.ndarray:
    """Indices of spectral-flux peaks: local maxima over ±70 ms above an adaptive threshold.

    ``flux`` is summed over ``n_bands`` log-compressed bands. A peak must stand
    out from the local median (noise and steady tones give a flux that wobbles
    around its median) and be a real rise: on average 0.15 per band (in units of
    ``log1p(100 * power / loud power)``), so slow beating of sustained notes does
    not count.
    """
    from scipy.ndimage import maximum_filter1d, median_filter

    if flux.size < 3 or not np.any(flux > 0):
        return np.zeros(0, dtype=int)
    w_max = max(3, int(round(0.14 / hop_s)) | 1)
    w_med = max(3, int(round(0.5 / hop_s)) | 1)
    local_max = maximum_filter1d(flux, w_max, mode="nearest")
    thresh = (1.5 * median_filter(flux, w_med, mode="nearest") + 0.05 * float(np.max(flux))
              + max(1.0, 0.15 * n_bands))
    return np.nonzero((flux == local_max) & (flux > thresh))[0]


def _band_flux(logspec: np.ndarray) -> np.ndarray:
    d = np.diff(logspec, axis=1, prepend=logspec[:, :1])
    return np.maximum(d, 0.0).sum(axis=0)


def _neutral_features() -> np.ndarray:
    """The vector for silence: finite, and what a model sees as 'nothing there'."""
    v = dict.fromkeys(FEATURE_NAMES, 0.0)
    v.update(flatness_mean=-1.0, f0_median_oct=float(np.log2(_DEFAULT_F0_HZ)),
             centroid_mean_oct=float(np.log2(1000.0)), rolloff_mean_oct=float(np.log2(2000.0)),
             bandwidth_mean_oct=float(np.log2(1000.0)),
             harmonic_centroid_oct=float(np.log2(1000.0)), percussive_centroid_oct=float(np.log2(1000.0)))
    for k in ("share_below_60", "share_below_120", "share_below_250", "share_250_2k", "share_2k_5k",
              "share_above_5k"):
        v[k] = -4.0
    return np.array([v[n] for n in FEATURE_NAMES], dtype=np.float64)


def audio_features(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The feature vector of a (short) piece of audio — see :data:`FEATURES`.

    Computed on the mono fold with numpy and scipy only: a Hann STFT of about
    93 ms (hop half of that), a 5 ms RMS envelope, a median-filter
    harmonic/percussive split (Fitzgerald 2010, "Harmonic/percussive separation
    using median filtering", DAFx) on the spectrogram pooled into 96 log-spaced
    bands, and a per-frame autocorrelation (from the power spectrum, Wiener-
    Khinchin) for periodicity and pitch. Meant for an excerpt (see
    :func:`excerpt`): the cost grows with the length (about 40 ms for 20 s at
    44.1 kHz on one idle core; see ``benchmarks/results/category_accuracy.md``).

    Parameters
    ----------
    audio : np.ndarray
        ``(channels, samples)`` (a 1-D array is taken as mono), any float dtype.
    sample_rate : int
        Hz, >= 8000.

    Returns
    -------
    np.ndarray
        ``float64``, shape ``(len(FEATURE_NAMES),)``, always finite (silence and
        empty input give a fixed neutral vector).

    Raises
    ------
    ValueError
        When ``audio`` is not 1-D or 2-D, or ``sample_rate`` is below 8000 Hz.

    Examples
    --------
    >>> sr = 22050
    >>> noise = np.random.default_rng(0).standard_normal((2, sr)).astype(np.float32) * 0.1
    >>> f = dict(zip(FEATURE_NAMES, audio_features(noise, sr)))
    >>> bool(f["flatness_mean"] > -0.5)   # white noise is spectrally flat
    True
    """
    from scipy.ndimage import median_filter

    sample_rate = sample_rate_hz(sample_rate, minimum=8000)
    a = _as_2d(audio)
    x = np.nan_to_num(a.mean(axis=0, dtype=np.float64)).astype(np.float32)
    sr = float(sample_rate)
    if x.size < int(0.1 * sr) or float(np.max(np.abs(x), initial=0.0)) < 1e-5:
        return _neutral_features()

    # -- 5 ms envelope: activity, crest, attack, decay --------------------------------
    h_env = max(1, int(round(0.005 * sr)))
    n_env = x.size // h_env
    env_ms = np.mean(np.square(x[: n_env * h_env].reshape(n_env, h_env), dtype=np.float64), axis=1)
    env_db = 10.0 * np.log10(env_ms + _EPS)
    loud_db = float(np.percentile(env_db, 99))
    active = env_db > max(loud_db - _ACTIVE_RANGE_DB, _SILENCE_DBFS)
    if not np.any(active):
        return _neutral_features()
    f: dict[str, float] = {}
    f["active_fraction"] = float(np.mean(active))
    rms_active = np.sqrt(np.mean(env_ms[active]))
    f["crest_db"] = float(20.0 * np.log10(np.max(np.abs(x)) / (rms_active + _EPS) + _EPS))
    f["level_spread_db"] = float(np.std(env_db[active]))
    floor_db = loud_db - _ACTIVE_RANGE_DB - 10.0
    env_c = np.maximum(env_db, floor_db)
    rises = np.concatenate((env_c[2:] - env_c[:-2], [0.0, 0.0]))        # 10 ms rise starting at each frame

    # -- STFT ------------------------------------------------------------------------
    n_fft = int(2 ** round(np.log2(0.093 * sr)))
    hop = n_fft // 2
    hop_s = hop / sr
    win = stft.hann(n_fft, periodic=False, dtype=np.float32)                # the model was trained on it
    fr = stft.frames(x, n_fft, hop, pad_end=True)
    power = stft.power_spectra(fr, win).astype(np.float32)                # (frames, bins)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    frame_pow = power.sum(axis=1)
    frame_db = 10.0 * np.log10(frame_pow + _EPS)
    act_f = frame_db > max(float(np.percentile(frame_db, 99)) - _ACTIVE_RANGE_DB,
                           float(frame_db.max()) - 100.0)
    if not np.any(act_f):
        return _neutral_features()
    pa = power[act_f].astype(np.float64)
    pa_sum = pa.sum(axis=1) + _EPS

    # spectral shape per active frame (centroid, roll-off, bandwidth, flatness), 20 Hz up
    lf = np.log2(np.maximum(freqs, 20.0))
    centroid = (pa @ freqs) / pa_sum
    c_oct = np.log2(np.maximum(centroid, 20.0))
    f["centroid_mean_oct"] = float(np.mean(c_oct))
    f["centroid_std_oct"] = float(np.std(c_oct))
    cum = np.cumsum(pa, axis=1)
    roll_idx = np.argmax(cum >= 0.85 * cum[:, -1:], axis=1)
    r_oct = lf[roll_idx]
    f["rolloff_mean_oct"] = float(np.mean(r_oct))
    f["rolloff_std_oct"] = float(np.std(r_oct))
    bw = np.sqrt(np.maximum((pa @ np.square(freqs)) / pa_sum - np.square(centroid), 0.0))
    f["bandwidth_mean_oct"] = float(np.mean(np.log2(np.maximum(bw, 20.0))))
    band = (freqs >= 20.0) & (freqs <= min(16000.0, sr / 2))
    pb = pa[:, band] + 1e-10 * pa_sum[:, None] / band.sum()
    flat = np.mean(np.log(pb), axis=1) - np.log(np.mean(pb, axis=1))
    flat10 = flat / np.log(10.0)
    f["flatness_mean"] = float(np.mean(flat10))
    f["flatness_std"] = float(np.std(flat10))

    # energy shares over the active frames
    tot = pa.sum(axis=0)
    e_all = float(tot.sum()) + _EPS

    def share(lo: float, hi: float) -> float:
        s = float(tot[(freqs >= lo) & (freqs < hi)].sum()) / e_all
        return float(np.log10(s + 1e-4))

    f["share_below_60"] = share(0.0, 60.0)
    f["share_below_120"] = share(0.0, 120.0)
    f["share_below_250"] = share(0.0, 250.0)
    f["share_250_2k"] = share(250.0, 2000.0)
    f["share_2k_5k"] = share(2000.0, 5000.0)
    f["share_above_5k"] = share(5000.0, sr)

    # -- pooled log bands: HPSS and onsets ---------------------------------------------
    n_bands = 96
    edges = np.geomspace(30.0, min(16000.0, sr / 2), n_bands + 1)
    idx = np.searchsorted(edges, freqs, side="right") - 1
    ok = (idx >= 0) & (idx < n_bands)
    pool = np.zeros((n_bands, freqs.size), dtype=np.float32)
    pool[idx[ok], np.nonzero(ok)[0]] = 1.0
    bands = pool @ power.T                                                 # (bands, frames)
    centres = np.sqrt(edges[:-1] * edges[1:])
    # Fitzgerald (2010): median across time keeps sustained partials, across
    # frequency keeps broadband hits; Wiener-like soft masks (power 2).
    k_t = max(3, int(round(0.4 / hop_s)) | 1)
    harm = median_filter(bands, size=(1, k_t), mode="nearest")
    perc = median_filter(bands, size=(9, 1), mode="nearest")
    h2, p2 = np.square(harm, dtype=np.float64), np.square(perc, dtype=np.float64)
    mask_p = p2 / (h2 + p2 + _EPS)
    bands_a = bands[:, act_f].astype(np.float64)
    e_p = bands_a * mask_p[:, act_f]
    e_h = bands_a - e_p
    e_tot = float(bands_a.sum()) + _EPS
    f["percussive_ratio"] = float(e_p.sum() / e_tot)
    ep_b = e_p.sum(axis=1)
    eh_b = e_h.sum(axis=1)
    ep_sum = float(ep_b.sum()) + _EPS
    f["percussive_low_share"] = float(ep_b[centres < 150.0].sum() / ep_sum)
    f["percussive_high_share"] = float(ep_b[centres > 5000.0].sum() / ep_sum)
    lc = np.log2(centres)
    f["harmonic_centroid_oct"] = float((eh_b @ lc) / (eh_b.sum() + _EPS)) if eh_b.sum() > 0 else float(np.log2(1000.0))
    f["percussive_centroid_oct"] = float((ep_b @ lc) / ep_sum) if ep_b.sum() > 0 else float(np.log2(1000.0))

    # long-term spectrum shape: DCT of the mean log band power (like MFCCs on a log axis)
    ltas = np.log10(bands_a.mean(axis=1) / (bands_a.mean(axis=1).sum() + _EPS) + 1e-9)
    k = np.arange(n_bands)
    for c in range(1, 7):
        basis = np.sqrt(2.0 / n_bands) * np.cos(np.pi * c * (k + 0.5) / n_bands)
        f[f"timbre_{c}"] = float(ltas @ basis)

    ref = float(np.percentile(bands, 99)) + _EPS
    logb = np.log1p(100.0 * bands / ref)
    flux = _band_flux(logb)
    seconds = x.size / sr
    onsets = _onset_frames(flux, hop_s, n_bands)
    f["onset_rate_hz"] = float(onsets.size / seconds)
    fa = flux[act_f]
    f["onset_contrast"] = float(np.log((np.percentile(fa, 95) + 1e-3) / (np.median(fa) + 1e-3)))
    band_e = bands.sum(axis=1)
    for key, sel in (("low_onset_rate_hz", centres < 150.0), ("high_onset_rate_hz", centres > 5000.0)):
        if band_e[sel].sum() < 1e-2 * band_e.sum():                        # band (nearly) empty: < 1 %
            f[key] = 0.0
            continue
        sub = bands[sel]
        sub_log = np.log1p(100.0 * sub / (float(np.percentile(sub, 99)) + _EPS))
        f[key] = float(_onset_frames(_band_flux(sub_log), hop_s, int(sel.sum())).size / seconds)

    # attack and decay around each onset, on the 5 ms envelope. The flux of a
    # frame sees an onset anywhere in its 93 ms window: look ±60 ms around its centre.
    attacks, drops = [], []
    reach, later = int(round(0.06 / 0.005)), int(round(0.15 / 0.005))
    for o in onsets:
        ic = int((o * hop + n_fft // 2) / h_env)
        lo, hi = max(0, ic - reach), min(env_c.size, ic + reach)
        if hi <= lo:
            continue
        attacks.append(float(np.max(rises[lo:hi])))
        ip = lo + int(np.argmax(env_c[lo:hi]))
        if ip + later < env_c.size:
            drops.append(env_c[ip] - env_c[ip + later])
    if attacks:
        f["attack_db"] = float(np.clip(np.median(attacks), 0.0, 60.0))
    else:                                                                   # no onsets: typical rise
        f["attack_db"] = float(np.clip(np.percentile(rises[active], 95), 0.0, 60.0))
    f["decay_db"] = float(np.clip(np.median(drops), 0.0, 60.0)) if drops else 0.0

    # -- periodicity and pitch: autocorrelation from the power spectrum ---------------
    # Band-limit to 5 kHz and take the inverse FFT of the power (Wiener-Khinchin);
    # divide by the window's own autocorrelation so that long lags are not penalised.
    k_max = min(int(np.searchsorted(freqs, 5000.0)) + 1, freqs.size)
    n_ac = 2 * (k_max - 1)
    sr_ac = sr * n_ac / n_fft
    acf = np.fft.irfft(pa[:, :k_max], n=n_ac, axis=1)
    w_spec = np.abs(np.fft.rfft(win)) ** 2
    w_acf = np.fft.irfft(w_spec[:k_max], n=n_ac)
    lag_lo = 1                                                # lags (samples at sr_ac) kept in ``norm``
    min_lag = max(2, int(np.floor(sr_ac / _F0_MAX_HZ)))      # shortest period looked for
    lag_hi = min(int(np.ceil(sr_ac / _F0_MIN_HZ)), int(0.4 * n_ac))
    norm = acf[:, lag_lo:lag_hi + 1] / (acf[:, :1] + _EPS)
    wn = w_acf[lag_lo:lag_hi + 1] / (w_acf[0] + _EPS)
    norm = norm / np.maximum(wn, 0.2)
    # The period is the first lag, once the autocorrelation has dipped below 0.5
    # (it starts near 1 at short lags), that comes within 10 % of the highest
    # peak: a periodic signal repeats at 2, 3... periods too, and those must not
    # win (octave errors).
    rows = np.arange(norm.shape[0])
    cols = np.arange(norm.shape[1])
    dip = np.argmax(norm < 0.5, axis=1)
    searchable = cols[None, :] >= np.maximum(dip, min_lag - lag_lo)[:, None]
    top = np.max(np.where(searchable, norm, -np.inf), axis=1)
    first = np.argmax(searchable & (norm >= 0.9 * top[:, None]), axis=1)
    lobe = np.maximum(2, first // 2)                         # search to the end of that peak's lobe
    in_lobe = (cols[None, :] >= first[:, None]) & (cols[None, :] <= (first + lobe)[:, None])
    best = np.argmax(np.where(in_lobe, norm, -np.inf), axis=1)
    strength = np.clip(norm[rows, best], 0.0, 1.0)
    # parabolic interpolation of the peak lag
    i = np.clip(best, 1, norm.shape[1] - 2)
    y0, y1, y2 = (norm[np.arange(norm.shape[0]), i + d] for d in (-1, 0, 1))
    denom = y0 - 2 * y1 + y2
    delta = np.where(np.abs(denom) > _EPS, 0.5 * (y0 - y2) / np.where(np.abs(denom) > _EPS, denom, 1.0), 0.0)
    lag = lag_lo + i + np.clip(delta, -0.5, 0.5)
    f0 = sr_ac / np.maximum(lag, 1.0)
    voiced = strength > _VOICED_STRENGTH
    f["periodicity_mean"] = float(np.mean(strength))
    f["voiced_fraction"] = float(np.mean(voiced))
    if np.count_nonzero(voiced) >= 3:
        lv = np.log2(f0[voiced])
        f["f0_median_oct"] = float(np.median(lv))
        p10, p90 = np.percentile(lv, [10, 90])
        f["f0_range_oct"] = float(p90 - p10)
        both = voiced[1:] & voiced[:-1]
        steps = np.abs(np.diff(np.log2(f0)))[both] * 12.0
        f["f0_step_semitones"] = float(np.median(steps)) if steps.size else 0.0
    else:
        f["f0_median_oct"] = float(np.log2(_DEFAULT_F0_HZ))
        f["f0_range_oct"] = 0.0
        f["f0_step_semitones"] = 0.0

    v = np.array([f[n] for n in FEATURE_NAMES], dtype=np.float64)
    return np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0)


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Model:
    classes: tuple[str, ...]
    class_to_category: dict[str, str]
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray, str], ...]
    meta: dict

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        z = np.clip(z, -8.0, 8.0)          # far outside the training data: do not extrapolate wildly
        for w, b, act in self.layers:
            z = z @ w + b
            if act == "relu":
                z = np.maximum(z, 0.0)
            elif act == "tanh":
                z = np.tanh(z)
        z = z - np.max(z, axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


@lru_cache(maxsize=4)
def load_model(path: str | os.PathLike | None = None) -> _Model:
    """Load (once per process) the category model written by ``scripts/train_category_model.py``.

    Raises
    ------
    WorkbenchError
        ``category_model`` when the file is missing, unreadable, or was made for
        other features than :data:`FEATURE_NAMES`.
    """
    from ..errors import WorkbenchError

    p = Path(path) if path is not None else MODEL_PATH
    fix = "Reinstall the workbench, or run scripts/train_category_model.py to rebuild the model."
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbenchError("category_model", f"Cannot read the category model {p}: {exc}.", fix) from exc
    if tuple(data.get("feature_names", ())) != FEATURE_NAMES:
        raise WorkbenchError("category_model",
                             f"The category model {p} was trained on other features than this version computes.",
                             fix)
    layers = tuple((np.asarray(L["weights"], dtype=np.float64), np.asarray(L["bias"], dtype=np.float64),
                    L["activation"]) for L in data["layers"])
    return _Model(classes=tuple(data["classes"]), class_to_category=dict(data["class_to_category"]),
                  mean=np.asarray(data["mean"], dtype=np.float64), scale=np.asarray(data["scale"], dtype=np.float64),
                  layers=layers, meta={k: v for k, v in data.items()
                                       if k not in ("layers", "mean", "scale")})


def suggest_from_audio(path_or_audio: str | os.PathLike | np.ndarray, sample_rate: int | None = None, *,
                       seconds: float = EXCERPT_SECONDS,
                       tile_power: np.ndarray | None = None) -> AudioSuggestion:
    """Suggest a category for a stem from its audio.

    Parameters
    ----------
    path_or_audio : path-like or np.ndarray
        A stem file, or audio ``(channels, samples)`` already in memory.
    sample_rate : int or None
        For a file: the rate to read at (``None``: the file's own). For an array:
        its rate (required).
    seconds : float
        Length of the excerpt that is listened to (:func:`excerpt`).
    tile_power : np.ndarray or None
        For a file: its :class:`TilePower` when already measured (saves a read).

    Returns
    -------
    AudioSuggestion
        ``category`` is ``None`` (confidence 0, no probabilities) for silence.
        A ``Vocal`` prediction comes back as ``Lead Vocal`` with its confidence
        halved: the audio alone cannot tell lead from backing vocals. The model
        never answers ``Backing Vocal`` or ``Other``; FX means sound effects,
        noise and atmospheres; Drums covers a full kit and a drum loop alike.
    """
    if isinstance(path_or_audio, np.ndarray):
        if sample_rate is None:
            raise ParameterError("sample_rate is required when path_or_audio is an array")
        rate = int(sample_rate)
        audio = excerpt_array(path_or_audio, rate, seconds)
    else:
        audio, rate = excerpt(path_or_audio, sample_rate, seconds, tile_power=tile_power)
    feats = audio_features(audio, rate)
    named = dict(zip(FEATURE_NAMES, (float(v) for v in feats)))
    if np.array_equal(feats, _neutral_features()):
        return AudioSuggestion(None, 0.0, {}, named)
    model = load_model()
    proba = model.predict_proba(feats)
    probs: dict[str, float] = {}
    for cls, p in zip(model.classes, proba):
        cat = model.class_to_category.get(cls, cls)
        probs[cat] = probs.get(cat, 0.0) + float(p)
    best = max(probs, key=probs.__getitem__)
    conf = probs[best]
    if best in _VOCALS and not _vocal_evidence(probs[best], named):
        # A vocal needs vocal evidence (issue 13: a chip-synth chord part was
        # heard as a voice): without it, the best instrument class with its own
        # probability as the confidence — low, so it is shown as unsure.
        rest = {c: p for c, p in probs.items() if c not in _VOCALS}
        best = max(rest, key=rest.__getitem__)
        conf = rest[best]
    elif best in _VOCALS:
        conf *= VOCAL_ROLE_UNCERTAINTY
    return AudioSuggestion(best, round(float(conf), 4), probs, named)


def _vocal_evidence(vocal_probability: float, features: dict[str, float]) -> bool:
    """Whether the audio carries enough evidence of a voice to call a stem a vocal.

    The model's vocal class was trained on sampled choir and voice sounds only,
    so its probability alone also fires on sustained synth chords. A voice is
    pitched most of the time it sounds and its pitch glides between
    neighbouring 46 ms frames (a singer's pitch moves continuously, by well
    under a semitone per frame within a note — Sundberg, *The Science of the
    Singing Voice*, 1987, ch. 4 on vibrato of ±0.5–1 semitone at 5–7 Hz), while
    arpeggiated or chord synth parts jump by whole semitones or hold a fixed
    pitch. Thresholds are our engineering choice: the model must be at least
    :data:`VOCAL_MIN_PROBABILITY` sure, the stem voiced in at least
    :data:`VOCAL_MIN_VOICED` of its active frames, and its median pitch step
    between voiced frames above 0 and below 1 semitone.
    """
    step = features.get("f0_step_semitones", 0.0)
    return (vocal_probability >= VOCAL_MIN_PROBABILITY
            and features.get("voiced_fraction", 0.0) >= VOCAL_MIN_VOICED
            and 0.0 < step < 1.0)


# ---------------------------------------------------------------------------
# Name + audio
# ---------------------------------------------------------------------------

_VOCALS = ("Lead Vocal", "Backing Vocal")

# Mislabel thresholds. They flag only what physics rules out, so they are loose:
# - a bass part's fundamentals lie between ~41 Hz (low E) and ~250 Hz, and they
#   carry most of its energy: under 10 % below 250 Hz means no bass notes at all;
# - a kick's body is 40-100 Hz: under 15 % of the energy below 250 Hz is a click
#   or another drum;
# - a hit rises by tens of dB within 10 ms; sustained parts rise by a few dB
#   (see the attack_db feature): "hits" is a 6 dB rise at the onsets, or a
#   third of the energy in the percussive part of the HPSS;
# - cymbals live above 5 kHz: under 2 % there with a third below 120 Hz is a
#   low drum or a bass, not a cymbal.
_BASS_MIN_LOW_PCT = 10.0
_KICK_MIN_LOW_PCT = 15.0
_HIT_ATTACK_DB = 6.0
_HIT_PERCUSSIVE_RATIO = 0.35


def _share_pct(log_share: float) -> float:
    """Percent of the energy from a ``share_*`` feature (stored as log10(share + 1e-4))."""
    return max(0.0, 10.0 ** log_share - 1e-4) * 100.0


def _pct(percent: float) -> str:
    return "less than 1%" if percent < 1.0 else f"{percent:.0f}%"


def _mislabel_note(name_category: str, audio: AudioSuggestion) -> str | None:
    """A short note when physics contradicts the name (``None`` when nothing does)."""
    f = audio.features
    if not f or audio.category is None:
        return None
    heard = ""
    if audio.category != name_category and audio.confidence >= AUDIO_SURE:
        heard = f" It sounds more like {audio.category}."
    low250 = _share_pct(f.get("share_below_250", 0.0))
    low120 = _share_pct(f.get("share_below_120", 0.0))
    high5k = _share_pct(f.get("share_above_5k", 0.0))
    hits = f.get("attack_db", 0.0) >= _HIT_ATTACK_DB or f.get("percussive_ratio", 0.0) >= _HIT_PERCUSSIVE_RATIO
    if name_category == "Bass" and low250 < _BASS_MIN_LOW_PCT:
        return (f"Named Bass, but it has almost no low end: only {_pct(low250)} of its energy is below "
                f"250 Hz.{heard} Check that this is the right file.")
    if name_category == "Kick":
        if low250 < _KICK_MIN_LOW_PCT:
            return (f"Named Kick, but it has little low end: {_pct(low250)} of its energy is below 250 Hz."
                    f"{heard} Check that this is the right file.")
        if not hits:
            return (f"Named Kick, but there are no drum hits in it: the sound is sustained.{heard} "
                    "Check that this is the right file.")
    if name_category in ("Snare", "Cymbals", "Percussion", "Drums") and not hits \
            and f.get("onset_rate_hz", 0.0) < 0.5:
        return (f"Named {name_category}, but there are no hits in it: the sound is sustained."
                f"{heard} Check that this is the right file.")
    if name_category == "Cymbals" and high5k < 2.0 and low120 > 30.0:
        return (f"Named Cymbals, but it has almost no top end ({_pct(high5k)} of its energy above 5 kHz) "
                f"and {_pct(low120)} below 120 Hz.{heard} Check that this is the right file.")
    if name_category in _VOCALS and f.get("voiced_fraction", 1.0) < 0.1 \
            and f.get("percussive_ratio", 0.0) > 0.6:
        return (f"Named {name_category}, but it hardly has a pitch and is mostly hits.{heard} "
                "Check that this is the right file.")
    return None


def combine(name_category: str | None, name_confidence: float,
            audio_suggestion: AudioSuggestion | None) -> tuple[str | None, float, str, str | None]:
    """Merge the name's suggestion with the audio's.

    Rules, in order:

    0. A vocal suggested only by a hint in the name ("Lead", "bg") gives way to
       the audio when the audio hears an instrument: a vocal needs vocal evidence.
    1. A confident name (``name_confidence >= NAME_CONFIDENT``) wins. If the audio
       contradicts it in a way physics can check (a Bass with almost nothing below
       250 Hz, a Kick with no low end or no hits, drums with no hits, Cymbals with
       no top end, a vocal with no pitch that is all hits), a note says so.
    2. A weak name that the audio agrees with: the name's category, with the
       larger confidence plus a small bonus; source ``"name+audio"``.
    3. Otherwise the more confident of the two; with no name, the audio decides
       (source ``"audio"``).
    4. Neither: ``(None, 0.0, "none", None)``.

    Parameters
    ----------
    name_category : str or None
        The category the file name suggests (``None`` when it says nothing).
    name_confidence : float
        0-1.
    audio_suggestion : AudioSuggestion or None
        From :func:`suggest_from_audio`; ``None`` when the audio was not analysed.

    Returns
    -------
    category : str or None
    confidence : float
    source : str
        ``"name"``, ``"audio"``, ``"name+audio"`` or ``"none"``.
    mislabel_note : str or None
        A plain-words note that the name looks wrong, or ``None``.
    """
    audio = audio_suggestion if audio_suggestion is not None and audio_suggestion.category else None
    if name_category in _VOCALS and name_confidence < NAME_CONFIDENT and audio is not None \
            and audio.category not in _VOCALS:
        # A vocal needs vocal evidence: a hint alone ("Lead", "bg") is not one
        # when the audio hears an instrument (issue 13).
        return audio.category, float(audio.confidence), "audio", None
    if name_category and name_confidence >= NAME_CONFIDENT:
        note = _mislabel_note(name_category, audio) if audio is not None else None
        return name_category, float(name_confidence), "name", note
    if name_category and audio is not None:
        if audio.category == name_category:
            conf = min(1.0, max(name_confidence, audio.confidence) + 0.1)
            return name_category, float(conf), "name+audio", None
        if audio.confidence > name_confidence:
            return audio.category, float(audio.confidence), "audio", None
        return name_category, float(name_confidence), "name", None
    if name_category:
        return name_category, float(name_confidence), "name", None
    if audio is not None:
        return audio.category, float(audio.confidence), "audio", None
    return None, 0.0, "none", None
