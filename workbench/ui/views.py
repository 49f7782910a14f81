"""Looking closer: the decisions table, masking views and spectrograms.

Each view draws figures from :mod:`workbench.figures` (matplotlib figures,
sent to the browser as PNG images) or tables from the plan. None of them
computes anything about the mix: they show the analysis, the plan and the
rendered previews.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as W

from .style import esc, style_html, with_terms

log = logging.getLogger(__name__)

#: Resolution of figures shown in the browser (lower than for files: they are scaled to the page anyway).
SCREEN_DPI = 80


def figure_image(fig, *, css_class: str = "", width: str = "100%") -> W.Image:
    """A matplotlib Figure as an ``ipywidgets.Image`` (PNG)."""
    from ..figures import figure_png

    img = W.Image(value=figure_png(fig, dpi=SCREEN_DPI), format="png",
                  layout=W.Layout(max_width=width, height="auto"))
    if css_class:
        img.add_class(css_class)
    return img


def _message(text: str) -> W.HTML:
    return W.HTML(f"<span class='wb-meta'>{esc(text)}</span>")


def decisions_html(plan, only: str | None = None) -> str:
    """The plan's decisions as an HTML table (every cell escaped), then its notes.

    ``only`` keeps the rows whose place or decision mentions that word
    (case-insensitive, e.g. ``"reverb"``, ``"Piano"``); the notes are then left out.
    """
    key = only.casefold() if only else None
    rows = "".join(f"<tr><td class='wb-where'>{esc(w)}</td><td class='wb-what'>{esc(what)}</td>"
                   f"<td>{with_terms(why)}</td></tr>" for w, what, why in plan.decisions()
                   if key is None or key in w.casefold() or key in what.casefold())
    notes = "" if key else "".join(f"<li>{with_terms(n)}</li>" for n in getattr(plan, "notes", []) or [])
    out = (f"<table class='wb-decisions'><thead><tr><th>Where</th><th>What</th><th>Why</th></tr></thead>"
           f"<tbody>{rows}</tbody></table>")
    if notes:
        out += f"<p><b>Notes</b></p><ul class='wb-notes'>{notes}</ul>"
    return out


class DecisionTable:
    """Every decision of a plan with its one-line reason (``MixPlan.decisions()``).

    ``only`` shows just the rows that mention a word (``DecisionTable(plan, only="reverb")``).
    """

    def __init__(self, plan=None, *, only: str | None = None) -> None:
        self.only = only
        self.banner = W.HTML()
        self.table = W.HTML()
        self.table.add_class("wb-decisions-table")
        self.widget = W.VBox([W.HTML(style_html()), self.banner, self.table])   # brings its own style
        self.widget.add_class("wb-decision-view")
        self.update(plan)

    def update(self, plan, *, stale: bool = False) -> None:
        if plan is None:
            self.table.value = "<span class='wb-meta'>The decisions appear here once a mix is planned.</span>"
        else:
            self.table.value = decisions_html(plan, self.only)
        self.mark_stale(stale)

    def mark_stale(self, stale: bool = True) -> None:
        self.banner.value = ("<div class='wb-stale-banner'>Planned before your last change: generate the "
                             "preview again to see the new decisions.</div>" if stale else "")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class MaskingView:
    """Who covers whom: the stem × stem heatmap, and for one pair, where and when.

    ``As the stems arrived`` shows the masking at the levels the stems were
    bounced at; ``In the mix`` shows what the plan's gains and EQ predict
    (:func:`~workbench.mixing.planner.masking_for_plan`).

    Parameters
    ----------
    analysis : Analysis, optional
    plan : MixPlan, optional
    """

    def __init__(self, analysis=None, plan=None) -> None:
        self.analysis, self.plan = None, None
        self._busy = False
        self._layout()
        self._wire()
        self.update(analysis, plan)

    def _layout(self) -> None:
        self.when = W.ToggleButtons(options=[("As the stems arrived", "before"), ("In the mix", "after")],
                                    value="before", style={"button_width": "150px"})
        self.when.add_class("wb-masking-when")
        self.masker = W.Dropdown(description="Masker", options=[], layout=W.Layout(width="260px"))
        self.target = W.Dropdown(description="covers", options=[], layout=W.Layout(width="260px"))
        self.masker.add_class("wb-masker")
        self.target.add_class("wb-target")
        self.heatmap = W.Box([_message("The masking map appears once the stems are analysed.")])
        self.heatmap.layout.max_width = "720px"
        self.over_time = W.Box([])
        self.over_time.layout.max_width = "900px"
        self.widget = W.VBox([W.HTML(style_html()), self.when, self.heatmap, W.HBox([self.masker, self.target]),
                              self.over_time])
        self.widget.add_class("wb-masking-view")

    def _wire(self) -> None:
        self.when.observe(lambda _c: self._draw(), names="value")
        self.masker.observe(lambda _c: self._draw_pair(), names="value")
        self.target.observe(lambda _c: self._draw_pair(), names="value")

    def update(self, analysis, plan=None) -> None:
        """Show a new analysis (and plan); picks the strongest pair to start with."""
        from ..figures import strongest_pairs

        self.analysis, self.plan = analysis, plan
        self.when.disabled = plan is None
        if plan is None and self.when.value == "after":
            self.when.value = "before"
        if analysis is None:
            return
        names = list(analysis.names)
        pairs = strongest_pairs(analysis.masking, 1)
        m, t = pairs[0] if pairs else (names[0], names[-1])
        self._busy = True
        try:
            self.masker.options, self.target.options = names, names
            self.masker.value, self.target.value = m, t
        finally:
            self._busy = False
        self._draw()

    def _masking(self):
        if self.when.value == "after" and self.plan is not None:
            from ..mixing.planner import masking_for_plan

            return masking_for_plan(self.plan, self.analysis)
        return self.analysis.masking


    def _draw(self) -> None:
        if self.analysis is None:
            return
        from ..figures import masking_heatmap, masking_scale_max

        title = ("How much each stem covers the others in the mix (after gains and EQ)"
                 if self.when.value == "after" and self.plan is not None else None)
        # before and after on one colour scale, so that switching compares like with like
        shown = self._masking()
        scale = [self.analysis.masking, shown]
        if self.plan is not None and shown is self.analysis.masking:
            from ..mixing.planner import masking_for_plan

            scale.append(masking_for_plan(self.plan, self.analysis))
        vmax = masking_scale_max(*scale)
        self.heatmap.children = (figure_image(masking_heatmap(shown, title=title, vmax=vmax),
                                              css_class="wb-masking-heatmap"),)
        self._draw_pair()

    def _draw_pair(self) -> None:
        if self._busy or self.analysis is None:
            return
        from ..figures import masking_over_time

        m, t = self.masker.value, self.target.value
        if m not in self.analysis.names or t not in self.analysis.names:
            return
        if m == t:
            self.over_time.children = (_message("Pick two different stems."),)
            return
        after = self.when.value == "after" and self.plan is not None
        fig = masking_over_time(self.analysis, m, t, plan=self.plan if after else None)   # gains and EQ, as the heatmap
        self.over_time.children = (figure_image(fig, css_class="wb-masking-over-time"),)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


SUM = "All stems together"


class SpectrogramView:
    """Spectrograms before and after, of one stem or of all stems together.

    Before a preview exists it shows the raw stem (or the plain sum of the
    whole song). With a preview: the same section *before* (the raw stem, or
    the plain-sum preview) and *after* (the stem through its planned chain
    with :func:`~workbench.mixing.render.render_stem_chain`, or the automix
    preview), on the same colour scale.

    Parameters
    ----------
    session : Session, optional
    plan, section, previews : optional
        The plan, its preview section and the A/B renders
        (``{"plain": RenderResult, "automix": RenderResult, ...}``).
    """

    def __init__(self, session=None, plan=None, section=None, previews: Mapping | None = None) -> None:
        self._layout()
        self._wire()
        self.update(session, plan, section, previews)

    def _layout(self) -> None:
        self.source = W.Dropdown(description="Show", options=[SUM], value=SUM, layout=W.Layout(width="300px"))
        self.source.add_class("wb-spectrogram-source")
        self.button = W.Button(description="Draw spectrograms", icon="image", layout=W.Layout(width="200px"))
        self.button.add_class("wb-spectrogram-draw")
        self.out = W.VBox([_message("Pick a stem (or all of them) and press Draw spectrograms.")])
        self.widget = W.VBox([W.HBox([self.source, self.button]), self.out])
        self.widget.add_class("wb-spectrogram-view")

    def _wire(self) -> None:
        self.button.on_click(lambda _b: self.draw())

    def update(self, session, plan=None, section=None, previews: Mapping | None = None) -> None:
        self.session, self.plan, self.section, self.previews = session, plan, section, dict(previews or {})
        names = [SUM] + ([s.name for s in session.mixable_stems] if session is not None else [])
        keep = self.source.value if self.source.value in names else SUM
        self.source.options = names
        self.source.value = keep
        self.button.disabled = session is None

    def draw(self) -> None:
        """Draw the before/after pair for the chosen source."""
        if self.session is None:
            return
        if self.source.value not in self.source.options:     # whatever the browser sent
            self.out.children = (_message("Pick a stem from the list."),)
            return
        self.button.disabled = True
        try:
            self.out.children = tuple(figure_image(f, css_class="wb-spectrogram", width="900px")
                                      for f in self.figures(self.source.value))
        except Exception:            # a figure must never take the page down
            log.exception("spectrogram failed")
            self.out.children = (_message("This spectrogram could not be drawn (see the server log)."),)
        finally:
            self.button.disabled = False

    def figures(self, source: str) -> list:
        """The figures for ``source`` (a stem name or :data:`SUM`)."""
        from .. import figures as F
        from ..audio_io import read

        if source == SUM:
            plain, auto = self.previews.get("plain"), self.previews.get("automix")
            if plain is not None and auto is not None:
                return [F.spectrogram_of_stem(Path(plain.path), title="Before: the plain sum (preview section)"),
                        F.spectrogram_of_stem(Path(auto.path), title="After: the automix (same section, "
                                                                      "same loudness)")]
            return [F.spectrogram_of_sum(self.session)]
        stem = self.session.stem(source)
        if self.plan is None or self.section is None or stem.name not in self.plan.stems:
            return [F.spectrogram_of_stem(stem.path, title=f"{stem.name} as it arrived")]
        from ..mixing.render import render_stem_chain

        sr = self.plan.sample_rate
        before = read(stem.path, start=self.section.start_frame, frames=self.section.frames, sample_rate=sr)
        after, _send = render_stem_chain(self.plan.stems[stem.name], before, sr)
        return [F.spectrogram(before, sr, title=f"Before: {stem.name} as it arrived (preview section)"),
                F.spectrogram(after, sr, title=f"After: {stem.name} through its gain, EQ, compression and pan")]

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
