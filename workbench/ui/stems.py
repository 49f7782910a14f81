"""The stem table and the findings panel.

:class:`StemTable` shows one row per stem — its name and format, a small
player, the category (the autodetect's suggestion pre-selected, its confidence
beside it), the importance and the check findings as badges — and reports the
user's changes to whoever subscribed (:meth:`StemTable.on_change`). It never
stores a choice itself: the subscriber validates and applies it (see
:class:`~workbench.ui.model.WorkbenchModel`), and the table reverts a value that
was refused.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W

from ..categories import CATEGORY_NAMES
from ..checks import summarise
from ..confidence import describe_guess, is_unsure
from ..session import IMPORTANCE_LEVELS, Session, Stem
from .style import badge, esc, findings_html, style_html

#: Column widths of the stem table (name, player, category, suggestion, importance, findings).
COLUMNS = ("190px", "250px", "150px", "160px", "262px", "1 1 auto")

IMPORTANCE_TOOLTIPS = ("background: sits behind the others, more reverb, cut first where parts clash",
                       "normal: carries the song along with the rest",
                       "lead: what the listener follows; loudest, most central, driest, never cut for others")


def _cell(widget: W.Widget, width: str) -> W.Widget:
    if width.endswith("auto"):
        widget.layout.flex = width
        widget.layout.min_width = "160px"
    else:
        widget.layout.width = width
        widget.layout.flex = "0 0 auto"
    return widget


def format_line(stem: Stem) -> str:
    """``"44.1 kHz · 16-bit · mono · 24.1 s"`` (or what is known of it)."""
    if not stem.readable:
        return "not readable as audio"
    ch = {1: "mono", 2: "stereo"}.get(stem.channels or 0, f"{stem.channels} ch")
    bits = f"{stem.bit_depth}-bit" if stem.bit_depth else (stem.subtype or "?")
    return f"{(stem.sample_rate or 0) / 1000:g} kHz · {bits} · {ch} · {stem.duration_s:.1f} s"


def suggestion_text(stem: Stem) -> str:
    """What the autodetect said, with a measured figure (see :func:`workbench.confidence.describe_guess`)."""
    return describe_guess(stem)


def _excerpt(stem: Stem) -> bytes | None:
    from .files import stem_excerpt_wav

    if not stem.readable:
        return None
    try:
        return stem_excerpt_wav(stem.path)
    except Exception:          # an unplayable file already has its finding
        return None


class _Row:
    """The widgets of one stem's row."""

    def __init__(self, stem: Stem, findings, removable: bool) -> None:
        self.file = stem.file
        self.suggested = stem.category
        self.suggestion = suggestion_text(stem)
        self.unsure = is_unsure(stem)
        self.confirmed = False
        self.name = _cell(W.HTML(f"<b>{esc(stem.name)}</b><br><span class='wb-meta'>{esc(stem.file)}<br>"
                                 f"{esc(format_line(stem))}</span>"), COLUMNS[0])
        self.name.add_class("wb-stem-name")
        self.player_box = _cell(W.Box(), COLUMNS[1])
        self.player_box.add_class("wb-stem-player")
        self.set_player(None, pending=stem.readable)
        self.category = W.Dropdown(options=CATEGORY_NAMES,
                                   value=stem.category if stem.category in CATEGORY_NAMES else None,
                                   layout=W.Layout(width=COLUMNS[2]))
        self.category.add_class("wb-category")
        self.auto = W.HTML(layout=W.Layout(width="100%"))
        self.auto.add_class("wb-auto-label")
        self.auto_cell = _cell(W.VBox([self.auto]), COLUMNS[3])
        self.auto_cell.add_class("wb-auto-cell")
        self.show_suggestion(stem.category)
        self.importance = W.ToggleButtons(options=IMPORTANCE_LEVELS, value=stem.importance,
                                          tooltips=IMPORTANCE_TOOLTIPS, style={"button_width": "72px"},
                                          layout=W.Layout(width=COLUMNS[4]))
        self.importance.add_class("wb-importance")
        self.findings = _cell(W.HTML(findings_html(findings, empty="OK")), COLUMNS[5])
        self.findings.add_class("wb-stem-findings")
        cells = [self.name, self.player_box, self.category, self.auto_cell, self.importance, self.findings]
        self.confirm = None
        if self.unsure:
            # An unsure guess asks for a click: confirm it here, or pick another category.
            self.confirm = W.Button(description=f"Yes, {stem.category}", icon="check",
                                    tooltip=f"Confirm that {stem.name} is {stem.category}",
                                    layout=W.Layout(width="auto", max_width=COLUMNS[3]))
            self.confirm.add_class("wb-confirm")
            self.auto_cell.children = (self.auto, self.confirm)
        self.remove = None
        if removable:
            self.remove = W.Button(description="", icon="trash", tooltip=f"Remove {stem.name} from the session",
                                   layout=W.Layout(width="36px"))
            self.remove.add_class("wb-remove")
            cells.append(self.remove)
        self.box = W.HBox(cells, layout=W.Layout(width="100%"))
        self.box.add_class("wb-stem-row")
        if self.unsure:
            self.box.add_class("wb-row-unsure")

    def set_player(self, wav: bytes | None, *, pending: bool = False) -> None:
        if wav:
            player = W.Audio(value=wav, format="wav", autoplay=False, loop=False, controls=True,
                             layout=W.Layout(width="240px", height="32px"))
            player.add_class("wb-stem-audio")
        else:
            player = W.HTML(f"<span class='wb-meta'>{'loading player…' if pending else 'no player'}</span>")
        self.player_box.children = (player,)

    def show_suggestion(self, chosen: str | None) -> None:
        if chosen and (chosen != self.suggested or self.confirmed):
            self.settle()
            said = "you confirmed it" if chosen == self.suggested else "your choice"
            text = (f"<span class='wb-auto wb-auto-user'>{said}</span><br>"
                    f"<span class='wb-auto'>suggested: {esc(self.suggestion)}</span>")
        elif self.unsure:
            question, _, rest = self.suggestion.partition(" · ")
            text = (f"<span class='wb-unsure-q'>{esc(question)}</span><br>"
                    f"<span class='wb-auto'>{esc(rest)}</span>")
        else:
            text = f"<span class='wb-auto'>{esc(self.suggestion)}</span>"
        self.auto.value = text

    def settle(self) -> None:
        """The user confirmed or chose the category: the row no longer asks."""
        if self.unsure:
            self.unsure = False
            self.box.remove_class("wb-row-unsure")
            if self.confirm is not None:
                self.auto_cell.children = (self.auto,)
                self.confirm = None


