"""The whole flow in one function: check → analyse → plan → render → report.

This is what ``workbench mix`` and the dashboard's Generate button run. It reads
like the README's description of the product; each step is one call into the
module that owns it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .analysis import Analysis, analyse
from .confidence import describe_guess, unsure_stems
from .errors import WorkbenchError
from .mixing.plan import MixPlan
from .mixing.planner import plan_mix
from .mixing.preview import PreviewSection, choose_section
from .mixing.settings import MixSettings
from .outputs import check_output_place, staged
from .session import Session, load_session

if TYPE_CHECKING:
    from .mixing.render import RenderResult

Progress = Callable[[str, float], None]


@dataclass
class MixResult:
    """What a mix run produced and where."""

    session: Session
    analysis: Analysis
    plan: MixPlan
    render: "RenderResult"
    audio_path: Path
    plan_path: Path
    report_path: Path
    preview: PreviewSection | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    release: tuple = ()


def prepare(source: str | os.PathLike | Session, *, importance: Mapping[str, str] | None = None,
            category: Mapping[str, str] | None = None, role: Mapping[str, str] | None = None, cache_dir=None,
            progress: Progress | None = None, for_mix: bool = False) -> tuple[Session, Analysis]:
    """Load and check the stems (unless given a Session), apply the user's choices, analyse.

    Raises ``WorkbenchError`` (``cannot_mix``) listing the errors when any stem has one, and,
    ``for_mix``, ``nothing_to_mix`` when the mix could only be silence (:func:`check_something_to_mix`).
    """
    session = source if isinstance(source, Session) else load_session(source)
    session = session.with_settings(importance=dict(importance or {}), category=dict(category or {}),
                                    role=dict(role or {}))
    if not session.can_mix:
        listed = "\n".join(f"  ✗ {f.stem or 'session'}: {f.message} Fix: {f.fix}" for f in session.errors)
        raise WorkbenchError("cannot_mix", f"The session in {session.folder} cannot be mixed:\n{listed}",
                             "Fix these and run again (`workbench check` lists every finding).")
    if for_mix:
        check_something_to_mix(session)
    analysis = analyse(session, cache_dir=cache_dir,
                       progress=(lambda done, total, name: progress("analyse", done / max(total, 1)))
                       if progress else None)
    return session, analysis


#: Shortest session that can be mixed (s): one BS.1770 gating block, the least
#: audio the master can measure a loudness on (ITU-R BS.1770-4 §2.8: 400 ms blocks).
MIN_SESSION_SECONDS = 0.4


def check_something_to_mix(session: Session) -> None:
    """Refuse a session whose mix could only be silence: too short to measure, or every stem silent.

    Raises
    ------
    WorkbenchError
        ``nothing_to_mix``, with the reason.
    """
    if session.duration_s < MIN_SESSION_SECONDS:
        raise WorkbenchError(
            "nothing_to_mix", f"The stems in {session.folder} run only {session.duration_s * 1000:.0f} ms: "
            f"too short for a mix (its loudness is measured on {MIN_SESSION_SECONDS * 1000:.0f} ms blocks).",
            "Export the whole song's stems, each from 0:00 to the end of the song.")
    silent = {f.stem for f in session.findings if f.code == "silent"}
    if all(s.file in silent for s in session.mixable_stems):
        raise WorkbenchError("nothing_to_mix", f"Every stem in {session.folder} is silent: the mix would be silence.",
                             "Check that the right tracks were exported (`workbench check` shows each stem's level).")


def mix_session(source: str | os.PathLike | Session, out_dir: str | os.PathLike, *,
                settings: MixSettings | None = None, importance: Mapping[str, str] | None = None,
                category: Mapping[str, str] | None = None, plan: MixPlan | str | os.PathLike | None = None,
                preview: bool = False, project: str | None = None, stems: bool = False, cache_dir=None,
                progress: Progress | None = None, bpm: float | None = None,
                stems_bit_depth: int = 24, role: Mapping[str, str] | None = None,
                reference=None, match=None, style=None,
                versions: str | Iterable[str] | None = None, vocal_step_db: float = 1.0,
                deliver: str | Iterable[str] | None = None, output_format: str | None = None) -> MixResult:
    """Check, analyse, plan and render a session; write the audio, ``plan.json`` and ``report.md``.

    Parameters
    ----------
    source : path-like or Session
        The folder of stems (or a loaded session).
    out_dir : path-like
        Where to write ``mix.wav`` (or ``preview.wav``), ``plan.json`` and ``report.md``.
    settings : MixSettings, optional
    importance, category, role : mapping, optional
        The user's choices by stem name (``{"Lead Vocal": "high"}``, ``{"Toms": "percussion hits"}``).
    plan : MixPlan or path, optional
        Render this plan instead of deciding one (a hand-edited ``plan.json``).
    preview : bool
        Render only the automatically chosen preview section.
    stems : bool
        Also write the processed stems (each stem after its chain, gain and pan,
        and the reverb return) into ``out_dir/stems/``: mono stems at the centre
        stay mono, at ``stems_bit_depth`` bits.
    project : {"dawproject", "als", "all"} or None
        Also export the plan as a DAW project (``<folder>.dawproject`` and/or
        ``<folder> Project/<folder>.als``) with the stems, the rendered reverb
        return, the master gain and the song's tempo grid.
    progress : callable ``(stage, fraction)``, optional
    bpm : float, optional
        The song's tempo for the projects' grid; default: measured from the mix
        (:mod:`workbench.tempo`) when a project is exported.
    stems_bit_depth : {16, 24, 32}
        Sample format of the processed stems (default 24).
    reference : path, ``"path:weight"``, or a list of them, optional
        Mix toward these references (WAV, FLAC, MP3 or OGG), combined by weight
        (:mod:`workbench.analysis.reference`, :mod:`workbench.mixing.reference_match`).
    match : MatchAmounts, str or list of str, optional
        How far toward the target per dimension (``"tone=70 dynamics=50 width=100 loudness=0"``).
    style : str, path or Style, optional
        A shipped style's name or a style file (:mod:`workbench.mixing.style`).
    versions : str or iterable of str, optional
        Also write these versions (``"all"`` or names from :data:`workbench.versions.VERSIONS`) into
        ``out_dir/versions/<name>.wav``, through the main mix's master decisions; ``stems`` writes the
        processed stems as ``stems=True`` does. Ignored for a preview.
    vocal_step_db : float
        The lead vocal's step of ``vocal-up`` / ``vocal-down`` (dB, default 1).
    deliver : str or iterable of str, optional
        Also write deliveries (``"all"`` or names from :data:`workbench.delivery.DELIVERIES`: streaming,
        broadcast — EBU R 128, dynamic — at most ~3 dB of limiting) into ``out_dir/delivery/<name>.<ext>``.
    output_format : {"wav16", "wav24", "flac", "mp3"}, optional
        Format of the deliveries; default the mix's bit depth as WAV.

    Notes
    -----
    After a full render, ``plan.json`` records the master gain the render applied
    and its limiter ceiling (``master.rendered_gain_db``,
    ``master.rendered_limiter_ceiling_db``), and, when a project is exported or
    ``bpm`` is given, the tempo grid (``grid``).
    """
    settings = settings or MixSettings()
    from .versions import check_vocal_step, parse_versions

    wanted = () if preview else parse_versions(versions)
    vocal_step_db = check_vocal_step(vocal_step_db)
    stems = stems or "stems" in wanted
    mix_versions = tuple(v for v in wanted if v != "stems")
    from .delivery import check_format, parse_deliveries

    deliveries = () if preview else parse_deliveries(deliver)
    fmt = check_format(output_format or f"wav{settings.bit_depth}")
    if project not in (None, "dawproject", "all", "als"):
        raise WorkbenchError("bad_argument", f"Unknown project format {project!r}.",
                             "Use dawproject, als or all.")
    # Refuse a bad output place before the long work.
    out = check_output_place(out_dir, _stems_folder(source))
    target, amounts, the_style = reference_target(reference, match, style, plan)
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise WorkbenchError("out_not_writable", f"Cannot write into {out}: permission denied.",
                             "Choose an output folder (-o) you may write to, or change its permissions.")
    session, analysis = prepare(source, importance=importance, category=category, role=role, cache_dir=cache_dir,
                                progress=progress, for_mix=True)
    check_output_place(out, session.folder)
    inputs = tuple(s.path for s in session.stems)

    # Decide (or take the user's plan).
    if plan is None:
        the_plan = plan_mix(session, analysis, settings, style=the_style)
        if target is not None or (the_style is not None and the_style.target is not None):
            # The mix's own descriptors: the rules' plan rendered (whole song) and measured like the target.
            if progress:
                progress("measure mix", 0.0)
            measured = measure_plan_mix(the_plan, session)
            the_plan = plan_mix(session, analysis, settings, target=target, match=amounts, style=the_style,
                                mix=measured)
            the_plan = refine_toward(the_plan, session, target, measured, amounts, the_style)
    elif isinstance(plan, MixPlan):
        the_plan = plan
    else:
        the_plan = MixPlan.from_json(plan)
    the_plan.check_session(session)
    if progress:
        progress("plan", 1.0)

    # Render and write down what was decided and why: staged, then moved into place as one set.
    section = choose_section(analysis, settings.preview_seconds, the_plan.sample_rate) if preview else None
    audio_name = "preview.wav" if preview else "mix.wav"
    with staged(out, inputs=inputs) as stage:
        # A project of the whole song carries the rendered reverb return: render the
        # processed stems (into a scratch folder of the stage unless the user asked for them).
        extras = project or mix_versions or deliveries
        scratch = stage.path / ".scratch-stems" if extras and not preview and not stems else None
        result = render_plan(the_plan, session, stage.path / audio_name, section=section,
                             stems_dir=stage.path / "stems" if stems else scratch,
                             stems_bit_depth=stems_bit_depth, progress=progress)
        if section is None:
            # What the master did, so that the projects and processed stems can do the same.
            # (A new plan object: the caller's plan is left as it was given.)
            the_plan = dataclasses.replace(the_plan, master=dataclasses.replace(
                the_plan.master, rendered_gain_db=result.master_gain_db,
                rendered_limiter_ceiling_db=result.limiter_ceiling_db))
        if bpm is not None or (project and the_plan.grid is None):
            from .tempo import estimate_grid_file

            if progress:
                progress("tempo", 0.0)
            the_plan = dataclasses.replace(the_plan, grid=estimate_grid_file(stage.path / audio_name, bpm=bpm))
            if progress:
                progress("tempo", 1.0)
        reverb_return = (result.stem_files[-1] if result.stem_files and section is None
                         and any(s.reverb_send_db is not None and not s.mute for s in the_plan.stems.values())
                         else None)
        outputs: dict[str, Path] = {"stems": stage.path / "stems"} if stems else {}
        version_notes: list[str] = []
        if mix_versions:
            written, version_notes = _write_versions(the_plan, session, result, stage.path / "versions",
                                                     mix_versions, vocal_step_db, progress)
            outputs.update(written)
        delivered: list = []
        if deliveries:
            from .delivery import bus_from_stems, write_deliveries

            delivered = write_deliveries(the_plan, bus_from_stems(result.stem_files), result.integrated_lufs,
                                         stage.path / "delivery", deliveries, fmt=fmt)
            outputs.update({f"delivery {d.name}": d.path for d in delivered})
            version_notes += [f"Delivery {d.name} ({d.path.name}): {d.note}" for d in delivered]
        if project:
            outputs.update(export_projects(the_plan, session, stage.path, project, reverb_return=reverb_return))
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        the_plan.to_json(stage.path / "plan.json")
        release = (_release_checks(the_plan, result.path, outputs, stage.path, delivered, reference=target)
                   if section is None else ())
        (stage.path / "report.md").write_text(mix_report(session, the_plan, result, section)
                                              + _release_section(release, version_notes)
                                              + _platform_section(result, section), encoding="utf-8")
    result = replace(result, path=stage.final(result.path),
                     stem_files=tuple(stage.final(p) for p in result.stem_files) if stems else ())
    return MixResult(session, analysis, the_plan, result, result.path, out / "plan.json", out / "report.md",
                     section, {k: stage.final(p) for k, p in outputs.items()}, release)


def measure_plan_mix(plan: MixPlan, session: Session):
    """Render ``plan`` (the whole song, into a scratch folder) and measure it like a reference.

    Why a render and not an estimate: the tonal balance and width a reference is compared with
    include what the analysis cannot predict — the reverb return, compression, the glue and the
    limiter — and the whole song is measured so that its loud section is chosen as the reference's
    is (:mod:`workbench.analysis.reference`). It costs one more render of the mix.

    Returns
    -------
    ReferenceMeasurement
    """
    import tempfile

    from .analysis.reference import MEASURE_RATE, load_reference, measure_audio

    with tempfile.TemporaryDirectory(prefix="workbench-measure-") as tmp:
        path = Path(tmp) / "mix.wav"
        render_plan(plan, session, path)
        return measure_audio(load_reference(path, MEASURE_RATE), MEASURE_RATE, source="this mix")


def render_toward(session: Session, analysis, target, amounts, section, path: str | os.PathLike, *,
                  mix=None) -> tuple[MixPlan, Path]:
    """Plan toward ``target`` by ``amounts`` and render ``section`` to ``path``; returns ``(plan, path)``.

    ``mix``: the rules' plan measured (:func:`measure_plan_mix`), so that the moves start from the mix
    as rendered; without it they start from an estimate from the analysis. Used by the dashboard's
    amount sliders and lesson 05.
    """
    from .mixing.planner import plan_mix

    toward = plan_mix(session, analysis, target=target, match=amounts, mix=mix)
    render_plan(toward, session, path, section=section)
    return toward, Path(path)


#: Closed-loop passes on the master EQ after the first match (each costs one render of the mix).
REFINE_PASSES = 2


def refine_toward(plan: MixPlan, session: Session, target, measured, amounts, style=None) -> MixPlan:
    """Closed loop on the master EQ: render the matched plan, measure, correct what it missed; keep the closest.

    ``measured`` is the rules' mix measured; the goal is that mix moved toward ``target`` (``None``:
    the style's target) by the tone amount. Up to :data:`REFINE_PASSES` corrections, each measured;
    the plan whose measured tonal balance is closest to the goal is returned (the limiter, compression
    and reverb react to every EQ change, so a correction can overshoot).
    """
    import numpy as np

    from .analysis.reference import tonal_distance_db
    from .mixing.reference_match import refine_tone

    label = "the reference"
    if target is None and style is not None:
        target, label = style.target, f"the style '{style.name}'"
    if target is None or amounts.tone <= 0:
        return plan
    a = amounts.tone / 100.0
    first, aim = np.asarray(measured.tonal_db), np.asarray(target.tonal_db)
    goal = dataclasses.replace(target, tonal_db=tuple(float(v) for v in first + a * (aim - first)))
    best, best_distance = plan, math.inf
    for _ in range(REFINE_PASSES + 1):
        now = measure_plan_mix(plan, session)
        distance = tonal_distance_db(now, goal)
        if distance < best_distance:
            best, best_distance = plan, distance
        if distance < REFINED_ENOUGH_DB:
            break
        plan = refine_tone(plan, target, measured, now, amounts, label=label)
    return best


#: Stop refining when the measured tonal balance is this close to the goal (dB RMS over the ERB bands).
REFINED_ENOUGH_DB = 0.2


def reference_target(reference=None, match=None, style=None, plan=None):
    """Measure the references and read the style and amounts of a mix run (before the long work).

    Returns ``(target, amounts, style)``: the combined
    :class:`~workbench.analysis.reference.ReferenceMeasurement` (or ``None``), the
    :class:`~workbench.mixing.reference_match.MatchAmounts` and the
    :class:`~workbench.mixing.style.Style` (or ``None``).

    Raises
    ------
    WorkbenchError
        ``bad_reference``, ``bad_match``, ``bad_style``, or ``bad_argument`` when a plan is
        given with them (a plan is rendered as it is; targets are decided when planning).
    """
    from .mixing.reference_match import MatchAmounts, parse_match

    if plan is not None and (reference or style or match):
        raise WorkbenchError("bad_argument", "A plan is rendered as it is written: --reference, --style and "
                             "--match are used when planning.",
                             "Leave out --plan to plan toward the reference, or edit the plan's master.")
    the_style = None
    if style is not None:
        from .mixing.style import Style, load_style

        the_style = style if isinstance(style, Style) else load_style(style)
    base = the_style.match if the_style is not None else None      # a style's own default amounts
    amounts = match if isinstance(match, MatchAmounts) else parse_match(match, base)
    target = None
    if reference:
        from .analysis.reference import combine, measure_reference, parse_reference_spec

        specs = [reference] if isinstance(reference, (str, os.PathLike)) else list(reference)
        measured = []
        for spec in specs:
            path, weight = parse_reference_spec(str(spec))
            measured.append((measure_reference(path), weight))
        target = combine(measured)
    return target, amounts, the_style


#: How far above the plan's ceiling a measured true peak may be (dB): the two
#: meters' rounding, not a margin the limiter uses.
TRUE_PEAK_TOLERANCE_DB = 0.1


def render_plan(plan: MixPlan, session: Session, audio_path: str | os.PathLike, *,
                section: PreviewSection | None = None, stems_dir: str | os.PathLike | None = None,
                stems_bit_depth: int = 24, progress: Progress | None = None) -> "RenderResult":
    """Render a plan after checking that it fits the session; refuse a result that is not sane.

    Parameters
    ----------
    plan : MixPlan
    session : Session
    audio_path : path-like
        The WAV to write.
    section : PreviewSection, optional
        Render only this section (with its pre-roll).
    stems_dir : path-like, optional
        Also write the processed stems there.
    stems_bit_depth : int
        Bit depth of the processed stems.
    progress : callable ``(stage, fraction)``, optional

    Returns
    -------
    RenderResult

    Raises
    ------
    WorkbenchError
        From :meth:`MixPlan.check_session` (the plan does not fit the stems) and
        :func:`check_render` (the output is silent, over the ceiling or of the
        wrong length).
    """
    from .mixing.render import render

    plan.check_session(session)
    sr = plan.sample_rate
    frames = section.frames if section else (plan.frames or int(round(session.frames * sr / session.sample_rate)))
    result = render(plan, session, audio_path,
                    section=(section.start_frame, section.frames) if section else None,
                    preroll_frames=section.preroll_frames if section else 0, stems_dir=stems_dir,
                    stems_bit_depth=stems_bit_depth,
                    progress=(lambda done, total, stage: progress(f"render {stage}", done / max(total, 1)))
                    if progress else None)
    check_render(result, plan, frames)
    return result


def check_render(result: "RenderResult", plan: MixPlan, frames: int) -> None:
    """Refuse a rendered file that is not a sane mix: silent, over the ceiling, or of the wrong length.

    Raises
    ------
    WorkbenchError
        ``silent_mix``, ``ceiling_exceeded`` or ``wrong_length``.
    """
    import soundfile as sf

    written = sf.info(str(result.path)).frames
    if result.frames != frames or written != frames:
        raise WorkbenchError(
            "wrong_length", f"The rendered mix holds {written} frames where {frames} were expected "
            f"({frames / plan.sample_rate:.2f} s at {plan.sample_rate} Hz).",
            "Check the plan's frames and sample_rate (0 frames means the stems' length), and report this if "
            "the plan is one `workbench mix` wrote.")
    if not math.isfinite(result.integrated_lufs):
        raise WorkbenchError(
            "silent_mix", "The mix is silent: no loudness could be measured (every unmuted stem is silent in "
            "this stretch, or turned down to nothing).",
            "Check the stems with `workbench check`, and the plan's gain_db and mute fields.")
    ceiling = plan.master.ceiling_dbtp
    if not math.isfinite(result.true_peak_dbtp) or result.true_peak_dbtp > ceiling + TRUE_PEAK_TOLERANCE_DB:
        raise WorkbenchError(
            "ceiling_exceeded", f"The mix peaks at {result.true_peak_dbtp:.2f} dBTP, above the plan's "
            f"{ceiling:g} dBTP ceiling.",
            "Lower the stems' gains or the loudness target in the plan and render again.")


def _write_versions(plan: MixPlan, session: Session, result: "RenderResult", folder: Path,
                    names: tuple[str, ...], vocal_step_db: float,
                    progress: Progress | None) -> tuple[dict[str, Path], list[str]]:
    """The versions from the render's processed stems (:mod:`workbench.versions`): ``{"version <name>": path}``
    and the report's notes on them."""
    from .versions import split_parts, version_notes, write_versions

    if progress:
        progress("versions", 0.0)
    parts = split_parts(plan, session, result.stem_files)
    written = write_versions(plan, parts, folder, names, vocal_step_db=vocal_step_db)
    if progress:
        progress("versions", 1.0)
    notes = version_notes(parts, names) + [f"Versions: vocal-up / vocal-down move the lead vocal (and its reverb) "
                                           f"by ±{vocal_step_db:g} dB; every version uses the mix's master gain "
                                           "and limiter ceiling."]
    return {f"version {k}": p for k, p in written.items()}, notes


