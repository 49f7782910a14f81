"""Small DSP building blocks for the renderer: filters, pan laws, a limiter, dither.

Everything here works on ``float32`` audio of shape ``(channels, samples)`` at an
explicit sample rate, and every stateful object processes a stream block by
block: feeding a signal in any split gives the same samples as feeding it whole
(the state — filter memories, delay lines, envelopes — is carried across
blocks). Nothing here reads a plan or a file; :mod:`workbench.mixing.render`
does that.

Sources of the laws and constants used:

- Bells and shelves: R. Bristow-Johnson, "Cookbook formulae for audio EQ
  biquad filter coefficients" (the design JUCE and so pedalboard use).
- Butterworth high- and low-pass (maximally flat; −3.01 dB at the cutoff for
  every order, −6N dB per octave beyond it): S. Butterworth, "On the theory of
  filter amplifiers", *Experimental Wireless & the Wireless Engineer* 7 (1930),
  realised digitally by the bilinear transform with pre-warping
  (``scipy.signal.butter``) as second-order sections.
- Constant-power (sine/cosine) pan law, −3.01 dB per side at the centre:
  R. B. Dannenberg, "Loudness Concepts & Pan Laws" (CMU Introduction to Computer
  Music notes); B. Owsinski, *The Mixing Engineer's Handbook*, "pan law".
- Mid/side width: the sum/difference representation of stereo of A. D.
  Blumlein's British patent 394,325 (1931).
- True-peak detection by 4× oversampling: ITU-R BS.1770-4, Annex 2.
- Dither: triangular-PDF (TPDF) dither of 2 LSB peak to peak makes the first two
  moments of the total error independent of the signal — J. Vanderkooy &
  S. P. Lipshitz, "Dither in digital audio", JAES 35(12), 1987; S. P. Lipshitz,
  R. A. Wannamaker & J. Vanderkooy, "Quantization and dither: a theoretical
  survey", JAES 40(5), 1992.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import minimum_filter1d
from scipy.signal import butter, firwin, sosfilt

from ..errors import ParameterError
from ..units import db_to_amp

#: Butterworth order for a slope: every order adds 6.02 dB per octave
#: (20·log10(2) per order of the ``|H|² = 1 / (1 + (fc/f)^(2N))`` response).
BUTTERWORTH_ORDER = {6: 1, 12: 2, 24: 4}

#: Filter frequencies are kept below this fraction of the sample rate: the
#: bilinear transform maps fs/2 to infinity, so a cutoff at or above Nyquist
#: has no digital equivalent (0.49·fs = 21.6 kHz at 44.1 kHz).
MAX_FREQ_FRACTION = 0.49

#: True-peak interpolator: 4× oversampling (ITU-R BS.1770-4 Annex 2) with the
#: Kaiser-windowed sinc that ``scipy.signal.resample_poly(x, 4, 1)`` designs
#: (``firwin(2·10·4 + 1, 1/4, window=("kaiser", 5.0))``, gain 4). Its group
#: delay is (81 − 1) / 2 = 40 taps at the 4× rate, i.e. exactly 10 input samples.
OVERSAMPLING = 4
_TP_HALF_LEN = 10 * OVERSAMPLING
_TP_FIR = firwin(2 * _TP_HALF_LEN + 1, 1.0 / OVERSAMPLING, window=("kaiser", 5.0)) * OVERSAMPLING
TRUE_PEAK_DELAY = _TP_HALF_LEN // OVERSAMPLING

_SQRT2 = math.sqrt(2.0)


#: ``10 ** (db / 20)``: a level in dB as a linear amplitude factor (:func:`workbench.units.db_to_amp`).
db_to_amplitude = db_to_amp


# --------------------------------------------------------------------- filters
def butterworth_sos(kind: str, freq_hz: float, slope_db_per_oct: int, sample_rate: int) -> np.ndarray:
    """Second-order sections of a Butterworth high- or low-pass.

    Parameters
    ----------
    kind : {"highpass", "lowpass"}
    freq_hz : float
        The −3 dB cutoff (Hz); kept below ``MAX_FREQ_FRACTION · sample_rate``.
    slope_db_per_oct : {6, 12, 24}
        Asymptotic slope: order 1, 2 or 4.
    sample_rate : int
        Sample rate (Hz).

    Returns
    -------
    np.ndarray
        ``(n_sections, 6)`` float64 sections for ``scipy.signal.sosfilt``.

    Examples
    --------
    >>> sos = butterworth_sos("highpass", 100.0, 12, 44100)
    >>> sos.shape
    (1, 6)
    """
    if kind not in ("highpass", "lowpass"):
        raise ParameterError(f"kind must be 'highpass' or 'lowpass', got {kind!r}")
    if slope_db_per_oct not in BUTTERWORTH_ORDER:
        raise ParameterError(f"slope_db_per_oct must be one of {sorted(BUTTERWORTH_ORDER)}, got {slope_db_per_oct}")
    freq = min(float(freq_hz), MAX_FREQ_FRACTION * sample_rate)
    return butter(BUTTERWORTH_ORDER[slope_db_per_oct], freq, btype=kind, fs=sample_rate, output="sos")


def rbj_biquad_sos(kind: str, freq_hz: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    """One biquad section of R. Bristow-Johnson's "Cookbook formulae for audio EQ biquad filter coefficients".

    ``A = 10^(gain/40)``, ``w0 = 2·pi·f0/fs``, ``alpha = sin(w0) / (2Q)``; the
    peaking EQ, low shelf and high shelf of the cookbook. These are the designs
    of JUCE's ``IIR::Coefficients::makePeakFilter``/``makeLowShelf``/
    ``makeHighShelf`` that pedalboard's ``PeakFilter``, ``LowShelfFilter`` and
    ``HighShelfFilter`` wrap (their ``Q`` enters the shelves as
    ``2·sqrt(A)·alpha = sqrt(A)·sin(w0)/Q``, as here).

    Parameters
    ----------
    kind : {"bell", "low_shelf", "high_shelf"}
    freq_hz : float
        Centre (bell) or corner (shelves) frequency; kept below ``MAX_FREQ_FRACTION · fs``.
    gain_db : float
        Boost (+) or cut (−) in dB at the centre / on the shelf.
    q : float
        Bandwidth (bell) or shelf slope (0.707: no overshoot).
    sample_rate : int

    Returns
    -------
    np.ndarray
        ``(1, 6)`` float64 section ``[b0, b1, b2, 1, a1, a2]`` (normalised by ``a0``).

    Examples
    --------
    >>> from scipy.signal import sosfreqz
    >>> sos = rbj_biquad_sos("bell", 1000.0, 6.0, 1.0, 48000)
    >>> _, h = sosfreqz(sos, worN=[1000.0], fs=48000)
    >>> round(float(20 * np.log10(abs(h[0]))), 2)
    6.0
    """
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * min(float(freq_hz), MAX_FREQ_FRACTION * sample_rate) / sample_rate
    cw, sw = math.cos(w0), math.sin(w0)
    alpha = sw / (2.0 * q)
    if kind == "bell":
        b = [1.0 + alpha * a, -2.0 * cw, 1.0 - alpha * a]
        den = [1.0 + alpha / a, -2.0 * cw, 1.0 - alpha / a]
    elif kind in ("low_shelf", "high_shelf"):
        sq = 2.0 * math.sqrt(a) * alpha
        s = 1.0 if kind == "low_shelf" else -1.0        # the high shelf flips the sign of cos(w0)
        b = [a * ((a + 1) - s * (a - 1) * cw + sq), s * 2 * a * ((a - 1) - s * (a + 1) * cw),
             a * ((a + 1) - s * (a - 1) * cw - sq)]
        den = [(a + 1) + s * (a - 1) * cw + sq, -s * 2 * ((a - 1) + s * (a + 1) * cw),
               (a + 1) + s * (a - 1) * cw - sq]
    else:
        raise ParameterError(f"kind must be 'bell', 'low_shelf' or 'high_shelf', got {kind!r}")
    return np.array([[b[0], b[1], b[2], den[0], den[1], den[2]]]) / den[0]


class SosFilter:
    """A streaming IIR filter (second-order sections), one memory per channel.

    Computes in float64 (a 20 Hz high-pass at 44.1 kHz has poles within 0.3 %
    of the unit circle, where float32 coefficients are too coarse) and returns
    float32. The filter memory ``zi`` is carried from block to block and starts
    at zero (silence before the first sample).

    Parameters
    ----------
    sos : np.ndarray
        ``(n_sections, 6)`` second-order sections.
    channels : int
        Channel count of the blocks.
    """

    def __init__(self, sos: np.ndarray, channels: int) -> None:
        self.sos = np.asarray(sos, dtype=np.float64)
        self._zi = np.zeros((self.sos.shape[0], channels, 2))

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter one ``(channels, n)`` block; returns float32 of the same shape."""
        y, self._zi = sosfilt(self.sos, block.astype(np.float64), axis=-1, zi=self._zi)
        return y.astype(np.float32)