class StemTable:
    """Per stem: name, player, category dropdown with the autodetect's confidence, importance, findings.

    Parameters
    ----------
    session : Session, optional
        The stems to show (more can be shown later with :meth:`show`).
    removable : bool
        Add a remove button per row (for uploaded stems).
    players : bool
        Make each stem's player excerpt when the table is shown (the
        :class:`~workbench.ui.Workbench` turns this off and adds the players
        from its worker thread instead).

    Examples
    --------
    >>> table = StemTable(load_session("sample_stems"))      # doctest: +SKIP
    >>> table.on_change(lambda kind, file, value: print(kind, file, value))  # doctest: +SKIP
    >>> table                                                # doctest: +SKIP
    """

    def __init__(self, session: Session | None = None, *, removable: bool = False, players: bool = True) -> None:
        self.players = players
        self._handlers: list[Callable[[str, str, str], bool | None]] = []
        self._reverting = False
        self.rows: dict[str, _Row] = {}
        self.removable = removable
        self._layout()
        if session is not None:
            self.show(session)

    # ---------------------------------------------------------------- layout
    def _layout(self) -> None:
        head = [_cell(W.HTML(t), w) for t, w in zip(
            ("Stem", "Listen (20 s excerpt)", "Category", "Autodetect", "Importance", "Checks (click for fixes)"),
            COLUMNS)]
        self.header = W.HBox(head, layout=W.Layout(width="100%"))
        self.header.add_class("wb-stem-head")
        self.empty = W.HTML("<span class='wb-meta'>No stems yet: upload WAV stems or use the sample session.</span>")
        self.body = W.VBox([])
        self.style = W.HTML(style_html())       # the table looks right on its own in a notebook too
        self.style.add_class("wb-style")
        self.widget = W.VBox([self.style, self.empty])
        self.widget.add_class("wb-stem-table")

    # ---------------------------------------------------------------- public
    def on_change(self, handler: Callable[[str, str, str], bool | None]) -> None:
        """Call ``handler(kind, file, value)`` on a change.

        ``kind`` is ``"category"``, ``"confirm"`` (an unsure category confirmed
        as it is), ``"importance"`` or ``"remove"``. A handler returning
        ``False`` refuses the change and the row goes back to its previous value."""
        self._handlers.append(handler)

    def show(self, session: Session | None, excerpts: dict[str, bytes | None] | None = None) -> None:
        """Rebuild the rows for ``session`` (``None``: no stems)."""
        self.rows = {}
        if session is None or not session.stems:
            self.widget.children = (self.style, self.empty)
            return
        by_stem: dict = {}
        for f in session.findings:
            by_stem.setdefault(f.stem, []).append(f)
        # Unsure guesses first: they are what the user has to look at.
        for stem in sorted(session.stems, key=lambda st: not is_unsure(st)):
            row = _Row(stem, by_stem.get(stem.file, []), self.removable)
            self._wire(row)
            self.rows[stem.file] = row
            if excerpts and stem.file in excerpts:
                row.set_player(excerpts[stem.file])
            elif self.players:
                row.set_player(_excerpt(stem))
        self.body.children = tuple(r.box for r in self.rows.values())
        self.widget.children = (self.style, self.header, self.body)

    def set_player(self, file: str, wav: bytes | None) -> None:
        """Give a stem's row its player (``None``: no playable audio)."""
        if file in self.rows:
            self.rows[file].set_player(wav)

    def set_value(self, kind: str, file: str, value: str) -> None:
        """Set a row's category or importance from code (no change is reported)."""
        row = self.rows[file]
        self._reverting = True
        try:
            getattr(row, kind).value = value
            if kind == "category":
                row.show_suggestion(value)
        finally:
            self._reverting = False

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ---------------------------------------------------------------- wiring
    def _wire(self, row: _Row) -> None:
        row.category.observe(lambda ch, row=row: self._on_value(row, "category", ch), names="value")
        row.importance.observe(lambda ch, row=row: self._on_value(row, "importance", ch), names="value")
        if row.remove is not None:
            row.remove.on_click(lambda _b, row=row: self._emit("remove", row.file, row.file))
        if row.confirm is not None:
            row.confirm.on_click(lambda _b, row=row: self._on_confirm(row))

    def _on_confirm(self, row: _Row) -> None:
        value = row.category.value
        if value in CATEGORY_NAMES and self._emit("confirm", row.file, value):
            row.confirmed = True
            row.show_suggestion(value)

    # ---------------------------------------------------------------- callbacks
    def _on_value(self, row: _Row, kind: str, change) -> None:
        if self._reverting:
            return
        allowed = CATEGORY_NAMES if kind == "category" else IMPORTANCE_LEVELS
        accepted = change.new in allowed and self._emit(kind, row.file, change.new)
        if not accepted:
            self._reverting = True
            try:
                getattr(row, kind).value = change.old if change.old in allowed else None
            finally:
                self._reverting = False
            return
        if kind == "category":
            row.show_suggestion(change.new)

    def _emit(self, kind: str, file: str, value: str) -> bool:
        ok = True
        for handler in self._handlers:
            if handler(kind, file, value) is False:
                ok = False
        return ok


