"""Band power of one stem on the product's analysis frame grid.

Every time series the workbench measures (band power, activity, loudness per
frame, masking over time) lives on one grid: analysis frame ``k`` covers samples
``[k * L, (k + 1) * L)`` with ``L = frame_length(sample_rate)``, and a signal of
``n`` samples has ``ceil(n / L)`` frames (the last one padded with zeros).

How band power is measured
--------------------------
A Hann-windowed short-time Fourier transform with ``n_fft`` chosen so that bins
are about 10 Hz wide (4096 points at 44.1 and 48 kHz, doubled or halved with the
rate) and a hop of ``n_fft / 2``. Hann windows at 50 % overlap sum to a constant
(the "constant overlap-add" condition; Harris 1978, "On the use of windows for
harmonic analysis with the discrete Fourier transform", Proc. IEEE 66(1)), so no
sample is weighted more than another across the grid.

The analysis frame is two STFT hops (``L = n_fft``: 92.9 ms at 44.1 kHz,
85.3 ms at 48 kHz) — close to the 100 ms hop at which EBU Tech 3341 / ITU-R
BS.1770 step their 400 ms momentary blocks — and long enough for the 10 Hz bins
an ERB band at 20 Hz needs. Its power
spectrum is the mean of the two STFT frames *centred* in it (their centres at
``k L + L/4`` and ``k L + 3L/4``), so the grid is symmetric about each frame's
middle; the signal is padded with ``L/4`` zeros in front for that.

Scaling: band power is **mean-square per frame** (Parseval): the power spectrum
is divided by ``n_fft * sum(w**2)`` and the one-sided bins are doubled, so the
band powers of a frame add up to the mean square of the signal in it. A
full-scale sine (peak 1.0) gives 0.5 (−3.01 dB) in its band, as it reads −3.01
LKFS in BS.1770 (before K-weighting). 0 dB means a mean square of 1.0.

Bins are summed into perceptual bands with :func:`~workbench.analysis.bands.band_matrix`
(default: 40 ERB-rate bands from 20 Hz to 20 kHz).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..audio_array import sample_rate_hz
from ..errors import ParameterError
from . import stft
from .bands import Bands, band_matrix, erb_bands

#: STFT size at 44.1 kHz: 4096 points give 10.8 Hz bins, enough to resolve the
#: lowest ERB band (20–49 Hz, Glasberg & Moore 1990) with three bins.
N_FFT_44K = 4096

#: BS.1770-4 §2.8 absolute gate, −70 LKFS, used here on plain mean-square power
#: (dB re a mean square of 1.0) as the level below which a frame is silence.
ABSOLUTE_FLOOR_DB = -70.0

#: Relative gate: a frame more than 20 dB below the stem's (absolute-gated) mean
#: power is not "active". BS.1770-4 gates integrated loudness at −10 LU; EBU Tech
#: 3342 (loudness range) gates at −20 LU because it must keep the quiet passages
#: of a programme. Activity must keep a stem's quiet notes too, so we take −20 dB.
RELATIVE_GATE_DB = -20.0

#: Spectral roll-off point: the frequency below which 85 % of a frame's power
#: lies (the common setting; e.g. Tzanetakis & Cook 2002, "Musical genre
#: classification of audio signals", IEEE TSAP 10(5), and librosa's default).
ROLLOFF_FRACTION = 0.85

#: Smallest power written as a level: −150 dB, below the dither floor of 24-bit
#: audio (≈ −146 dBFS), so a silent band reads as "nothing" without ``-inf``.
POWER_FLOOR = 1e-15

#: Analysis frames transformed per batch (≈ 3 s): bounds memory (about 1 MB of
#: windowed frames and 1 MB of spectrum) and, because batches are aligned to the
#: frame grid, keeps the arithmetic identical whatever block sizes are pushed.
_BATCH_FRAMES = 32


def fft_size(sample_rate: int) -> int:
    """STFT size for a sample rate: 4096 at 44.1/48 kHz, scaled by powers of two.

    ``4096 * 2**round(log2(sample_rate / 44100))`` keeps bins between about 7
    and 12 Hz wide at any common rate (8192 at 88.2/96 kHz, 2048 at 22.05 kHz).
    """
    sample_rate = sample_rate_hz(sample_rate)
    return max(256, int(N_FFT_44K * 2 ** round(math.log2(sample_rate / 44100.0))))


def stft_hop(sample_rate: int) -> int:
    """STFT hop in samples: half the FFT size (Hann windows at 50 % overlap)."""
    return fft_size(sample_rate) // 2


def frame_length(sample_rate: int) -> int:
    """Length ``L`` of one analysis frame in samples (two STFT hops).

    Analysis frame ``k`` covers samples ``[k * L, (k + 1) * L)``. ``L`` is 4096
    at 44.1 kHz (92.9 ms) and at 48 kHz (85.3 ms), 8192 at 96 kHz.

    Examples
    --------
    >>> frame_length(44100), frame_length(48000), frame_length(96000)
    (4096, 4096, 8192)
    """
    return 2 * stft_hop(sample_rate)


def frame_count(n_samples: int, sample_rate: int) -> int:
    """Number of analysis frames for ``n_samples``: ``ceil(n_samples / L)``."""
    if n_samples < 0:
        raise ParameterError(f"n_samples must be >= 0, got {n_samples}")
    return -(-int(n_samples) // frame_length(sample_rate))


def activity_from_power(
    total_power: np.ndarray,
    *,
    absolute_floor_db: float = ABSOLUTE_FLOOR_DB,
    relative_gate_db: float = RELATIVE_GATE_DB,
) -> np.ndarray:
    """Which frames of a stem are active: the one activity definition of the workbench.

    A frame is active when its power is above ``absolute_floor_db`` and no more
    than ``-relative_gate_db`` below the stem's reference level. The reference is
    the mean power of the frames above the absolute floor — the two-stage gating
    of ITU-R BS.1770-4 §2.8, with the −20 dB relative gate of EBU Tech 3342
    because activity must keep quiet passages that integrated loudness drops.

    Parameters
    ----------
    total_power : np.ndarray, shape ``(n_frames,)`` or ``(..., n_frames)``
        Linear mean-square power per analysis frame (e.g.
        ``SpectrumResult.band_power.sum(axis=0)``, or a K-weighted mean square).
        Leading axes are independent stems; the gate is computed per stem.
    absolute_floor_db : float
        Level (dB re mean square 1.0) at or below which a frame is silence.
    relative_gate_db : float
        Gate relative to the reference level, in dB (negative).

    Returns
    -------
    np.ndarray of bool, same shape as ``total_power``
        ``True`` where the frame is active. A stem with no frame above the
        absolute floor is inactive everywhere.

    Examples
    --------
    >>> p = np.array([0.1, 0.1, 1e-4, 0.0, 1e-9])
    >>> activity_from_power(p).tolist()
    [True, True, False, False, False]
    """
    if relative_gate_db > 0:
        raise ParameterError(f"relative_gate_db must be <= 0 dB, got {relative_gate_db}")
    p = np.asarray(total_power, dtype=np.float64)
    above = p > 10.0 ** (absolute_floor_db / 10.0)
    n_above = above.sum(axis=-1, keepdims=True)
    mean_above = np.where(above, p, 0.0).sum(axis=-1, keepdims=True) / np.maximum(n_above, 1)
    gate = mean_above * 10.0 ** (relative_gate_db / 10.0)
    return above & (p > gate)


@dataclass(frozen=True, eq=False)
class SpectrumResult:
    """Band power of one stem on the analysis frame grid, with summaries.

    Attributes
    ----------
    band_power : np.ndarray, shape ``(n_bands, n_frames)``, float32
        Linear mean-square power per band and frame (a full-scale sine gives 0.5
        in its band; the bands of a frame sum to its mean square).
    frame_hop_s : float
        Seconds between analysis frames (``frame_length / sample_rate``).
    bands : Bands
        The band layout.
    active : np.ndarray, shape ``(n_frames,)``, bool
        :func:`activity_from_power` of the total band power per frame.
    long_term_db : np.ndarray, shape ``(n_bands,)``
        ``10 log10`` of the mean band power over active frames (over all frames
        when none is active), floored at −150 dB.
    centroid_hz : np.ndarray, shape ``(n_frames,)``, float32
        Spectral centroid per frame over the bins between the band edges
        (0 for a silent frame).
    centroid_hz_mean : float
        Power-weighted mean centroid over active frames (the centroid of their
        summed spectrum); 0.0 when the stem is silent.
    rolloff_hz : float
        Mean over active frames of the per-frame 85 % spectral roll-off.
    sample_rate : int
    frame_length : int
        Samples per analysis frame.
    n_samples : int
        Samples pushed.
    """

    band_power: np.ndarray
    frame_hop_s: float
    bands: Bands
    active: np.ndarray
    long_term_db: np.ndarray
    centroid_hz: np.ndarray
    centroid_hz_mean: float
    rolloff_hz: float
    sample_rate: int
    frame_length: int
    n_samples: int

    @property
    def n_frames(self) -> int:
        """Number of analysis frames, ``ceil(n_samples / frame_length)``."""
        return self.band_power.shape[1]

    @property
    def n_bands(self) -> int:
        """Number of bands."""
        return self.band_power.shape[0]


class BandPowerAccumulator:
    """Streaming band-power analysis of one mono signal.

    Push consecutive blocks of any length with :meth:`push`, then call
    :meth:`finish` once. The result does not depend on how the signal was cut
    into blocks: frames are transformed in fixed batches aligned to the frame
    grid, so the arithmetic is the same for any block sizes.

    Parameters
    ----------
    sample_rate : int
        Sample rate in Hz.
    bands : Bands or None
        Band layout; default :func:`~workbench.analysis.bands.erb_bands` (40 ERB bands).

    Examples
    --------
    >>> sr = 44100
    >>> t = np.arange(sr) / sr
    >>> acc = BandPowerAccumulator(sr)
    >>> acc.push(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    >>> res = acc.finish()
    >>> res.bands.centres_hz[int(res.band_power.mean(axis=1).argmax())] > 900
    True
    """

    def __init__(self, sample_rate: int, *, bands: Bands | None = None) -> None:
        self.sample_rate = sample_rate_hz(sample_rate)
        self.bands = erb_bands() if bands is None else bands
        self.n_fft = fft_size(self.sample_rate)
        self.hop = self.n_fft // 2
        self.frame_length = 2 * self.hop
        # Periodic Hann: constant overlap-add at a hop of n_fft / 2 (Harris 1978).
        self._window = stft.hann(self.n_fft, dtype=np.float32)
        # Parseval scaling to mean square: one-sided bins count twice (not DC or
        # Nyquist); 1/(n_fft * sum w^2) undoes the transform and the window; the
        # 1/2 averages the two STFT frames of an analysis frame.
        n_bins = self.n_fft // 2 + 1
        weight = np.full(n_bins, 2.0)
        weight[0] = weight[-1] = 1.0
        weight /= self.n_fft * float(np.sum(self._window.astype(np.float64) ** 2)) * 2.0
        matrix = band_matrix(self.bands, self.n_fft, self.sample_rate)
        in_band = matrix.sum(axis=0) > 0
        if not in_band.any():
            raise ParameterError(
                f"no FFT bin of a {self.n_fft}-point transform at {self.sample_rate} Hz falls in "
                f"the bands ({self.bands.edges_hz[0]:.1f}–{self.bands.edges_hz[-1]:.1f} Hz)"
            )
        self._lo = int(np.argmax(in_band))
        self._hi = int(n_bins - np.argmax(in_band[::-1]))
        # Band sums restricted to the in-band bins (the matrix is zero elsewhere).
        self._matrix_t = np.ascontiguousarray(
            (matrix * weight[None, :].astype(np.float32))[:, self._lo:self._hi].T
        )
        freqs = np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate)[self._lo:self._hi]
        self._freqs = freqs.astype(np.float32)
        w = weight[self._lo:self._hi]
        # Columns: in-band mean square, and frequency-weighted mean square (centroid).
        self._moments = np.stack([w, w * freqs], axis=1).astype(np.float32)
        # Buffer in "buffer coordinates": sample s of the signal sits at s + L/4,
        # so that the STFT frames at buffer offsets kL and kL + L/2 are centred
        # in analysis frame k.
        self._buf = np.zeros(self.hop // 2, dtype=np.float32)
        self._pending: list[np.ndarray] = []  # pushed blocks not yet in _buf
        self._n_pending = 0
        self._n_samples = 0
        self._n_done = 0
        self._band: list[np.ndarray] = []
        self._total: list[np.ndarray] = []
        self._fmoment: list[np.ndarray] = []
        self._rolloff: list[np.ndarray] = []
        self._finished = False

    def push(self, mono: np.ndarray) -> None:
        """Add the next block of samples.

        Parameters
        ----------
        mono : np.ndarray, shape ``(n,)``
            The next ``n`` samples (any ``n >= 0``), float; converted to float32.
        """
        if self._finished:
            raise RuntimeError("BandPowerAccumulator.push() called after finish()")
        # A copy: the caller may reuse its block buffer.
        x = np.array(mono, dtype=np.float32, copy=True)
        if x.ndim != 1:
            raise ParameterError(f"mono must be 1-D (samples,), got shape {x.shape}")
        if x.size == 0:
            return
        self._n_samples += x.size
        self._pending.append(x)
        self._n_pending += x.size
        # Analysis frame k needs buffer samples [kL, kL + L + L/2); transform
        # whole batches only, and join small blocks only when a batch is ready.
        need = _BATCH_FRAMES * self.frame_length + self.hop
        if self._buf.size + self._n_pending >= need:
            self._join_pending()
            while self._buf.size >= need:
                self._transform(_BATCH_FRAMES)

    def finish(self) -> SpectrumResult:
        """Pad the last frame with zeros, transform what is left, and summarise."""
        if self._finished:
            raise RuntimeError("BandPowerAccumulator.finish() called twice")
        self._finished = True
        self._join_pending()
        n_frames = frame_count(self._n_samples, self.sample_rate)
        remaining = n_frames - self._n_done
        if remaining > 0:
            need = remaining * self.frame_length + self.hop
            if self._buf.size < need:
                self._buf = np.concatenate(
                    [self._buf, np.zeros(need - self._buf.size, dtype=np.float32)]
                )
            while remaining > 0:
                k = min(remaining, _BATCH_FRAMES)
                self._transform(k)
                remaining -= k
        nb = self.bands.n_bands
        band_power = (np.concatenate(self._band, axis=0).T if self._band
                      else np.zeros((nb, 0), np.float32))
        band_power = np.ascontiguousarray(band_power, dtype=np.float32)
        total = np.concatenate(self._total) if self._total else np.zeros(0, np.float32)
        fmoment = np.concatenate(self._fmoment) if self._fmoment else np.zeros(0, np.float32)
        rolloff = np.concatenate(self._rolloff) if self._rolloff else np.zeros(0, np.float32)
        self._buf = np.zeros(0, np.float32)

        active = activity_from_power(band_power.sum(axis=0))
        sel = active if active.any() else np.ones_like(active)
        if sel.any():
            long_term = band_power[:, sel].astype(np.float64).mean(axis=1)
        else:
            long_term = np.zeros(nb)
        long_term_db = 10.0 * np.log10(np.maximum(long_term, POWER_FLOOR))
        with np.errstate(invalid="ignore", divide="ignore"):
            centroid = np.where(total > 0, fmoment / total, 0.0).astype(np.float32)
        sum_total = float(total[sel].astype(np.float64).sum()) if sel.any() else 0.0
        centroid_mean = float(fmoment[sel].astype(np.float64).sum() / sum_total) if sum_total > 0 else 0.0
        has_power = sel & (total > 0)
        rolloff_mean = float(rolloff[has_power].astype(np.float64).mean()) if has_power.any() else 0.0
        return SpectrumResult(
            band_power=band_power,
            frame_hop_s=self.frame_length / self.sample_rate,
            bands=self.bands,
            active=active,
            long_term_db=long_term_db,
            centroid_hz=centroid,
            centroid_hz_mean=centroid_mean,
            rolloff_hz=rolloff_mean,
            sample_rate=self.sample_rate,
            frame_length=self.frame_length,
            n_samples=self._n_samples,
        )

    def _join_pending(self) -> None:
        if self._pending:
            self._buf = np.concatenate([self._buf, *self._pending])
            self._pending.clear()
            self._n_pending = 0

    def _transform(self, n_frames: int) -> None:
        """Transform the next ``n_frames`` analysis frames at the front of the buffer."""
        L, H = self.frame_length, self.hop
        span = n_frames * L + H
        # 2 * n_frames STFT frames at a hop of H, as a strided view (no copy).
        framed = stft.frames(self._buf[:span], self.n_fft, H)
        power = stft.power_spectra(framed, self._window, bins=slice(self._lo, self._hi))
        # Sum the two STFT frames of each analysis frame (the 1/2 is in the weights).
        power = power.reshape(n_frames, 2, -1).sum(axis=1)
        self._band.append(power @ self._matrix_t)
        moments = power @ self._moments
        total, fmoment = moments[:, 0], moments[:, 1]
        self._total.append(total)
        self._fmoment.append(fmoment)
        # 85 % roll-off: first bin where the cumulative in-band power reaches 85 %.
        cum = np.cumsum(power * self._moments[:, 0], axis=1)
        idx = np.argmax(cum >= ROLLOFF_FRACTION * cum[:, -1:], axis=1)
        self._rolloff.append(np.where(cum[:, -1] > 0, self._freqs[idx], 0.0).astype(np.float32))
        self._buf = self._buf[n_frames * L:]
        self._n_done += n_frames

