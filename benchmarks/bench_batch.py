"""Benchmark: batch mixing throughput (sessions per minute) with 1 and 2 Dask workers.

Run ``python benchmarks/bench_batch.py`` (``--quick`` for 4 sessions × 4 stems × 5 s).
It

1. writes ``--sessions`` seeded sessions (default 8) of ``--stems`` mono 16-bit stems
   (default 6: kick, snare, hi-hat, bass, keys, lead vocal) × ``--seconds`` (default 20)
   into a temporary folder, made with ``tests/synth.py``;
2. times, ``--repeats`` times each, interleaved (the median is reported),
   - **in-process**: ``mix_session`` on each session in a loop, no Dask at all;
   - **batch, 1 worker** and **batch, 2 workers**: ``run_batch`` on a local cluster
     (worker processes with 1 thread each), wall time from the call to its return,
     cluster start and stop included;
   - **resume**: ``run_batch`` again on the finished output (every session skipped);
   each run with an empty analysis cache and an empty output folder;
3. prints a markdown report and writes it to ``benchmarks/results/batch.md``.

Sessions per minute = sessions / wall time × 60. The "steady" rate counts only
the sessions finished after the first round (one per worker) over the time they
took, which is what a long batch converges to (the local cluster's start and
stop excluded).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.synth import write_session  # noqa: E402  (seeded made-up stems)

STEM_NAMES = ["Kick", "Snare", "Hi-Hat", "Bass", "Keys", "Lead Vocal", "Guitar", "Pad"]


def summarise(runs: list[tuple]) -> dict[str, tuple]:
    """(best, median) of each measure over runs of ``(wall, steady, resume, summaries, cpu)``."""
    def both(values, best):
        values = [v for v in values if v is not None]
        return (best(values), statistics.median(values)) if values else (None, None)

    return {"wall": both([r[0] for r in runs], min), "steady": both([r[1] for r in runs], max),
            "resume": both([r[2] for r in runs], min),
            "per_session": both([statistics.median(s["seconds"] for s in r[3]) for r in runs if r[3]], min),
            "cpu": both([r[4] for r in runs], min)}


def make_sessions(folder: Path, n: int, stems: int, seconds: float) -> list[str]:
    return [str(write_session(folder / f"song {i + 1:02d}", STEM_NAMES[:stems], seconds=seconds, seed=i))
            for i in range(n)]


def fresh(work: Path, name: str) -> tuple[Path, Path]:
    """An empty output folder and an empty analysis cache (set for this process and the workers it spawns)."""
    out, cache = work / name / "out", work / name / "cache"
    shutil.rmtree(work / name, ignore_errors=True)
    cache.mkdir(parents=True)
    os.environ["WORKBENCH_CACHE_DIR"] = str(cache)
    return out, cache


def steady_rate(finished: list[float], parallel: int = 1) -> float:
    """Sessions per minute after the first round of ``parallel`` sessions has finished (start-up excluded)."""
    done = finished[parallel - 1:]
    return (len(done) - 1) / max(done[-1] - done[0], 1e-9) * 60


def in_process(sessions: list[str], work: Path) -> tuple[float, float, float]:
    """Wall time, steady rate and CPU time (all threads of this process) of a plain loop."""
    from workbench.pipeline import mix_session

    out, _ = fresh(work, "serial")
    started, cpu, finished = time.perf_counter(), time.process_time(), []
    for s in sessions:
        mix_session(s, out / Path(s).name)
        finished.append(time.perf_counter())
    return time.perf_counter() - started, steady_rate(finished), time.process_time() - cpu


def batch(sessions: list[str], work: Path, workers: int) -> tuple[float, float, float, list[dict], float]:
    """Wall time and steady rate of a batch, wall time of a re-run (all skipped), summaries, workers' CPU time.

    The CPU time (user + system) of the worker processes is read when the last session
    reports, while they are still alive; it includes their start-up and warm-up imports.
    """
    import psutil

    from workbench.batch import run_batch

    out, _ = fresh(work, f"batch{workers}")
    me, cpu, finished = psutil.Process(), {}, []

    def progress(done: int, total: int, summary: dict) -> None:
        finished.append(time.perf_counter())
        if done == total:
            cpu["workers"] = sum(sum(p.cpu_times()[:2]) for p in me.children(recursive=True))

    started = time.perf_counter()
    results = run_batch(sessions, str(out), workers=workers, progress=progress)
    wall = time.perf_counter() - started
    assert all(r["status"] == "mixed" for r in results), [r["reason"] for r in results]
    started = time.perf_counter()
    again = run_batch(sessions, str(out), workers=workers)
    resume = time.perf_counter() - started
    assert all(r["status"] == "skipped" for r in again)
    return wall, steady_rate(finished, workers), resume, results, cpu["workers"]


class OtherLoad:
    """How much of the machine's CPU time other programs took, from now until :meth:`share`."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.start = (self._busy(), self._mine(), time.perf_counter())

    @staticmethod
    def _busy() -> float:
        import psutil

        t = psutil.cpu_times()
        return t.user + t.nice + t.system + sum(getattr(t, k, 0.0) for k in ("irq", "softirq", "steal"))

    def _mine(self) -> float:
        t = self.me.cpu_times()  # children: the worker processes, counted once they have been waited for
        return t.user + t.system + t.children_user + t.children_system

    def share(self) -> float:
        busy, mine, wall = self._busy(), self._mine(), time.perf_counter()
        capacity = (wall - self.start[2]) * (os.cpu_count() or 1)
        return max(0.0, (busy - self.start[0]) - (mine - self.start[1])) / capacity


