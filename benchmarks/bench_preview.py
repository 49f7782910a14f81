"""Preview regenerate: change one importance on a 16-stem session and hear the new preview.

Run::

    python benchmarks/bench_preview.py [--minutes 3] [--stems 16] [--repeats 5] [--folder STEMS]

DESIGN §5 asks that changing an importance and regenerating be quick. This is
that loop as the dashboard runs it, in one process with the analysis already
in memory (cached): the user flips one stem between medium and high, the
workbench re-plans (:func:`workbench.mixing.planner.plan_mix`) and renders the
30 s preview section (:func:`workbench.mixing.render.render` with the section
and its 3 s pre-roll), keeping the processed stems of the previous preview in
a :class:`workbench.mixing.render.StemCache` as the dashboard does (only the
stems whose chain the change touched are processed again; the audio is
byte-identical to a render without it). The target is under 1 s on a 2-core
machine. For comparison it also times the same renders with no stem cache (a
first preview).

It writes a deterministic 16-stem stereo test session (``benchmarks/perf.py``'s
generator) unless ``--folder`` names one, analyses it once (not timed), warms
up once, then times ``--repeats`` regenerations, alternating the importance so
that every one is a real change. Reported: median and best wall time, split
into re-plan, mix stage (every stem's chain + reverb + glue, to the bus) and
master stage (loudness gain, limiter, dither, write; ``master_passes`` when it
had to re-run), and for scale the time to just read and sum the same stretch
of the stems. Written to ``benchmarks/RESULTS.md`` between
``<!-- preview:start -->`` and ``<!-- preview:end -->`` and to
``benchmarks/results/preview.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_S = 1.0


def regenerate(session, analysis, stem_file: str, level: str, out: Path, settings, cache=None) -> dict:
    """One regenerate: new importance → plan → preview render; returns the timings."""
    from workbench.mixing.planner import plan_mix
    from workbench.mixing.preview import choose_section
    from workbench.mixing.render import render

    marks: dict[str, float] = {}

    def progress(done, total, stage):
        marks.setdefault(stage, time.perf_counter())

    import resource

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    c0 = cpu()
    t0 = time.perf_counter()
    changed = session.with_settings(importance={stem_file: level})
    plan = plan_mix(changed, analysis, settings)
    t_plan = time.perf_counter()
    section = choose_section(analysis, settings.preview_seconds, plan.sample_rate)
    result = render(plan, changed, out, section=(section.start_frame, section.frames),
                    preroll_frames=section.preroll_frames, progress=progress, cache=cache)
    t_end = time.perf_counter()
    t_master = marks.get("master", t_end)
    return {"total_s": t_end - t0, "cpu_s": cpu() - c0, "plan_s": t_plan - t0, "mix_s": t_master - t_plan,
            "master_s": t_end - t_master, "passes": result.master_passes, "section": section,
            "lufs": result.integrated_lufs}


def read_and_sum(session, start: int, frames: int) -> float:
    """Seconds to read ``frames`` from ``start`` of every stem and sum them (the floor of any render)."""
    from workbench.audio_io import iter_blocks

    t0 = time.perf_counter()
    mix = None
    for s in session.mixable_stems:
        for block in iter_blocks(s.path, start=start, frames=frames):
            mix = block.sum() if mix is None else mix + block.sum()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stems", type=int, default=16)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--folder", type=Path, help="use this folder of stems instead of a generated session")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    from perf import make_session
    from quality import environment_line, machine, versions, write_section
    from workbench.mixing.render import StemCache
    from workbench.mixing.settings import MixSettings
    from workbench.pipeline import prepare

    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mw-preview-") as tmp:
        tmp = Path(tmp)
        folder = args.folder
        if folder is None:
            folder = tmp / "stems"
            make_session(folder, minutes=args.minutes, n_stems=args.stems)
        t0 = time.perf_counter()
        session, analysis = prepare(folder, cache_dir=tmp / "cache")
        t_analyse = time.perf_counter() - t0
        settings = MixSettings()
        stem = next((s for s in session.stems if s.importance == "medium"), session.stems[0])
        levels = ["high", "medium"]
        regenerate(session, analysis, stem.file, "high", tmp / "warm.wav", settings)  # warm-up (imports)
        cold = [regenerate(session, analysis, stem.file, levels[i % 2], tmp / f"c{i}.wav", settings)
                for i in range(max(1, args.repeats // 2))]
        cache = StemCache()
        regenerate(session, analysis, stem.file, "high", tmp / "first.wav", settings, cache)  # the preview before
        runs = [regenerate(session, analysis, stem.file, levels[(i + 1) % 2], tmp / f"p{i}.wav", settings, cache)
                for i in range(args.repeats)]
        sec = runs[0]["section"]
        floor = min(read_and_sum(session, sec.start_frame - sec.preroll_frames, sec.frames + sec.preroll_frames)
                    for _ in range(3))
    totals = [r["total_s"] for r in runs]
    med = statistics.median(totals)
    best = min(runs, key=lambda r: r["total_s"])
    n_stems = len(session.mixable_stems)
    verdict = ("meets" if med < TARGET_S else "misses")
    lines = [
        "### Preview regenerate (one importance changed, analysis cached)", "",
        f"`python benchmarks/bench_preview.py{'' if args.folder is None else ' --folder ' + str(args.folder)}` — "
        f"{n_stems} stereo stems × {session.duration_s / 60:.1f} min; preview {sec.seconds:.0f} s + "
        f"{sec.preroll_frames / sec.sample_rate:.0f} s pre-roll; {args.repeats} timed runs after one warm-up; "
        f"load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end on {os.cpu_count()} CPUs.",
        environment_line(machine(), versions(debian=())), "",
        f"**Median {med:.2f} s** (best {best['total_s']:.2f} s): it **{verdict}** the < {TARGET_S:g} s target.", "",
        "| part | median (s) | best run (s) |", "|---|---|---|",
        f"| re-plan (`plan_mix`) | {statistics.median(r['plan_s'] for r in runs):.3f} | {best['plan_s']:.3f} |",
        f"| mix stage (chains, reverb, glue → bus) | {statistics.median(r['mix_s'] for r in runs):.2f} | "
        f"{best['mix_s']:.2f} |",
        f"| master stage (gain, limiter, dither, write; passes: "
        f"{', '.join(str(r['passes']) for r in runs)}) | {statistics.median(r['master_s'] for r in runs):.2f} | "
        f"{best['master_s']:.2f} |",
        f"| **total** | **{med:.2f}** | **{best['total_s']:.2f}** |",
        f"| for comparison: the same render with no stem cache (a first preview) | "
        f"{statistics.median(r['total_s'] for r in cold):.2f} | {min(r['total_s'] for r in cold):.2f} |",
        f"| CPU time of the total (user + system, all threads) | {statistics.median(r['cpu_s'] for r in runs):.2f} | "
        f"{best['cpu_s']:.2f} |",
        f"| for scale: read + sum the same {sec.seconds + sec.preroll_frames / sec.sample_rate:.0f} s of every "
        f"stem | {floor:.2f} | |", "",
        f"Analysing the session the first time took {t_analyse:.1f} s (not part of the loop).", "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        out = ROOT / "benchmarks" / "results" / "preview.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        write_section(ROOT / "benchmarks" / "RESULTS.md", "preview", text)
    return 0 if np.isfinite(med) else 1


if __name__ == "__main__":
    sys.exit(main())
