"""Loudness balance: each part's level from its role and what it does, fitted on authored mixes.

The balance never depends on the level a stem arrived at: each stem's gain is
its target loudness minus its *measured* integrated loudness (ITU-R BS.1770-4,
gated, so silence before a late entry does not count). Turning a stem down by
12 dB before mixing raises its gain by 12 dB and leaves the mix unchanged.

The targets start from loudness balancing — equal loudness for all sources is
the basis of automatic fader control (Perez-Gonzalez & Reiss 2009, "Automatic
gain and fader control for live mixing", IEEE WASPAA; Mansbridge, Finn &
Reiss 2012, "Implementation and evaluation of autonomous multi-track fader
control", AES 132nd Conv.), and listeners preferred a plain energy-based
balance to masking-aware loudness models for it (Wichern et al. 2015, AES
139th Conv.) — and move each part by its role's offset from the **balance
model** (:mod:`workbench.mixing.balance_model`): per-role levels and a few
measured terms fitted on songs whose authors set the balance themselves, with
a leave-one-song-out error recorded in the model file. Roles the corpus does
not hold (vocals) keep the literature prior below.

Importance (DESIGN §5) moves a part from the level the model gives it at its
*suggested* importance: a part the workbench suggests as the lead (the one that
carries the melody, or a lead vocal) already sits where authors put leads;
setting it by hand to medium lowers it, raising a medium part to high raises it.

Guards: a stem the checks found barely audible (``too_quiet``: its peak is
under −40 dBFS), or one that arrives :data:`FAINT_BELOW_MEDIAN_LU` below the
session's median loudness, is not raised to a target measured on what may be a
faint tail or bleed — it keeps the level it arrived at relative to the other
stems; and no stem is raised more than :data:`MAX_ABOVE_MEDIAN_DB` above the
session's median gain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import ErrorCode, ParameterError
from ...sources import cite
from ..balance_model import BalanceModel
from .reason import Reason
from .roles import IMPORTANCE_RANK

#: The sources of each branch (keys of :data:`workbench.sources.SOURCES`).
BALANCE_SOURCES = cite("perez_gonzalez_reiss_2009_gain", "mansbridge_2012_fader", "wichern_2015", "de_man_2017",
                       "authored_corpus")
IMPORTANCE_SOURCES = cite("zwicker_fastl", "workbench_choice")
GUARD_SOURCES = cite("workbench_choice")

#: Literature prior for each role's loudness, LU relative to the reference
#: stem, at the role's usual importance. The ranking follows De Man (2017,
#: *Towards a better understanding of mix engineering*, PhD thesis, QMUL),
#: whose analysis of real mixes found the lead vocal the loudest source with
#: the rhythm section's kick, snare and bass close behind, and harmonic beds,
#: textures and effects further down. The values are our defaults within that
#: ranking (they were the rule table of the workbench before the model was
#: fitted); the fitted model replaces them where the corpus has data. Tom hits
#: start near the snare and hand percussion well below it (issue 13: what
#: authored mixes showed).
PRIOR_OFFSET_LU: dict[str, float] = {
    "lead vocal": 0.0,
    "foreground": -3.0,
    "kick": -4.0,
    "snare": -5.0,
    "full kit": -3.0,
    "bass": -4.0,
    "backing vocal": -8.0,
    "guitar": -6.0,
    "keys": -6.0,
    "synth": -6.0,
    "strings": -7.0,
    "brass": -6.0,
    "pad": -9.0,
    "groove cymbals": -11.0,
    "cymbal accents": -11.0,
    "hand percussion": -10.0,
    "percussion hits": -6.0,
    "fx texture": -13.0,
    "fx accents": -13.0,
    "other": -7.0,
}

#: Importance moves a part from its suggested level: one step is 3 dB,
#: a clearly audible but not drastic change of balance — several times the
#: 0.5–1 dB just-noticeable difference in level (Zwicker & Fastl,
#: *Psychoacoustics*, 3rd ed., ch. 7 "Just-noticeable changes in sound") and
#: the size of a usual fader "nudge". Low is a larger step down (−4 dB) so a
#: background part clearly recedes. Our choice.
IMPORTANCE_OFFSET_LU = {"high": 3.0, "medium": 0.0, "low": -4.0}

#: Loudness of the 0 LU reference stem before the master. The level is
#: arbitrary (the master normalises the mix); −24 LUFS puts a typical part near
#: −27 LUFS, so a session of 16 to 32 parts sums to about −18 to −15 LUFS on the
#: float bus and each stem — a kick with a 20 dB crest factor included — stays
#: well under full scale in the 24-bit processed stems. Each stem's gain depends
#: only on that stem, so changing one stem's importance re-processes only it.
#: Our choice.
REFERENCE_LUFS = -24.0

#: Bounds on one stem's gain: beyond them the stem is broken, not quiet.
MAX_BOOST_DB = 40.0
MAX_CUT_DB = -40.0
#: A stem that arrives this far below the session's median loudness is a faint
#: part — a tail, an ambience, bleed, or a part its author kept far back —
#: whatever it is: stems bounced hot or 12 dB down differ by far less. It keeps
#: the level it arrived at relative to the others, like a ``too_quiet`` stem,
#: instead of being raised 20 dB or more on the strength of a loudness measured
#: on it. Our choice; on the training corpus of authored songs it took the
#: leave-one-song-out balance error from 3.77 to 3.50 dB (``benchmarks/authored.py``).
FAINT_BELOW_MEDIAN_LU = 20.0
#: No stem is raised more than this above the session's median gain: stems
#: arrive within a few tens of dB of each other, and a larger boost means the
#: loudness was measured on something other than the part (a tail, bleed, a
#: count-in). Our choice.
MAX_ABOVE_MEDIAN_DB = 24.0


@dataclass(frozen=True)
class GainInput:
    """What the gain rule reads for one stem.

    Attributes
    ----------
    name : str
    role : str
        Role key (:mod:`workbench.mixing.rules.roles`).
    role_reason : str
    importance, suggested_importance : str
        The importance in force and the one the workbench suggested.
    measured_lufs : float or None
        Integrated loudness as the stem arrived (``None``/−inf: silent).
    terms : dict
        :func:`workbench.mixing.balance_model.term_values`.
    too_quiet : bool
        The checks found the stem barely audible.
    peak_dbfs : float or None
        Its sample peak, for the reason.
    """

    name: str
    role: str
    role_reason: str
    importance: str
    suggested_importance: str
    measured_lufs: float | None
    terms: dict
    too_quiet: bool = False
    peak_dbfs: float | None = None


@dataclass(frozen=True)
class GainDecision:
    """The gain of one stem and why.

    Attributes
    ----------
    gain_db : float
    target_lufs : float
        The loudness the stem is set to before the master (LUFS).
    offset_lu : float
        The model's level for the part relative to the reference (LU), before importance.
    importance_lu : float
        What importance added (LU).
    rule : str
        ``"model"``, ``"too_quiet"``, ``"faint"``, ``"capped"`` or ``"silent"``.
    reason : Reason
        What was measured, the rule (``"gain.<rule>"``) and its sources.
    """

    gain_db: float
    target_lufs: float
    offset_lu: float
    importance_lu: float
    rule: str
    reason: Reason


def target_loudness(model: BalanceModel, role: str, terms: dict, importance: str,
                    suggested_importance: str) -> tuple[float, float, float]:
    """``(target LUFS, model offset LU, importance LU)`` for one part."""
    offset = model.offset(role, terms)
    imp = IMPORTANCE_OFFSET_LU[importance] - IMPORTANCE_OFFSET_LU[suggested_importance]
    return REFERENCE_LUFS + offset + imp, offset, imp


def _terms_text(model: BalanceModel, role: str, terms: dict) -> str:
    parts = []
    for what, lu in model.explain(role, terms)[1:]:
        if abs(lu) >= 0.3:
            label = {"log_duty": "for how much it plays", "register": "for its register",
                     "section": "for the parts of its role playing with it",
                     "hits": "for how much of it is hits"}.get(what, what)
            parts.append(f"{lu:+.1f} {label}")
    return (" (" + ", ".join(parts) + ")") if parts else ""


def plan_gains(stems: list[GainInput], model: BalanceModel) -> dict[str, GainDecision]:
    """Gain of every stem.

    Parameters
    ----------
    stems : list of GainInput
    model : BalanceModel

    Returns
    -------
    dict
        ``name -> GainDecision``.
    """
    out: dict[str, GainDecision] = {}
    pending = {}
    for s in stems:
        target, offset, imp = target_loudness(model, s.role, s.terms, s.importance, s.suggested_importance)
        if s.measured_lufs is None or not math.isfinite(s.measured_lufs):
            out[s.name] = GainDecision(0.0, target, offset, imp, "silent", Reason(
                "gain.silent", {"measured_lufs": s.measured_lufs}, GUARD_SOURCES,
                "gain 0 dB: the stem is silent, nothing to balance"))
            continue
        pending[s.name] = (s, float(s.measured_lufs), target, offset, imp, target - s.measured_lufs)
    arrived = float(np.median([lufs for (_, lufs, *_) in pending.values()])) if pending else 0.0
    faint = {name for name, (s, lufs, *_) in pending.items()
             if s.too_quiet or lufs < arrived - FAINT_BELOW_MEDIAN_LU}
    normal = [g for name, (*_, g) in pending.items() if name not in faint]
    ref = sorted(normal or [g for *_, g in pending.values()])
    median = float(np.median(ref)) if ref else 0.0
    for name, (s, lufs, target, offset, imp, raw) in pending.items():
        imp_text = "" if imp == 0 else ", {importance_lu:+.0f} LU for importance {importance} (suggested {suggested})"
        base = {"gain_db": 0.0, "measured_lufs": lufs, "median_lufs": arrived, "raw_gain_db": raw,
                "importance_lu": imp, "importance": s.importance, "suggested": s.suggested_importance}
        keep = ("; it keeps the level it arrived at relative to the others instead of the {extra_db:+.0f} dB more "
                "its role's target would take")
        if name in faint and not s.too_quiet and raw > median:
            gain = round(min(max(median, MAX_CUT_DB), MAX_BOOST_DB), 2)
            out[name] = GainDecision(gain, lufs + gain, offset, imp, "faint", Reason(
                "gain.faint", {**base, "gain_db": gain, "below_median_lu": arrived - lufs, "extra_db": raw - gain},
                GUARD_SOURCES,
                "gain {gain_db:+.1f} dB, the session's median: the stem arrives {below_median_lu:.0f} LU below the "
                "session's median loudness, a faint part (a tail, an ambience, or a part kept far back)" + keep))
            continue
        if s.too_quiet and raw > median:
            gain = round(min(max(median, MAX_CUT_DB), MAX_BOOST_DB), 2)
            peak = ("peaks at {peak_dbfs:.0f} dBFS, "
                    if s.peak_dbfs is not None and math.isfinite(s.peak_dbfs) else "")
            out[name] = GainDecision(gain, lufs + gain, offset, imp, "too_quiet", Reason(
                "gain.too_quiet", {**base, "gain_db": gain, "peak_dbfs": s.peak_dbfs, "extra_db": raw - gain},
                GUARD_SOURCES,
                "gain {gain_db:+.1f} dB, the session's median: the stem " + peak + "barely audible "
                "(check too_quiet), so its loudness ({measured_lufs:.1f} LUFS) may be a faint tail or bleed" + keep))
            continue
        gain = min(max(raw, MAX_CUT_DB), MAX_BOOST_DB)
        rule = "model"
        extra = ""
        sources = BALANCE_SOURCES + (IMPORTANCE_SOURCES if imp else ())
        if gain > median + MAX_ABOVE_MEDIAN_DB:
            gain = median + MAX_ABOVE_MEDIAN_DB
            rule = "capped"
            extra = ("; capped at {cap_db:.0f} dB above the session's median gain "
                     "(the target would take {raw_gain_db:+.1f} dB: check the stem's level)")
            sources += GUARD_SOURCES
        gain = round(gain, 2)
        measured = {**base, "gain_db": gain, "role": s.role, "role_reason": s.role_reason, "offset_lu": offset,
                    "terms": _terms_text(model, s.role, s.terms), "result_lufs": lufs + gain,
                    "model": model.provenance(), "cap_db": MAX_ABOVE_MEDIAN_DB}
        out[name] = GainDecision(gain, lufs + gain, offset, imp, rule, Reason(
            f"gain.{rule}", measured, sources,
            "{role} ({role_reason}): {offset_lu:+.1f} LU{terms}" + imp_text + "; "
            "measured {measured_lufs:.1f} LUFS → {result_lufs:.1f} LUFS; {model}" + extra))
    return out


def importance_step(level_from: str, level_to: str) -> float:
    """LU a part moves when its importance changes from one level to another."""
    if level_from not in IMPORTANCE_RANK or level_to not in IMPORTANCE_RANK:
        raise ParameterError(f"importance must be one of {tuple(IMPORTANCE_RANK)}, got {level_from!r} → {level_to!r}",
                             code=ErrorCode.BAD_IMPORTANCE)
    return IMPORTANCE_OFFSET_LU[level_to] - IMPORTANCE_OFFSET_LU[level_from]
