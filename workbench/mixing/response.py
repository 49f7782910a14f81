"""Magnitude responses of the plan's EQ bands, for deciding and for figures.

The planner predicts what its own EQ will do to a stem's band powers (to measure
masking *after* the high-pass and cuts), so it needs the filters' magnitudes
without rendering audio. High- and low-pass are Butterworth (maximally flat:
``|H|² = 1 / (1 + (fc/f)^(2N))``, N = slope / 6 dB per octave); bells and shelves
are the biquads of R. Bristow-Johnson's "Cookbook formulae for audio EQ biquad
filter coefficients" (the design JUCE, and so pedalboard, uses).
"""

from __future__ import annotations

import numpy as np

from .plan import EQBand


def _rbj(b: EQBand, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    a_lin = 10 ** (b.gain_db / 40)
    w0 = 2 * np.pi * min(b.freq_hz, 0.49 * sample_rate) / sample_rate
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2 * b.q)
    if b.kind == "bell":
        num = [1 + alpha * a_lin, -2 * cw, 1 - alpha * a_lin]
        den = [1 + alpha / a_lin, -2 * cw, 1 - alpha / a_lin]
    else:
        sq = 2 * np.sqrt(a_lin) * alpha
        if b.kind == "low_shelf":
            num = [a_lin * ((a_lin + 1) - (a_lin - 1) * cw + sq), 2 * a_lin * ((a_lin - 1) - (a_lin + 1) * cw),
                   a_lin * ((a_lin + 1) - (a_lin - 1) * cw - sq)]
            den = [(a_lin + 1) + (a_lin - 1) * cw + sq, -2 * ((a_lin - 1) + (a_lin + 1) * cw),
                   (a_lin + 1) + (a_lin - 1) * cw - sq]
        else:  # high_shelf
            num = [a_lin * ((a_lin + 1) + (a_lin - 1) * cw + sq), -2 * a_lin * ((a_lin - 1) + (a_lin + 1) * cw),
                   a_lin * ((a_lin + 1) + (a_lin - 1) * cw - sq)]
            den = [(a_lin + 1) - (a_lin - 1) * cw + sq, 2 * ((a_lin - 1) - (a_lin + 1) * cw),
                   (a_lin + 1) - (a_lin - 1) * cw - sq]
    return np.asarray(num), np.asarray(den)


def band_response_db(b: EQBand, freqs_hz: np.ndarray, sample_rate: int = 44100) -> np.ndarray:
    """Magnitude response of one EQ band in dB at ``freqs_hz``."""
    f = np.maximum(np.asarray(freqs_hz, dtype=float), 1e-3)
    if b.kind in ("highpass", "lowpass"):
        order = b.slope_db_per_oct // 6
        ratio = (b.freq_hz / f) if b.kind == "highpass" else (f / b.freq_hz)
        return -10 * np.log10(1 + ratio ** (2 * order))
    num, den = _rbj(b, sample_rate)
    z = np.exp(-1j * 2 * np.pi * np.minimum(f, sample_rate / 2) / sample_rate)
    h = (num[0] + num[1] * z + num[2] * z ** 2) / (den[0] + den[1] * z + den[2] * z ** 2)
    return 20 * np.log10(np.maximum(np.abs(h), 1e-12))


def eq_response_db(eq: list[EQBand], freqs_hz: np.ndarray, sample_rate: int = 44100) -> np.ndarray:
    """Summed magnitude response (dB) of a list of EQ bands at ``freqs_hz``."""
    total = np.zeros(np.shape(freqs_hz), dtype=float)
    for b in eq:
        total += band_response_db(b, freqs_hz, sample_rate)
    return total