def machine() -> str:
    import dask
    import distributed
    import numpy
    import pedalboard
    import scipy

    import workbench

    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return (f"- Machine: {os.cpu_count()} CPUs (`nproc` {len(os.sched_getaffinity(0))}), {cpu}, "
            f"{mem_kib / 2**20:.1f} GiB RAM, {platform.system()} {platform.release()}\n"
            f"- Versions: Python {platform.python_version()}, Mixing Workbench {workbench.__version__}, "
            f"dask {dask.__version__}, distributed {distributed.__version__}, "
            f"pedalboard {pedalboard.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--stems", type=int, default=6, choices=range(1, len(STEM_NAMES) + 1))
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="4 sessions × 4 stems × 5 s, 1 repeat")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "batch.md"))
    args = p.parse_args()
    if args.quick:
        args.sessions, args.stems, args.seconds, args.repeats = 4, 4, 5.0, 1

    others = OtherLoad()
    work = Path(tempfile.mkdtemp(prefix="bench_batch."))
    try:
        sessions = make_sessions(work / "sessions", args.sessions, args.stems, args.seconds)
        rows = {}
        # Interleaved (serial, 1, 2, serial, 1, 2...) so that other load, if any, hits all alike.
        serial, runs_by = [], {1: [], 2: []}
        for _ in range(args.repeats):
            serial.append(in_process(sessions, work))
            for workers in (1, 2):
                runs_by[workers].append(batch(sessions, work, workers))
        rows["in-process loop (no Dask)"] = summarise([(w, r, None, None, c) for w, r, c in serial])
        for workers, runs in runs_by.items():
            rows[f"batch, {workers} worker{'s' if workers > 1 else ''}"] = summarise(runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    others_share = others.share()
    n = args.sessions
    base = rows["batch, 1 worker"]
    lines = [
        "# Batch mixing throughput", "",
        f"{n} sessions × {args.stems} mono stems × {args.seconds:g} s (seeded, `tests/synth.py`), "
        f"44.1 kHz 16-bit; {args.repeats} run(s) of each, interleaved, each with an empty analysis cache and "
        "output folder. Best run first, median in brackets.", "",
        "Command: `python benchmarks/bench_batch.py"
        + (" --quick" if args.quick else
           f" --sessions {n} --stems {args.stems} --seconds {args.seconds:g} --repeats {args.repeats}") + "`",
        "", machine(),
        f"- Other programs used {others_share:.0%} of the machine's CPU time during the run "
        "(all CPU time counted in /proc/stat minus this benchmark's and its workers'); the figures describe "
        "an idle machine only when this is near 0. The best run is the least disturbed one.", "",
        "| run | wall (s) | sessions/min | steady sessions/min | vs 1 worker (steady) "
        "| s per session | CPU s per session | re-run, all skipped (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(pair, fmt="{:.1f}") -> str:
        return "" if pair[0] is None else f"{fmt.format(pair[0])} ({fmt.format(pair[1])})"

    for name, r in rows.items():
        rate = (n / r["wall"][0] * 60, n / r["wall"][1] * 60)
        lines.append(
            f"| {name} | {cell(r['wall'])} | {cell(rate)} | {cell(r['steady'])} "
            f"| {r['steady'][0] / base['steady'][0]:.2f}× | {cell(r['per_session'], '{:.2f}')} "
            f"| {r['cpu'][1] / n:.2f} | {cell(r['resume'])} |")
    busy = max(c / w for w, _, c in serial)  # CPUs one mix keeps busy: best in-process run
    cpus = os.cpu_count() or 1
    two, one = rows["batch, 2 workers"], rows["batch, 1 worker"]
    lines += ["", f"**Scaling.** 2 workers against 1: {two['steady'][0] / one['steady'][0]:.2f}× the steady "
              f"rate, {one['wall'][0] / two['wall'][0]:.2f}× on wall time (best runs). One mix on its own keeps "
              f"{busy:.1f} of the {cpus} CPUs busy on average (in-process CPU time over wall time: its stems are "
              f"processed in threads, and pedalboard releases the GIL), so on an idle machine a second worker "
              f"can add at most about {min(cpus / busy, 2.0):.1f}×; more workers than CPUs / {busy:.1f} only "
              "queue. On a batch this short the local cluster's start and stop (worker processes importing "
              "the workbench) is a large part of the wall time; the steady rate is what a long batch reaches.",
              "", "Dask's nanny starts workers with `MALLOC_TRIM_THRESHOLD_=65536`, which switches off glibc's "
              "dynamic mmap threshold; `mix_one` sets the thresholds back (`workbench.batch._tune_malloc`). "
              "Without that, a 6-stem × 20 s mix in a worker took 2.3× the CPU time of the same mix in an "
              "ordinary process (13× the page faults)."]
    lines += ["", "*Wall* runs from the `run_batch` call to its return: local cluster start, worker warm-up "
              "(imports), the mixes, `summary.csv`/`summary.json`, cluster stop; *sessions/min* = sessions / "
              "wall × 60. *Steady* counts the sessions finished after the first round (one session per worker) "
              "over the time they took: the rate a long batch converges to, without start-up. *s per session*: "
              "median time of one session's task. *CPU s per session* (median run): user + system time of the "
              "process(es) that mixed (in-process: this process's threads; batch: the worker processes, "
              "including their start-up and warm-up imports) divided by the number of sessions.", ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
