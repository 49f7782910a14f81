"""Importance: the three levels a stem can have, defined once.

Low, medium and high (DESIGN §5; the product we measure against calls them
background, normal and lead). Every rule table keyed by importance, the
session, the plan's validation and the widgets read the levels from here.
"""

from __future__ import annotations

from .errors import ErrorCode, WorkbenchError

#: The levels, from the least to the most important.
IMPORTANCE_LEVELS: tuple[str, ...] = ("low", "medium", "high")
#: Importance as a number (low < medium < high).
IMPORTANCE_RANK: dict[str, int] = {level: rank for rank, level in enumerate(IMPORTANCE_LEVELS)}


def check_importance(level: object, where: str) -> str:
    """``level`` when it is one of :data:`IMPORTANCE_LEVELS`.

    Parameters
    ----------
    level : object
        The value given.
    where : str
        What it was given for (a stem's file or name), for the message.

    Raises
    ------
    WorkbenchError
        ``bad_importance``, naming the value and the stem.
    """
    if not isinstance(level, str) or level not in IMPORTANCE_RANK:
        raise WorkbenchError(ErrorCode.BAD_IMPORTANCE, f"Importance {level!r} for {where!r} is not valid.",
                             "Use " + ", ".join(IMPORTANCE_LEVELS[:-1]) + f" or {IMPORTANCE_LEVELS[-1]}.")
    return level
