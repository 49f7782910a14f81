"""Loudness balance: each stem's level from what it is and how loud it sounds.

The balance never depends on the level a stem arrived at: each stem's gain is
its target loudness minus its *measured* integrated loudness (ITU-R BS.1770-4,
gated, so silence before a late entry does not count). Turning a stem down by
12 dB before mixing raises its gain by 12 dB and leaves the mix unchanged.

Starting point: equal loudness for all sources, the basis of automatic fader
control (Perez-Gonzalez & Reiss 2009, "Automatic gain and fader control for live
mixing", IEEE WASPAA; Mansbridge, Finn & Reiss 2012, "Implementation and
evaluation of autonomous multi-track fader control", AES 132). Listeners
preferred this plain energy-based balance to masking-aware loudness models
(Wichern et al. 2015, AES 139), so masking is left to EQ and panning.
On top of it, offsets by role and importance: the lead element loudest, the
rhythm section's fundamentals close behind, harmonic beds and textures below —
the ranking that De Man (2017, *Towards a better understanding of mix
engineering*, PhD thesis, QMUL, ch. 4) measured in real mixes, where the lead
vocal is the loudest source. The offset values are our defaults, chosen so that
the lead sits a few LU above each accompanying part; they are data, editable here.
"""

from __future__ import annotations

import math
from collections import Counter

from .roles import role

#: Loudness of a medium-importance stem of each category, in LU relative to a
#: reference stem. Lead Vocal defaults to importance high (+3), landing at 0 LU.
CATEGORY_OFFSET_LU = {
    "Lead Vocal": -3.0,
    "Kick": -4.0,
    "Snare": -5.0,
    "Bass": -4.0,
    "Drums": -3.0,
    "Backing Vocal": -8.0,
    "Guitar": -6.0,
    "Keys": -6.0,
    "Synth": -6.0,
    "Strings": -7.0,
    "Brass": -6.0,
    "Pads": -9.0,
    "Cymbals": -11.0,
    "Percussion": -10.0,
    "FX": -13.0,
    "Other": -7.0,
}

#: Importance shifts the level: lead parts up, background parts down. The
#: product we measure against calls the levels lead / normal / background; a
#: 3 dB step is a clearly audible but not drastic change of balance (≈ the
#: 2–3 dB just-noticeable change in the loudness of music, Zwicker & Fastl,
#: *Psychoacoustics*, ch. 8, and the usual fader "nudge").
IMPORTANCE_OFFSET_LU = {"high": 3.0, "medium": 0.0, "low": -4.0}

#: Loudness of the 0 LU reference stem before the master. Arbitrary (the master
#: normalises the mix); −20 LUFS per stem leaves headroom for ~16 stems on the bus.
REFERENCE_LUFS = -20.0

#: Several stems of one category (three guitars, four backing vocals) are a
#: section: their powers add (+10·log10 n for n equal uncorrelated parts), so each
#: is lowered by half of that, keeping the section a little louder than one part
#: without letting it swamp the mix.
SECTION_COMPENSATION = 0.5

#: Bounds on one stem's gain: beyond them the stem is broken, not quiet.
MAX_BOOST_DB = 40.0
MAX_CUT_DB = -40.0


def target_loudness(category: str | None, importance: str, section_size: int = 1) -> float:
    """Target integrated loudness (LUFS, pre-master) of a stem."""
    section = -SECTION_COMPENSATION * 10 * math.log10(max(section_size, 1))
    return REFERENCE_LUFS + CATEGORY_OFFSET_LU[role(category)] + IMPORTANCE_OFFSET_LU[importance] + section


def plan_gains(stems: list[tuple[str, str | None, str, float | None]]) -> dict[str, tuple[float, float, str]]:
    """Gain of every stem.

    Parameters
    ----------
    stems : list of (name, category, importance, measured_lufs)
        ``measured_lufs`` is ``None`` (or −inf) for a silent stem.

    Returns
    -------
    dict
        ``name -> (gain_db, target_lufs, reason)``.
    """
    sections = Counter(role(c) for _, c, _, _ in stems)
    out = {}
    for name, cat, imp, lufs in stems:
        n = sections[role(cat)]
        target = target_loudness(cat, imp, n)
        if lufs is None or not math.isfinite(lufs):
            out[name] = (0.0, target, "gain 0 dB: the stem is silent, nothing to balance")
            continue
        gain = min(max(target - lufs, MAX_CUT_DB), MAX_BOOST_DB)
        gain = round(gain, 2)
        rel = CATEGORY_OFFSET_LU[role(cat)] + IMPORTANCE_OFFSET_LU[imp]
        section = f", one of {n} {role(cat)} stems" if n > 1 else ""
        out[name] = (gain, target,
                     f"measured {lufs:.1f} LUFS → target {target:.1f} LUFS "
                     f"({rel:+.0f} LU for {role(cat)}, importance {imp}{section})")
    return out