def _release_checks(plan: MixPlan, mix_path: Path, outputs: Mapping[str, Path], stage: Path,
                    delivered: Iterable = (), reference=None) -> tuple:
    """The release check of the mix and of every delivered version / delivery file (:mod:`workbench.release_check`).

    With a reference measurement, the mix and the deliveries are also checked for their tonal
    distance to it (:func:`workbench.analysis.reference.tonal_distance_audio`).
    """
    from .release_check import ReleaseTarget, check_file

    tonal = None
    if reference is not None:
        from .analysis.reference import tonal_distance_audio

        def tonal(audio, sr):
            return tonal_distance_audio(audio, sr, reference)
    m = plan.master
    checks = [check_file(mix_path, ReleaseTarget("streaming", m.target_lufs, ceiling_dbtp=m.ceiling_dbtp),
                         tonal_distance=tonal)]
    for key, path in outputs.items():
        if key.startswith("version "):
            checks.append(check_file(path, ReleaseTarget(key, None, ceiling_dbtp=m.ceiling_dbtp),
                                     label=str(Path(path).relative_to(stage))))
    for d in delivered:
        checks.append(check_file(d.path, d.target, tonal_distance=tonal, label=str(d.path.relative_to(stage))))
    return tuple(checks)


def _platform_section(result: "RenderResult", section: PreviewSection | None) -> str:
    """What each platform's loudness normalisation does to the mix (:mod:`workbench.platforms`), for a full render."""
    from .platforms import markdown_lines

    return "" if section is not None else "\n".join(markdown_lines(result.integrated_lufs, result.true_peak_dbtp))


