"""How sure is a category guess, in figures that were measured — and which guesses the user must check.

Two kinds of guess reach the user:

- **from the name** (:func:`workbench.categories.suggest_from_name`): its score
  ranks kinds of match ("snare" over "lead"); the figure shown is what
  ``scripts/calibrate_name_confidence.py`` measured for that kind of match on
  authored stems whose category is known independently of their names
  (``workbench/data/name_confidence.json``; results in
  ``benchmarks/results/name_confidence.md``): "right 34 of 34 times";
- **from the sound** (:func:`workbench.analysis.classify.suggest_from_audio`):
  the model's probability, unsure below
  :data:`~workbench.analysis.classify.UNSURE_BELOW` (calibrated by
  ``scripts/calibrate_categories.py``).

A guess is *unsure* when the kind of match was right less than the target
accuracy (``target_accuracy`` in the data file, 80 %) of the time, or — for a
kind of match with no measured stems, and for audio guesses — when its score
is below ``UNSURE_BELOW``. Unsure guesses are shown as questions ("Bass? —
please check") and listed in the mix report until the user confirms or
changes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["NameAccuracy", "name_accuracy", "is_unsure", "unsure_stems", "describe_guess"]

DATA = Path(__file__).parent / "data" / "name_confidence.json"


@dataclass(frozen=True)
class NameAccuracy:
    """How often name guesses of one kind were right on authored stems.

    Attributes
    ----------
    right, stems : int
        Right guesses and stems measured.
    """

    right: int
    stems: int

    @property
    def accuracy(self) -> float:
        return self.right / self.stems if self.stems else float("nan")


@lru_cache(maxsize=1)
def _table() -> tuple[float, dict[str, NameAccuracy]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    tiers = {k: NameAccuracy(int(v["right"]), int(v["stems"])) for k, v in data["tiers"].items()}
    return float(data["target_accuracy"]), tiers


def name_accuracy(score: float) -> NameAccuracy | None:
    """The measured accuracy of name guesses with this tier ``score``; ``None`` if none were measured."""
    _, tiers = _table()
    found = tiers.get(f"{float(score):.2f}")
    return found if found is not None and found.stems > 0 else None


def is_unsure(stem) -> bool:
    """Whether ``stem``'s category is a guess the user should check (see the module docstring).

    A category the user set (``category_source == "user"``) is never unsure.
    """
    from .analysis.classify import UNSURE_BELOW

    if stem.category is None or stem.category_source in ("user", "none"):
        return False
    if stem.category_source == "name":
        measured = name_accuracy(stem.confidence)
        if measured is not None:
            return measured.accuracy < _table()[0]
    return float(stem.confidence) < UNSURE_BELOW


def unsure_stems(session) -> list:
    """The stems of ``session`` whose category is an unconfirmed, unsure guess."""
    return [s for s in session.stems if is_unsure(s)]


def describe_guess(stem) -> str:
    """What the autodetect said and how sure it is, in figures that were measured.

    Examples: ``"Kick · from the name: right 34/34 on authored stems"``,
    ``"Bass? — please check · from the sound, model 63 %"``.
    """
    if not stem.category or stem.category_source in ("none", "user"):
        return "no guess — pick one"
    shown = f"{stem.category}? — please check" if is_unsure(stem) else stem.category
    if stem.category_source == "name":
        measured = name_accuracy(stem.confidence)
        if measured is None:
            return f"{shown} · from the name (match not yet measured)"
        return f"{shown} · from the name: right {measured.right}/{measured.stems} on authored stems"
    how = "from the sound" if stem.category_source == "audio" else "name and sound"
    return f"{shown} · {how}, model {stem.confidence:.0%}"
