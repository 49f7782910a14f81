"""Reference upload, style picker and amount sliders: the dashboard's way to mix toward a target.

:class:`ReferencePanel` follows the jupyter-widgets tutorial's separation: a layout part, a wiring
part and callbacks that read the change, call the package (:mod:`workbench.analysis.reference`,
:mod:`workbench.mixing.style`) and set one widget. It holds no mixing logic: :meth:`plan_kwargs`
hands the planner the target, the amounts and the style, and the planner decides.

Uploaded references are written under names this module makes (``reference-<n>.<ext>`` with the
extension from a whitelist), never under the name the browser sent, and refused above
:data:`MAX_REFERENCE_BYTES`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import ipywidgets as W

from ..analysis.reference import ReferenceMeasurement, measure_reference
from ..errors import WorkbenchError
from ..mixing.reference_match import MatchAmounts
from ..mixing.style import Style, load_style, shipped_styles
from ..pipeline import render_toward
from .style import esc

#: Largest reference upload (bytes): a 10-minute 24-bit 96 kHz stereo WAV is about 350 MB; 200 MB
#: holds any song as FLAC/MP3/OGG or 16-bit WAV. The same cap as a stem upload.
MAX_REFERENCE_BYTES = 200 * 2 ** 20
#: Extensions accepted for an upload (the content is checked again when it is decoded).
EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg")
NO_STYLE = "(no style)"


class ReferencePanel:
    """Upload a reference (or pick a style) and set how far to move toward it.

    Parameters
    ----------
    folder : path-like or WorkFolder
        Where uploaded references are written (a ``WorkFolder``'s own folder, or any folder).
    """

    def __init__(self, folder) -> None:
        self.folder = Path(getattr(folder, "path", folder)) / "references"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.target: ReferenceMeasurement | None = None
        self.style: Style | None = None
        self._count = 0
        self._listeners: list[Callable[[], None]] = []
        self._layout()
        self._wire()

    # ---------------------------------------------------------------- layout
    def _layout(self) -> None:
        self.upload = W.FileUpload(accept=",".join(EXTENSIONS), multiple=False, description="Reference song",
                                   layout=W.Layout(width="180px"))
        self.upload.add_class("wb-reference-upload")
        self.clear = W.Button(description="No reference", layout=W.Layout(width="120px"))
        self.clear.add_class("wb-reference-clear")
        self.style_picker = W.Dropdown(options=[NO_STYLE, *shipped_styles()], value=NO_STYLE, description="Style",
                                       layout=W.Layout(width="260px"))
        self.style_picker.add_class("wb-style-picker")
        d = MatchAmounts()
        self.sliders = {f.name: W.IntSlider(value=int(getattr(d, f.name)), min=0, max=100, step=5,
                                            description=f.name.capitalize(), continuous_update=False,
                                            layout=W.Layout(width="300px"))
                        for f in dataclasses.fields(MatchAmounts)}
        for name, s in self.sliders.items():
            s.add_class(f"wb-match-{name}")
        self.status = W.HTML("<div class='wb-hint'>No reference: the mix follows the rules alone.</div>")
        self.status.add_class("wb-reference-status")
        self.widget = W.VBox([W.HBox([self.upload, self.clear, self.style_picker],
                                     layout=W.Layout(align_items="center")),
                              W.HBox(list(self.sliders.values()), layout=W.Layout(flex_flow="row wrap")),
                              self.status])
        self.widget.add_class("wb-reference")

    # ---------------------------------------------------------------- wiring
    def _wire(self) -> None:
        self.upload.observe(self._on_upload, names="value")
        self.clear.on_click(lambda _b: self._on_clear())
        self.style_picker.observe(self._on_style, names="value")
        for s in self.sliders.values():
            s.observe(lambda _c: self._changed(), names="value")

    def on_change(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` whenever the target, the style or an amount changes."""
        self._listeners.append(fn)

    # ---------------------------------------------------------------- public
    def amounts(self) -> MatchAmounts:
        return MatchAmounts(**{k: float(s.value) for k, s in self.sliders.items()})

    def plan_kwargs(self) -> dict:
        """Keyword arguments for :func:`workbench.mixing.planner.plan_mix` (empty without a target or style)."""
        if self.target is None and self.style is None:
            return {}
        return {"target": self.target, "match": self.amounts(), "style": self.style}

    def use_file(self, path: str | Path) -> ReferenceMeasurement:
        """Measure a reference file and make it the target (what an upload does after saving it)."""
        self.target = measure_reference(path)
        t = self.target
        self.status.value = (f"<div class='wb-hint'>Reference <b>{esc(t.source)}</b>: {t.integrated_lufs:.1f} LUFS, "
                             f"PLR {t.plr_db:.1f} dB, side share above 120 Hz "
                             f"{t.region_side_share(120, 20000):.2f} (measured on its loud section, "
                             f"{t.loud_seconds:.0f} s).</div>")
        self._changed()
        return t

    # ---------------------------------------------------------------- callbacks
    def _on_upload(self, change) -> None:
        files = change.new or ()
        if not files:
            return
        f = files[0]
        name = str(f.get("name", ""))
        ext = Path(name).suffix.lower()
        content = f.get("content", b"")
        try:
            if ext not in EXTENSIONS:
                raise WorkbenchError("bad_reference", f"{name} is not a WAV, FLAC, MP3 or OGG file.",
                                     "Upload the finished song as WAV, FLAC, MP3 or OGG.")
            if len(content) > MAX_REFERENCE_BYTES:
                raise WorkbenchError("bad_reference", f"{name} is larger than {MAX_REFERENCE_BYTES // 2 ** 20} MB.",
                                     "Upload a FLAC or MP3 of the song instead.")
            self._count += 1
            path = self.folder / f"reference-{self._count}{ext}"        # our name, never the browser's
            path.write_bytes(bytes(content))
            self.use_file(path)
            self.status.value = self.status.value.replace(esc(path.name), esc(name))
        except WorkbenchError as exc:
            self.status.value = f"<div class='wb-error'>{esc(exc.message)} {esc(exc.fix)}</div>"

    def _on_clear(self) -> None:
        self.target = None
        self.status.value = "<div class='wb-hint'>No reference: the mix follows the rules alone.</div>"
        self._changed()

    def _on_style(self, change) -> None:
        value = change.new
        if value not in self.style_picker.options:       # a client may send anything: whitelist
            return
        self.style = None if value == NO_STYLE else load_style(value)
        if self.style is not None:
            for k, s in self.sliders.items():
                s.value = int(getattr(self.style.match, k))
            if self.target is None:
                self.status.value = (f"<div class='wb-hint'>Style <b>{esc(self.style.name)}</b>: "
                                     f"{esc(self.style.description)}</div>")
        self._changed()

    def _changed(self) -> None:
        for fn in self._listeners:
            fn()


class AmountExplorer:
    """Sliders for the four amounts and an HTML5 player of the preview section mixed toward a target.

    Every slider release re-plans (milliseconds) and renders the preview section (a few seconds),
    then shows it as the HTML5 ``<audio>`` player of :class:`IPython.display.Audio` (the file embedded,
    so it survives an HTML export) in an HTML widget.
    """

    def __init__(self, session, analysis, target: ReferenceMeasurement, section, folder: str | Path, *,
                 mix: ReferenceMeasurement | None = None, amounts: MatchAmounts | None = None) -> None:
        self.session, self.analysis, self.target, self.section, self.mix = session, analysis, target, section, mix
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._n = 0
        a = amounts or MatchAmounts()
        self.sliders = {f.name: W.IntSlider(value=int(getattr(a, f.name)), min=0, max=100, step=10,
                                            description=f.name.capitalize(), continuous_update=False)
                        for f in dataclasses.fields(MatchAmounts)}
        self.player = W.HTML()
        self.player.add_class("wb-toward-player")
        self.moves = W.HTML()
        self.widget = W.VBox([W.HBox(list(self.sliders.values()), layout=W.Layout(flex_flow="row wrap")),
                              self.moves, self.player])
        for s in self.sliders.values():
            s.observe(lambda _c: self.update(), names="value")
        self.update()

    def amounts(self) -> MatchAmounts:
        return MatchAmounts(**{k: float(s.value) for k, s in self.sliders.items()})

    def update(self) -> None:
        from IPython.display import Audio

        self._n += 1
        plan, path = render_toward(self.session, self.analysis, self.target, self.amounts(), self.section,
                                    self.folder / f"toward-{self._n}.wav", mix=self.mix)
        rows = "".join(f"<li>{esc(what)} — {esc(why)}</li>" for where, what, why in plan.decisions()
                       if where == "Master" and ("bus" in why or "side" in why or "glue" in what))
        self.moves.value = f"<ul class='wb-moves'>{rows}</ul>"
        self.player.value = Audio(filename=str(path), embed=True)._repr_html_()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
