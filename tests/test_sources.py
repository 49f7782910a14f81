"""Every source the rules cite is listed once in workbench/sources.py, and every listed one is cited."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.mixing.rules.reason import Reason
from workbench.sources import SOURCES, cite, reference

PACKAGE = Path(workbench.__file__).parent


def _cited_keys() -> dict[str, list[str]]:
    """Every string literal passed to ``cite(...)`` in the package, with where."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("sources.py", "reason.py"):     # where cite() is defined and re-checks keys
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "cite":
                for arg in node.args:
                    assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), \
                        f"{path}:{node.lineno}: cite() takes literal keys"
                    found.setdefault(arg.value, []).append(f"{path.name}:{node.lineno}")
    return found


def test_every_cited_key_is_listed():
    cited = _cited_keys()
    assert cited, "no rule cites a source"
    unknown = {k: where for k, where in cited.items() if k not in SOURCES}
    assert not unknown


def test_every_listed_source_is_cited_by_a_rule():
    assert set(SOURCES) - set(_cited_keys()) == set()


def test_each_source_is_listed_once_with_a_full_reference():
    assert len({s.reference for s in SOURCES.values()}) == len(SOURCES)
    for key, s in SOURCES.items():
        assert s.key == key and len(s.reference) > 40 and s.short


def test_an_unknown_key_is_refused_at_once():
    with pytest.raises(WorkbenchError) as e:
        cite("owsinski_handbook", "nobody_2099")
    assert e.value.code == "unknown_source" and "nobody_2099" in e.value.message
    with pytest.raises(WorkbenchError):
        Reason("x", {}, ("nobody_2099",), "text")
    assert "Hafezi" in reference("hafezi_reiss_2015")


def test_a_reason_renders_from_what_was_measured():
    r = Reason("eq.unmasking", {"gain_db": -2.14, "freq_hz": 2480.0, "target": "Vox", "time_share": 0.381},
               ("hafezi_reiss_2015",), "{gain_db:+.1f} dB bell at {freq_hz:hz}: masks {target} {time_share:.0%}")
    assert r.text == str(r) == "-2.1 dB bell at 2.5 kHz: masks Vox 38%"
    assert r.extended("; and {more}", more="x").text.endswith("; and x")
    assert Reason("x", {}, ("workbench_choice", "ebu_r128", "workbench_choice"), "t").sources == \
        ("workbench_choice", "ebu_r128")
    with pytest.raises(KeyError):
        Reason("x", {}, (), "{missing}")        # a template that cannot render fails when made