def _release_section(checks: tuple, notes: Iterable[str] = ()) -> str:
    from .release_check import markdown_table

    if not checks:
        return ""
    return "\n".join(["## Release check", ""] + [f"- {n}" for n in notes] + [
        "", "Every delivered file; thresholds and their sources in `workbench/release_check.py`.", ""]
        + markdown_table(checks) + [""])


def _stems_folder(source) -> Path | None:
    """The folder a mix source reads its stems from, when known before loading."""
    if isinstance(source, Session):
        return Path(source.folder)
    if isinstance(source, (str, os.PathLike)) and not isinstance(source, bytes):
        p = Path(source)
        return p.parent if p.is_file() else p
    return None


def export_projects(plan: MixPlan, session: Session, out_dir: Path, which: str = "all", *,
                    reverb_return: Path | None = None) -> dict[str, Path]:
    """Write the plan as DAW projects into ``out_dir``; returns ``{format: path}``.

    ``reverb_return`` is the rendered reverb return (a processed stem): the
    projects carry it as a track and switch the sends off, so they play like
    the mix; without it the return is muted with a note.
    """
    from . import export
    from .export.names import safe_name

    title = safe_name(Path(session.folder).name or "mix")
    out: dict[str, Path] = {}
    if which in ("dawproject", "all"):
        out["dawproject"] = export.dawproject(plan, session, Path(out_dir) / f"{title}.dawproject",
                                              reverb_return=reverb_return)
    if which in ("als", "all"):
        out["als"] = export.ableton(plan, session, Path(out_dir) / f"{title} Project" / f"{title}.als",
                                    reverb_return=reverb_return)
    return out


