"""Perceptual frequency bands on the ERB-rate scale.

Glasberg & Moore (1990), "Derivation of auditory filter shapes from
notched-noise data", Hearing Research 47: the equivalent rectangular bandwidth
of the auditory filter is ``ERB(f) = 24.7 * (4.37 f / 1000 + 1)`` Hz, and the
ERB-rate (number of ERBs below ``f``) is ``21.4 * log10(4.37 f / 1000 + 1)``.
From 20 Hz to 20 kHz that is about 40 ERBs, so the default 40 bands are each
about one auditory filter wide — the resolution at which one sound masks
another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

#: Default band layout: 40 bands, 20 Hz – 20 kHz (≈ 1 ERB each; Glasberg & Moore 1990).
N_BANDS = 40
FMIN_HZ = 20.0
FMAX_HZ = 20000.0


def hz_to_erb_rate(freq_hz: np.ndarray | float) -> np.ndarray:
    """ERB-rate (Cams) of a frequency: ``21.4 log10(4.37 f/1000 + 1)`` (Glasberg & Moore 1990)."""
    return 21.4 * np.log10(4.37 * np.asarray(freq_hz, dtype=float) / 1000.0 + 1.0)


def erb_rate_to_hz(erb_rate: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_erb_rate`."""
    return (10.0 ** (np.asarray(erb_rate, dtype=float) / 21.4) - 1.0) * 1000.0 / 4.37


@dataclass(frozen=True)
class Bands:
    """Band edges and centres in Hz (``edges_hz`` has ``n_bands + 1`` entries)."""

    edges_hz: tuple[float, ...]
    centres_hz: tuple[float, ...]

    @property
    def n_bands(self) -> int:
        return len(self.centres_hz)

    def index_of(self, freq_hz: float) -> int:
        """Index of the band holding ``freq_hz`` (clamped to the first/last band)."""
        i = int(np.searchsorted(self.edges_hz, freq_hz, side="right")) - 1
        return min(max(i, 0), self.n_bands - 1)


def erb_bands(n_bands: int = N_BANDS, fmin_hz: float = FMIN_HZ, fmax_hz: float = FMAX_HZ) -> Bands:
    """Bands equally spaced in ERB-rate between ``fmin_hz`` and ``fmax_hz``.

    Centres are the ERB-rate midpoints of each band.
    """
    if n_bands < 1:
        raise ParameterError(f"n_bands must be at least 1, got {n_bands}")
    if not 0 < fmin_hz < fmax_hz:
        raise ParameterError(f"need 0 < fmin_hz < fmax_hz, got {fmin_hz}, {fmax_hz}")
    e = np.linspace(hz_to_erb_rate(fmin_hz), hz_to_erb_rate(fmax_hz), n_bands + 1)
    edges = erb_rate_to_hz(e)
    centres = erb_rate_to_hz((e[:-1] + e[1:]) / 2)
    return Bands(tuple(float(x) for x in edges), tuple(float(x) for x in centres))


def band_matrix(bands: Bands, n_fft: int, sample_rate: int) -> np.ndarray:
    """Matrix ``(n_bands, n_fft // 2 + 1)`` summing rFFT bin powers into bands.

    Each bin belongs to the band whose edges hold its frequency; bins outside
    ``[fmin, fmax)`` are dropped. Multiply a power spectrum ``(bins, frames)``
    on the left to get band powers ``(bands, frames)``.
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = np.asarray(bands.edges_hz)
    idx = np.searchsorted(edges, freqs, side="right") - 1
    m = np.zeros((bands.n_bands, freqs.size), dtype=np.float32)
    ok = (idx >= 0) & (idx < bands.n_bands)
    m[idx[ok], np.nonzero(ok)[0]] = 1.0
    return m
