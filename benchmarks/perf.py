"""Performance benchmark: the full automix against just reading, summing and writing the stems.

Run::

    python benchmarks/perf.py            # 4/16/32 stems × 1/3/5 minutes
    python benchmarks/perf.py --quick    # 4/16/32 stems × 1 minute, and 16 stems × 3 minutes

For each session size it writes a deterministic stereo test session (16-bit,
44.1 kHz) into a temporary folder — drums, bass, pads, keys, lead lines and
noise from ``benchmarks/bench_analysis.py``'s generator, arranged in sections
(intro, verse, chorus, breakdown, last chorus) so that parts enter and stop as
in a song — and measures, each in a fresh child process:

``baseline``
    read every stem in blocks, sum them, write the 16-bit stereo sum: the cost
    of touching the audio at all;
``analysis``
    :func:`workbench.analyse` alone, empty cache;
``automix``
    :func:`workbench.pipeline.mix_session` with an empty analysis cache:
    load and check the stems, analyse, plan, render the full mix (16-bit,
    dithered, −14 LUFS, −1 dBTP), write the mix, ``plan.json`` and ``report.md``;
``preview``
    with the analysis cached (by the automix run): change one stem's importance,
    re-plan, render the 30 s preview — what the Generate button does after a
    change. The child loads the analysis from the cache and renders the preview
    before the change (keeping its processed stems in a
    :class:`~workbench.mixing.render.StemCache`, as the dashboard does) before
    the clock starts.

Times are wall-clock seconds of the measured work (imports and, for the
preview, the cache load excluded). Peak memory is the largest total over the
child **and its worker processes** (the analysis, checks and category model
fork workers for long sessions) of their proportional set sizes (PSS: pages
shared between them, such as what a forked worker inherits, counted once),
sampled every 50 ms from ``/proc`` by a wrapper process; the child's own
``ru_maxrss`` is kept beside it in ``perf.json``. Ratios are to the
baseline of the same session in the same run. The load average is recorded:
numbers taken while other work runs on the machine are slower.

Results: ``benchmarks/RESULTS.md`` between ``<!-- perf:start -->`` and
``<!-- perf:end -->``, ``benchmarks/results/perf.json`` and the plot
``benchmarks/results/scaling.png`` (cost vs stems and vs length).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

SR = 44100
CHUNK_S = 10.0
FULL_GRID = [(s, m) for m in (1, 3, 5) for s in (4, 16, 32)]
QUICK_GRID = [(4, 1), (16, 1), (32, 1), (16, 3)]
MEASURES = ("baseline", "analysis", "automix", "preview")
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_JSON = ROOT / "benchmarks" / "results" / "perf.json"
PLOT = ROOT / "benchmarks" / "results" / "scaling.png"

#: Song form as fractions of the length: (start, end, which stem roles play).
#: Roles: d drums (kick/snare/hats), b bass, p pad, k keys, l lead, n noise/FX.
FORM = [(0.00, 0.10, "dp"), (0.10, 0.35, "dbpk"), (0.35, 0.55, "dbpkln"), (0.55, 0.65, "pn"),
        (0.65, 0.95, "dbpkln"), (0.95, 1.00, "p")]
ROLE = {"kick": "d", "snare": "d", "hats": "d", "bass": "b", "pad": "p", "keys": "k", "lead": "l", "noise": "n"}


# ------------------------------------------------------------------------ test material
def _gate(role: str, t: np.ndarray, total_s: float) -> np.ndarray:
    """0/1 section gate with 30 ms ramps: where this role plays in :data:`FORM`."""
    g = np.zeros(t.size)
    for a, b, roles in FORM:
        if role in roles:
            g[(t >= a * total_s) & (t < b * total_s)] = 1.0
    ramp = int(0.03 * SR)
    if ramp > 1 and g.size > ramp:
        kernel = np.ones(ramp) / ramp
        g = np.convolve(g, kernel, mode="same")
    return g


def make_session(folder: Path, *, minutes: float, n_stems: int) -> list[Path]:
    """``n_stems`` stereo 16-bit stems of ``minutes`` with sections (deterministic)."""
    from bench_analysis import KINDS, _chunk

    folder.mkdir(parents=True, exist_ok=True)
    total = int(round(minutes * 60 * SR))
    total_s = total / SR
    paths = []
    for i in range(n_stems):
        kind = KINDS[i % len(KINDS)]
        gain = 10 ** (-(3 + (i * 5) % 18) / 20)  # peaks from -3 to -20 dBFS, as bench_analysis
        path = folder / f"{i + 1:02d} {kind.title()} {i // len(KINDS) + 1}.wav"
        with sf.SoundFile(str(path), "w", SR, 2, subtype="PCM_16", format="WAV") as f:
            for start in range(0, total, int(CHUNK_S * SR)):
                n = min(int(CHUNK_S * SR), total - start)
                t = (start + np.arange(n)) / SR
                x = _chunk(kind, i, t) * _gate(ROLE[kind], t, total_s)
                f.write(np.clip(x * gain, -1, 1).T.astype(np.float32))
        paths.append(path)
    return paths


# ------------------------------------------------------------------------ measurements (child side)
def baseline(folder: Path, out: Path) -> None:
    """Read every stem in blocks, sum, write the 16-bit sum."""
    from workbench.audio_io import iter_blocks

    paths = sorted(folder.glob("*.wav"))
    readers = [iter_blocks(p) for p in paths]
    with sf.SoundFile(str(out), "w", SR, 2, subtype="PCM_16", format="WAV") as f:
        while True:
            mix = None
            for r in readers:
                block = next(r, None)
                if block is not None:
                    mix = block.astype(np.float64) if mix is None else mix + block
            if mix is None:
                break
            f.write(np.clip(mix, -1, 1).T)


def _cpu_s() -> float:
    """CPU seconds (user + system, all threads) this process and its finished workers have used so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def child(what: str, folder: Path, work: Path) -> dict:
    """Run one measurement in this (fresh) process; returns its timings (wall and CPU)."""
    cpu0 = [0.0]
    result = _child(what, folder, work, cpu0)
    result["cpu_s"] = _cpu_s() - cpu0[0]
    return result


