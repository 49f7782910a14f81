"""The conda environment lists the same packages as pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from .conftest import ROOT


def _names(reqs):
    return {re.split(r"[<>=!~\[ ]", r.strip(), maxsplit=1)[0].lower() for r in reqs}


def test_environment_yml_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    wanted = _names(meta["dependencies"]).union(*(_names(extras[k]) for k in ("test", "dashboard", "batch")))
    env = (ROOT / "environment.yml").read_text()
    listed = {m.lower() for m in re.findall(r"^\s+- ([A-Za-z0-9_.\-]+)[<>=\[]", env, re.M)}
    assert wanted == listed - {"python"}, (wanted ^ listed)


def test_licence_is_gpl_compatible_with_pedalboard():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "GPL-3.0-or-later"      # an SPDX expression (PEP 639), not a table
    assert not any(c.startswith("License ::") for c in meta.get("classifiers", []))
    assert (ROOT / "LICENSE").read_text().startswith("                    GNU GENERAL PUBLIC LICENSE")


def _imported_top_modules() -> set[str]:
    found = set()
    for path in (ROOT / "workbench").rglob("*.py"):
        for m in re.finditer(r"^\s*(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)", path.read_text(), re.M):
            found.add(m.group(1).lower())
    return found


#: Distribution name → the module it installs, where they differ.
_MODULE = {"dask": "dask", "pyebur128": "pyebur128"}


def test_runtime_dependencies_are_what_the_package_imports():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _names(meta["dependencies"])
    imported = _imported_top_modules()
    # librosa: kept for the DAW exporters' tempo estimate (issue 17), the one declared exception.
    unused = {d for d in runtime if _MODULE.get(d, d) not in imported} - {"librosa"}
    assert not unused, f"declared but never imported by the package: {unused}"
    assert {"pyloudnorm", "xmlschema", "jupyterlab", "voila", "dask"}.isdisjoint(runtime)
    assert "dask" in _names(meta["optional-dependencies"]["batch"])


def test_make_installs_the_extras_and_runs_lint_and_types():
    makefile = (ROOT / "Makefile").read_text()
    assert "'.[test,dashboard,batch]'" in makefile
    assert "ruff check" in makefile and "mypy" in makefile
