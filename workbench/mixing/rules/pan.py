"""Panning: the low end and the focal elements centred, the rest spread by spectrum.

- Kick, snare, bass, lead vocal and a full-kit Drums stem stay centred, and so
  does any stem whose energy is mostly low (below 120 Hz), keeping the low end
  mono (Mansbridge, Finn & Reiss 2012, AES 133rd Conv.,
  "An autonomous system for multitrack stereo pan positioning").
- The others are spread wider the higher their spectral centroid — low
  sources near the centre, bright ones out to the sides — as in the automatic
  panners of Perez-Gonzalez & Reiss (2007, "Automatic mixing: live downmixing
  stereo panner", DAFx-07) and Mansbridge et al. (2012).
- Sides alternate so that left and right carry even energy, and a stem goes
  to the side away from the stem that masks it most: panning clashing parts
  apart is an unmasking move listeners prefer to EQ alone (Wakefield & Dewey
  2015, AES 138th Conv., which compared panning with EQ for unmasking).
- Pairs named as such (L/R, 1/2, double) are mirrored at the same distance.
- Importance draws a stem toward the centre (DESIGN §5): high ×0.5, medium ×1,
  low ×1.15 of its spread.
- The part that carries the melody (role ``foreground``) stays centred, like a
  lead vocal.
- Cymbals of one session sit on one side of the image (open and closed hi-hat
  are one instrument; a real kit's cymbals are not split across the room at
  random), so the top octaves are not spread wider than a kit.
- Two styles. **Wide**: every other part spread by its centroid as above.
  **Authored** (the default): the authors of the training corpus kept most
  parts in the centre and panned a part mainly when it had a partner to
  share the image with, so a part is panned only when it clashes with
  another spread part (masking, :data:`CLASH_MIN`), is one of a named pair or
  is set to low importance (background parts move out of the centre); a
  part set to high importance stays central,
  at the distances the authors used (:class:`AuthoredPan`, fitted on their
  pans: the model file's ``pan``); the rest stays centred, each with its
  reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ...sources import cite
from .reason import Reason
from .roles import CENTRED, category_key, priority

#: The sources of each branch (keys of :data:`workbench.sources.SOURCES`).
CENTRE_SOURCES = cite("mansbridge_2012_pan")
SPREAD_SOURCES = cite("perez_gonzalez_reiss_2007_pan", "mansbridge_2012_pan", "wakefield_dewey_2015")
AUTHORED_SOURCES = cite("authored_corpus", "wakefield_dewey_2015")
CHOICE_SOURCES = cite("workbench_choice")

#: Spread limits: the narrowest and widest pan positions for a spread stem.
#: 70% rather than 100% keeps every part in both speakers of a headphone mix.
MIN_SPREAD, MAX_SPREAD = 0.25, 0.7
#: Centroids mapped onto that range (log scale): 200 Hz → narrowest, 8 kHz → widest.
CENTROID_LOW_HZ, CENTROID_HIGH_HZ = 200.0, 8000.0
#: A stem whose energy below 120 Hz is more than this share stays centred.
LOW_END_SHARE_CENTRED = 0.5
IMPORTANCE_SPREAD = {"high": 0.5, "medium": 1.0, "low": 1.15}
#: A stereo file whose channels correlate above this is mono in a stereo file.
FAKE_STEREO_CORRELATION = 0.98

_PAIR = re.compile(
    r"^(?P<base>.*?\S)[\s_\-\.]+[\(\[]?(?P<tag>l|r|left|right|1|2|a|b|dbl|double|dt)[\)\]]?$",
    re.IGNORECASE)
_SIDE = {"l": -1, "left": -1, "1": -1, "a": -1, "r": 1, "right": 1, "2": 1, "b": 1,
         "dbl": 1, "double": 1, "dt": 1}


#: Masking (share of either part's energy masked by the other, summed both
#: ways) above which two spread parts count as clashing. Over the whole
#: spectrum 5 % already marks two parts that meet in one region (the unmasking
#: EQ, which works band by band, asks 25 % of a band). Our choice; on the
#: training corpus the authored style then pans parts about as often as the
#: authors did (``benchmarks/authored.py``).
CLASH_MIN = 0.05


@dataclass(frozen=True)
class PanDecision:
    """A stem's pan position and why.

    Attributes
    ----------
    pan : float
        −1 (left) .. 1 (right).
    reason : Reason
    """

    pan: float
    reason: Reason


def _centre(rule: str, template: str, sources: tuple[str, ...] = CENTRE_SOURCES, **measured) -> PanDecision:
    return PanDecision(0.0, Reason(rule, measured, sources, "pan centre: " + template))


@dataclass(frozen=True)
class AuthoredPan:
    """Pan distances of the authored style, fitted on the authors' pans.

    Attributes
    ----------
    distance : float
        How far a clashing part is panned (0..1): the median distance of the
        parts the authors panned.
    pair_distance : float
        How far each of a named pair (L/R, 1/2) is panned.
    """

    distance: float
    pair_distance: float


def pair_key(name: str) -> tuple[str, int] | None:
    """``(base name, side)`` when a name marks one of a pair ("Gtr L", "OH 2", "Vox Dbl")."""
    m = _PAIR.match(name.strip())
    if not m or not m.group("base").strip():
        return None
    return m.group("base").strip().casefold(), _SIDE[m.group("tag").casefold()]


def spread_for(centroid_hz: float | None) -> float:
    """Pan distance from the centre for a spectral centroid (log-frequency map)."""
    if centroid_hz is None or not math.isfinite(centroid_hz) or centroid_hz <= 0:
        return MIN_SPREAD
    x = (math.log(centroid_hz) - math.log(CENTROID_LOW_HZ)) / (math.log(CENTROID_HIGH_HZ) - math.log(CENTROID_LOW_HZ))
    return MIN_SPREAD + (MAX_SPREAD - MIN_SPREAD) * min(1.0, max(0.0, x))


def plan_pans(
    names: list[str],
    categories: list[str | None],
    importances: list[str],
    centroid_hz: list[float | None],
    low_end_share: list[float],
    channels: list[int],
    correlation: list[float],
    loudness_weight: np.ndarray,
    masking_share: np.ndarray,
    roles: list[str] | None = None,
    authored: AuthoredPan | None = None,
) -> dict[str, PanDecision]:
    """Pan position of every stem with its reason.

    Parameters
    ----------
    names, categories, importances : lists, one per stem
    centroid_hz, low_end_share, channels, correlation : measured, one per stem
    loudness_weight : np.ndarray, shape ``(n,)``
        Each stem's planned power in the mix (linear), used to balance the sides.
    masking_share : np.ndarray, shape ``(n, n)``
        ``[masker, target]`` masking at the planned levels.
    roles : list of str, optional
        Role keys (:mod:`workbench.mixing.rules.roles`); ``foreground`` stays centred.
    authored : AuthoredPan, optional
        The authored style's distances; ``None`` is the wide style.
    """
    roles = roles or [""] * len(names)
    n = len(names)
    out: dict[str, PanDecision] = {}
    spread_idx = []
    for i in range(n):
        cat = category_key(categories[i])
        if cat in CENTRED:
            out[names[i]] = _centre("pan.centred_category", "{category} stays in the middle", category=cat)
        elif roles[i] == "foreground":
            out[names[i]] = _centre("pan.foreground", "it carries the melody, like a lead vocal", role=roles[i])
        elif low_end_share[i] > LOW_END_SHARE_CENTRED:
            out[names[i]] = _centre("pan.low_end", "{low_end_share:.0%} of its energy is below 120 Hz "
                                    "(keep the low end mono)", low_end_share=float(low_end_share[i]))
        elif channels[i] == 2 and correlation[i] < FAKE_STEREO_CORRELATION:
            out[names[i]] = _centre("pan.stereo_image", "a stereo recording keeps its own image", CHOICE_SOURCES,
                                    correlation=float(correlation[i]))
        else:
            spread_idx.append(i)

    # Pairs first (mirrored), then single stems by priority, each to the lighter side.
    side_energy = {-1: 0.0, 1: 0.0}
    pairs: dict[str, list[tuple[int, int]]] = {}
    for i in spread_idx:
        pk = pair_key(names[i])
        if pk:
            pairs.setdefault(pk[0], []).append((i, pk[1]))
    paired = set()
    for base, members in sorted(pairs.items()):
        if len(members) != 2 or members[0][1] == members[1][1]:
            continue
        if authored is not None:
            dist = min(MAX_SPREAD, max(authored.pair_distance * IMPORTANCE_SPREAD[importances[i]] for i, _ in members))
        else:
            dist = min(MAX_SPREAD, max(spread_for(centroid_hz[i]) * IMPORTANCE_SPREAD[importances[i]]
                                       for i, _ in members))
        for i, side in members:
            out[names[i]] = PanDecision(round(side * dist, 2), Reason(
                "pan.pair", {"distance": abs(dist) * 100, "side": "left" if side < 0 else "right", "pair": base},
                SPREAD_SOURCES if authored is None else AUTHORED_SOURCES,
                "pan {distance:.0f}% {side}: mirrored with its pair"))
            side_energy[side] += float(loudness_weight[i])
            paired.add(i)

    singles = sorted((i for i in spread_idx if i not in paired),
                     key=lambda i: priority(categories[i], importances[i]))
    placed: dict[int, int] = {}
    cymbal_side: int | None = None
    for i in paired:
        if category_key(categories[i]) == "Cymbals" and cymbal_side is None:
            cymbal_side = 1 if out[names[i]].pan >= 0 else -1
    spreadable = set(spread_idx)
    for i in singles:
        # the already-placed stem that masks i most (or that i masks most)
        clash = max(placed, key=lambda j: masking_share[j, i] + masking_share[i, j], default=None)
        clash_amount = 0.0 if clash is None else masking_share[clash, i] + masking_share[i, clash]
        if authored is not None and importances[i] == "high":
            out[names[i]] = _centre("pan.important", "importance high keeps it central", AUTHORED_SOURCES,
                                    importance="high")
            continue
        partner: int | None = None
        amount = 0.0
        if authored is not None:
            partner = max((j for j in spreadable if j != i),
                          key=lambda j: masking_share[j, i] + masking_share[i, j], default=None)
            amount = 0.0 if partner is None else masking_share[partner, i] + masking_share[i, partner]
            if amount < CLASH_MIN and importances[i] != "low":
                out[names[i]] = _centre("pan.no_clash", "no other part fights it for the same range "
                                        "(largest masking {masking:.0%}); authored mixes keep such parts centred",
                                        AUTHORED_SOURCES, masking=float(amount))
                continue
            dist = min(MAX_SPREAD, authored.distance * IMPORTANCE_SPREAD[importances[i]])
        else:
            dist = min(MAX_SPREAD, spread_for(centroid_hz[i]) * IMPORTANCE_SPREAD[importances[i]])
        if category_key(categories[i]) == "Cymbals" and cymbal_side is not None:
            side = cymbal_side
            why, side_rule = "on the same side as the other cymbals (one kit, one place)", "cymbals"
        elif clash is not None and clash_amount >= 0.1:
            side = -placed[clash]
            why, side_rule = "away from {clash}, which it clashes with", "away"
        else:
            side = -1 if side_energy[-1] <= side_energy[1] else 1
            why, side_rule = "to the lighter side, keeping left and right even", "lighter"
        placed[i] = side
        if category_key(categories[i]) == "Cymbals" and cymbal_side is None:
            cymbal_side = side
        side_energy[side] += float(loudness_weight[i])
        centroid = centroid_hz[i]
        has_centroid = bool(centroid and math.isfinite(centroid))
        imp = {"high": ", drawn in: importance high", "low": ", pushed out: importance low"}.get(importances[i], "")
        if authored is None:
            basis, rule, sources = ("centroid {centroid_hz:.0f} Hz" if has_centroid else "spectrum",
                                    "pan.spread_by_centroid", SPREAD_SOURCES)
        elif amount >= CLASH_MIN and partner is not None:
            basis, rule, sources = ("it clashes with {partner} ({masking:.0%} masking), panned as far as authors "
                                    "pan such parts", "pan.authored_clash", AUTHORED_SOURCES)
        else:
            basis, rule, sources = ("a background part, moved out of the centre", "pan.authored_background",
                                    AUTHORED_SOURCES)
        measured = {"distance": dist * 100, "side": "left" if side < 0 else "right",
                    "centroid_hz": centroid if has_centroid else None, "importance": importances[i],
                    "partner": names[partner] if partner is not None else None, "masking": float(amount),
                    "clash": names[clash] if clash is not None else None, "side_rule": side_rule}
        out[names[i]] = PanDecision(round(side * dist, 2), Reason(
            f"{rule}.{side_rule}", measured, sources, "pan {distance:.0f}% {side}: " + basis + imp + "; " + why))
    return out
