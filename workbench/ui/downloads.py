"""Download links for the mix, the preview, the DAW projects, the plan and the report.

How a file reaches the browser
------------------------------
Two ways, chosen by ``Downloads(links=...)``:

``"served"`` (the Voila dashboard)
    Voila's file handler (``/voila/files/…``) serves the files. Each dashboard
    session publishes its ``out/`` folder through one link
    ``.workbench-downloads/<random 128-bit token>`` in Voila's root folder, and
    ``voila.json`` allowlists exactly that pattern (``.wav``, ``.json``,
    ``.md``, ``.dawproject``, ``.zip``). Links are plain
    ``<a href=… download>`` anchors; files of any size download at disk speed
    and nothing large travels through the widget connection. Chosen
    automatically inside a Voila kernel (:meth:`VoilaLinks.available`).

``"inline"`` (notebooks in JupyterLab, or anywhere else)
    ``data:`` URLs (base64) inside the anchor: no server configuration, any
    URL layout, but the file travels inside the page (a third larger than
    the file). Files up to 8 MB get their link at once; larger ones (the DAW
    projects carry the stems) get a "Prepare link" button so that nothing big
    is sent until asked for; above 40 MB the file's location on disk is shown
    instead.

``"auto"`` (default) picks ``"served"`` under Voila — after checking that Voila
really serves the folder (it does not when started without ``voila.json``) —
and ``"inline"`` elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as W

from ..errors import ParameterError
from .files import MB, InlineLinks, VoilaLinks, WorkFolder, format_size
from .style import esc, style_html

log = logging.getLogger(__name__)

#: What can be downloaded, in the order shown, with a plain-words description.
ITEMS = (
    ("mix", "Full mix", "WAV, 16-bit, 44.1 kHz, at the loudness target"),
    ("preview", "Preview", "WAV of the automix preview section"),
    ("dawproject", "DAWproject", "open project format (Bitwig, Studio One, Cubase…): tracks, stems, "
                                 "faders, pans, EQ, compressors, reverb"),
    ("als", "Ableton Live Set", "experimental: .als with its samples, zipped"),
    ("plan", "Mix plan", "JSON: every decision; renders the same mix again (workbench mix --plan)"),
    ("report", "Report", "Markdown: findings and every decision with its reason"),
)

#: In inline mode, files up to this size get their link straight away.
EAGER_INLINE_BYTES = 8 * MB


def make_links(mode: str, work: WorkFolder | None):
    """The link maker for ``mode`` (``"auto"``, ``"served"`` or ``"inline"``)."""
    if mode not in ("auto", "served", "inline"):
        raise ParameterError(f"links must be 'auto', 'served' or 'inline', got {mode!r}")
    if mode == "served" or (mode == "auto" and work is not None and VoilaLinks.available()):
        if work is None:
            raise ParameterError("served links need the session's WorkFolder")
        try:
            links = VoilaLinks(work)
            if mode == "served" or links.works():
                return links
            log.warning("Voila does not serve the download folder (started without voila.json?): "
                        "download links carry the files in the page instead")
        except OSError:
            if mode == "served":
                raise
    return InlineLinks()


def anchor(url: str, name: str, key: str) -> str:
    return (f"<a class='wb-link wb-link-{esc(key)}' href='{esc(url)}' download='{esc(name)}' "
            f">{esc(name)}</a>")


class Downloads:
    """Download links for the session's outputs (see the module docstring for how they work).

    Parameters
    ----------
    links : {"auto", "served", "inline"} or a link maker
    work : WorkFolder, optional
        Needed for ``"served"`` links.
    """

    def __init__(self, links="auto", work: WorkFolder | None = None) -> None:
        self.links = make_links(links, work) if isinstance(links, str) else links
        self.rows: dict[str, W.Widget] = {}
        self.widget = W.VBox([])
        self.widget.add_class("wb-downloads")
        self.update({})

    @property
    def mode(self) -> str:
        return self.links.mode

    def update(self, files: Mapping[str, Path], stale: Mapping[str, bool] | None = None) -> None:
        """Show a link for each available file (``{item key: path}``); ``stale`` marks old ones."""
        stale = stale or {}
        rows = []
        self.rows = {}
        for key, label, what in ITEMS:
            path = files.get(key)
            if path is None or not Path(path).exists():
                continue
            row = self._row(key, label, what, Path(path), bool(stale.get(key)))
            self.rows[key] = row
            rows.append(row)
        if not rows:
            rows = [W.HTML("<span class='wb-meta'>Nothing to download yet: Generate preview gives the preview "
                           "and the plan; Render full mix gives the mix and the DAW projects.</span>")]
        self.widget.children = (W.HTML(style_html()), *rows)   # brings its own style

    def _row(self, key: str, label: str, what: str, path: Path, stale: bool) -> W.Widget:
        size = path.stat().st_size
        note = " <span class='wb-stale-note'>(made before your last change)</span>" if stale else ""
        head = f"<b>{esc(label)}</b> · {esc(format_size(size))}{note}<br><span class='wb-meta'>{esc(what)}</span>"
        link = W.HTML(layout=W.Layout(width="300px"))
        box = W.HBox([link, W.HTML(head, layout=W.Layout(flex="1 1 auto"))], layout=W.Layout(align_items="center"))
        box.add_class("wb-download")
        box.add_class(f"wb-download-{key}")
        if isinstance(self.links, InlineLinks) and size > self.links.max_bytes:
            link.value = (f"<span class='wb-meta'>{esc(format_size(size))} is too large to pass through the "
                          f"page here; the file is at {esc(str(path))}</span>")
        elif isinstance(self.links, InlineLinks) and size > EAGER_INLINE_BYTES:
            button = W.Button(description=f"Prepare link ({format_size(size)})", icon="link",
                              layout=W.Layout(width="220px"))
            button.add_class("wb-prepare-link")

            def prepare(_b, key=key, path=path, link=link, box=box, button=button):
                link.value = anchor(self.links.url(path), path.name, key)
                box.children = tuple(c for c in box.children if c is not button)

            button.on_click(prepare)
            box.children = (button,) + box.children
        else:
            link.value = anchor(self.links.url(path), path.name, key)
        return box

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
