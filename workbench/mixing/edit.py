"""Change one decision of a plan by hand, keeping the plan valid and the edit visible in its reason."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from ..errors import ParameterError
from .plan import MixPlan

EDITED_PREFIX = "edited by you: "

#: A stem's own fields that may be edited, and the reason field that explains each.
STEM_FIELDS: dict[str, str] = {
    "gain_db": "gain_reason",
    "pan": "pan_reason",
    "width": "pan_reason",
    "reverb_send_db": "reverb_reason",
    "mute": "gain_reason",
    "importance": "importance_reason",
    "role": "role_reason",
}
#: Compressor fields (edited as ``"compressor.<name>"``); the compressor's ``reason`` explains them.
COMPRESSOR_FIELDS = ("threshold_db", "ratio", "attack_ms", "release_ms", "makeup_db")
#: EQ band fields (edited as ``"eq[<i>].<name>"``); the band's ``reason`` explains them.
EQ_FIELDS = ("kind", "freq_hz", "gain_db", "q", "slope_db_per_oct")

_EQ_FIELD = re.compile(r"^eq\[(\d+)\]\.(\w+)$")


def _mark(reason: str, field: str, old: Any, new: Any) -> str:
    """The reason after an edit: what the user changed, then what the planner had said."""
    note = f"{EDITED_PREFIX}{field} {old!r} → {new!r}"
    return f"{note} (was: {reason})" if reason else note


def _valid_fields() -> str:
    return (", ".join(STEM_FIELDS) + ", " + ", ".join(f"compressor.{f}" for f in COMPRESSOR_FIELDS)
            + ", " + ", ".join(f"eq[i].{f}" for f in EQ_FIELDS))


def edit_decision(plan: MixPlan, stem: str, field: str, value: Any) -> MixPlan:
    """Return a copy of ``plan`` with one decision of one stem changed and its reason marked.

    The reason that explains the field starts with ``"edited by you: "``, names
    the old and new value and keeps what the planner had said. The new plan is
    validated like a hand-edited ``plan.json``; ``plan`` itself is not changed.

    Parameters
    ----------
    plan : MixPlan
        The plan to start from.
    stem : str
        The stem's name as in ``plan.stems``.
    field : str
        A stem field (``"gain_db"``, ``"pan"``, ``"width"``, ``"reverb_send_db"``,
        ``"mute"``, ``"importance"``, ``"role"``), ``"compressor.<field>"`` or
        ``"eq[<i>].<field>"``.
    value : Any
        The new value; checked against the field's range.

    Returns
    -------
    MixPlan
        The edited, validated plan.

    Raises
    ------
    ParameterError
        When ``stem`` or ``field`` is unknown (the message lists the valid ones).
    PlanError
        When ``value`` is out of range for ``field`` (names the field and the range).
    """
    if stem not in plan.stems:
        raise ParameterError(f"edit_decision: stem {stem!r} is not in the plan",
                             "use one of: " + ", ".join(plan.stems))
    new = copy.deepcopy(plan)
    target = new.stems[stem]
    if field in STEM_FIELDS:
        old = getattr(target, field)
        reason_field = STEM_FIELDS[field]
        setattr(target, field, value)
        setattr(target, reason_field, _mark(getattr(target, reason_field), field, old, value))
    elif field.startswith("compressor."):
        name = field.split(".", 1)[1]
        if name not in COMPRESSOR_FIELDS:
            raise ParameterError(f"edit_decision: {field!r} is not a compressor field",
                                 "use one of: " + ", ".join(f"compressor.{f}" for f in COMPRESSOR_FIELDS))
        if target.compressor is None:
            raise ParameterError(f"edit_decision: stem {stem!r} has no compressor to edit",
                                 "edit a stem that the plan compresses")
        old = getattr(target.compressor, name)
        target.compressor = dataclasses.replace(
            target.compressor, **{name: value,
                                  "reason": _mark(target.compressor.reason, field, old, value)})
    elif (match := _EQ_FIELD.match(field)) is not None:
        index, name = int(match.group(1)), match.group(2)
        if name not in EQ_FIELDS:
            raise ParameterError(f"edit_decision: {field!r} is not an EQ band field",
                                 "use one of: " + ", ".join(f"eq[i].{f}" for f in EQ_FIELDS))
        if index >= len(target.eq):
            raise ParameterError(f"edit_decision: stem {stem!r} has {len(target.eq)} EQ band(s), "
                                 f"so {field!r} does not exist",
                                 f"use an index from 0 to {len(target.eq) - 1}" if target.eq
                                 else "edit a stem that has EQ bands")
        band = target.eq[index]
        old = getattr(band, name)
        target.eq[index] = dataclasses.replace(
            band, **{name: value, "reason": _mark(band.reason, field, old, value)})
    else:
        raise ParameterError(f"edit_decision: {field!r} is not a field that can be edited",
                             "use one of: " + _valid_fields())
    return new.validate()
