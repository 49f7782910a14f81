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
from dataclasses import dataclass

import numpy as np

from ...sources import cite
from ...units import power_sum_db
from ..plan import MasterPlan
from ..settings import MixSettings
from .dynamics import CompressorDecision
from .reason import Reason

#: The sources of each part (keys of :data:`workbench.sources.SOURCES`).
GLUE_SOURCES = cite("ssl_g_bus", "senior_mixing_secrets", "katz_mastering")
MASTER_SOURCES = cite("itu_bs1770", "ebu_r128", "aes_td1008", "workbench_choice")

GLUE_RATIO = 2.0
GLUE_ATTACK_MS = 30.0
GLUE_RELEASE_MS = 200.0
GLUE_REDUCTION_DB = 1.5


@dataclass(frozen=True)
class MasterDecision:
    """The master bus and why (fields as in :class:`~workbench.mixing.plan.MasterPlan`)."""

    target_lufs: float
    ceiling_dbtp: float
    glue: CompressorDecision | None
    bit_depth: int
    sample_rate: int
    dither: bool
    reason: Reason

    def to_plan(self) -> MasterPlan:
        """The plan's master, with the reasons in words."""
        return MasterPlan(target_lufs=self.target_lufs, ceiling_dbtp=self.ceiling_dbtp,
                          glue=self.glue.to_plan() if self.glue is not None else None,
                          bit_depth=self.bit_depth, sample_rate=self.sample_rate, dither=self.dither,
                          reason=self.reason.text)


def master(settings: MixSettings, stem_loud_levels_db: list[float]) -> MasterDecision:
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
        bus_db = power_sum_db(np.asarray(finite))
        over = GLUE_REDUCTION_DB / (1 - 1 / GLUE_RATIO)
        measured = {"ratio": GLUE_RATIO, "attack_ms": GLUE_ATTACK_MS, "release_ms": GLUE_RELEASE_MS,
                    "reduction_db": GLUE_REDUCTION_DB, "bus_loud_level_db": bus_db}
        glue = CompressorDecision(round(bus_db - over, 1), GLUE_RATIO, GLUE_ATTACK_MS, GLUE_RELEASE_MS, 0.0,
                                  Reason("master.glue", measured, GLUE_SOURCES,
                                         "glue {ratio:g}:1, {attack_ms:g}/{release_ms:g} ms: about "
                                         "{reduction_db} dB on the loudest passages holds the mix together"))
    dither = settings.bit_depth == 16
    return MasterDecision(
        target_lufs=settings.target_lufs, ceiling_dbtp=settings.ceiling_dbtp, glue=glue,
        bit_depth=settings.bit_depth, sample_rate=settings.sample_rate, dither=dither,
        reason=Reason("master.loudness", {"target_lufs": settings.target_lufs,
                                          "ceiling_dbtp": settings.ceiling_dbtp, "bit_depth": settings.bit_depth},
                      MASTER_SOURCES,
                      "normalise to {target_lufs:g} LUFS integrated (BS.1770), true peak at most "
                      "{ceiling_dbtp:g} dBTP" + (", TPDF dither to 16-bit" if dither else "")))
