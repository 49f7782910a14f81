"""Listening exercises with a hidden answer and an automatic, explained check ("predict, then check").

Each generator makes a real audio example from a seed (the same seed gives the
same example and answer), hides the answer, and returns an :class:`Exercise`.
``exercise.check(answer)`` scores a prediction and explains it with what was
*measured* on the example's audio, not only with the hidden setting:

- :func:`boosted_frequency` — pink noise, then the same noise with one bell
  boost: which frequency was boosted?
- :func:`masked_band` — a target of four noise bands, then the target with a
  masker loud in one of them: which band is masked?
- :func:`compression_ratio` — loud and quiet bursts through a static
  compressor: what ratio was used?

The settings (levels, boosts, choices) are teaching choices made to be
audible, not mixing rules. The one rule used is the definition of a
compressor's ratio: above the threshold, the output level rises 1 dB for every
``ratio`` dB of input (the hard-knee gain computer of D. Giannoulis, M. Massberg and
J. D. Reiss, "Digital dynamic range compressor design — a tutorial and analysis",
J. Audio Eng. Soc. 60(6), 2012). The boost is R. Bristow-Johnson's cookbook peaking filter
(:func:`workbench.mixing.dsp.rbj_biquad_sos`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import ParameterError
from .units import amp_to_db, db_to_amp

#: Centre frequencies a boost can be at (octaves, Hz).
BOOST_CHOICES_HZ: tuple[int, ...] = (125, 250, 500, 1000, 2000, 4000, 8000)
#: Bands a masker can cover: name → (low Hz, high Hz).
MASK_BANDS: dict[str, tuple[float, float]] = {
    "low": (60.0, 250.0), "low-mid": (250.0, 1000.0), "high-mid": (1000.0, 4000.0), "high": (4000.0, 12000.0)}
#: Ratios a compression exercise can use.
RATIO_CHOICES: tuple[float, ...] = (1.5, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class CheckResult:
    """A scored prediction: 1 point when right, 0 when wrong, and why."""

    correct: bool
    score: int
    given: str
    answer: str
    explanation: str

    def _repr_html_(self) -> str:
        colour, verdict = ("#1a7f37", "Right") if self.correct else ("#b42318", "Not quite")
        return (f"<div class='wb-exercise-result' style='border-left:4px solid {colour};padding:4px 10px'>"
                f"<b style='color:{colour}'>{verdict}</b> — you said {html.escape(self.given)}; the answer is "
                f"{html.escape(self.answer)}. Score: {self.score}/1.<br>{html.escape(self.explanation)}</div>")


@dataclass(frozen=True)
class Exercise:
    """One "predict, then check" example.

    Attributes
    ----------
    question : str
        What to predict.
    choices : tuple of str
        The allowed answers (as text; numbers may be given as numbers).
    before, after : ndarray
        ``(1, samples)`` float audio: the reference, and the same after the hidden move.
    sample_rate : int
        Of both arrays.
    """

    question: str
    choices: tuple[str, ...]
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)
    sample_rate: int
    _answer: str = field(repr=False)
    _explain: Callable[[], str] = field(repr=False, compare=False)

    def _normalise(self, answer: object) -> str:
        text = str(answer).strip().lower().removesuffix("hz").removesuffix(":1").strip()
        for choice in self.choices:
            c = choice.lower()
            if text == c:
                return choice
            try:
                if float(text) == float(c):
                    return choice
            except ValueError:
                pass
        raise ParameterError(f"The answer {answer!r} is not one of the choices.",
                             f"Answer with one of: {', '.join(self.choices)}.")

    def check(self, answer: object) -> CheckResult:
        """Score ``answer`` (1 if it is the hidden answer, else 0) with an explanation from the audio.

        Raises
        ------
        ParameterError
            When ``answer`` is not one of :attr:`choices` (the message lists them).
        """
        given = self._normalise(answer)
        right = given == self._answer
        return CheckResult(right, int(right), given, self._answer, self._explain())

    def _repr_html_(self) -> str:
        from .ui.lessons import audio_player

        players = "".join(audio_player(a, self.sample_rate, label, max_seconds=10.0).html()
                          for a, label in ((self.before, "before"), (self.after, "after")))
        return (f"<div class='wb-exercise'><b>Predict:</b> {html.escape(self.question)}<br>"
                f"Choices: {html.escape(', '.join(self.choices))}<br>{players}</div>")


def _spectrum_noise(rng: np.random.Generator, n: int, sample_rate: int,
                    shape: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Gaussian noise of ``n`` samples shaped in frequency by ``shape(freqs) -> amplitude``, RMS 1."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    x = np.fft.irfft(spec * shape(freqs), n)
    return x / max(float(np.sqrt(np.mean(x ** 2))), 1e-12)


def band_levels_db(audio: np.ndarray, sample_rate: int, bands: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Energy of ``audio`` (mono-folded) in each band, dB (relative; same scale for every call)."""
    x = np.atleast_2d(audio).mean(axis=0)
    power = np.abs(np.fft.rfft(x)) ** 2 / x.size
    freqs = np.fft.rfftfreq(x.size, 1.0 / sample_rate)
    return {name: float(10 * np.log10(max(power[(freqs >= lo) & (freqs < hi)].sum(), 1e-20)))
            for name, (lo, hi) in bands.items()}


