"""Styles as data: a small readable JSON file of target descriptors and mixing tendencies.

A style file (``workbench/data/styles/*.json`` ships a few; ``workbench style make refs/*.wav -o
mine.json`` makes one from references) holds::

    {
      "style_version": 1,
      "name": "lmms-electronic",
      "description": "what it is and where it comes from",
      "sources": ["how each number was derived, or the publication it cites"],
      "target": { ...descriptors of workbench.analysis.reference.ReferenceMeasurement... } or null,
      "match": {"tone": 70, "dynamics": 50, "width": 100, "loudness": 0},
      "role_offsets_db": {"kick": 0.5, "foreground": 1.0},
      "pan_spread": 1.0,
      "reverb_offset_db": 0.0
    }

``role_offsets_db`` moves each stem of a role (:mod:`workbench.mixing.rules.roles` keys) by that
many dB; ``pan_spread`` scales every pan (1 = as planned, < 1 narrower, > 1 wider, pans kept within
±1); ``reverb_offset_db`` moves every reverb send. ``target`` (when not null) is mixed toward with
``match`` as the default amounts (:mod:`workbench.mixing.reference_match`). Every field is checked
when the file is read; a problem is a ``bad_style`` :class:`~workbench.errors.WorkbenchError`
naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.reference import ReferenceMeasurement
from ..errors import WorkbenchError
from .plan import SEND_DB_RANGE, MixPlan, describe_pan
from .reference_match import MatchAmounts, parse_match

__all__ = ["STYLE_DIR", "Style", "apply_style", "load_style", "shipped_styles", "style_from_references"]

STYLE_VERSION = 1
#: Where the shipped styles live.
STYLE_DIR = Path(__file__).resolve().parent.parent / "data" / "styles"
#: Role offsets are kept within this (dB): a style leans, it does not rebalance.
ROLE_OFFSET_RANGE_DB = (-6.0, 6.0)
PAN_SPREAD_RANGE = (0.0, 2.0)
REVERB_OFFSET_RANGE_DB = (-12.0, 12.0)
_KEYS = {"style_version", "name", "description", "sources", "target", "match", "role_offsets_db", "pan_spread",
         "reverb_offset_db"}


@dataclass(frozen=True)
class Style:
    """A style: target descriptors (optional), default amounts and mixing tendencies (see the module doc)."""

    name: str
    description: str = ""
    sources: tuple[str, ...] = ()
    target: ReferenceMeasurement | None = None
    match: MatchAmounts = field(default_factory=MatchAmounts)
    role_offsets_db: tuple[tuple[str, float], ...] = ()
    pan_spread: float = 1.0
    reverb_offset_db: float = 0.0

    def to_dict(self) -> dict:
        return {"style_version": STYLE_VERSION, "name": self.name, "description": self.description,
                "sources": list(self.sources), "target": self.target.to_dict() if self.target else None,
                "match": dataclasses.asdict(self.match),
                "role_offsets_db": {k: round(v, 2) for k, v in self.role_offsets_db},
                "pan_spread": round(self.pan_spread, 3), "reverb_offset_db": round(self.reverb_offset_db, 2)}

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """Readable JSON; written atomically when ``path`` is given."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            from ..audio_io import atomic_path

            with atomic_path(path) as tmp:
                tmp.write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, d, where: str = "the style") -> "Style":
        """Build and check a style from parsed JSON.

        Raises
        ------
        WorkbenchError
            ``bad_style`` naming the field.
        """
        def bad(field_name: str, valid: str):
            return WorkbenchError("bad_style", f"{where}: the field {field_name!r} is {d.get(field_name)!r}; it must "
                                  f"be {valid}.", f"Correct {field_name} in the style file, or make it again with "
                                  "`workbench style make`.")

        if not isinstance(d, dict):
            raise WorkbenchError("bad_style", f"{where} is not a JSON object.", "Give a style file as "
                                 "`workbench style make` writes it.")
        unknown = sorted(set(d) - _KEYS)
        if unknown:
            raise WorkbenchError("bad_style", f"{where} has unknown field(s) {', '.join(unknown)}.",
                                 "Remove them; the fields are " + ", ".join(sorted(_KEYS)) + ".")
        if d.get("style_version", STYLE_VERSION) != STYLE_VERSION:
            raise bad("style_version", str(STYLE_VERSION))
        name = d.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("name", "a non-empty text")
        if not isinstance(d.get("description", ""), str):
            raise bad("description", "text")
        sources = d.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise bad("sources", "a list of texts")
        target = d.get("target")
        if target is not None:
            if not isinstance(target, dict):
                raise bad("target", "an object of descriptors or null")
            target = ReferenceMeasurement.from_dict(target, f"{where}: target")
        m = d.get("match", {})
        if not isinstance(m, dict):
            raise bad("match", 'an object like {"tone": 70}')
        match = parse_match([f"{k}={v}" for k, v in m.items()])
        offsets = d.get("role_offsets_db", {})
        if not isinstance(offsets, dict):
            raise bad("role_offsets_db", 'an object like {"kick": 1.0}')
        for k, v in offsets.items():
            if (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                    or not ROLE_OFFSET_RANGE_DB[0] <= v <= ROLE_OFFSET_RANGE_DB[1]):
                raise WorkbenchError("bad_style", f"{where}: role_offsets_db[{k!r}] is {v!r}; it must be a number "
                                     f"from {ROLE_OFFSET_RANGE_DB[0]:g} to {ROLE_OFFSET_RANGE_DB[1]:g} dB.",
                                     "Correct it in the style file.")
        for key, rng in (("pan_spread", PAN_SPREAD_RANGE), ("reverb_offset_db", REVERB_OFFSET_RANGE_DB)):
            v = d.get(key, 1.0 if key == "pan_spread" else 0.0)
            if (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                    or not rng[0] <= v <= rng[1]):
                raise bad(key, f"a number from {rng[0]:g} to {rng[1]:g}")
        return cls(name=name.strip(), description=d.get("description", ""), sources=tuple(sources), target=target,
                   match=match, role_offsets_db=tuple(sorted((str(k), float(v)) for k, v in offsets.items())),
                   pan_spread=float(d.get("pan_spread", 1.0)), reverb_offset_db=float(d.get("reverb_offset_db", 0.0)))


