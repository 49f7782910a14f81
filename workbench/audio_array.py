"""The one validator of audio arrays and sample rates passed to the public API.

The package's audio layout is ``(channels, samples)`` float with the sample
rate passed explicitly (pedalboard's convention); a 1-D array is mono. A bad
array or rate raises :class:`~workbench.errors.ParameterError` (code
``bad_audio``) naming the argument, what was found and what is accepted.
"""

from __future__ import annotations

import numpy as np

from .errors import ErrorCode, ParameterError

#: More rows than this, with no more columns than this, is read as a
#: ``(samples, channels)`` array passed the wrong way round.
TRANSPOSED_LIMIT = 16

_FIX = "Pass float audio shaped (channels, samples); a 1-D array is mono."


def as_audio(audio, *, what: str = "audio", finite: bool = False, allow_empty: bool = True,
             dtype=None) -> np.ndarray:
    """``audio`` as a 2-D ``(channels, samples)`` array, checked.

    Parameters
    ----------
    audio : array_like, shape ``(channels, samples)`` or ``(samples,)``
    what : str
        The argument's name, for the message.
    finite : bool
        Refuse NaN or infinite samples.
    allow_empty : bool
        Accept zero samples.
    dtype : numpy dtype, optional
        Convert to it (no copy when it already is).

    Returns
    -------
    np.ndarray, shape ``(channels, samples)``

    Raises
    ------
    ParameterError
        ``bad_audio`` for a wrong shape, a transposed-looking array, no
        samples (when not allowed) or non-finite samples (when ``finite``).

    Examples
    --------
    >>> as_audio(np.zeros(4)).shape
    (1, 4)
    """
    a = np.asarray(audio)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[0] < 1:
        raise ParameterError(f"{what} must have shape (channels, samples) or (samples,), got shape "
                             f"{np.shape(audio)}", _FIX, code=ErrorCode.BAD_AUDIO)
    if a.shape[0] > TRANSPOSED_LIMIT and a.shape[1] <= TRANSPOSED_LIMIT:
        raise ParameterError(f"{what} looks like (samples, channels) {a.shape}; pass (channels, samples)",
                             "Transpose it (audio.T).", code=ErrorCode.BAD_AUDIO)
    if not allow_empty and a.shape[1] == 0:
        raise ParameterError(f"{what} is empty (0 samples)", "Pass audio with at least one sample.",
                             code=ErrorCode.BAD_AUDIO)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if finite and not np.all(np.isfinite(a)):
        raise ParameterError(f"{what} must be finite (no NaN or inf)", "Replace or remove the non-finite samples.",
                             code=ErrorCode.BAD_AUDIO)
    return a


def as_mono(audio, *, what: str = "audio", allow_empty: bool = True) -> np.ndarray:
    """The mono fold ``mean(channels)`` of checked audio, float64, shape ``(samples,)``."""
    return as_audio(audio, what=what, allow_empty=allow_empty).mean(axis=0, dtype=np.float64)


def sample_rate_hz(sample_rate, *, minimum: int = 1, what: str = "sample_rate") -> int:
    """A sample rate checked to be an integer of at least ``minimum`` Hz (``bool`` is refused).

    Raises
    ------
    ParameterError
        ``bad_audio``, naming the value and the minimum.
    """
    if (isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer))
            or sample_rate < max(1, minimum)):
        need = "a positive integer in Hz" if minimum <= 1 else f"an integer >= {minimum} Hz"
        raise ParameterError(f"{what} must be {need}, got {sample_rate!r}",
                             "Pass the audio's sample rate as an int, e.g. 44100.", code=ErrorCode.BAD_AUDIO)
    return int(sample_rate)