def _band_shape(lo: float, hi: float) -> Callable[[np.ndarray], np.ndarray]:
    """A brick-wall band-pass amplitude shape for :func:`_spectrum_noise`."""
    return lambda f: ((f >= lo) & (f < hi)).astype(float)


def _octave_bands(centres: tuple[int, ...]) -> dict[str, tuple[float, float]]:
    return {str(c): (c / np.sqrt(2), c * np.sqrt(2)) for c in centres}


def boosted_frequency(seed: int, *, gain_db: float = 9.0, q: float = 1.4, seconds: float = 3.0,
                      sample_rate: int = 44100, exaggerate: float = 1.0) -> Exercise:
    """Pink noise, then the same noise with a bell boost at a hidden octave frequency.

    Parameters
    ----------
    seed : int
        Picks the noise and the hidden frequency (one of :data:`BOOST_CHOICES_HZ`).
    gain_db, q : float
        The boost (+9 dB, Q 1.4 by default: about an octave wide).
    exaggerate : float
        Scales the boost (2.0: twice the dB) to make it easier to hear.
    """
    from scipy.signal import sosfilt

    from .mixing.dsp import rbj_biquad_sos

    if exaggerate <= 0:
        raise ParameterError(f"exaggerate must be positive, got {exaggerate!r}.", "Use e.g. 1.0 or 2.0.")
    rng = np.random.default_rng(seed)
    freq = int(rng.choice(BOOST_CHOICES_HZ))
    n = int(seconds * sample_rate)
    pink = _spectrum_noise(rng, n, sample_rate, lambda f: 1.0 / np.sqrt(np.maximum(f, 20.0)))
    before = (pink * db_to_amp(-20.0))[None, :]
    boost = gain_db * exaggerate
    after = sosfilt(rbj_biquad_sos("bell", freq, boost, q, sample_rate), before, axis=-1)
    choices = tuple(str(c) for c in BOOST_CHOICES_HZ)

    def explain() -> str:
        b = band_levels_db(before, sample_rate, _octave_bands(BOOST_CHOICES_HZ))
        a = band_levels_db(after, sample_rate, _octave_bands(BOOST_CHOICES_HZ))
        change = {k: a[k] - b[k] for k in b}
        top = max(change, key=lambda k: change[k])
        rows = ", ".join(f"{k} Hz {change[k]:+.1f} dB" for k in choices)
        return (f"The boost was +{boost:.1f} dB at {freq} Hz (Q {q:g}). Measured change per octave band: "
                f"{rows}; the largest is at {top} Hz.")

    return Exercise("Which frequency was boosted (Hz)? Listen to before, then after.", choices,
                    before.astype(np.float32), after.astype(np.float32), sample_rate, str(freq), explain)