class SampleDelay:
    """A whole-sample delay line: the output is the input ``delay_frames`` later.

    Exact (no interpolation) and independent of how the stream is split.
    """

    def __init__(self, delay_frames: int, channels: int) -> None:
        if delay_frames < 0:
            raise ParameterError(f"delay_frames must be >= 0, got {delay_frames}")
        self.delay_frames = int(delay_frames)
        self._buffer = np.zeros((channels, self.delay_frames), dtype=np.float32)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Delay one ``(channels, n)`` block (returns ``n`` frames)."""
        if self.delay_frames == 0:
            return block
        joined = np.concatenate([self._buffer, block.astype(np.float32, copy=False)], axis=1)
        n = block.shape[1]
        self._buffer = joined[:, n:].copy()
        return joined[:, :n]


# ------------------------------------------------------------ pan and width
def constant_power_gains(pan: float) -> tuple[float, float]:
    """Left and right gains of the sine/cosine constant-power pan law.

    ``theta = (pan + 1) · pi / 4``; ``left = cos(theta)``, ``right = sin(theta)``,
    so ``left² + right² = 1`` everywhere (constant power) and each side is
    ``cos(pi/4) = −3.01 dB`` at the centre (Dannenberg; Owsinski — see module).

    Parameters
    ----------
    pan : float
        −1 (hard left) … 0 (centre) … +1 (hard right).

    Examples
    --------
    >>> [round(g, 4) for g in constant_power_gains(0.0)]
    [0.7071, 0.7071]
    >>> [round(g, 4) for g in constant_power_gains(-1.0)]
    [1.0, 0.0]
    """
    if not -1.0 <= pan <= 1.0:
        raise ParameterError(f"pan must be within -1..1, got {pan}")
    if pan == -1.0:
        return 1.0, 0.0
    if pan == 1.0:
        return 0.0, 1.0
    theta = (pan + 1.0) * math.pi / 4.0
    return math.cos(theta), math.sin(theta)


def pan_mono(block: np.ndarray, pan: float) -> np.ndarray:
    """Place a mono ``(1, n)`` block in the stereo field: ``(2, n)`` float32.

    Uses :func:`constant_power_gains`: at the centre both sides are −3.01 dB.
    """
    left, right = constant_power_gains(pan)
    x = block[0]
    return np.stack([x * np.float32(left), x * np.float32(right)])


def set_width(block: np.ndarray, width: float) -> np.ndarray:
    """Scale the side signal of a stereo ``(2, n)`` block (mid/side, Blumlein).

    ``M = (L + R) / 2``, ``S = (L − R) / 2``; the result is ``(M + w·S, M − w·S)``.
    ``width`` 1 returns the block unchanged (exactly), 0 folds it to mono
    (``L == R == M``).
    """
    if not 0.0 <= width <= 1.0:
        raise ParameterError(f"width must be within 0..1, got {width}")
    if width == 1.0:
        return block
    mid = 0.5 * (block[0] + block[1])
    side = (0.5 * np.float32(width)) * (block[0] - block[1])
    return np.stack([mid + side, mid - side]).astype(np.float32, copy=False)


def balance_stereo(block: np.ndarray, pan: float) -> np.ndarray:
    """Pan a stereo ``(2, n)`` block as a constant-power balance control.

    The left channel is scaled by ``√2·cos(theta)`` and the right by
    ``√2·sin(theta)`` with ``theta = (pan + 1)·pi/4`` — the same sine/cosine law
    as :func:`constant_power_gains`, normalised to unity at the centre: at pan 0
    the block passes unchanged (exactly), the summed power of the two gains is
    2 everywhere (constant power for uncorrelated channels), and at ±1 one
    channel is silent and the other is +3.01 dB.
    """
    if pan == 0.0:
        return block
    left, right = constant_power_gains(pan)
    return np.stack([block[0] * np.float32(_SQRT2 * left), block[1] * np.float32(_SQRT2 * right)])


# ---------------------------------------------------------------- limiter
class TruePeakDetector:
    """Streaming 4× oversampled peak per sample (ITU-R BS.1770-4 Annex 2).

    For each input time ``t`` it reports the largest magnitude over all
    channels of the signal at ``t``, ``t + 1/4``, ``t + 2/4`` and ``t + 3/4``
    (sample periods), interpolated by the polyphase form of ``resample_poly``'s
    filter — the same values ``resample_poly(x, 4, 1)`` gives. Phase 0 of that
    windowed sinc has a single non-zero tap (the centre, 1.0006), so it is the
    sample itself; phases 1–3 are 20-tap FIRs run by ``np.convolve`` over the
    block with 19 samples of history. The interpolator looks
    ``TRUE_PEAK_DELAY`` samples ahead, so the first values come out that many
    samples after the input starts; feed that many zeros at the end to get the
    last ones.

    With a ``below`` level, stretches of :attr:`SEGMENT` outputs whose
    interpolated values cannot reach it — the largest sample in their window
    times :attr:`gain`, the largest absolute coefficient sum of a phase — are
    not interpolated: their reported peaks are only known to be below
    ``below``, which is all a limiter with that ceiling needs (its gain there
    is 1 either way). The limiter's output is unchanged; on mastered mixes a
    third to a half of the stretches are skipped.
    """

    delay = TRUE_PEAK_DELAY
    #: Outputs per stretch tested against ``below``.
    SEGMENT = 1024

    def __init__(self, channels: int) -> None:
        self._phases = [_TP_FIR[k::OVERSAMPLING] for k in range(1, OVERSAMPLING)]
        self._centre = float(_TP_FIR[_TP_HALF_LEN])
        #: No interpolated value exceeds this times the largest sample of its window.
        self.gain = max(float(np.abs(p).sum()) for p in self._phases)
        self._history = np.zeros((channels, max(p.size for p in self._phases) - 1))
        self._history_abs = np.zeros(self._history.shape[1])   # its largest |sample| per time
        self._sample_peak = np.zeros(0)        # phase 0 of times not reported yet
        self._to_skip = self.delay             # interpolator outputs before time 0

    def process(self, block: np.ndarray, below: float | None = None) -> np.ndarray:
        """Push a ``(channels, n)`` block; returns the peaks now known (float64, 1-D).

        With ``below``, values under ``below`` may be reported as any value
        under ``below`` (see the class doc).
        """
        x = block.astype(np.float64)
        n_in = x.shape[1]
        extended = np.concatenate([self._history, x], axis=1)
        hist = self._history.shape[1]
        self._history = extended[:, extended.shape[1] - hist:]
        x_abs = np.abs(x).max(axis=0)
        extended_abs = np.concatenate([self._history_abs, x_abs])
        self._history_abs = extended_abs[extended_abs.size - hist:]
        interpolated = np.zeros(n_in)
        for lo, hi in self._stretches(extended_abs, n_in, below):
            for h in self._phases:
                skip = hist - (h.size - 1)
                for channel in extended:
                    seg = np.convolve(channel[skip + lo:skip + hi + h.size - 1], h, "valid")
                    np.maximum(interpolated[lo:hi], np.abs(seg), out=interpolated[lo:hi])
        first = min(self._to_skip, n_in)
        self._to_skip -= first
        interpolated = interpolated[first:]
        pending = np.concatenate([self._sample_peak, self._centre * x_abs])
        n = interpolated.size
        self._sample_peak = pending[n:]
        return np.maximum(interpolated, pending[:n])

    def _stretches(self, extended_abs: np.ndarray, n_out: int, below: float | None) -> list[tuple[int, int]]:
        """``[lo, hi)`` output ranges to interpolate: all of them, or those that may reach ``below``.

        Output ``j`` reads the samples at times ``j .. j + history`` of the
        history and block (``extended_abs`` is their largest absolute value
        over the channels); a stretch is skipped when the largest over its
        outputs' windows, times :attr:`gain`, stays under ``below``.
        """
        if below is None or n_out == 0:
            return [(0, n_out)] if n_out else []
        hist = self._history.shape[1]
        seg = self.SEGMENT
        m = -(-n_out // seg)
        a = np.concatenate([extended_abs, np.zeros(m * seg + hist - extended_abs.size)])
        own = a[:m * seg].reshape(m, seg).max(axis=1)               # outputs' first samples
        tail = a[seg:seg * m + hist]                                 # the next `hist` samples of each
        tail = np.lib.stride_tricks.sliding_window_view(np.concatenate([tail, np.zeros(seg)]), hist)[::seg][:m]
        reach = np.flatnonzero(np.maximum(own, tail.max(axis=1)) * self.gain >= below)
        if reach.size == 0:
            return []
        # Runs of stretches to interpolate, a one-stretch gap bridged (fewer, longer convolutions).
        breaks = np.flatnonzero(np.diff(reach) > 2)
        firsts = np.concatenate([reach[:1], reach[breaks + 1]])
        lasts = np.concatenate([reach[breaks], reach[-1:]])
        return [(int(f) * seg, min((int(k) + 1) * seg, n_out)) for f, k in zip(firsts, lasts)]


class SamplePeakDetector:
    """The per-sample peak over channels (no oversampling, no delay)."""

    delay = 0

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def process(self, block: np.ndarray) -> np.ndarray:
        return np.abs(block).max(axis=0).astype(np.float64)


class LookaheadLimiter:
    """A linked-stereo lookahead true-peak limiter that returns time-aligned audio.

    Gain computer (all in linear gain, per sample ``t``):

    1. ``need[t] = min(1, ceiling / peak[t])`` from the 4× :class:`TruePeakDetector`;
    2. hold: ``H[t] = min(need[t .. t + L])`` over the lookahead ``L``;
    3. attack: ``B[t] = mean(H[t − L .. t])`` — a ramp over ``L`` samples into
       each peak. Every ``H`` in that window covers ``t``, so ``B[t] <= need[t]``:
       the oversampled peaks never exceed the ceiling;
    4. release: the reduction ``u = 1 − G`` decays exponentially,
       ``u[t] = max(1 − B[t], a·u[t − 1])`` with ``a = exp(−1 / (release · fs))``
       — instant attack, exponential release on the gain-reduction signal as in
       D. Giannoulis, M. Massberg & J. D. Reiss, "Digital dynamic range
       compressor design — a tutorial and analysis", JAES 60(6), 2012. The
       recursion is evaluated in closed form with a running maximum in the log
       domain (``log u[t] = t·log a + max_{s<=t}(log(1 − B[s]) − s·log a)``).

    The output is ``x[t]·G[t]``, clipped at the ceiling against rounding.
    Latency is ``L + TRUE_PEAK_DELAY`` samples, but :meth:`process` hides it:
    it withholds the first ``latency`` samples and :meth:`flush` feeds that
    many zeros, so the concatenated output is sample-aligned with the input
    and exactly as long.

    Why not ``pedalboard.BrickwallLimiter``: its gain envelope refreshes its
    hold on every sample above the ceiling, so under sustained limiting the gain
    stays at the deepest reduction seen and more input gain no longer raises
    the loudness (measured: a mix 4 dB over −14 LUFS could not be brought above
    −12.4 LUFS); this limiter's release always runs.

    Parameters
    ----------
    ceiling_db : float
        The ceiling for the oversampled peak (dBFS).
    sample_rate : int
    channels : int
    lookahead_ms : float
        The hold/attack window ``L``.
    release_ms : float
        Release time constant.
    true_peak : bool
        Detect 4×-oversampled peaks (default) or sample peaks only (cheaper:
        for estimates of the loudness at another gain).
    """

    def __init__(self, ceiling_db: float, sample_rate: int, channels: int = 2, *,
                 lookahead_ms: float = 5.0, release_ms: float = 100.0, true_peak: bool = True) -> None:
        if lookahead_ms <= 0 or release_ms <= 0:
            raise ParameterError(f"lookahead_ms and release_ms must be > 0, got {lookahead_ms}, {release_ms}")
        self.ceiling = db_to_amplitude(ceiling_db)
        self.channels = channels
        self.lookahead = max(1, int(round(lookahead_ms * sample_rate / 1000.0)))
        self._detector = TruePeakDetector(channels) if true_peak else SamplePeakDetector(channels)
        self.latency = self.lookahead + self._detector.delay
        self._log_a = -1.0 / (release_ms * sample_rate / 1000.0)
        L = self.lookahead
        self._audio = np.zeros((channels, 0), dtype=np.float32)   # from the next output time on
        self._need = np.ones(L)                                    # from (next output time − L) on
        self._log_u = -np.inf                                      # log reduction at the last output

    def process(self, block: np.ndarray) -> np.ndarray:
        """Push ``(channels, n)`` audio; returns the limited audio now complete (maybe empty)."""
        block = np.asarray(block, dtype=np.float32)
        self._audio = np.concatenate([self._audio, block], axis=1)
        # The detector need not interpolate where the signal cannot reach the
        # ceiling (the gain there is 1 whatever the exact peak).
        peak = (self._detector.process(block, below=self.ceiling) if isinstance(self._detector, TruePeakDetector)
                else self._detector.process(block))
        need = np.minimum(1.0, self.ceiling / np.maximum(peak, 1e-30))
        self._need = np.concatenate([self._need, need])
        L = self.lookahead
        k = self._need.size - 2 * L               # outputs whose lookahead is complete
        if k <= 0:
            return np.zeros((self.channels, 0), dtype=np.float32)
        # Hold: H[i] = min(need[i .. i + L]) for i in 0 .. k + L − 1.
        held = minimum_filter1d(self._need, size=L + 1, mode="nearest")[(L + 1) // 2:(L + 1) // 2 + k + L]
        # Attack: B[j] = mean(H[j .. j + L]) (the L + 1 values ending at output j).
        csum = np.concatenate([[0.0], np.cumsum(held)])
        smooth = (csum[L + 1:L + 1 + k] - csum[:k]) / (L + 1)
        # Release: exponential decay of the reduction, via a log-domain running maximum.
        with np.errstate(divide="ignore"):
            log_u_in = np.log(np.maximum(1.0 - smooth, 0.0))
        steps = np.arange(k, dtype=np.float64)
        carried = self._log_u + self._log_a        # the previous reduction, one step later
        log_u = np.maximum.accumulate(np.maximum(log_u_in - steps * self._log_a,
                                                 np.where(steps == 0, carried, -np.inf)))
        log_u = log_u + steps * self._log_a
        self._log_u = float(log_u[-1])
        gain = (1.0 - np.exp(log_u)).astype(np.float32)
        out = self._audio[:, :k] * gain
        np.clip(out, -self.ceiling, self.ceiling, out=out)
        self._audio = self._audio[:, k:]
        self._need = self._need[k:]
        return out

    def flush(self) -> np.ndarray:
        """Feed ``latency`` zeros: returns the rest of the output (total out == total in)."""
        return self.process(np.zeros((self.channels, self.latency), dtype=np.float32))


# ------------------------------------------------------------------ dither
def tpdf_quantize(block: np.ndarray, bits: int, rng: np.random.Generator | None) -> np.ndarray:
    """Quantise ``(channels, n)`` float audio to ``bits``-bit integers with TPDF dither.

    The dither is the difference of two independent uniform variables of 1 LSB,
    a triangular distribution on (−1, +1) LSB (Vanderkooy & Lipshitz 1987;
    Lipshitz, Wannamaker & Vanderkooy 1992). The random numbers are drawn frame
    by frame (all channels of frame 0, then frame 1...), so a seeded generator
    gives the same dither however the stream is split into blocks. With
    ``rng=None`` the signal is rounded without dither.

    Returns
    -------
    np.ndarray
        int32 ``(channels, n)`` in ``[-2**(bits-1), 2**(bits-1) - 1]``; full scale
        1.0 maps to ``2**(bits-1)``.
    """
    if not 2 <= bits <= 24:
        raise ParameterError(f"bits must be within 2..24, got {bits}")
    scale = float(2 ** (bits - 1))
    y = block.astype(np.float64) * scale
    if rng is not None:
        r = rng.random((block.shape[1], block.shape[0], 2))
        y += (r[..., 0] - r[..., 1]).T
    q = np.floor(y + 0.5)
    np.clip(q, -scale, scale - 1.0, out=q)
    return q.astype(np.int32)