def mix_report(session: Session, plan: MixPlan, result: "RenderResult", section: PreviewSection | None) -> str:
    """The Markdown report: findings first, then every decision with its reason."""
    lines = [f"# Mix report — {Path(session.folder).name}", ""]
    lines.append(f"Output: `{Path(result.path).name}` — {result.integrated_lufs:.1f} LUFS integrated, "
                 f"true peak {result.true_peak_dbtp:.1f} dBTP (target {plan.master.target_lufs:g} LUFS, "
                 f"ceiling {plan.master.ceiling_dbtp:g} dBTP), {plan.master.bit_depth}-bit "
                 f"{plan.sample_rate / 1000:g} kHz.")
    m = plan.master
    if m.rendered_gain_db is not None:
        lines.append(f"Master: gain {m.rendered_gain_db:+.2f} dB before the limiter (to reach "
                     f"{m.target_lufs:g} LUFS), limiter ceiling {m.rendered_limiter_ceiling_db:.2f} dB "
                     f"({m.ceiling_dbtp:g} dBTP less the safety margin). The DAW projects and "
                     f"`master_stems` use these numbers.")
    if plan.grid is not None:
        g = plan.grid
        lines.append(f"Tempo: {g.bpm:g} bpm, first downbeat at {g.downbeat_s:.3f} s"
                     + ("." if g.confident else f" — **unsure**: {g.reason}."))
    lines += [f"Note: {n}" for n in result.notes]
    lines += master_lines(plan, result)
    if section is not None:
        lines.append(f"Preview: {section.reason}.")
    unsure = unsure_stems(session)
    if unsure:
        # The mix went ahead without the user's confirmation: say which categories were guesses.
        lines += ["", "## Category guesses not confirmed", "",
                  "These categories were guessed and the guess is unsure; the mix used them as they are. "
                  "Check each one and set it if it is wrong (the dashboard's category list, or "
                  "`--category \"NAME=Category\"`), then mix again.", ""]
        lines += [f"- {_md(s.name)} (`{_md(s.file)}`): {_md(describe_guess(s))}" for s in unsure]
    lines += ["", "## Findings", ""]
    if session.findings:
        for f in session.findings:
            lines.append(f"- **{f.severity}** `{f.code}` {f.stem or 'session'}: {f.message} *Fix:* {f.fix}")
    else:
        lines.append("No findings: the stems are well prepared.")
    lines += ["", "## Decisions", "", "| Where | What | Why |", "|---|---|---|"]
    for where, what, why in plan.decisions():
        lines.append(f"| {_md(where)} | {_md(what)} | {_md(why)} |")
    if plan.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in plan.notes]
    lines.append("")
    return "\n".join(lines)


