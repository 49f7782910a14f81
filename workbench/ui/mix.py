"""The mix controls and the A/B players.

:class:`MixPanel` holds the two actions (Generate preview, Render full mix), a
progress bar fed by the library's progress callbacks and a status line. It
knows whether the preview is out of date: after any change of a category or
an importance it says so until the preview is generated again.

:class:`ABPlayers` plays the same preview section as the plain sum, the
automix, and the automix with one stage bypassed (EQ, compression, panning,
reverb) — all rendered by :func:`workbench.mixing.render.render` at the same
loudness, so the louder version does not win by being louder.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import ipywidgets as W

from .model import AB_VARIANTS, Variant
from .style import esc, with_terms

#: Update the progress bar at most this often (s): each update is a message to the browser.
PROGRESS_INTERVAL_S = 0.15


class MixPanel:
    """Generate preview / Render full mix buttons, a progress bar and a status line."""

    def __init__(self) -> None:
        self._layout()
        self._stale = False
        self._last: tuple[str | None, float, float] = (None, -1.0, 0.0)
        self.set_enabled(False)
        self.set_status("Load stems to start.")

    # ---------------------------------------------------------------- layout
    def _layout(self) -> None:
        self.generate = W.Button(description="Generate preview", icon="play", button_style="primary",
                                 tooltip="Plan the mix and render a short preview, with A/B versions",
                                 layout=W.Layout(width="180px"))
        self.generate.add_class("wb-generate")
        self.render = W.Button(description="Render full mix", icon="download", button_style="success",
                               tooltip="Render the whole song (16-bit WAV at the loudness target) and the "
                                       "DAW projects", layout=W.Layout(width="180px"))
        self.render.add_class("wb-render")
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, layout=W.Layout(width="260px"))
        self.progress.add_class("wb-progress")
        self.stage = W.HTML()
        self.stage.add_class("wb-stage")
        self.status = W.HTML()
        self.status.add_class("wb-status")
        self.widget = W.VBox([W.HBox([self.generate, self.render, self.progress, self.stage],
                                     layout=W.Layout(align_items="center")), self.status])
        self.widget.add_class("wb-mix-panel")

    # ---------------------------------------------------------------- public
    def on_generate(self, callback: Callable[[], None]) -> None:
        self.generate.on_click(lambda _b: callback())

    def on_render(self, callback: Callable[[], None]) -> None:
        self.render.on_click(lambda _b: callback())

    def set_enabled(self, enabled: bool) -> None:
        self.generate.disabled = not enabled
        self.render.disabled = not enabled

    def start(self, what: str) -> None:
        """A job begins: reset the bar."""
        self._last = (what, 0.0, time.monotonic())
        self.progress.bar_style = "info"
        self.progress.value = 0.0
        self.stage.value = f"<span class='wb-meta'>{esc(what)}…</span>"

    def report(self, what: str, fraction: float) -> None:
        """Progress callback (any thread): ``what`` is being done, ``fraction`` of the job is done."""
        last_what, last_f, last_t = self._last
        f = min(1.0, max(0.0, float(fraction) if math.isfinite(fraction) else 0.0))
        f = max(f, last_f)            # a job's bar never goes back
        now = time.monotonic()
        if what == last_what and f < 1.0 and now - last_t < PROGRESS_INTERVAL_S:
            self._last = (last_what, f, last_t)
            return
        self._last = (what, f, now)
        self.progress.value = f
        self.stage.value = f"<span class='wb-meta'>{esc(what)} · {f:.0%}</span>"

    def finish(self, ok: bool) -> None:
        self.progress.value = 1.0 if ok else self.progress.value
        self.progress.bar_style = "success" if ok else "danger"
        self.stage.value = ""

    def set_status(self, text: str, kind: str = "info") -> None:
        cls = {"ok": "wb-ok", "warning": "wb-warn", "error": "wb-err"}.get(kind, "")
        self.status.value = f"<span class='{cls}'>{with_terms(text)}</span>"

    @property
    def stale(self) -> bool:
        """True while the preview does not match the latest choices."""
        return self._stale

    def mark_stale(self, reason: str | None = None) -> None:
        """Mark the preview out of date; with a ``reason`` the status line says so."""
        self._stale = True
        self.widget.add_class("wb-stale")
        if reason:
            self.set_status(f"Preview out of date: {reason}. Press Generate preview to hear the change.", "warning")

    def mark_fresh(self) -> None:
        self._stale = False
        self.widget.remove_class("wb-stale")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def describe_result(result) -> str:
    """``"−14.0 LUFS · −1.2 dBTP"`` for a RenderResult."""
    lufs = getattr(result, "integrated_lufs", float("nan"))
    tp = getattr(result, "true_peak_dbtp", float("nan"))
    if not math.isfinite(lufs):
        return "silent"
    return f"{lufs:.1f} LUFS · true peak {tp:.1f} dBTP"


class ABPlayers:
    """Players for the same preview section: plain sum, automix, and each stage bypassed.

    Parameters
    ----------
    results : mapping, optional
        ``{variant key: RenderResult}`` as returned by :func:`workbench.ui.model.render_ab`.
    section : PreviewSection, optional
        Shown in the heading (where in the song the preview is).
    """

    def __init__(self, results: Mapping[str, object] | None = None, section=None) -> None:
        self.cards: dict[str, W.Widget] = {}
        self.players: dict[str, W.Audio] = {}
        self._stale = False
        self._layout()
        if results:
            self.show(results, section)

    def _layout(self) -> None:
        self.heading = W.HTML("<span class='wb-meta'>The A/B players appear here after Generate preview.</span>")
        self.banner = W.HTML()
        self.grid = W.HBox([], layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox([self.heading, self.banner, self.grid])
        self.widget.add_class("wb-ab")

    # ---------------------------------------------------------------- public
    def clear(self, section=None, *, pending: bool = True) -> None:
        """Empty the players (a new preview is being made)."""
        self.cards, self.players = {}, {}
        self.grid.children = ()
        self.set_section(section, pending=pending)
        self.mark_fresh()

    def set_section(self, section, *, pending: bool = False) -> None:
        if section is None:
            self.heading.value = ("<span class='wb-meta'>Rendering the A/B versions…</span>" if pending else
                                  "<span class='wb-meta'>The A/B players appear here after Generate preview.</span>")
            return
        self.heading.value = (f"<b>A/B: the same {section.seconds:.0f} s of the song, every version at the "
                              f"same loudness</b><br><span class='wb-meta'>{esc(section.reason)}</span>")

    def show(self, results: Mapping[str, object], section=None) -> None:
        self.clear(section, pending=False)
        for v in AB_VARIANTS:
            if v.key in results:
                self.add(v, results[v.key])

    def add(self, variant: Variant, result) -> None:
        """Add (or replace) the player of one version from its rendered file."""
        data = Path(result.path).read_bytes()
        player = W.Audio(value=data, format="wav", autoplay=False, loop=False, controls=True,
                         layout=W.Layout(width="260px"))
        player.add_class("wb-player")
        player.add_class(f"wb-player-{variant.key}")
        card = W.VBox([W.HTML(f"<div class='wb-card-title'>{esc(variant.label)}</div>"
                              f"<div class='wb-meta'>{with_terms(variant.explains)}<br>{with_terms(describe_result(result))}"
                              f"</div>"), player], layout=W.Layout(width="290px"))
        card.add_class("wb-card")
        card.add_class(f"wb-card-{variant.key}")
        self.cards[variant.key] = card
        self.players[variant.key] = player
        order = [v.key for v in AB_VARIANTS]
        self.grid.children = tuple(self.cards[k] for k in sorted(self.cards, key=order.index))

    @property
    def stale(self) -> bool:
        return self._stale

    def mark_stale(self) -> None:
        self._stale = True
        self.widget.add_class("wb-stale")
        self.banner.value = ("<div class='wb-stale-banner'>These versions were made before your last change. "
                             "Press <b>Generate preview</b> to hear it.</div>")

    def mark_fresh(self) -> None:
        self._stale = False
        self.widget.remove_class("wb-stale")
        self.banner.value = ""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
