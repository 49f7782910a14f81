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
from collections.abc import Callable, Mapping
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
                stems_bit_depth: int = 24, role: Mapping[str, str] | None = None) -> MixResult:
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

    Notes
    -----
    After a full render, ``plan.json`` records the master gain the render applied
    and its limiter ceiling (``master.rendered_gain_db``,
    ``master.rendered_limiter_ceiling_db``), and, when a project is exported or
    ``bpm`` is given, the tempo grid (``grid``).
    """
    settings = settings or MixSettings()
    if project not in (None, "dawproject", "all", "als"):
        raise WorkbenchError("bad_argument", f"Unknown project format {project!r}.",
                             "Use dawproject, als or all.")
    # Refuse a bad output place before the long work.
    out = check_output_place(out_dir, _stems_folder(source))
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise WorkbenchError("out_not_writable", f"Cannot write into {out}: permission denied.",
                             "Choose an output folder (-o) you may write to, or change its permissions.")
    session, analysis = prepare(source, importance=importance, category=category, role=role, cache_dir=cache_dir,
                                progress=progress, for_mix=True)
    check_output_place(out, session.folder)
    inputs = tuple(s.path for s in session.stems)

    # Decide (or take the user's plan).
    if plan is None:
        the_plan = plan_mix(session, analysis, settings)
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
        scratch = stage.path / ".scratch-stems" if project and not preview and not stems else None
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
        if project:
            outputs.update(export_projects(the_plan, session, stage.path, project, reverb_return=reverb_return))
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        the_plan.to_json(stage.path / "plan.json")
        (stage.path / "report.md").write_text(mix_report(session, the_plan, result, section), encoding="utf-8")
    result = replace(result, path=stage.final(result.path),
                     stem_files=tuple(stage.final(p) for p in result.stem_files) if stems else ())
    return MixResult(session, analysis, the_plan, result, result.path, out / "plan.json", out / "report.md",
                     section, {k: stage.final(p) for k, p in outputs.items()})


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
