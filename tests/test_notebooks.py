"""Every notebook in notebooks/ runs from top to bottom without an error.

Executed with nbclient in a fresh kernel, with ``notebooks/`` as the working
folder (as JupyterLab and nbmake run them) and a private analysis cache.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient

from workbench.ui.lesson_html import _replace_widget_outputs, remote_urls, to_html

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Each notebook should finish in about a minute on two cores; this only catches a hang.
CELL_TIMEOUT_S = 300
LESSONS = {"01_prepare_and_check", "02_masking", "03_automix_step_by_step",
           "04_teach_eq_compression_panning_reverb", "05_mixing_toward_a_reference"}
#: Text that must be in the exported HTML of a lesson (a decision's reason, a table header).
MUST_SHOW = {"03_automix_step_by_step": ["wb-decisions", "<th>Why</th>", "Master", "edited by you"],
             "04_teach_eq_compression_panning_reverb": ["wb-decisions", "<th>Why</th>", "Piano"],
             "05_mixing_toward_a_reference": ["wb-decisions", "<th>Why</th>", "matched at 100 %"]}
EXPORTED: dict[str, str] = {}


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
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    shown = [o for c in nb.cells for o in c.get("outputs", [])
             if o.get("output_type") in ("display_data", "execute_result")]
    assert shown, f"{path.name} shows nothing"
    print(f"{path.name}: {time.perf_counter() - started:.1f} s")
    if path.stem in LESSONS:
        check_offline_export(nb, path.stem, tmp_path)


def check_offline_export(nb, name, tmp_path):
    """The executed lesson, exported to HTML, carries its audio and tables and loads nothing remote."""
    import re

    _replace_widget_outputs(nb)
    html = to_html(nb, name)
    audio = re.findall(r"<audio\b[^>]*>", html)
    assert audio, f"{name}: no <audio> element in the exported HTML"
    assert all(re.search(r"""src=["']data:audio/(?:wav|flac);base64,""", a) for a in audio), \
        f"{name}: an <audio> without embedded data"
    assert not remote_urls(html), f"{name}: loads from the network: {remote_urls(html)[:3]}"
    assert "wb-exercise-result" in html, f"{name}: no scored exercise in the exported HTML"
    for text in MUST_SHOW.get(name, []):
        assert text in html, f"{name}: {text!r} missing from the exported HTML"
    if name == "03_automix_step_by_step":
        # every decision's reason is in the page, not only the header
        rows = re.findall(r"<table class=.wb-decisions.>.*?</table>", html, flags=re.S)
        assert rows and all("<td" in r for r in rows), f"{name}: an empty decision table"
    assert len(html) < 10_000_000, f"{name}: exported HTML is {len(html) / 1e6:.1f} MB"
    out = tmp_path / f"{name}.html"
    out.write_text(html, encoding="utf-8")
    EXPORTED[name] = str(out)
    print(f"{name}.html: {len(html) / 1e6:.1f} MB, {len(audio)} players")
    if name == "01_prepare_and_check":
        check_plays_offline(out)


def check_plays_offline(page_path):
    """In headless Chromium with every network request refused, every <audio> of the page loads."""
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True,
                                    args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        try:
            ctx = browser.new_context(offline=True)
            page = ctx.new_page()

            def guard(route):
                if route.request.url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    refused.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(Path(page_path).as_uri())
            page.wait_for_function("() => { const a = [...document.querySelectorAll('audio')];"
                                   " return a.length && a.every(e => e.readyState >= 1 && e.duration > 0); }",
                                   timeout=30_000)
            durations = page.evaluate("() => [...document.querySelectorAll('audio')].map(e => e.duration)")
        finally:
            browser.close()
    assert len(durations) >= 2 and min(durations) > 1.0, f"the players loaded {durations} s of audio"
    assert not refused, f"the page asked the network for {refused[:3]}"
