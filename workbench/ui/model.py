"""The workbench's state and actions, without widgets.

:class:`WorkbenchModel` holds what the user loaded and chose and runs the
package's flow on request — :func:`workbench.pipeline.prepare` (checks and
analysis), :func:`~workbench.mixing.planner.plan_mix`,
:func:`~workbench.mixing.variants.render_ab` for the A/B previews and
:func:`workbench.pipeline.mix_session` for the full mix and the DAW projects.
It decides nothing about the mix itself (DESIGN §2: presentation holds no
mixing logic); it keeps track of which outputs still match the user's
choices. The widgets in :mod:`workbench.ui` call it, from a worker thread for
the long actions.

:data:`AB_VARIANTS`, :class:`Variant` and :func:`render_ab` (the A/B versions
and which of them share the stem cache) live in :mod:`workbench.mixing.variants`
and are re-exported here; :func:`render_ab` is useful on its own in notebooks.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..categories import CATEGORY_NAMES
from ..errors import WorkbenchError
from ..mixing.plan import MixPlan
from ..mixing.preview import PreviewSection
from ..mixing.render import StemCache
from ..mixing.settings import MixSettings
from ..mixing.variants import AB_VARIANTS, JobProgress, Variant, render_ab
from ..session import IMPORTANCE_LEVELS, Session, load_session
from .files import UploadLimits, UploadOutcome, WorkFolder, sample_stems_dir, save_uploads, stem_excerpt_wav, zip_folder

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..pipeline import MixResult

__all__ = ["AB_VARIANTS", "JobProgress", "Variant", "WorkbenchModel", "render_ab"]


class WorkbenchModel:
    """What the user loaded and chose, and the outputs made from it.

    Parameters
    ----------
    work : WorkFolder
        The session's temporary folder (uploads, cache, renders, downloads).
    settings : MixSettings, optional
        Mix settings (loudness target, preview length...).
    limits : UploadLimits, optional
        Upload caps (default :meth:`UploadLimits.from_env`).

    Attributes
    ----------
    version : int
        Goes up with every change of a category or an importance and every new
        set of stems; each output remembers the version it was made from, so
        the user interface can say when it is out of date.
    """

    def __init__(self, work: WorkFolder, *, settings: MixSettings | None = None,
                 limits: UploadLimits | None = None) -> None:
        self.work = work
        self.settings = settings or MixSettings()
        self.limits = limits or UploadLimits.from_env()
        self.base: Session | None = None
        self.source_kind: str | None = None
        self.importance: dict[str, str] = {}
        self.category: dict[str, str] = {}
        self.version = 0
        self._excerpts: dict[tuple, bytes | None] = {}
        #: Processed stems of earlier previews: regenerating after a change
        #: re-processes only the stems whose chain changed.
        self.stem_cache = StemCache()
        #: Extra planner arguments (reference target, amounts, style): set by the ReferencePanel.
        self.toward: Callable[[], dict] = dict
        self._clear_outputs()

    def _clear_outputs(self) -> None:
        self.user_plan: MixPlan | None = None
        self.user_plan_version: int | None = None
        self.analysis: Analysis | None = None
        self.plan: MixPlan | None = None
        self.plan_session: Session | None = None
        self.plan_version: int | None = None
        self.section: PreviewSection | None = None
        self.previews: dict[str, object] = {}
        self.preview_version: int | None = None
        self.mix: MixResult | None = None
        self.mix_version: int | None = None
        self.downloads: dict[str, Path] = {}
        self.download_versions: dict[str, int] = {}
        for p in self.work.out.iterdir():
            if p.is_file() and not p.name.startswith("."):
                p.unlink()

    # ------------------------------------------------------------------ loading
    def load(self, source: str | os.PathLike | list | Session, kind: str = "path") -> Session:
        """Load stems (a folder, a list of files or a Session) and start afresh."""
        session = source if isinstance(source, Session) else load_session(source, max_stems=self.limits.max_stems)
        self.base = session
        self.source_kind = kind
        self.importance, self.category = {}, {}
        self.version += 1
        self.stem_cache.clear()
        self._clear_outputs()
        return session

    def load_sample(self) -> Session:
        """Load the bundled sample session (read only; outputs go to the work folder)."""
        return self.load(sample_stems_dir(), kind="sample")

    def add_uploads(self, files: Iterable[tuple[str, bytes | memoryview]]) -> UploadOutcome:
        """Save uploaded files (sanitised names, capped) and load every upload as the session.

        The choices made for stems that were already uploaded are kept.
        """
        outcome = save_uploads(files, self.work.stems, self.limits)
        if outcome.saved:
            self._reload_uploads()
        return outcome

    def discard_uploads(self) -> None:
        """Delete every uploaded stem of this session (the user chose the sample session instead)."""
        for p in self._uploaded_files():
            p.unlink()
        if self.source_kind == "upload":
            self.base, self.importance, self.category = None, {}, {}
            self.version += 1
            self._clear_outputs()

    def remove_upload(self, file: str) -> None:
        """Delete one uploaded stem (by its file name in the session) and reload the rest."""
        if self.source_kind != "upload" or self.base is None:
            raise WorkbenchError("not_uploaded", "Only uploaded stems can be removed.",
                                 "Upload your own stems first.")
        names = {p.name: p for p in self._uploaded_files()}
        if file not in names:          # never a path made from what the browser sent
            raise WorkbenchError("unknown_stem", f"No uploaded stem called {file!r}.",
                                 "Pick a stem from the table.")
        names[file].unlink()
        self._reload_uploads()

    def _uploaded_files(self) -> list[Path]:
        return sorted((p for p in self.work.stems.iterdir() if p.is_file() and not p.name.startswith(".")
                       and p.suffix.lower() == ".wav"), key=lambda p: p.name.casefold())

    def _reload_uploads(self) -> None:
        keep_imp, keep_cat = dict(self.importance), dict(self.category)
        files = self._uploaded_files()
        if not files:
            self.base, self.source_kind = None, "upload"
            self.importance, self.category = {}, {}
            self.version += 1
            self._clear_outputs()
            return
        was_upload = self.source_kind == "upload"
        session = self.load(files, kind="upload")
        if was_upload:
            present = {s.file for s in session.stems}
            self.importance = {k: v for k, v in keep_imp.items() if k in present}
            self.category = {k: v for k, v in keep_cat.items() if k in present}

    # ------------------------------------------------------------------ choices
    @property
    def session(self) -> Session | None:
        """The loaded stems with the user's categories and importances applied."""
        if self.base is None:
            return None
        # Copies: the worker thread reads these while the user may be changing them.
        return self.base.with_settings(importance=dict(self.importance), category=dict(self.category))

    def set_importance(self, key: str, level: str) -> bool:
        """Set one stem's importance; ``True`` when it changed.

        Raises ``WorkbenchError`` (``bad_importance``, ``unknown_stem``) for a
        value that is not one of :data:`~workbench.session.IMPORTANCE_LEVELS`
        or a stem that is not loaded.
        """
        if not isinstance(level, str) or level not in IMPORTANCE_LEVELS:
            raise WorkbenchError("bad_importance", f"Importance {level!r} is not valid.",
                                 "Use low, medium or high.")
        stem = self._stem(key)
        current = self.importance.get(stem.file, stem.importance)
        if current == level:
            return False
        self.importance[stem.file] = level
        self.version += 1
        return True

    def set_category(self, key: str, category: str) -> bool:
        """Set one stem's category; ``True`` when it changed.

        Only the exact names of :data:`~workbench.categories.CATEGORY_NAMES`
        are accepted (``bad_category`` otherwise).
        """
        if not isinstance(category, str) or category not in CATEGORY_NAMES:
            raise WorkbenchError("bad_category", f"Category {category!r} is not known.",
                                 "Use one of: " + ", ".join(CATEGORY_NAMES))
        stem = self._stem(key)
        current = self.category.get(stem.file, stem.category)
        if current == category:
            return False
        self.category[stem.file] = category
        self.version += 1
        return True

    def confirm_category(self, key: str) -> str:
        """The user confirms a stem's guessed category as it is; returns the category.

        The guess becomes the user's choice (no longer listed as unsure). The
        category is unchanged, so the preview and the plan stay valid.
        """
        stem = self._stem(key)
        category = self.category.get(stem.file, stem.category)
        if category not in CATEGORY_NAMES:
            raise WorkbenchError("no_category", f"{stem.name} has no category to confirm.",
                                 "Pick one from the list.")
        self.category[stem.file] = category
        return category

    def unconfirmed(self) -> list[str]:
        """Names of the stems whose category is still an unsure guess (see :mod:`workbench.confidence`)."""
        from ..confidence import unsure_stems

        session = self.session
        return [] if session is None else [f"{s.name} ({s.category}?)" for s in unsure_stems(session)]

    def _stem(self, key: str):
        if self.base is None:
            raise WorkbenchError("no_session", "No stems are loaded.", "Upload stems or use the sample session.")
        return self.base.stem(key)

    # ------------------------------------------------------------------ staleness
    @property
    def preview_stale(self) -> bool:
        """A preview exists but was made before the latest change."""
        return self.preview_version is not None and self.preview_version != self.version

    @property
    def mix_stale(self) -> bool:
        return self.mix_version is not None and self.mix_version != self.version

    def download_stale(self, key: str) -> bool:
        v = self.download_versions.get(key)
        return v is not None and v != self.version

    # ------------------------------------------------------------------ actions
    def excerpt(self, stem) -> bytes | None:
        """The player excerpt of a stem (cached), or ``None`` when the file is not playable audio."""
        if not stem.readable:
            return None
        try:
            st = os.stat(stem.path)
        except OSError:
            return None
        key = (str(stem.path), st.st_size, st.st_mtime_ns)
        if key not in self._excerpts:
            try:
                self._excerpts[key] = stem_excerpt_wav(stem.path)
            except Exception:       # an unplayable file already has its finding
                self._excerpts[key] = None
        return self._excerpts[key]

    def use_plan(self, text: str | bytes) -> MixPlan:
        """Take an edited ``plan.json`` (its text) for the loaded stems.

        The plan is checked field by field (:meth:`MixPlan.from_json`) and
        against the stems (:meth:`MixPlan.check_session`); it is then what
        Generate preview and Render full mix play, until a category or an
        importance is changed (which plans afresh).

        Raises
        ------
        WorkbenchError
            ``bad_plan`` / ``plan_mismatch`` / ``nothing_to_mix`` naming the field or stem and the fix;
            ``no_session`` when no stems are loaded.
        """
        from ..mixing.plan import MixPlan

        session = self.session
        if session is None:
            raise WorkbenchError("no_session", "Load the stems the plan was made for first.",
                                 "Upload the stems (or use the sample session), then upload the plan.")
        if isinstance(text, (bytes, bytearray, memoryview)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                raise WorkbenchError("bad_plan", "The plan file is not UTF-8 text.",
                                     "Upload the plan.json that Render full mix or `workbench mix` wrote.") from None
        if not text.lstrip().startswith("{"):
            raise WorkbenchError("bad_plan", "The plan file is not a JSON object (it should start with '{').",
                                 "Upload the plan.json that Render full mix or `workbench mix` wrote.")
        plan = MixPlan.from_json(text)
        plan.check_session(session)
        self.user_plan, self.user_plan_version = plan, self.version
        self.plan, self.plan_session, self.plan_version = plan, session, self.version
        return plan

    def make_plan(self, progress: JobProgress | None = None) -> MixPlan:
        """Check, analyse (cached) and plan the current choices (or take the user's plan); choose the section."""
        from ..mixing.planner import plan_mix
        from ..mixing.preview import choose_section
        from ..pipeline import prepare

        session = self.session
        if session is None:
            raise WorkbenchError("no_session", "No stems are loaded.", "Upload stems or use the sample session.")
        version = self.version
        session, analysis = prepare(session, cache_dir=self.work.cache, progress=(
            (lambda stage, f: progress("Analysing the stems", f)) if progress else None))
        if self.user_plan is not None and self.user_plan_version == version:
            plan = self.user_plan
        else:
            self.user_plan = None
            plan = plan_mix(session, analysis, self.settings, **self.toward())
        section = choose_section(analysis, self.settings.preview_seconds, plan.sample_rate)
        self.analysis, self.plan, self.plan_session, self.section = analysis, plan, session, section
        self.plan_version = version
        return plan

    def make_previews(self, progress: JobProgress | None = None,
                      on_done: Callable[[Variant, object], None] | None = None) -> dict[str, object]:
        """Plan, then render every A/B version of the preview section.

        The automix version is rendered first and offered for download as
        ``preview.wav``, with ``plan.json``.
        """
        version = self.version

        def scaled(lo: float, hi: float):
            return (lambda what, f: progress(what, lo + (hi - lo) * f)) if progress else None

        self.make_plan(scaled(0.0, 0.15))
        plan, session, section = self.plan, self.plan_session, self.section
        assert plan is not None and session is not None and section is not None   # make_plan set them
        if progress:
            progress("Planning the mix", 0.15)
        self.previews = {}
        self.preview_version = version

        def done(v: Variant, result) -> None:
            self.previews[v.key] = result
            if v.key == "automix":
                self._publish("preview", Path(result.path), "preview.wav", version)
                self._write_plan(plan, version)
            if on_done:
                on_done(v, result)

        solo = self.work.ab / "solo"
        shutil.rmtree(solo, ignore_errors=True)
        render_ab(plan, session, section, self.work.ab, progress=scaled(0.15, 1.0), on_done=done,
                  cache=self.stem_cache, solo_dir=solo)
        return self.previews

    def solo_files(self) -> list[Path]:
        """The processed stems of the latest preview section (for solo listening)."""
        solo = self.work.ab / "solo"
        return sorted(solo.glob("*.wav"), key=lambda p: p.name.casefold()) if solo.is_dir() else []

    def extra_versions(self) -> dict[str, Path]:
        """Other versions of the full mix when the render made them: ``versions/<name>.wav``, ``delivery/*.wav``."""
        if self.mix is None:
            return {}
        out = Path(self.mix.audio_path).parent
        found: dict[str, Path] = {}
        for sub in ("versions", "delivery"):
            folder = out / sub
            if folder.is_dir():
                for p in sorted(folder.glob("*.wav"), key=lambda p: p.name.casefold()):
                    found[p.stem if sub == "versions" else f"{sub}: {p.stem}"] = p
        return found

    def render_mix(self, progress: JobProgress | None = None):
        """Render the full mix with the current choices, and export the DAW projects.

        Uses the current plan when it matches the choices (else plans again).
        Offers ``mix.wav``, ``report.md``, ``plan.json``, the ``.dawproject``
        and the zipped Ableton Live project for download.
        """
        from ..pipeline import mix_session

        session = self.session
        if session is None:
            raise WorkbenchError("no_session", "No stems are loaded.", "Upload stems or use the sample session.")
        version = self.version
        plan = self.plan if self.plan is not None and self.plan_version == version else None
        weights = {"analyse": (0.0, 0.08), "plan": (0.08, 0.1), "render mix": (0.1, 0.65)}

        def step(stage: str, f: float) -> None:
            if not progress:
                return
            lo, hi = weights.get(stage, (0.65, 0.9) if stage.startswith("render master") else (0.9, 0.95))
            what = {"analyse": "Analysing the stems", "plan": "Planning the mix",
                    "render mix": "Mixing the stems"}.get(stage, "Mastering")
            progress(what, lo + (hi - lo) * f)

        result = mix_session(session, self.work.mix, settings=self.settings, plan=plan, project="all",
                             cache_dir=self.work.cache, progress=step)
        if progress:
            progress("Writing the DAW projects", 0.95)
        self.mix, self.mix_version = result, version
        if plan is None:
            self.plan, self.plan_session, self.plan_version = result.plan, result.session, version
            self.analysis = result.analysis
        self._publish("mix", Path(result.audio_path), "mix.wav", version)
        self._publish("report", Path(result.report_path), "report.md", version)
        self._publish("plan", Path(result.plan_path), "plan.json", version)
        outputs = getattr(result, "outputs", {}) or {}
        if "dawproject" in outputs:
            p = Path(outputs["dawproject"])
            self._publish("dawproject", p, p.name, version)
        if "als" in outputs:
            project = Path(outputs["als"]).parent
            zipped = zip_folder(project, self.work.mix / f"{project.name}.zip")
            self._publish("als", zipped, zipped.name, version)
        if progress:
            progress("Done", 1.0)
        return result

    # ------------------------------------------------------------------ downloads
    def _write_plan(self, plan: MixPlan, version: int) -> None:
        path = self.work.ab / "plan.json"
        plan.to_json(path)
        self._publish("plan", path, "plan.json", version)

    def _publish(self, key: str, src: Path, name: str, version: int) -> None:
        """Offer ``src`` for download as ``out/<name>`` (a hard link, or a copy across file systems)."""
        old = self.downloads.get(key)
        dest = self.work.out / name
        tmp = self.work.out / f".{name}.part"
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        if old is not None and old != dest:
            old.unlink(missing_ok=True)
        self.downloads[key] = dest
        self.download_versions[key] = version
