"""Categories and roles: what a stem is, and what the part does in this song.

A **category** is what the preparation guide says a stem is (DESIGN §4): toms
are Percussion, a shaker is Percussion. A **role** is what the part does in
this song — tom hits that play fills vs a shaker that runs through the song; a
hook vs a background arpeggio; a hi-hat that carries the groove vs a crash on
the downbeats. Authored mixes set these differently (issue 13: authors put tom
hits near the snare, hand percussion well below it), so the level rules read the
role, and every role says why it was chosen. The user can override it in the
plan.

Roles are detected from level-independent measurements of the part
(:mod:`workbench.analysis.parts`): how much of the song it plays (duty) and
how much of its playing is onsets (hit share, reported). The duty threshold
was chosen by looking at the training corpus of authored mixes.

Unknown or missing categories are treated as ``Other``. Importance maps onto the
"focus" of the literature (Neutron's Mix Assistant) and the lead / normal /
background presence levels of the product we measure against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The importance levels and their order are defined once, in workbench.importance.
from ...importance import IMPORTANCE_LEVELS as IMPORTANCE_LEVELS
from ...importance import IMPORTANCE_RANK as IMPORTANCE_RANK
from ...sources import cite

OTHER = "Other"

#: Who wins when two stems of the *same importance* mask each other: earlier in
#: this list is kept, later is cut. The order follows the usual priority of
#: mix elements in pop and rock mixing practice — vocal first, then the
#: rhythm section's fundamentals (kick over bass in the low end, the classic
#: "make room for the kick" move), then harmonic and textural parts. Our
#: engineering choice, in line with the mixing texts' advice to build the mix
#: around the lead and the rhythm section (Izhaki, *Mixing Audio*; Senior,
#: *Mixing Secrets for the Small Studio*).
PRIORITY = (
    "Lead Vocal", "Kick", "Snare", "Bass", "Drums", "Backing Vocal", "Brass", "Guitar",
    "Keys", "Synth", "Strings", "Percussion", "Cymbals", "Pads", "Other", "FX",
)
PRIORITY_SOURCES = cite("izhaki_mixing_audio", "senior_mixing_secrets", "workbench_choice")


#: Categories that stay in the centre: the low end and the focal elements.
#: Kick, snare, bass and lead vocal centred is the near-universal convention
#: (Mansbridge, Finn & Reiss 2012, AES 133rd Conv., "An autonomous system for
#: multitrack stereo pan positioning", which fixes these sources at the
#: centre); a full-kit Drums stem keeps its own stereo image.
CENTRED = frozenset({"Kick", "Snare", "Bass", "Lead Vocal", "Drums"})

#: Categories whose parts carry pitch and may carry the melody.
MELODIC = frozenset({"Guitar", "Keys", "Synth", "Pads", "Strings", "Brass", "Other"})

#: A part is "hits" (tom fills, crashes, one-shots, risers) rather than a
#: continuous layer when it plays less than this share of the song. Chosen by
#: looking at the training corpus (not fitted): tom and crash parts of the
#: authored songs play under a fifth of the song, hats, shakers and rides that
#: keep time most of it. Onsets alone do not tell them
#: apart: on 93 ms frames an eighth-note hi-hat is an onset every other frame.
HIT_DUTY = 0.25


@dataclass(frozen=True)
class Role:
    """What a part does in the song, with the reason.

    Attributes
    ----------
    key : str
        The role's name, a key of the balance model (e.g. ``"tom hits"``).
    category : str
        The rule category (``Other`` for unknown).
    reason : str
        What was measured that chose it ("plays 9 % of the song, 80 % hits").
    """

    key: str
    category: str
    reason: str


#: The role of each category by what its part does: (continuous, hits).
#: Melodic categories become "foreground" when they carry the lead.
ROLE_BY_CATEGORY: dict[str, tuple[str, str]] = {
    "Kick": ("kick", "kick"),
    "Snare": ("snare", "snare"),
    "Drums": ("full kit", "full kit"),
    "Bass": ("bass", "bass"),
    "Percussion": ("hand percussion", "percussion hits"),
    "Cymbals": ("groove cymbals", "cymbal accents"),
    "Lead Vocal": ("lead vocal", "lead vocal"),
    "Backing Vocal": ("backing vocal", "backing vocal"),
    "Guitar": ("guitar", "guitar"),
    "Keys": ("keys", "keys"),
    "Synth": ("synth", "synth"),
    "Pads": ("pad", "pad"),
    "Strings": ("strings", "strings"),
    "Brass": ("brass", "brass"),
    "FX": ("fx texture", "fx accents"),
    "Other": ("other", "other"),
}
FOREGROUND = "foreground"
#: Every role key.
ROLES: tuple[str, ...] = tuple(sorted({r for pair in ROLE_BY_CATEGORY.values() for r in pair} | {FOREGROUND}))


def category_key(category: str | None) -> str:
    """The category used for rule look-ups (``Other`` when unknown)."""
    return category if category in PRIORITY else OTHER


def priority(category: str | None, importance: str) -> tuple[int, int]:
    """Sort key: higher importance first, then the category order of :data:`PRIORITY`."""
    return (-IMPORTANCE_RANK.get(importance, 1), PRIORITY.index(category_key(category)))


def is_hits(duty: float, *, hit_duty: float = HIT_DUTY) -> bool:
    """Whether a part plays in isolated hits rather than as a continuous layer."""
    return duty < hit_duty


def assign_role(category: str | None, duty: float, hit_share: float, *, foreground: bool = False,
                hit_duty: float = HIT_DUTY) -> Role:
    """The role of one part from its category and what it does.

    Parameters
    ----------
    category : str or None
    duty : float
        Share of the song the part plays (0..1).
    hit_share : float
        Share of its playing frames at or just after an onset (0..1), for the reason.
    foreground : bool
        The part was found to carry the melody or hook (:func:`foreground_parts`).

    Examples
    --------
    >>> assign_role("Percussion", 0.09, 0.8).key
    'percussion hits'
    >>> assign_role("Percussion", 0.85, 0.1).key
    'hand percussion'
    >>> assign_role("Synth", 0.7, 0.1, foreground=True).key
    'foreground'
    """
    cat = category_key(category)
    if foreground and cat in MELODIC:
        return Role(FOREGROUND, cat, f"carries the melody or hook: plays {duty:.0%} of the song")
    continuous, hits = ROLE_BY_CATEGORY[cat]
    what = f"{cat}, plays {duty:.0%} of the song"
    if continuous == hits:
        return Role(continuous, cat, what)
    h = is_hits(duty, hit_duty=hit_duty)
    return Role(hits if h else continuous, cat, f"{what}, {hit_share:.0%} of it hits")


def foreground_parts(categories: list[str | None], lead_scores: list[float], duties: list[float], *,
                     min_duty: float = 0.2, margin: float = 1.15) -> list[int]:
    """The part(s) carrying the melody or hook in an instrumental session.

    The pitched part (:data:`MELODIC`) with the highest lead score
    (:attr:`workbench.analysis.parts.PartFeatures.lead_score`) when it plays at
    least ``min_duty`` of the song and scores ``margin`` times the next pitched
    part; none when a vocal is present (the vocal leads) or when no part stands
    out (then nothing is pushed in front on a guess).

    Returns
    -------
    list of int
        Indices of the foreground parts (empty or one).
    """
    if any(category_key(c) in ("Lead Vocal",) for c in categories):
        return []
    idx = [i for i, c in enumerate(categories) if category_key(c) in MELODIC and math.isfinite(lead_scores[i])]
    if not idx:
        return []
    ranked = sorted(idx, key=lambda i: -lead_scores[i])
    best = ranked[0]
    if duties[best] < min_duty or lead_scores[best] <= 0:
        return []
    if len(ranked) > 1 and lead_scores[best] < margin * lead_scores[ranked[1]]:
        return []
    return [best]