def shipped_styles() -> list[str]:
    """Names of the styles that ship with the workbench."""
    return sorted(p.stem for p in STYLE_DIR.glob("*.json"))


def load_style(name_or_path: str | os.PathLike) -> Style:
    """A shipped style by name, or a style file by path.

    Raises
    ------
    WorkbenchError
        ``bad_style`` when neither exists, or the file is not a valid style.
    """
    p = Path(name_or_path)
    if not p.is_file():
        shipped = STYLE_DIR / f"{name_or_path}.json"
        if not shipped.is_file():
            raise WorkbenchError("bad_style", f"No style called {str(name_or_path)!r} and no such file.",
                                 "Use one of " + ", ".join(shipped_styles()) + ", or the path of a style file.")
        p = shipped
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkbenchError("bad_style", f"Cannot read the style file {p}: {exc}.",
                             "Give a style file as `workbench style make` writes it.") from None
    return Style.from_dict(data, where=f"the style file {p.name}")


def style_from_references(paths, name: str, *, description: str = "") -> Style:
    """A style whose target is the references combined (``path`` or ``path:weight``), no tendencies."""
    from ..analysis.reference import combine, measure_reference, parse_reference_spec

    measured = []
    for spec in paths:
        path, w = parse_reference_spec(str(spec))
        measured.append((measure_reference(path), w))
    target = combine(measured)
    return Style(name=name, description=description or f"made from {len(measured)} reference(s)",
                 sources=(f"measured from {target.source} by `workbench style make`",), target=target)


def apply_style(plan: MixPlan, style: Style) -> MixPlan:
    """The plan with the style's role offsets, pan spread and reverb offset applied, each with its reason."""
    offsets = dict(style.role_offsets_db)
    stems = {}
    for name, s in plan.stems.items():
        changes: dict = {}
        off = offsets.get(s.role, 0.0)
        if off:
            changes["gain_db"] = round(s.gain_db + off, 2)
            changes["gain_reason"] = (f"{s.gain_reason}; {off:+.1f} dB for the role {s.role} in the style "
                                      f"'{style.name}'")
        if style.pan_spread != 1.0 and s.pan != 0.0:
            p = max(-1.0, min(1.0, s.pan * style.pan_spread))
            changes["pan"] = round(p, 3)
            changes["pan_reason"] = (f"{s.pan_reason}; {describe_pan(p)} after the style '{style.name}' spreads "
                                     f"pans ×{style.pan_spread:g}")
        if style.reverb_offset_db and s.reverb_send_db is not None:
            changes["reverb_send_db"] = round(min(max(s.reverb_send_db + style.reverb_offset_db, SEND_DB_RANGE[0]),
                                                  SEND_DB_RANGE[1]), 1)
            changes["reverb_reason"] = (f"{s.reverb_reason}; {style.reverb_offset_db:+.1f} dB in the style "
                                        f"'{style.name}'")
        stems[name] = dataclasses.replace(s, **changes) if changes else s
    return dataclasses.replace(plan, stems=stems)
