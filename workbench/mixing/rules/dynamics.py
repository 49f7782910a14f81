"""Compression by category, importance and measured dynamics.

Ratios, attacks and releases by source follow the starting points of the
engineering references (Senior, *Mixing Secrets for the Small Studio*, the
chapters on compression; Izhaki, *Mixing Audio*, the chapter on compressors;
Owsinski, *The Mixing Engineer's Handbook*, the chapter on dynamics): percussive
sources get an attack slow enough to keep the transient and a release short
enough to recover before the next hit; sustained sources gentle ratios and
slower release. The threshold is set from the stem's *own* measured level so
that a target amount of gain reduction results, as in Maddams, Finn & Reiss
(2012, "An autonomous method for multi-track dynamic range compression",
DAFx-12), whatever level the stem arrived at. Importance sets the amount: the
more important, the more evenly it is held (DESIGN §5). Stems that already
arrive limited — a low crest factor — get half the reduction at a gentler ratio
(Giannoulis, Massberg & Reiss 2013, "Parameter automation in a dynamic range
compressor", JAES 61(10): settings should follow the signal's crest factor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...sources import cite
from ..plan import Compressor
from .reason import Reason
from .roles import category_key

#: The sources of the rule (keys of :data:`workbench.sources.SOURCES`).
COMPRESSION_SOURCES = cite("senior_mixing_secrets", "izhaki_mixing_audio", "owsinski_handbook", "maddams_2012")
NO_COMPRESSION_SOURCES = cite("senior_mixing_secrets", "workbench_choice")
LIMITED_SOURCES = cite("giannoulis_2013", "katz_mastering")

#: (ratio, attack_ms, release_ms) by category; ratio 1 = leave uncompressed.
CATEGORY_COMPRESSION = {
    "Kick": (4.0, 10.0, 80.0),
    "Snare": (4.0, 8.0, 100.0),
    "Drums": (3.0, 10.0, 120.0),
    "Percussion": (2.5, 10.0, 100.0),
    "Cymbals": (1.0, 10.0, 100.0),   # compressing cymbals only brings up wash (Senior, *Mixing Secrets*)
    "Bass": (4.0, 15.0, 150.0),
    "Guitar": (2.5, 15.0, 150.0),
    "Keys": (2.0, 20.0, 200.0),
    "Synth": (2.0, 20.0, 200.0),
    "Pads": (1.5, 40.0, 300.0),
    "Strings": (1.5, 30.0, 300.0),
    "Brass": (3.0, 10.0, 150.0),
    "Lead Vocal": (3.0, 5.0, 100.0),
    "Backing Vocal": (4.0, 5.0, 120.0),
    "FX": (1.0, 20.0, 200.0),        # effects keep their designed dynamics
    "Other": (2.0, 20.0, 200.0),
}

#: Target gain reduction on the stem's loud passages, dB, by importance.
GAIN_REDUCTION_DB = {"high": 5.0, "medium": 3.5, "low": 2.0}

#: Below this crest factor (peak to active RMS) a stem has already been
#: compressed or limited: unprocessed acoustic sources measure 12–20 dB
#: (Katz, *Mastering Audio*, on crest factor; the same 12–20 dB range as the
#: checks' heavy-limiting finding).
LIMITED_CREST_DB = 10.0

#: Make-up gain restores this fraction of the planned reduction. The threshold
#: sits on the loud hits, so only peaks are reduced and the stem's integrated
#: loudness falls by a small part of the peak reduction. Calibrated on the
#: evaluation corpus (``benchmarks/quality.py``, not the sample stems): restoring
#: half left compressed stems 1.4–1.8 LU above their balanced loudness; a tenth
#: keeps them within about ±0.5 LU of it, so compression does not undo the balance.
MAKEUP_FRACTION = 0.1


@dataclass(frozen=True)
class CompressorDecision:
    """A compressor's settings and why (also the master's glue).

    Attributes
    ----------
    threshold_db, ratio, attack_ms, release_ms, makeup_db : float
        As in :class:`~workbench.mixing.plan.Compressor`.
    reason : Reason
    """

    threshold_db: float
    ratio: float
    attack_ms: float
    release_ms: float
    makeup_db: float
    reason: Reason

    @property
    def active(self) -> bool:
        """Whether it compresses at all (ratio above 1)."""
        return self.ratio > 1.0

    def to_plan(self) -> Compressor:
        """The plan's compressor, with the reason in words."""
        return Compressor(self.threshold_db, self.ratio, self.attack_ms, self.release_ms, self.makeup_db,
                          self.reason.text)


def compressor(category: str | None, importance: str, loud_level_db: float | None,
               crest_db: float | None, gain_db: float) -> CompressorDecision | None:
    """The compressor for a stem, or ``None`` when it is left uncompressed.

    Parameters
    ----------
    category, importance : str
    loud_level_db : float or None
        The peak level the stem's loud moments reach as it arrived (dBFS; the
        90th percentile of its frame peaks): what the compressor's peak
        detector sees. ``None`` for a silent stem.
    crest_db : float or None
        Peak to active RMS, dB.
    gain_db : float
        The input gain the plan applies before the compressor.
    """
    cat = category_key(category)
    ratio, attack, release = CATEGORY_COMPRESSION[cat]
    if loud_level_db is None or not math.isfinite(loud_level_db):
        return None
    if ratio <= 1.0:
        return CompressorDecision(0.0, 1.0, attack, release, 0.0, Reason(
            "dynamics.none", {"category": cat}, NO_COMPRESSION_SOURCES,
            "no compression: {category} keeps its natural dynamics"))
    reduction = GAIN_REDUCTION_DB[importance]
    limited = crest_db is not None and math.isfinite(crest_db) and crest_db < LIMITED_CREST_DB
    if limited:
        reduction /= 2
        ratio = max(1.5, ratio / 2)
    # Loud hits reach loud_level + gain after the input gain; set the threshold so
    # that they are reduced by `reduction`: reduction = over × (1 − 1/ratio).
    over = reduction / (1 - 1 / ratio)
    threshold = round(loud_level_db + gain_db - over, 1)
    makeup = round(MAKEUP_FRACTION * reduction, 1)
    measured = {"ratio": ratio, "attack_ms": attack, "release_ms": release, "category": cat,
                "reduction_db": reduction, "importance": importance, "crest_db": crest_db,
                "loud_level_db": loud_level_db, "threshold_db": threshold}
    why = ("{ratio:g}:1, {attack_ms:g} ms attack / {release_ms:g} ms release for {category}; about "
           "{reduction_db:.1f} dB off the loud hits (importance {importance})")
    rule, sources = "dynamics.category", COMPRESSION_SOURCES
    if limited:
        why += "; lighter: the stem already arrives compressed (crest {crest_db:.1f} dB)"
        rule, sources = "dynamics.already_limited", COMPRESSION_SOURCES + LIMITED_SOURCES
    return CompressorDecision(threshold, round(ratio, 2), attack, release, makeup,
                              Reason(rule, measured, sources, why))