class FindingsPanel:
    """The session's check results: a one-line verdict, session-wide findings, and notices.

    Notices are messages about what the user just did (an upload refused for
    its size, a value that was not accepted); findings come from the checks.
    """

    def __init__(self, session: Session | None = None) -> None:
        self.summary = W.HTML()
        self.summary.add_class("wb-summary")
        self.session_findings = W.HTML()
        self.session_findings.add_class("wb-session-findings")
        self.notices = W.HTML()
        self.notices.add_class("wb-notices")
        # its own style: the panel looks right on its own in a notebook too
        self.widget = W.VBox([W.HTML(style_html()), self.notices, self.summary, self.session_findings])
        self.widget.add_class("wb-findings-panel")
        self.show(session)

    def show(self, session: Session | None) -> None:
        if session is None:
            self.summary.value = ""
            self.session_findings.value = ""
            return
        c = summarise(session.findings)
        verdict = ("Ready to mix." if c["error"] == 0 else
                   "Cannot mix yet: fix or remove the stems marked in red.")
        marks = " ".join(badge(k, f"{c[k]} {k}{'s' if c[k] != 1 else ''}") for k in ("error", "warning", "note")
                         if c[k]) or badge("ok", "no problems found")
        self.summary.value = (f"<div><b>{len(session.stems)} stems</b> {marks} "
                              f"<span class='{'wb-ok' if c['error'] == 0 else 'wb-err'}'>{esc(verdict)}</span></div>")
        general = [f for f in session.findings if f.stem is None]
        self.session_findings.value = findings_html(general) if general else ""

    def notify(self, messages, kind: str = "warning") -> None:
        """Show messages (replacing the previous ones); ``kind`` is ``"warning"``, ``"error"`` or ``"ok"``."""
        if isinstance(messages, str):
            messages = [messages]
        cls = {"error": " wb-notice-error", "ok": " wb-notice-ok"}.get(kind, "")
        self.notices.value = "".join(f"<div class='wb-notice{cls}'>{esc(m)}</div>" for m in messages)

    def notify_html(self, html: str, kind: str = "warning") -> None:
        """Show one notice made of ready HTML (the caller escaped every user text in it)."""
        cls = {"error": " wb-notice-error", "ok": " wb-notice-ok"}.get(kind, "")
        self.notices.value = f"<div class='wb-notice{cls}'>{html}</div>"

    def clear_notices(self) -> None:
        self.notices.value = ""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
