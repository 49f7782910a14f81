"""The conda environment lists the same packages as pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from .conftest import ROOT


def _names(reqs):
    return {re.split(r"[<>=!~\[ ]", r.strip(), maxsplit=1)[0].lower() for r in reqs}


def test_environment_yml_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(meta["dependencies"]) | _names(meta["optional-dependencies"]["test"])
    env = (ROOT / "environment.yml").read_text()
    listed = {m.lower() for m in re.findall(r"^\s+- ([A-Za-z0-9_.\-]+)[<>=\[]", env, re.M)}
    assert wanted == listed - {"python"}, (wanted ^ listed)


def test_licence_is_gpl_compatible_with_pedalboard():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"]["text"] == "GPL-3.0-or-later"
    assert (ROOT / "LICENSE").read_text().startswith("                    GNU GENERAL PUBLIC LICENSE")
