"""The master bus: gentle glue compression, loudness target, true-peak ceiling.

Glue: 2:1, 30 ms attack, 200 ms release, about 1.5 dB of reduction — the
classic bus-compressor starting point (the SSL G-series bus compressor's 2:1 /
30 ms setting; Senior, *Mixing Secrets*, on buss compression; Katz,
*Mastering Audio*). Loudness: integrated loudness to the target (ITU-R
BS.1770-4; −14 LUFS by default: our engineering choice, the level the large
streaming services normalise playback to — AES TD1008 recommends −16 LUFS for
track-normalised streaming). True peak at or below the ceiling (−1 dBTP by
default: the maximum true-peak level of EBU R 128, also AES TD1008's advice).
"""

from __future__ import annotations

import math

import numpy as np

from ..plan import Compressor, MasterPlan
from ..settings import MixSettings

GLUE_RATIO = 2.0
GLUE_ATTACK_MS = 30.0
GLUE_RELEASE_MS = 200.0
GLUE_REDUCTION_DB = 1.5


def master(settings: MixSettings, stem_loud_levels_db: list[float]) -> MasterPlan:
    """The master plan.

    Parameters
    ----------
    settings : MixSettings
    stem_loud_levels_db : list of float
        Each stem's loud-peak level after its planned gain (dBFS); their power
        sum estimates the peak level the glue compressor's detector sees on the
        bus (a lower bound: coincident peaks add in amplitude, not power).
    """
    finite = [x for x in stem_loud_levels_db if math.isfinite(x)]
    glue = None
    if finite:
        bus_db = 10 * math.log10(float(np.sum(10 ** (np.asarray(finite) / 10))))
        over = GLUE_REDUCTION_DB / (1 - 1 / GLUE_RATIO)
        glue = Compressor(round(bus_db - over, 1), GLUE_RATIO, GLUE_ATTACK_MS, GLUE_RELEASE_MS, 0.0,
                          f"glue {GLUE_RATIO:g}:1, {GLUE_ATTACK_MS:g}/{GLUE_RELEASE_MS:g} ms: about "
                          f"{GLUE_REDUCTION_DB} dB on the loudest passages holds the mix together")
    return MasterPlan(
        target_lufs=settings.target_lufs, ceiling_dbtp=settings.ceiling_dbtp, glue=glue,
        bit_depth=settings.bit_depth, sample_rate=settings.sample_rate, dither=settings.bit_depth == 16,
        reason=(f"normalise to {settings.target_lufs:g} LUFS integrated (BS.1770), true peak at most "
                f"{settings.ceiling_dbtp:g} dBTP" + (", TPDF dither to 16-bit" if settings.bit_depth == 16 else "")))
