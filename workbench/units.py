"""Decibel conversions, in one place.

Amplitude ratios use 20·log10, power ratios 10·log10 (IEC 60027-3 level
definitions). Every function takes a Python number or a numpy array: a number
goes through :mod:`math` and comes back a ``float``, an array goes through
numpy element-wise. ``floor`` arguments keep silence finite where a caller
needs a number (``amp_to_db(0.0)`` is ``-inf`` without one).
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np

#: A power ratio below this (−200 dB) is treated as silence by :func:`power_to_db` with ``floor=True``.
POWER_FLOOR = 1e-20

_Number = float | int


def _arr(x):
    """Lists become arrays; numbers and arrays pass unchanged (their dtype is kept: float32 stays float32)."""
    return np.asarray(x, dtype=float) if isinstance(x, (list, tuple)) else x


@overload
def db_to_amp(db: _Number) -> float: ...
@overload
def db_to_amp(db: np.ndarray) -> np.ndarray: ...
def db_to_amp(db):
    """Amplitude ratio of a level in dB: ``10 ** (db / 20)``.

    Examples
    --------
    >>> round(db_to_amp(-6.0), 4)
    0.5012
    """
    return 10.0 ** (_arr(db) / 20.0)


@overload
def amp_to_db(amp: _Number) -> float: ...
@overload
def amp_to_db(amp: np.ndarray) -> np.ndarray: ...
def amp_to_db(amp):
    """Level in dB of an amplitude ratio: ``20 · log10(amp)`` (``-inf`` for 0).

    Examples
    --------
    >>> amp_to_db(0.5) < -6.0
    True
    """
    if isinstance(amp, (int, float)):
        return 20.0 * math.log10(amp) if amp > 0 else -math.inf
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(_arr(amp))


@overload
def db_to_power(db: _Number) -> float: ...
@overload
def db_to_power(db: np.ndarray) -> np.ndarray: ...
def db_to_power(db):
    """Power ratio of a level in dB: ``10 ** (db / 10)``."""
    return 10.0 ** (_arr(db) / 10.0)


@overload
def power_to_db(power: _Number, *, floor: bool = False) -> float: ...
@overload
def power_to_db(power: np.ndarray, *, floor: bool = False) -> np.ndarray: ...
def power_to_db(power, *, floor: bool = False):
    """Level in dB of a power ratio: ``10 · log10(power)`` (``-inf`` for 0).

    Parameters
    ----------
    power : float or np.ndarray
    floor : bool
        Clamp at :data:`POWER_FLOOR` (−200 dB) instead of giving ``-inf`` for silence.
    """
    if isinstance(power, (int, float)):
        p = max(power, POWER_FLOOR) if floor else power
        return 10.0 * math.log10(p) if p > 0 else -math.inf
    arr = _arr(power)
    if floor:
        arr = np.maximum(arr, POWER_FLOOR)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(arr)


def power_sum_db(levels_db) -> float:
    """The level of the power sum of levels in dB: ``10 · log10(Σ 10^(L/10))`` (uncorrelated sources).

    Examples
    --------
    >>> round(power_sum_db([-20.0, -20.0]), 2)
    -16.99
    """
    return 10 * math.log10(float(np.sum(10 ** (np.asarray(levels_db, dtype=float) / 10))))
