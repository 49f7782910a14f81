"""The category-guess figures the dashboard shows are the ones measured on authored stems."""

from __future__ import annotations

import importlib.util
import json

from workbench.confidence import DATA, describe_guess, is_unsure, name_accuracy
from workbench.session import Stem

from .conftest import ROOT


def _script():
    spec = importlib.util.spec_from_file_location("calibrate_name_confidence",
                                                  ROOT / "scripts" / "calibrate_name_confidence.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_shipped_figures_match_a_fresh_measurement():
    fresh = _script().measure(ROOT / "benchmarks" / "data" / "training_features.csv")
    shipped = json.loads(DATA.read_text(encoding="utf-8"))
    assert {k: {"stems": v["stems"], "right": v["right"]} for k, v in fresh["tiers"].items()} == shipped["tiers"]
    assert fresh["rows"] == shipped["stems"] > 0


def test_unsure_follows_the_measurement_not_the_score():
    word, hint = name_accuracy(0.92), name_accuracy(0.55)
    assert word.accuracy >= 0.8 > hint.accuracy
    assert name_accuracy(0.33) is None
    sure = Stem(path=ROOT / "x.wav", file="Kick.wav", name="Kick", category="Kick", confidence=0.92,
                category_source="name")
    asked = Stem(path=ROOT / "x.wav", file="Lead.wav", name="Lead", category="Lead Vocal", confidence=0.55,
                 category_source="name")
    mine = Stem(path=ROOT / "x.wav", file="Lead.wav", name="Lead", category="Synth", confidence=1.0,
                category_source="user")
    assert not is_unsure(sure) and is_unsure(asked) and not is_unsure(mine)
    assert describe_guess(sure) == f"Kick · from the name: right {word.right}/{word.stems} on authored stems"
    assert describe_guess(asked).startswith("Lead Vocal? — please check")
