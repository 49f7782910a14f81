"""The one short-time Fourier front-end: window, framing and power spectra.

Every spectrum the workbench computes — the band powers of the analysis
(:mod:`~workbench.analysis.spectrum`), the features of the category model
(:mod:`~workbench.analysis.classify`) and the spectrograms and long-term
spectra of :mod:`workbench.figures` — frames the signal with :func:`frames`,
windows it with :func:`hann` and transforms it with :func:`power_spectra`.
:class:`StftStream` does the same on a signal pushed block by block.

The Hann window is periodic by default: at a hop of ``n_fft / 2`` (or
``n_fft / 4``) periodic Hann windows sum to a constant (the constant
overlap-add condition; F. J. Harris 1978, "On the use of windows for harmonic
analysis with the discrete Fourier transform", Proc. IEEE 66(1)). The
category model was trained on features taken with the symmetric window
(``periodic=False``, numpy's ``np.hanning``) and keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.fft


def hann(n_fft: int, *, periodic: bool = True, dtype=np.float64) -> np.ndarray:
    """A Hann window of ``n_fft`` samples.

    Parameters
    ----------
    n_fft : int
    periodic : bool
        ``0.5 − 0.5 cos(2πn / N)`` (periodic, for overlap-add) or
        ``0.5 − 0.5 cos(2πn / (N − 1))`` (symmetric, ``np.hanning``).
    dtype : numpy dtype

    Examples
    --------
    >>> w = hann(8)
    >>> float(w[0]), float(w[4])
    (0.0, 1.0)
    """
    if not periodic:
        return np.hanning(n_fft).astype(dtype)
    n = np.arange(n_fft)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(dtype)


def frames(x: np.ndarray, n_fft: int, hop: int, *, pad_end: bool = False) -> np.ndarray:
    """Read-only strided view ``(n_frames, n_fft)`` of a 1-D signal, one frame every ``hop`` samples.

    Frame ``j`` holds ``x[j·hop : j·hop + n_fft]``; only whole frames are
    returned. With ``pad_end`` a signal shorter than one frame is zero-padded
    to one frame (a copy).
    """
    if pad_end and x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    if x.size < n_fft:
        return np.zeros((0, n_fft), dtype=x.dtype)
    return np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]


def power_spectra(framed: np.ndarray, window: np.ndarray, *, bins: slice | None = None) -> np.ndarray:
    """``|rfft(frame · window)|²`` of every frame (rows), in the frames' precision.

    Parameters
    ----------
    framed : np.ndarray, shape ``(n_frames, n_fft)``
        From :func:`frames`.
    window : np.ndarray, shape ``(n_fft,)``
        From :func:`hann`.
    bins : slice, optional
        Keep only these frequency bins (of ``n_fft // 2 + 1``).

    Returns
    -------
    np.ndarray, shape ``(n_frames, n_bins)``
        Unscaled power: a sine of amplitude ``A`` at a bin centre reads
        ``(A · Σw / 2)²``. float32 for float32 frames, float64 otherwise.
    """
    spec = scipy.fft.rfft(framed * window, axis=-1)
    if bins is not None:
        spec = spec[:, bins]
    return spec.real * spec.real + spec.imag * spec.imag


class StftStream:
    """Hann-windowed power spectra of a mono stream, frame ``j`` centred at sample ``j·hop``.

    Blocks of any size are pushed; frames come out in batches as
    ``(first_frame_index, power (frames, bins))``. Only the first
    ``ceil(n_samples / hop)`` frames are produced, so a stream that runs
    longer than announced is cut; :meth:`finish` pads the end with zeros.

    Parameters
    ----------
    sample_rate : int
        Hz (for :attr:`freqs_hz`).
    n_fft, hop : int
    n_samples : int
        The stream's announced length.
    window : np.ndarray, optional
        Default: periodic :func:`hann`.
    """

    batch = 256

    def __init__(self, sample_rate: int, n_fft: int, hop: int, n_samples: int, *,
                 window: np.ndarray | None = None) -> None:
        self.n_fft = int(n_fft)
        self.hop = int(hop)
        self.window = hann(self.n_fft) if window is None else window
        self.n_frames = max(1, -(-int(n_samples) // self.hop))
        self.freqs_hz = np.fft.rfftfreq(self.n_fft, 1.0 / sample_rate)
        self._buf = np.zeros(self.n_fft // 2)  # centre frame 0 on sample 0
        self._next = 0

    def push(self, mono: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Add samples; yield the frames now complete."""
        buf = np.concatenate([self._buf, np.asarray(mono, dtype=np.float64)])
        n_ready = (buf.size - self.n_fft) // self.hop + 1 if buf.size >= self.n_fft else 0
        n_ready = min(n_ready, self.n_frames - self._next)
        if n_ready > 0:
            framed = frames(buf, self.n_fft, self.hop)[:n_ready]
            for s in range(0, n_ready, self.batch):
                yield self._next + s, power_spectra(framed[s:s + self.batch], self.window)
            self._next += n_ready
            buf = buf[n_ready * self.hop:]
        self._buf = buf

    def finish(self) -> Iterator[tuple[int, np.ndarray]]:
        """Pad with zeros and yield the remaining frames."""
        yield from self.push(np.zeros(self.n_fft))
