"""Every notebook in notebooks/ runs from top to bottom without an error.

Executed with nbclient in a fresh kernel, with ``notebooks/`` as the working
folder (as JupyterLab and nbmake run them) and a private analysis cache.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Each notebook should finish in about a minute on two cores; this only catches a hang.
CELL_TIMEOUT_S = 300


def test_the_notebooks_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_prepare_and_check.ipynb", "02_masking.ipynb", "03_automix_step_by_step.ipynb",
            "04_teach_eq_compression_panning_reverb.ipynb", "05_mixing_toward_a_reference.ipynb",
            "dashboard.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        f"{path.name} is committed with outputs: clear them"
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    started = time.perf_counter()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    shown = [o for c in nb.cells for o in c.get("outputs", [])
             if o.get("output_type") in ("display_data", "execute_result")]
    assert shown, f"{path.name} shows nothing"
    print(f"{path.name}: {time.perf_counter() - started:.1f} s")