def _child(what: str, folder: Path, work: Path, cpu0: list) -> dict:
    from workbench.analysis import analyse
    from workbench.mixing.planner import plan_mix
    from workbench.mixing.preview import choose_section
    from workbench.mixing.render import StemCache, render
    from workbench.mixing.settings import MixSettings
    from workbench.pipeline import mix_session, prepare
    from workbench.session import load_session

    cache = work / "cache"
    if what == "baseline":
        cpu0[0] = _cpu_s()
        t0 = time.perf_counter()
        baseline(folder, work / "sum.wav")
        return {"seconds": time.perf_counter() - t0}
    if what == "analysis":
        session = load_session(folder, check_audio=False)
        cpu0[0] = _cpu_s()
        t0 = time.perf_counter()
        analyse(session, cache=False)
        return {"seconds": time.perf_counter() - t0}
    if what == "automix":
        (work / "mix").mkdir(exist_ok=True)
        cpu0[0] = _cpu_s()
        t0 = time.perf_counter()
        result = mix_session(folder, work / "mix", cache_dir=cache)
        return {"seconds": time.perf_counter() - t0, "render_s": result.render.seconds,
                "lufs": result.render.integrated_lufs, "true_peak_dbtp": result.render.true_peak_dbtp}
    if what == "preview":
        t_load = time.perf_counter()
        session, analysis = prepare(folder, cache_dir=cache)
        t_load = time.perf_counter() - t_load
        settings = MixSettings()
        stem = next((s for s in session.stems if s.importance == "medium"), session.stems[0])
        section = choose_section(analysis, settings.preview_seconds, session.sample_rate)
        cache = StemCache()
        render(plan_mix(session, analysis, settings), session, work / "before.wav",
               section=(section.start_frame, section.frames), preroll_frames=section.preroll_frames, cache=cache)
        cpu0[0] = _cpu_s()
        t0 = time.perf_counter()
        changed = session.with_settings(importance={stem.file: "high"})
        plan = plan_mix(changed, analysis, settings)
        t_plan = time.perf_counter() - t0
        section = choose_section(analysis, settings.preview_seconds, plan.sample_rate)
        result = render(plan, changed, work / "preview.wav", section=(section.start_frame, section.frames),
                        preroll_frames=section.preroll_frames, cache=cache)
        return {"seconds": time.perf_counter() - t0, "plan_s": t_plan, "render_s": result.seconds,
                "cache_load_s": t_load, "preview_s": section.seconds}
    raise ValueError(what)


