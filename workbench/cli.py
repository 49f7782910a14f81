"""Command line: ``workbench check | analyse | mix | batch``. Argument parsing only.

Every command prints a short, readable result; ``--json`` prints data for tools.
User errors are one clear message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import WorkbenchError


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for v in values or []:
        if "=" not in v:
            raise WorkbenchError("bad_argument", f"--{what} {v!r} is not NAME=VALUE.",
                                 f"Write it as --{what} \"Lead Vocal=high\".")
        k, val = v.rsplit("=", 1)
        out[k.strip()] = val.strip()
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench",
                                description="Mixing Workbench: check, analyse and mix the WAV stems of a song.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check a folder of stems against the preparation rules")
    c.add_argument("folder", help="folder holding the song's WAV stems")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.add_argument("--max-stems", type=int, default=32, help="most stems allowed (default 32)")

    a = sub.add_parser("analyse", aliases=["analyze"], help="measure every stem and the masking between them")
    a.add_argument("folder")
    a.add_argument("--json", action="store_true", help="print the analysis summary as JSON")
    a.add_argument("--plots", metavar="OUTDIR", help="also write figures (PNG) to this folder")

    m = sub.add_parser("mix", help="decide and render a mix (with plan.json and report.md)")
    m.add_argument("folder")
    m.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="folder for mix.wav, plan.json, report.md")
    m.add_argument("--preview", action="store_true", help="render only the most representative section")
    m.add_argument("--importance", action="append", metavar="NAME=LEVEL", help="low, medium or high (repeatable)")
    m.add_argument("--category", action="append", metavar="NAME=CATEGORY", help="override a category (repeatable)")
    m.add_argument("--role", action="append", metavar="NAME=ROLE",
                   help="override the role the planner detected, e.g. \"Toms=percussion hits\" (repeatable)")
    m.add_argument("--plan", metavar="plan.json", help="render this (hand-edited) plan instead of deciding one")
    m.add_argument("--target-lufs", type=float, default=-14.0, help="integrated loudness target (default -14)")
    m.add_argument("--ceiling", type=float, default=-1.0, help="true-peak ceiling in dBTP (default -1)")
    m.add_argument("--bit-depth", type=int, default=16, choices=(16, 24), help="output bit depth (default 16)")
    m.add_argument("--preview-seconds", type=float, default=30.0, help="preview length (default 30)")
    m.add_argument("--pan-style", choices=("authored", "wide"), default="authored",
                   help="how far parts are spread: as authors of real mixes do (default) or wide")
    m.add_argument("--project", choices=("dawproject", "als", "all"),
                   help="also export a DAW project with the stems and every decision")
    m.add_argument("--stems", action="store_true",
                   help="also write the processed stems (after chain, gain and pan) and the reverb return")
    m.add_argument("--stems-bit-depth", type=int, default=24, choices=(16, 24, 32),
                   help="bit depth of the processed stems (32 = float; default 24)")
    m.add_argument("--versions", metavar="LIST",
                   help="also write versions through the same master: all, or some of vocal-up, vocal-down, "
                        "instrumental, a-cappella, tv, stems (comma-separated) into OUT/versions/")
    m.add_argument("--vocal-step", type=float, default=1.0, metavar="DB",
                   help="lead vocal step of vocal-up / vocal-down (dB, default 1)")
    m.add_argument("--deliver", metavar="LIST",
                   help="also write deliveries into OUT/delivery/: all, or some of streaming, broadcast "
                        "(EBU R 128: -23 LUFS, -1 dBTP), dynamic (at most ~3 dB of limiting)")
    m.add_argument("--format", dest="output_format", choices=("wav16", "wav24", "flac", "mp3"),
                   help="format of the deliveries (default: WAV at the mix's bit depth)")
    m.add_argument("--bpm", type=float, metavar="BPM",
                   help="the song's tempo for the projects' bar grid (default: measured from the mix)")
    m.add_argument("--reference", action="append", metavar="SONG[:WEIGHT]",
                   help="mix toward this finished song (WAV, FLAC, MP3 or OGG; repeatable, weights combine)")
    m.add_argument("--match", nargs="+", action="extend", metavar="DIM=PCT",
                   help="how far toward the reference: tone=70 dynamics=50 width=100 loudness=0 (the defaults)")
    m.add_argument("--style", metavar="NAME|FILE",
                   help="a style: a shipped name (" + ", ".join(_style_names()) + ") or a style file")
    m.add_argument("--quiet", action="store_true", help="no progress bar")

    st = sub.add_parser("style", help="make a style file from references")
    st_sub = st.add_subparsers(dest="style_command", required=True)
    mk = st_sub.add_parser("make", help="measure references into a style file")
    mk.add_argument("references", nargs="+", metavar="SONG[:WEIGHT]", help="WAV, FLAC, MP3 or OGG files")
    mk.add_argument("-o", "--out", required=True, metavar="STYLE.json")
    mk.add_argument("--name", help="the style's name (default: the file name)")

    b = sub.add_parser("batch", help="mix many sessions on a Dask cluster (local by default)",
                       description="Mix many session folders, one task each, on a local Dask cluster or on "
                                   "a running scheduler. Re-running skips sessions already mixed with the "
                                   "same stems and settings.")
    b.add_argument("sessions", nargs="+", metavar="SESSIONS",
                   help="session folders, quoted globs ('sessions/*') or @list.txt (one per line)")
    b.add_argument("-o", "--out", required=True, metavar="OUTDIR",
                   help="folder for one sub-folder per session, summary.csv and summary.json")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler (tcp://HOST:8786); default: a local cluster")
    b.add_argument("--workers", type=int, metavar="N",
                   help="worker processes of the local cluster (default: one per CPU core)")
    b.add_argument("--settings", metavar="settings.json",
                   help="mix settings for every session, e.g. {\"target_lufs\": -14}; "
                        "a session's own workbench.json overrides them")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _style_names() -> list[str]:
    from .mixing.style import shipped_styles

    return shipped_styles()


def cmd_style(args) -> int:
    from .mixing.style import style_from_references

    out = Path(args.out)
    style = style_from_references(args.references, args.name or out.stem)
    style.to_json(out)
    t = style.target
    assert t is not None
    print(f"Style written: {out}\n  from {t.source}\n  {t.integrated_lufs:.1f} LUFS, PLR {t.plr_db:.1f} dB, "
          f"LRA {t.loudness_range_lu:.1f} LU, side share above 120 Hz {t.region_side_share(120, 20000):.2f}")
    return 0


def cmd_check(args) -> int:
    from .report import check_dict, check_table
    from .session import load_session

    session = load_session(args.folder, max_stems=args.max_stems)
    if args.json:
        print(json.dumps(check_dict(session), indent=2, ensure_ascii=False))
    else:
        print(check_table(session))
    return 0 if session.can_mix else 2


def cmd_analyse(args) -> int:
    from .pipeline import prepare
    from .report import analysis_table

    session, analysis = prepare(args.folder)
    if args.plots:
        from .figures import save_analysis_figures

        written = save_analysis_figures(analysis, Path(args.plots), inputs=tuple(s.path for s in session.stems))
    if args.json:
        print(json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(analysis_table(analysis))
        if args.plots:
            print(f"\nFigures written to {args.plots}: " + ", ".join(p.name for p in written))
    return 0


def cmd_mix(args) -> int:
    from .mixing.settings import MixSettings
    from .pipeline import mix_session

    settings = MixSettings(target_lufs=args.target_lufs, ceiling_dbtp=args.ceiling, bit_depth=args.bit_depth,
                           preview_seconds=args.preview_seconds, pan_style=args.pan_style)
    importance, category = _pairs(args.importance, "importance"), _pairs(args.category, "category")
    role = _pairs(args.role, "role")
    bar = None if args.quiet else _ProgressBar()
    try:
        result = mix_session(args.folder, args.out, settings=settings, importance=importance, category=category,
                             plan=args.plan, preview=args.preview, project=args.project, stems=args.stems,
                             progress=bar, bpm=args.bpm, stems_bit_depth=args.stems_bit_depth, role=role,
                             reference=args.reference, match=args.match, style=args.style,
                             versions=args.versions, vocal_step_db=args.vocal_step, deliver=args.deliver,
                             output_format=args.output_format)
    finally:
        if bar:
            bar.close()
    r = result.render
    warnings = [f for f in result.session.findings if f.severity == "warning"]
    print(f"{'Preview' if args.preview else 'Mix'} written: {result.audio_path}")
    print(f"  {r.integrated_lufs:.1f} LUFS integrated, true peak {r.true_peak_dbtp:.1f} dBTP, "
          f"{r.frames / result.plan.sample_rate:.1f} s, rendered in {r.seconds:.1f} s")
    from .pipeline import HEAVY_LIMITING_DB, master_lines

    if r.limiter_peak_reduction_db > HEAVY_LIMITING_DB:
        print("  " + master_lines(result.plan, r)[-1].replace("`", ""))
    print(f"  plan:       {result.plan_path}\n  report:     {result.report_path} (every decision with its reason)")
    grid = result.plan.grid
    if grid is not None:
        print(f"  tempo:      {grid.bpm:g} bpm" + ("" if grid.confident else
                                                    " (unsure: check it, or set it with --bpm)"))
    for fmt, path in result.outputs.items():
        print(f"  {fmt + ':':<11} {path}")
    if result.release:
        from .release_check import summary_lines

        print("  release check (details in the report):")
        for line in summary_lines(result.release):
            print(f"    {line}")
    for name, sp in result.plan.stems.items():
        if sp.role == "foreground" and result.session.stem(name).importance_source != "user":
            print(f"  suggested lead: {name} — importance {sp.importance_reason}")
    if warnings:
        print(f"  {len(warnings)} warning(s) from the checks, repeated in the report:")
        for f in warnings:
            print(f"    ! {f.stem or 'session'}: {f.message}")
    return 0


def cmd_batch(args) -> int:
    from .batch import expand_sessions, load_settings, run_batch, summary_table

    sessions = expand_sessions(args.sessions)
    settings = load_settings(args.settings) if args.settings else None
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(sessions), unit="session", file=sys.stderr, leave=False)

    def progress(done: int, total: int, summary: dict) -> None:
        assert bar is not None
        bar.set_postfix_str(f"{summary['session']}: {summary['status']}", refresh=False)
        bar.update(1)

    try:
        results = run_batch(sessions, args.out, scheduler=args.scheduler, workers=args.workers,
                            settings=settings, progress=progress if bar else None)
    finally:
        if bar:
            bar.close()
    print(summary_table(results))
    print(f"Summary: {Path(args.out) / 'summary.csv'} and summary.json")
    return 1 if any(r["status"] == "failed" for r in results) else 0


class _ProgressBar:
    """Adapts the library's ``progress(stage, fraction)`` callback to a tqdm bar on stderr."""

    def __init__(self) -> None:
        from tqdm import tqdm

        # No monitor thread (this bar is refreshed by hand): a second thread
        # would keep the analysis from forking worker processes (workers.py).
        tqdm.monitor_interval = 0
        self.bar = tqdm(total=100, unit="%", file=sys.stderr, leave=False,
                        bar_format="{desc:<16} {bar} {percentage:3.0f}%")
        self.stage: str | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        if stage != self.stage:
            self.stage = stage
            self.bar.set_description_str(stage)
        self.bar.n = int(100 * min(max(fraction, 0.0), 1.0))
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"check": cmd_check, "analyse": cmd_analyse, "analyze": cmd_analyse, "mix": cmd_mix,
                "batch": cmd_batch, "style": cmd_style}
    try:
        return commands[args.command](args)
    except WorkbenchError as exc:
        print(f"workbench: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  fix: {exc.fix}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: say so plainly, traceback only on request
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"workbench: internal error ({type(exc).__name__}: {exc}).", file=sys.stderr)
        print("  This is a bug in Mixing Workbench, not in your stems. Run again with WORKBENCH_DEBUG=1 "
              "for the details and please report it.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
