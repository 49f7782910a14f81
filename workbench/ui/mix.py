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
from .player import ABPlayer, Version
from .style import esc, style_html, with_terms

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
        self.widget = W.VBox([W.HTML(style_html()), W.HBox([self.generate, self.render, self.progress, self.stage],
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
    """The A/B of the preview in one :class:`~workbench.ui.player.ABPlayer`, plus the full mix and solo stems.

    Parameters
    ----------
    results : mapping, optional
        ``{variant key: RenderResult}`` as returned by :func:`workbench.ui.model.render_ab`.
    section : PreviewSection, optional
        Shown in the heading (where in the song the preview is).
    """

    def __init__(self, results: Mapping[str, object] | None = None, section=None) -> None:
        self.players: dict[str, Version] = {}
        self.solos: dict[str, Version] = {}
        self.full: dict[str, Version] = {}
        self._section = None
        self._stale = False
        self._layout()
        if results:
            self.show(results, section)

    def _layout(self) -> None:
        self.heading = W.HTML("<span class='wb-meta'>The A/B player appears here after Generate preview.</span>")
        self.banner = W.HTML()
        self.player = ABPlayer()
        self.legend = W.HTML()
        self.legend.add_class("wb-ab-legend")
        self.widget = W.VBox([W.HTML(style_html()), self.heading, self.banner, self.player, self.legend])
        self.widget.add_class("wb-ab")

    # ---------------------------------------------------------------- public
    def clear(self, section=None, *, pending: bool = True) -> None:
        """Empty the player (a new preview is being made)."""
        self.players, self.solos, self.full = {}, {}, {}
        self.legend.value = ""
        self.player.set_versions({})
        self.set_section(section, pending=pending)
        self.mark_fresh()

    def set_section(self, section, *, pending: bool = False) -> None:
        self._section = section
        if section is None:
            self.heading.value = ("<span class='wb-meta'>Rendering the A/B versions…</span>" if pending else
                                  "<span class='wb-meta'>The A/B player appears here after Generate preview.</span>")
            return
        self.heading.value = (f"<b>A/B: the same {section.seconds:.0f} s of the song in every version — press a "
                              f"version to switch at the same moment</b><br><span class='wb-meta'>"
                              f"{esc(section.reason)}</span>")

    def show(self, results: Mapping[str, object], section=None) -> None:
        self.clear(section, pending=False)
        for v in AB_VARIANTS:
            if v.key in results:
                self.add(v, results[v.key], refresh=False)
        self.refresh()

    def add(self, variant: Variant, result, *, refresh: bool | None = None) -> None:
        """Add (or replace) one version from its rendered file.

        The player is sent to the browser at once for the automix (so there is
        something to hear quickly) and otherwise on :meth:`refresh`.
        """
        start = self._section.start_s if self._section is not None else 0.0
        self.players[variant.key] = Version(Path(result.path), variant.label, "preview", start,
                                            getattr(result, "integrated_lufs", None),
                                            f"{variant.explains} ({describe_result(result)})")
        if refresh or (refresh is None and variant.key == "automix"):
            self.refresh()

    def set_solos(self, files) -> None:
        """Each processed stem of the preview section alone (``files``: its WAVs, named after the stems)."""
        start = self._section.start_s if self._section is not None else 0.0
        self.solos = {f"solo:{Path(f).stem}": Version(Path(f), Path(f).stem, "solo", start, None,
                                                      f"{Path(f).stem} alone, as it sits in the automix")
                      for f in files}
        self.refresh()

    def set_full_mix(self, mix_path, lufs: float | None = None, extra: Mapping[str, Path] | None = None) -> None:
        """The rendered full mix, and other versions when present (``{name: WAV}``: vocal up, TV mix...)."""
        self.full = {"mix": Version(Path(mix_path), "Full mix", "mix", 0.0, lufs, "the whole song, mastered")}
        for name, path in (extra or {}).items():
            self.full[f"version:{name}"] = Version(Path(path), name, "versions", 0.0, None, f"release version: {name}")
        self.refresh()

    def refresh(self) -> None:
        """Send the versions to the browser's player."""
        order = [v.key for v in AB_VARIANTS]
        previews = {k: self.players[k] for k in sorted(self.players, key=lambda k: order.index(k)
                                                        if k in order else len(order))}
        self.player.set_versions({**previews, **self.full, **self.solos})
        self.legend.value = "".join(
            f"<div class='wb-meta'><b>{esc(v.label)}</b>: {with_terms(v.explains)}</div>" for v in previews.values())

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
