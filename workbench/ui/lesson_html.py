"""Export a lesson notebook to one HTML file that works with the network off.

``jupyter nbconvert --to html`` with its default template loads require.js,
MathJax, Mermaid and (when the notebook holds widget state) the ipywidgets
HTML manager from CDNs. The lessons show their audio as plain HTML5
``<audio>`` elements with embedded ``data:`` sources and their tables as plain
HTML, so none of those scripts is needed: :func:`export_html` uses the ``lab``
template with the remote-script blocks emptied, executes without storing
widget state, and replaces an interactive widget's output with a note that it
needs a running notebook.

The rule for remote URLs (checked by :func:`remote_urls`): nothing the page
*loads* may be remote — no ``src=``, no ``<link href=``, no CSS ``url(...)``,
no ``@import`` pointing at ``http(s)://``. Links a reader may click
(``<a href="https://...">`` in prose) are allowed: they load nothing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: The ``lab`` template without the blocks that load scripts from CDNs.
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("<p class='wb-widget-note' style='color:#666'><i>An interactive control is here when the "
               "notebook runs in Jupyter; it does not survive export.</i></p>")

_REMOTE = re.compile(
    r"""(?:\bsrc\s*=\s*["']?\s*https?://"""           # <script src=...>, <img src=...>, <audio src=...>
    r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*https?://"""  # stylesheets, fonts, preloads
    r"""|url\(\s*["']?\s*https?://"""                   # CSS url(...)
    r"""|@import\s+["']?\s*https?://)""",               # CSS @import
    re.IGNORECASE)


def remote_urls(html: str) -> list[str]:
    """Every place where ``html`` would load something from the network (see the module's rule).

    Returns short excerpts around each hit (empty: the page loads nothing remote).
    """
    return [html[max(0, m.start() - 40): m.end() + 60] for m in _REMOTE.finditer(html)]


def _replace_widget_outputs(nb) -> int:
    replaced = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data") if out.get("output_type") in ("display_data", "execute_result") else None
            if data and WIDGET_MIME in data:
                out["data"] = {"text/html": WIDGET_NOTE, "text/plain": "(interactive widget)"}
                replaced += 1
    nb.metadata.pop("widgets", None)
    return replaced


def executed(notebook: str | os.PathLike, *, timeout_s: int = 300):
    """The notebook at ``notebook`` executed in a fresh kernel (its folder as working folder),
    without widget state, widget outputs replaced by a note."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout_s, kernel_name="python3", store_widget_state=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    _replace_widget_outputs(nb)
    return nb


def to_html(nb, title: str = "") -> str:
    """An (executed) notebook node as a self-contained HTML page that loads nothing remote."""
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", template_file="workbench_offline.html.j2",
                            extra_loaders=[jinja2.DictLoader({"workbench_offline.html.j2": OFFLINE_TEMPLATE})])
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def export_html(notebook: str | os.PathLike, out: str | os.PathLike, *, timeout_s: int = 300) -> Path:
    """Execute ``notebook`` and write it as one offline HTML file at ``out`` (written atomically).

    Returns the path written. The notebook itself is not modified.
    """
    import tempfile

    nb = executed(notebook, timeout_s=timeout_s)
    html = to_html(nb, Path(notebook).stem)
    target = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(html.encode("utf-8"))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m workbench.ui.lesson_html OUT_DIR NOTEBOOK...``: export lessons for handing out.

    Each notebook is executed and written as ``OUT_DIR/<name>.html``. Bad input gets one line
    naming the file and the fix, and exit status 2.
    """
    import argparse
    import sys

    from ..errors import ParameterError, WorkbenchError

    ap = argparse.ArgumentParser(prog="python -m workbench.ui.lesson_html",
                                 description="Export lessons to HTML that works with the network off.")
    ap.add_argument("out_dir", help="folder to write <lesson>.html into (created if missing)")
    ap.add_argument("notebooks", nargs="+", help="lesson notebooks (.ipynb)")
    args = ap.parse_args(argv)
    try:
        out = Path(args.out_dir)
        if out.exists() and not out.is_dir():
            raise WorkbenchError("out_not_folder", f"{out} is a file, not a folder.", "Give a folder to write into.")
        for nb in args.notebooks:
            p = Path(nb)
            if not p.is_file() or p.suffix != ".ipynb":
                raise ParameterError(f"{p} is not a notebook file (.ipynb).",
                                     "Give the lesson notebooks, e.g. notebooks/02_masking.ipynb.")
        out.mkdir(parents=True, exist_ok=True)
        for nb in args.notebooks:
            written = export_html(nb, out / f"{Path(nb).stem}.html")
            print(f"{written}  ({written.stat().st_size / 1e6:.1f} MB)")
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