def masked_band(seed: int, *, masker_above_db: float = 15.0, seconds: float = 3.0,
                sample_rate: int = 44100, exaggerate: float = 1.0) -> Exercise:
    """A target of four equal noise bands, then the target plus a masker loud in one hidden band.

    ``masker_above_db`` (× ``exaggerate``) is how far the masker's level in its band is above
    the target's level there.
    """
    if exaggerate <= 0:
        raise ParameterError(f"exaggerate must be positive, got {exaggerate!r}.", "Use e.g. 1.0 or 2.0.")
    rng = np.random.default_rng(seed)
    names = tuple(MASK_BANDS)
    hidden = names[int(rng.integers(len(names)))]
    n = int(seconds * sample_rate)
    parts = {k: _spectrum_noise(rng, n, sample_rate, _band_shape(lo, hi)) for k, (lo, hi) in MASK_BANDS.items()}
    target = sum(parts.values()) * db_to_amp(-30.0)
    lo, hi = MASK_BANDS[hidden]
    masker = _spectrum_noise(rng, n, sample_rate, _band_shape(lo, hi))
    masker = masker * db_to_amp(-30.0 + masker_above_db * exaggerate)
    before = np.asarray(target)[None, :]
    after = before + masker[None, :]

    def explain() -> str:
        t = band_levels_db(before, sample_rate, MASK_BANDS)
        m = band_levels_db(masker[None, :], sample_rate, MASK_BANDS)
        rows = ", ".join(f"{k}: masker {m[k] - t[k]:+.1f} dB vs target" if m[k] - t[k] > -60 else
                         f"{k}: no masker" for k in names)
        return (f"The masker sits in the {hidden} band ({lo:g}–{hi:g} Hz), {masker_above_db * exaggerate:.0f} dB "
                f"above the target there: that part of the target is covered. Measured: {rows}.")

    return Exercise("Which band of the target is masked? Listen to the target alone, then with the masker.",
                    names, before.astype(np.float32), after.astype(np.float32), sample_rate, hidden, explain)


def static_compress(levels_db: np.ndarray, threshold_db: float, ratio: float) -> np.ndarray:
    """Output level of the static (hard-knee) gain computer: above ``threshold_db`` the output
    rises 1 dB per ``ratio`` dB of input; below it, unchanged (Giannoulis, Massberg & Reiss 2012)."""
    lv = np.asarray(levels_db, dtype=float)
    return np.where(lv > threshold_db, threshold_db + (lv - threshold_db) / ratio, lv)


def compression_ratio(seed: int, *, threshold_db: float = -30.0, seconds: float = 4.0,
                      sample_rate: int = 44100) -> Exercise:
    """Tone bursts at four levels, then the same through a static compressor with a hidden ratio.

    The bursts are a 220 Hz tone at -42, -30, -18 and -6 dBFS RMS (0.5 s each, twice);
    the compressor (threshold ``threshold_db``, no attack or release: each burst's gain
    is constant) leaves the quiet ones and turns the loud ones down.
    """
    rng = np.random.default_rng(seed)
    ratio = float(rng.choice(RATIO_CHOICES))
    steps = np.array([-42.0, -30.0, -18.0, -6.0] * 2)
    seg = int(seconds * sample_rate / steps.size)
    t = np.arange(seg) / sample_rate
    tone = np.sin(2 * np.pi * 220.0 * t) * np.sqrt(2.0)  # RMS 1
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)
    out_levels = static_compress(steps, threshold_db, ratio)
    before = np.concatenate([tone * fade * db_to_amp(lv) for lv in steps])[None, :]
    after = np.concatenate([tone * fade * db_to_amp(lv) for lv in out_levels])[None, :]
    choices = tuple(f"{r:g}" for r in RATIO_CHOICES)

    def explain() -> str:
        def rms(x: np.ndarray) -> list[float]:
            return [float(amp_to_db(np.sqrt(np.mean(x[0, i * seg:(i + 1) * seg] ** 2)))) for i in range(4)]

        b, a = rms(before), rms(after)
        above = [(bi, ai) for bi, ai in zip(b, a, strict=True) if bi > threshold_db + 1]
        slopes = [(bi - threshold_db) / (ai - threshold_db) for bi, ai in above]
        return (f"The ratio was {ratio:g}:1 above {threshold_db:g} dB. Measured burst levels in → out: "
                + ", ".join(f"{bi:.1f} → {ai:.1f} dB" for bi, ai in zip(b, a, strict=True))
                + f"; above the threshold, input dB over output dB = {np.mean(slopes):.2f}.")

    return Exercise("What ratio was used (x:1)? Compare how much the loud bursts came down.", choices,
                    before.astype(np.float32), after.astype(np.float32), sample_rate, f"{ratio:g}", explain)