#: Limiting beyond this (dB of gain reduction on the loudest peaks) audibly
#: flattens transients; the report then offers a lower loudness target. Our
#: threshold, in line with mastering practice that treats a few dB of peak
#: limiting as transparent and more as a loudness-for-punch trade (Katz,
#: *Mastering Audio*, 3rd ed., on peak limiting).
HEAVY_LIMITING_DB = 6.0
#: The gentler alternative keeps the limiter to about this much.
GENTLE_LIMITING_DB = 3.0


def master_lines(plan: MixPlan, result: "RenderResult") -> list[str]:
    """What the master did: the gain to the loudness target and what the limiter took, in words."""
    gr, lost = result.limiter_peak_reduction_db, result.limiter_loudness_loss_lu
    lines = [f"Limiter: takes up to {gr:.1f} dB off the loudest peaks and {lost:.1f} LU of loudness."]
    if gr > HEAVY_LIMITING_DB:
        gentler = plan.master.target_lufs - (gr - GENTLE_LIMITING_DB)
        lines.append(f"Warning: reaching {plan.master.target_lufs:g} LUFS takes {gr:.1f} dB of limiting on the "
                     f"transients (more than {HEAVY_LIMITING_DB:g} dB flattens drums audibly). For a more dynamic "
                     f"master, mix to about {gentler:.0f} LUFS (`--target-lufs {gentler:.0f}`): the limiter then "
                     f"takes about {GENTLE_LIMITING_DB:g} dB; streaming services turn a quieter master up less or "
                     "not at all, so it plays about as loud.")
    return lines


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
