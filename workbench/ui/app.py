"""The whole workbench in one widget: stems → choices → preview and A/B → full mix → downloads.

:class:`Workbench` composes the components of :mod:`workbench.ui` around one
:class:`~workbench.ui.model.WorkbenchModel`. Its parts follow the tutorial
model of the jupyter-widgets project: a layout part (``_layout``), a wiring
part (``_wire``) and callbacks (``_on_*``) that read the change, call the
model, and set widgets.

Long actions (loading, analysing, rendering) run in one worker thread so the
page stays responsive; they report progress to the progress bar and never
show a traceback: a problem the user can fix arrives as its message and fix
(:class:`~workbench.errors.WorkbenchError`), anything else as a short note
(the details go to the server log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..errors import WorkbenchError
from ..mixing.settings import MixSettings
from ..session import Session
from .downloads import Downloads
from .files import UploadLimits, WorkFolder
from .mix import ABPlayers, MixPanel
from .model import WorkbenchModel
from .reference import ReferencePanel
from .release import release_check_html
from .stems import FindingsPanel, StemTable
from .style import esc, style_html
from .upload import ChunkedUpload
from .views import DecisionTable, MaskingView, SpectrogramView

log = logging.getLogger(__name__)

#: Preview length in the dashboard (s): six A/B versions of 10 s are ~10 MB of audio for the browser.
DASHBOARD_PREVIEW_S = 10.0


class Workbench:
    """Upload or pick stems, set categories and importances, preview with A/B, render, download.

    Parameters
    ----------
    source : path-like, list of paths or Session, optional
        Stems to load at once (a folder, files, or a loaded session).
    uploads : bool
        Show the upload button and the sample-session button (the dashboard).
    settings : MixSettings, optional
        Default: :class:`~workbench.mixing.settings.MixSettings` with a
        ``preview_seconds`` of :data:`DASHBOARD_PREVIEW_S`.
    limits : UploadLimits, optional
        Upload caps (default from the environment, :meth:`UploadLimits.from_env`).
    background : bool
        Run long actions in a worker thread (``False``: in the calling thread,
        for scripts and tests).
    links : {"auto", "served", "inline"}
        How download links work (see :mod:`workbench.ui.downloads`).

    Examples
    --------
    >>> from workbench.ui import Workbench                          # doctest: +SKIP
    >>> Workbench("sample_stems")                                   # doctest: +SKIP
    """

    def __init__(self, source: str | Path | list | Session | None = None, *, uploads: bool = False,
                 settings: MixSettings | None = None, limits: UploadLimits | None = None,
                 background: bool = True, links: str = "auto") -> None:
        self.work = WorkFolder()
        self.model = WorkbenchModel(self.work, settings=settings or MixSettings(preview_seconds=DASHBOARD_PREVIEW_S),
                                    limits=limits)
        self.background = background
        self.uploads = uploads
        self._uploading = False
        self._idle = threading.Event()
        self._idle.set()
        self._layout(links)
        self._wire()
        if source is not None:
            self.load(source)

    @classmethod
    def dashboard(cls, **kwargs) -> "Workbench":
        """The dashboard: upload or pick the sample session; served downloads under Voila.

        As the last line of a notebook cell (``Workbench.dashboard()``) it shows itself.
        """
        return cls(uploads=True, **kwargs)

    # ================================================================ layout
    def _layout(self, links: str) -> None:
        self.stems = StemTable(removable=self.uploads, players=False)
        self.findings = FindingsPanel()
        self.mix = MixPanel()
        self.ab = ABPlayers()
        self.decisions = DecisionTable()
        self.masking = MaskingView()
        self.spectrograms = SpectrogramView()
        self.downloads = Downloads(links, self.work)
        #: The release check of the rendered mix (pass/warn per measure, :mod:`workbench.release_check`).
        self.release = W.HTML()
        self.release.add_class("wb-release-check")
        self.reference = ReferencePanel(self.work)            # reference upload, style, amounts

        head = W.HTML(style_html() + "<h2>Mixing Workbench</h2><div class='wb-sub'>Check your stems, say what "
                      "each one is and how important it is, listen to the automatic mix and every decision "
                      "in it, then download the mix and a project for your DAW.</div>")
        head.add_class("wb-header")
        source_row = []
        if self.uploads:
            self.upload = ChunkedUpload(self.work.path / "incoming", self.model.limits.max_file_bytes)
            self.sample = W.Button(description="Use the sample session", icon="music",
                                   tooltip="Ten stems of a short demo song, unmixed on purpose",
                                   layout=W.Layout(width="220px"))
            self.sample.add_class("wb-sample")
            limits = self.model.limits
            hint = W.HTML(f"<div class='wb-hint'>WAV files, {esc(limits.describe())}. Upload more in "
                          f"several goes if you like; files are kept only for this session.</div>",
                          layout=W.Layout(flex="1 1 auto", margin="0 0 0 12px"))
            # Asked before the sample session replaces uploaded stems.
            self.sample_yes = W.Button(description="Replace my stems", button_style="warning",
                                       layout=W.Layout(width="auto"))
            self.sample_yes.add_class("wb-sample-yes")
            self.sample_no = W.Button(description="Keep my stems", layout=W.Layout(width="auto"))
            self.sample_no.add_class("wb-sample-no")
            self.sample_question = W.HTML()
            self.sample_confirm = W.HBox([self.sample_question, self.sample_yes, self.sample_no],
                                         layout=W.Layout(display="none", align_items="center", flex_flow="row wrap"))
            self.sample_confirm.add_class("wb-sample-confirm")
            self.plan_upload = W.FileUpload(accept=".json,application/json", multiple=False,
                                            description="Use an edited plan.json", icon="file-code",
                                            tooltip="Upload a plan.json (from Render full mix, edited by hand) "
                                                    "to hear and render exactly that plan",
                                            layout=W.Layout(width="210px"))
            self.plan_upload.add_class("wb-plan-upload")
            row = W.HBox([self.upload, self.sample, self.plan_upload, hint],
                         layout=W.Layout(align_items="flex-start"))
            row.add_class("wb-source-row")
            source_row = [row, self.sample_confirm]
        self.look = W.Tab(children=[self.decisions.widget, self.masking.widget, self.spectrograms.widget],
                          titles=["Decisions and reasons", "Masking", "Spectrograms"])
        self.look.add_class("wb-look")

        def section(title: str, *children) -> list:
            h = W.HTML(f"<h3 class='wb-h'>{esc(title)}</h3>")
            return [h, *children]

        self.widget = W.VBox([head, *source_row, self.findings.widget,
                              *section("1 · Stems", self.stems.widget),
                              *section("2 · Mix and listen", self.reference.widget, self.mix.widget, self.ab.widget),
                              *section("3 · Download", self.downloads.widget, self.release),
                              *section("4 · Look closer", self.look)])
        self.widget.add_class("wb-app")

    # ================================================================ wiring
    def _wire(self) -> None:
        self.stems.on_change(self._on_stem_change)
        self.mix.on_generate(self._on_generate)
        self.mix.on_render(self._on_render)
        self.model.toward = self.reference.plan_kwargs
        self.reference.on_change(lambda: self._choice_changed("the reference or style changed"))
        if self.uploads:
            self.upload.on_begin(self._on_upload_begin)
            self.upload.on_done(self._on_upload_done)
            self.sample.on_click(lambda _b: self._on_sample())
            self.sample_yes.on_click(lambda _b: self._on_sample(confirmed=True))
            self.sample_no.on_click(lambda _b: self._ask_sample(False))
            self.plan_upload.observe(self._on_plan_upload, names="value")

    # ================================================================ public
    def load(self, source) -> None:
        """Load stems (folder, files or Session) and show them."""
        self._run("Loading the stems", lambda progress: self._load(lambda: self.model.load(source), progress))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the current action has finished; ``False`` on timeout."""
        return self._idle.wait(timeout)

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ================================================================ callbacks
    def _on_sample(self, confirmed: bool = False) -> None:
        """Load the sample session; when stems were uploaded, only after the user confirms."""
        uploaded = self.model.source_kind == "upload" and self.model.base is not None
        if uploaded and not confirmed:
            self._ask_sample(True)
            return
        self._ask_sample(False)
        self.findings.clear_notices()

        def job(progress):
            if uploaded:
                self.model.discard_uploads()
            self._load(self.model.load_sample, progress)

        self._run("Loading the sample session", job)

    def _ask_sample(self, show: bool) -> None:
        if show:
            n = len(self.model.base.stems) if self.model.base is not None else 0
            self.sample_question.value = (f"<span class='wb-notice'>The sample session replaces your {n} uploaded "
                                          "stem(s): they are removed from this session. Replace them?</span>")
        self.sample_confirm.layout.display = "flex" if show else "none"

    def add_files(self, files: Sequence[tuple[str, Any]], refused=()) -> None:
        """Add uploaded files (name, bytes); ``refused`` are outcomes already decided while uploading."""
        self.findings.clear_notices()

        def job(progress):
            outcome = self.model.add_uploads(files)
            outcome.files[:0] = list(refused)
            self._show_upload_outcome(outcome)
            if outcome.saved:
                self._load(lambda: self.model.base, progress)

        self._run("Saving the uploaded files", job)

    def _show_upload_outcome(self, outcome) -> None:
        """One line per file (added / replaced / refused and why); green only when every file went in."""
        icon = {"added": "✓", "replaced": "↻", "refused": "✗"}
        lines = [f"<div class='wb-outcome-{f.status}'>{icon[f.status]} {esc(f.message())}</div>"
                 for f in outcome.files]
        kind = "ok" if outcome.all_added else ("error" if not outcome.saved else "warning")
        self.findings.notify_html(f"<div><b>{esc(outcome.summary())}</b></div>" + "".join(lines), kind)
        if self.uploads:
            self.upload.outcome_html = (f"<span class='wb-meta'>{esc(outcome.summary())} Each file's outcome "
                                        "is below.</span>")

    def _on_upload_begin(self, n_files: int) -> None:
        """Files start to arrive: lock the controls until they are saved and loaded."""
        self._uploading = True
        self.mix.set_enabled(False)
        self.sample.disabled = True
        self._ask_sample(False)
        self.mix.set_status(f"Uploading {n_files} file(s)… the controls are locked until they have arrived.")

    def _on_upload_done(self, items) -> None:
        from .files import FileOutcome, _shown_name

        self._uploading = False
        files, refused = [], []
        for name, path, reason in items:
            if path is None:
                refused.append(FileOutcome(_shown_name(name), "refused", None, reason))
            else:
                files.append((name, Path(path).read_bytes()))
        self.add_files(files, refused)

    def _on_plan_upload(self, change) -> None:
        entries = change.new or ()
        if not entries:
            return
        try:
            content = entries[0]["content"]
            if not isinstance(content, (bytes, bytearray, memoryview)) or len(content) > 10_000_000:
                raise TypeError
            content = bytes(content)
        except (KeyError, TypeError, IndexError):
            self.findings.notify("The plan upload was not a file of at most 10 MB.", "error")
            return
        try:
            self.plan_upload.value = ()
        except Exception:
            pass
        self.use_plan(content)

    def use_plan(self, text: str | bytes) -> None:
        """Take an edited plan.json (validated; a problem is shown with its field and fix, nothing changes)."""
        self.findings.clear_notices()
        try:
            plan = self.model.use_plan(text)
        except WorkbenchError as e:
            self.findings.notify(self._for_the_page(f"The plan was not used: {e.message} {e.fix}".strip()), "error")
            return
        self.decisions.update(plan)
        self.decisions.mark_stale(False)
        if self.model.preview_version is not None:
            self.mix.mark_stale("you uploaded a plan")
            self.ab.mark_stale()
        self.findings.notify(f"Your plan is in use: {len(plan.stems)} stems, every value checked. Generate preview "
                             "to hear it, or Render full mix. Changing a category or an importance plans afresh.",
                             "ok")
        self.mix.set_status("Using your plan.json. Press Generate preview to hear it.", "info")

    def _on_upload(self, change) -> None:
        """Files from an ipywidgets ``FileUpload`` value (kept for notebooks that use one)."""
        entries = change.new or ()
        files = []
        for e in entries:               # the browser may send anything: keep only well-formed entries
            try:
                name, content = e["name"], e["content"]
                if not isinstance(name, str) or not isinstance(content, (bytes, bytearray, memoryview)):
                    raise TypeError
            except (KeyError, TypeError):
                continue
            files.append((name, content))
        if files:
            self.add_files(files)

    def _on_stem_change(self, kind: str, file: str, value: str) -> bool:
        """A category, importance or remove from the stem table: validate and apply through the model."""
        if self._uploading:
            self.findings.notify("Files are uploading: wait until they have arrived, then change the stems.")
            return False
        try:
            if kind == "remove":
                if self.busy:
                    self.findings.notify("Wait until the current action has finished, then remove the stem.")
                    return False
                self._run("Removing the stem", lambda progress: self._load(
                    lambda: self._remove_and_base(file), progress))
                return True
            if kind == "confirm":
                self.model.confirm_category(file)
                self.mix.set_status(f"Noted: {self.model.base.stem(file).name if self.model.base else file} is "
                                    f"{value}.", "info")
                return True
            if kind == "category":
                changed = self.model.set_category(file, value)
            elif kind == "importance":
                changed = self.model.set_importance(file, value)
            else:
                return False
        except WorkbenchError as e:
            self.findings.notify(f"{e.message} {e.fix}", "error")
            return False
        if changed and self.model.base is not None:
            stem = self.model.base.stem(file)
            self._choice_changed(f"you set {stem.name} to {value}")
        return True

    def _remove_and_base(self, file: str):
        """Remove an uploaded stem; the session that remains."""
        self.model.remove_upload(file)
        return self.model.base

    def _choice_changed(self, reason: str) -> None:
        if self.model.preview_version is not None or self.model.plan is not None:
            self.mix.mark_stale(reason)
            self.ab.mark_stale()
            self.decisions.mark_stale(True)
        else:
            self.mix.set_status(f"Noted: {reason}. Press Generate preview to hear the mix.", "info")
        self._show_downloads()

    def _on_generate(self) -> None:
        self.findings.clear_notices()

        def job(progress):
            self.ab.clear(None, pending=True)
            try:
                self.model.make_previews(progress, on_done=self._on_variant)
            except BaseException:
                self.ab.clear(None, pending=False)
                raise

        self._run("Generating the preview", job, done=self._after_preview)

    def _on_variant(self, variant, result) -> None:
        """One A/B version is ready (worker thread): show its player now."""
        if variant.key == "automix":
            self.ab.set_section(self.model.section)
            self.decisions.update(self.model.plan)
            self._show_downloads()
        self.ab.add(variant, result)

    def _after_preview(self) -> None:
        m = self.model
        self.ab.refresh()
        self.ab.set_solos(m.solo_files())
        self._show_suggested_importance()
        self.masking.update(m.analysis, m.plan)
        self.spectrograms.update(m.plan_session, m.plan, m.section, m.previews)
        if m.preview_stale:
            self.mix.mark_stale("you changed a setting while it was rendering")
            self.ab.mark_stale()
        elif m.section is not None:
            self.mix.mark_fresh()
            self.ab.mark_fresh()
            self.decisions.mark_stale(False)
            unsure = m.unconfirmed()
            if unsure:
                self.mix.set_status(f"Preview ready, with {len(unsure)} unconfirmed category guess(es): "
                                    f"{', '.join(unsure)}. Confirm or change them in the stem table (marked ?); "
                                    "until then the report lists them.", "warning")
            else:
                self.mix.set_status(f"Preview ready: {m.section.seconds:.0f} s from {m.section.start_s:.1f} s. "
                                    "Listen to the A/B versions below, change what you like, or render the "
                                    "full mix.", "ok")

    def _show_suggested_importance(self) -> None:
        """Show the importance the plan suggested (the part carrying the melody: high) in the stem table."""
        plan, session = self.model.plan, self.model.plan_session
        if plan is None or session is None:
            return
        chosen = {s.file for s in session.stems if s.importance_source == "user"}
        leads = []
        for name, sp in plan.stems.items():
            if sp.file in chosen or sp.file not in self.stems.rows:
                continue
            self.stems.set_value("importance", sp.file, sp.importance)
            if sp.role == "foreground":
                leads.append(name)
        if leads:
            self.findings.notify(f"Suggested lead: {', '.join(leads)} — importance high, because it carries the "
                                 "melody or hook. Change its importance if you hear it differently.", "ok")

    def _on_render(self) -> None:
        self.findings.clear_notices()
        self._run("Rendering the full mix", lambda progress: self.model.render_mix(progress),
                  done=self._after_render)

    def _after_render(self) -> None:
        m = self.model
        assert m.mix is not None and m.plan is not None      # render_mix set them
        r = m.mix.render
        self.ab.set_full_mix(m.mix.audio_path, r.integrated_lufs, m.extra_versions())
        self.decisions.update(m.plan, stale=m.mix_stale)
        self.masking.update(m.analysis, m.plan)
        self._show_downloads()
        self.release.value = ("<h4 class='wb-h'>Release check of the full mix</h4>"
                              + release_check_html(m.mix.release))
        notes = " ".join(getattr(r, "notes", ()) or ())
        if m.preview_stale:
            self.mix.mark_stale()
            self.ab.mark_stale()
            notes += " The preview above is older than your last change: Generate preview to hear it."
        self.mix.set_status(f"Full mix ready: {r.frames / m.plan.sample_rate:.1f} s, {r.integrated_lufs:.1f} LUFS, "
                            f"true peak {r.true_peak_dbtp:.1f} dBTP. Download it below. {notes}".strip(), "ok")

    # ================================================================ helpers
    def _load(self, loader: Callable[[], Session | None], progress) -> None:
        """Load through ``loader`` (worker thread), then show the stems and their players."""
        session = loader()
        self.stems.removable = self.uploads and self.model.source_kind == "upload"
        self.stems.show(session)
        for kind, chosen in (("importance", self.model.importance), ("category", self.model.category)):
            for file, value in chosen.items():     # choices kept across uploads show in the table too
                if file in self.stems.rows:
                    self.stems.set_value(kind, file, value)
        self.findings.show(session)
        self.ab.clear(None, pending=False)
        self.decisions.update(None)
        self.masking.update(None)
        self.spectrograms.update(session)
        self._show_downloads()
        self.mix.mark_fresh()
        if session is None:
            self.mix.set_status("Load stems to start.")
            return
        from ..confidence import unsure_stems

        asks = len(unsure_stems(session))
        ask = (f" {asks} category guess(es) are unsure (marked ?, listed first): confirm or change them."
               if asks else "")
        self.mix.set_status("Stems loaded. Check the categories and importances, then press Generate preview." + ask
                            if session.can_mix else
                            "Some stems cannot be mixed (red badges): fix or remove them first.",
                            "info" if session.can_mix else "error")
        n = len(session.stems)
        for i, stem in enumerate(session.stems):
            progress(f"Preparing the players ({i + 1}/{n})", (i + 1) / n)
            self.stems.set_player(stem.file, self.model.excerpt(stem))

    def _for_the_page(self, text: str) -> str:
        """A message without the server's folder names (the page needs file names, not paths)."""
        from .files import sample_stems_dir

        folders = [(self.work.stems, "your uploads"), (self.work.path, "this session")]
        try:
            folders.append((sample_stems_dir(), "the sample session"))
        except WorkbenchError:
            pass
        for folder, label in folders:
            for form in {str(folder), str(Path(folder).resolve())}:
                text = text.replace(form + "/", "").replace(form, label)
        return text

    def _show_downloads(self) -> None:
        m = self.model
        self.downloads.update(m.downloads, {k: m.download_stale(k) for k in m.downloads})

    def _run(self, what: str, fn: Callable, done: Callable[[], None] | None = None) -> None:
        """Run ``fn(progress)`` (in the worker thread when ``background``), reporting to the mix panel."""
        if self.busy:
            self.findings.notify("Still working on the previous action: wait for it to finish.")
            return
        self._idle.clear()
        self.mix.set_enabled(False)
        if self.uploads:
            self.sample.disabled = True
            self.upload.disabled = True
        self.mix.start(what)

        def job() -> None:
            ok = False
            try:
                fn(self.mix.report)
                ok = True
                if done is not None:
                    done()
            except WorkbenchError as e:
                self.mix.set_status(self._for_the_page(f"{e.message} {e.fix}".strip()), "error")
            except Exception as e:       # never a traceback in the page
                log.exception("%s failed", what)
                self.mix.set_status(f"{what} failed unexpectedly ({type(e).__name__}). The details are in the "
                                    "server log.", "error")
            finally:
                self.mix.finish(ok)
                self.mix.set_enabled(self.model.base is not None and self.model.base.can_mix)
                if self.uploads:
                    self.sample.disabled = False
                    self.upload.disabled = False
                self._idle.set()

        if self.background:
            threading.Thread(target=job, name="workbench-job", daemon=True).start()
        else:
            job()
