"""Role tables shared by the rules: how each category and importance level is treated.

Categories are the 16 of DESIGN §4; an unknown or missing category is treated as
``Other``. Importance maps onto the "focus" of the literature (Neutron's
Mix Assistant) and the lead / normal / background presence levels of the
product we measure against (NOTES.md, "Importance").
"""

from __future__ import annotations

OTHER = "Other"

#: Who wins when two stems of the *same importance* mask each other: earlier in
#: this list is kept, later is cut. The order follows the usual priority of
#: mix elements in pop and rock mixing practice — vocal first, then the
#: rhythm section's fundamentals (kick over bass in the low end, the classic
#: "make room for the kick" move), then harmonic and textural parts
#: (Izhaki, *Mixing Audio*, 3rd ed., ch. 6 "Mixing domains and objectives";
#: Senior, *Mixing Secrets for the Small Studio*, ch. 13 "Frequency balance").
PRIORITY = (
    "Lead Vocal", "Kick", "Snare", "Bass", "Drums", "Backing Vocal", "Brass", "Guitar",
    "Keys", "Synth", "Strings", "Percussion", "Cymbals", "Pads", "Other", "FX",
)

#: Importance as a number (low < medium < high).
IMPORTANCE_RANK = {"low": 0, "medium": 1, "high": 2}

#: Categories that stay in the centre: the low end and the focal elements.
#: Kick, snare, bass and lead vocal centred is the near-universal convention
#: (Izhaki ch. 13 "Panning"; Mansbridge, Finn & Reiss 2012, AES 133, "An
#: autonomous system for multitrack stereo pan positioning", which fixes these
#: sources at the centre); a full-kit Drums stem keeps its own stereo image.
CENTRED = frozenset({"Kick", "Snare", "Bass", "Lead Vocal", "Drums"})


def role(category: str | None) -> str:
    """The category used for rule look-ups (``Other`` when unknown)."""
    return category if category in PRIORITY else OTHER


def priority(category: str | None, importance: str) -> tuple[int, int]:
    """Sort key: higher importance first, then the category order of :data:`PRIORITY`."""
    return (-IMPORTANCE_RANK.get(importance, 1), PRIORITY.index(role(category)))