def run_measure(what: str, folder: Path, work: Path) -> dict:
    """Run ``what`` in a child (through a wrapper that samples its peak memory)."""
    res = subprocess.run([sys.executable, __file__, "--rss-of", what, str(folder), str(work)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{what} on {folder.name} failed:\n{res.stdout}\n{res.stderr}")
    data = json.loads(res.stdout.strip().splitlines()[-1])
    return data


def _tree_pss_mib(proc) -> float:
    """PSS (MiB) of ``proc`` and all its descendants (psutil, from /proc/<pid>/smaps_rollup)."""
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total / 2 ** 20


def run_sampled(cmd: list[str], interval_s: float = 0.05) -> tuple[int, str, str, float]:
    """Run ``cmd``; return its exit code, stdout, stderr and the peak PSS (MiB) of its process tree."""
    import psutil

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        proc = psutil.Process(child.pid)
        peak = 0.0
        while child.poll() is None:
            try:
                peak = max(peak, _tree_pss_mib(proc))
            except psutil.NoSuchProcess:
                pass
            time.sleep(interval_s)
        out.seek(0)
        err.seek(0)
        return child.returncode, out.read(), err.read(), peak


def wrapper_main(what: str, folder: str, work: str) -> None:
    """Run one child; print its result with its peak memory (MiB): process tree PSS, and its ru_maxrss."""
    code, out, err, peak = run_sampled([sys.executable, __file__, "--child", what, folder, work])
    if code != 0:
        sys.stderr.write(err)
        sys.exit(code)
    data = json.loads(out.strip().splitlines()[-1])
    data["peak_rss_mib"] = peak
    data["child_maxrss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print(json.dumps(data))


# ------------------------------------------------------------------------ report
def plot(rows: list[dict], path: Path) -> None:
    """Cost vs stems (one line per length) and vs length (one line per stem count), matplotlib Figure API."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    styles = {"baseline": ("0.5", ":"), "analysis": ("tab:blue", "--"), "automix": ("tab:red", "-"),
              "preview": ("tab:green", "-.")}
    minutes = sorted({r["minutes"] for r in rows})
    stems = sorted({r["stems"] for r in rows})
    for what, (colour, ls) in styles.items():
        for j, m in enumerate(minutes):
            pts = sorted((r["stems"], r[what]["seconds"]) for r in rows if r["minutes"] == m)
            if len(pts) > 1:
                ax1.plot(*zip(*pts), color=colour, ls=ls, marker="o", alpha=0.4 + 0.6 * (j + 1) / len(minutes),
                         label=f"{what}, {m:g} min")
        for j, s in enumerate(stems):
            pts = sorted((r["minutes"], r[what]["seconds"]) for r in rows if r["stems"] == s)
            if len(pts) > 1:
                ax2.plot(*zip(*pts), color=colour, ls=ls, marker="o", alpha=0.4 + 0.6 * (j + 1) / len(stems),
                         label=f"{what}, {s} stems")
    ax1.set(xlabel="stems", ylabel="wall time (s)", title="cost vs number of stems")
    ax2.set(xlabel="song length (min)", ylabel="wall time (s)", title="cost vs song length")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def report(rows: list[dict], quick: bool, elapsed: float, load: tuple, m: dict, v: dict, grid: str = "") -> str:
    from quality import environment_line

    cmd = "python benchmarks/perf.py" + (" --quick" if quick else "") + (f" --grid {grid}" if grid else "")
    lines = [
        "## Performance", "",
        f"`{cmd}` — {'custom grid' if grid else 'quick subset' if quick else 'full grid'}; the whole run took {elapsed / 60:.1f} min. "
        f"Load average at start {load[0]:.1f}, at end {load[1]:.1f} (on {m.get('nproc')} CPUs: above "
        f"{m.get('nproc')} other work was competing for the CPUs and every time is inflated).",
        environment_line(m, v), "",
        "Stereo 16-bit 44.1 kHz test sessions with song sections (generated, deterministic). Each measure runs "
        "in a fresh process; times exclude imports. **baseline** = read all stems in blocks + sum + write the "
        "16-bit sum; **analysis** = `analyse()` with no cache; **automix** = `mix_session()` with an empty "
        "analysis cache (load + check + analyse + plan + render + write mix, plan and report); **preview** = "
        "change one importance, re-plan and render the 30 s preview with the analysis cached and the processed "
        "stems of the preview before the change kept in a `StemCache`, as the dashboard does (cache load and "
        "that first preview not timed). Wall-clock seconds, with the CPU seconds (user + system, all threads) of the same work in "
        "brackets — CPU time barely moves when other processes compete, wall time does; **load** is the 1-minute "
        "load average when the row started. Ratios are wall time to the baseline of the same session in this run; "
        "**peak memory** is the largest total PSS of each measure's process and its worker processes "
        "(shared pages counted once).", "",
        "| stems | length | load | baseline (s) | analysis (s) | automix (s) | automix / baseline "
        "| analysis / baseline | preview regenerate (s) | peak memory baseline / analysis / automix / preview (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b = r["baseline"]["seconds"]
        lines.append(
            f"| {r['stems']} | {r['minutes']:g} min | {r.get('load_1min', float('nan')):.1f} | {b:.2f} | "
            f"{r['analysis']['seconds']:.2f} (CPU {r['analysis'].get('cpu_s', float('nan')):.1f}) | "
            f"{r['automix']['seconds']:.2f} (CPU {r['automix'].get('cpu_s', float('nan')):.1f}) | "
            f"{r['automix']['seconds'] / b:.1f}× | {r['analysis']['seconds'] / b:.1f}× | "
            f"{r['preview']['seconds']:.2f} (plan {r['preview']['plan_s']:.2f}) | "
            f"{r['baseline']['peak_rss_mib']:.0f} / {r['analysis']['peak_rss_mib']:.0f} / "
            f"{r['automix']['peak_rss_mib']:.0f} / {r['preview']['peak_rss_mib']:.0f} |")
    lines += ["", "![cost vs stems and length](results/scaling.png)", "",
              "Not shown: the first run on a new machine (imports, page cache cold), sessions longer than "
              "5 minutes or wider than 32 stems, other sample rates, and variance (one run per cell).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4/16/32 stems × 1 min and 16 stems × 3 min")
    ap.add_argument("--grid", help="custom cells, e.g. '4x1,16x0.5' (stems x minutes); implies --no-write")
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch RESULTS.md")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--rss-of", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        what, folder, work = args.child
        print(json.dumps(child(what, Path(folder), Path(work))))
        return 0
    if args.rss_of:
        wrapper_main(*args.rss_of)
        return 0

    from quality import machine, versions, write_section

    grid = QUICK_GRID if args.quick else FULL_GRID
    if args.grid:
        grid = [(int(a), float(b)) for a, b in (cell.split("x") for cell in args.grid.split(","))]
        args.no_write = True
    started = time.perf_counter()
    load0 = os.getloadavg()[0]
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="mw-perf-"))
    try:
        by_length: dict[float, Path] = {}
        for minutes in sorted({m for _, m in grid}):
            max_stems = max(s for s, m in grid if m == minutes)
            t0 = time.perf_counter()
            full = tmp / f"all-{minutes}min"
            make_session(full, minutes=minutes, n_stems=max_stems)
            by_length[minutes] = full
            print(f"generated {max_stems} stems × {minutes} min in {time.perf_counter() - t0:.0f} s", flush=True)
            for stems in sorted(s for s, m in grid if m == minutes):
                folder = tmp / f"s{stems}-{minutes}min"
                folder.mkdir()
                for p in sorted(full.glob("*.wav"))[:stems]:
                    os.link(p, folder / p.name)  # same bytes, no copy
                work = tmp / f"work-{stems}-{minutes}"
                work.mkdir()
                row = {"stems": stems, "minutes": minutes, "load_1min": os.getloadavg()[0]}
                for what in MEASURES:  # preview after automix: it needs the automix's analysis cache
                    row[what] = run_measure(what, folder, work)
                print(f"{stems:2d} stems × {minutes} min: " + ", ".join(
                    f"{w} {row[w]['seconds']:.2f} s / {row[w]['peak_rss_mib']:.0f} MiB" for w in MEASURES),
                    flush=True)
                rows.append(row)
                shutil.rmtree(work)
                shutil.rmtree(folder)
            shutil.rmtree(full)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - started
    load = (load0, os.getloadavg()[0])
    m, v = machine(), versions(debian=())
    text = report(rows, args.quick, elapsed, load, m, v, args.grid or "")
    print(text)
    if not args.no_write:
        plot(rows, PLOT)
        write_section(RESULTS_MD, "perf", text)
        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps({"quick": args.quick, "machine": m, "versions": v, "load_average": load,
                                            "elapsed_s": elapsed, "rows": rows}, indent=1) + "\n",
                                encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
