"""Benchmark: stem analysis against the cost of just reading the stems.

Run ``python benchmarks/bench_analysis.py`` (``--quick`` for a 4-stem, 30 s
smoke run). It

1. writes a seeded, deterministic session of 16 stereo 16-bit stems × 3 minutes
   (kick, snare, hats, bass, pads, lead lines, noise bursts... as tones and
   noise with envelopes) into a temporary folder;
2. times, in this one run and on the same warm page cache,
   - the **baseline**: read every file in blocks and sum them into a mix,
   - ``analyse()`` with an empty cache: the default (two forked worker
     processes for a session this long, :mod:`workbench.workers`), two
     threads (what a Jupyter kernel gets) and one worker,
   - ``analyse()`` again (cache hit), and a cache hit that must re-hash the
     files (the stat memo removed);
3. measures peak memory of ``analyse()`` on 3- and 10-minute sessions, each in
   a fresh child process: the largest total PSS of the child and its worker
   processes (``benchmarks/perf.py``'s sampler), next to a child that only
   imports the package and reads the files;
4. prints a markdown table and writes it to ``benchmarks/results/analysis.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 44100
N_STEMS = 16
KINDS = ("kick", "snare", "hats", "bass", "pad", "lead", "noise", "keys")
CHUNK_S = 10.0


# -- test material ---------------------------------------------------------------------

def _chunk(kind: str, seed: int, t: np.ndarray) -> np.ndarray:
    """``(2, n)`` float64 audio of one kind at absolute times ``t`` (s); deterministic."""
    rng = np.random.default_rng([seed, int(t[0] * SR)])  # per-chunk stream, same every run
    n = t.size
    beat = 0.5  # 120 bpm
    if kind == "kick":
        tr = t % beat
        x = np.sin(2 * np.pi * (50 * tr + 2.0 * (1 - np.exp(-tr / 0.02)))) * np.exp(-tr / 0.15)
        return np.stack([x, x])
    if kind == "snare":
        tr = (t - beat) % (2 * beat)
        env = np.exp(-tr / 0.08)
        x = (0.6 * rng.standard_normal(n) + 0.5 * np.sin(2 * np.pi * 180 * t)) * env
        return np.stack([x, x * 0.9])
    if kind == "hats":
        tr = t % (beat / 2)
        noise = np.diff(rng.standard_normal((2, n + 1)), axis=1)
        return 0.3 * noise * np.exp(-tr / 0.03)
    if kind == "bass":
        notes = np.array([41.2, 55.0, 61.7, 73.4, 82.4, 98.0])
        idx = ((t // beat).astype(int) * 7 + seed) % notes.size
        f = notes[idx]
        tr = t % beat
        ph = 2 * np.pi * f * t
        x = (np.sin(ph) + 0.4 * np.sin(2 * ph) + 0.2 * np.sin(3 * ph)) * np.minimum(tr / 0.01, 1) * np.exp(-tr / 0.6)
        return np.stack([x, x])
    if kind == "pad":
        chord = 4.0
        root = np.array([220.0, 196.0, 174.6, 246.9])[((t // chord).astype(int) + seed) % 4]
        lfo = 0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t)
        left = sum(np.sin(2 * np.pi * root * r * t) for r in (1.0, 1.26, 1.5))
        right = sum(np.sin(2 * np.pi * root * r * 1.003 * t + 0.5) for r in (1.0, 1.26, 1.5))
        return np.stack([left, right]) * lfo / 3
    if kind == "lead":
        on = (t % 3.0) < 2.0  # 2 s phrases, 1 s rests
        f = 440.0 * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
        ph = 2 * np.pi * np.cumsum(f) / SR
        x = (np.sin(ph) + 0.3 * np.sin(2 * ph) + 0.1 * np.sin(3 * ph)) * on
        x *= 1 + 0.05 * rng.standard_normal(n)
        return np.stack([x, 0.8 * x])
    if kind == "noise":
        gate = np.repeat(rng.random(int(np.ceil(n / 4410)) + 1) < 0.3, 4410)[:n]
        return rng.standard_normal((2, n)) * gate * 0.3
    if kind == "keys":
        tr = t % (beat / 2)
        f = np.array([261.6, 329.6, 392.0, 523.3])[((t // (beat / 2)).astype(int) + seed) % 4]
        x = np.sin(2 * np.pi * f * t) * np.exp(-tr / 0.2)
        return np.stack([x, 0.7 * x + 0.3 * np.roll(x, 300)])
    raise ValueError(kind)


def make_session(folder: Path, *, minutes: float, n_stems: int = N_STEMS) -> list[Path]:
    """Write ``n_stems`` stereo 16-bit stems of ``minutes`` into ``folder`` (deterministic)."""
    folder.mkdir(parents=True, exist_ok=True)
    total = int(round(minutes * 60 * SR))
    paths = []
    for i in range(n_stems):
        kind = KINDS[i % len(KINDS)]
        gain = 10 ** (-(3 + (i * 5) % 18) / 20)  # peaks from −3 to −20 dBFS
        path = folder / f"{i + 1:02d} {kind.title()} {i // len(KINDS) + 1}.wav"
        with sf.SoundFile(str(path), "w", SR, 2, subtype="PCM_16", format="WAV") as f:
            for start in range(0, total, int(CHUNK_S * SR)):
                n = min(int(CHUNK_S * SR), total - start)
                t = (start + np.arange(n)) / SR
                x = _chunk(kind, i, t)
                f.write(np.clip(x * gain, -1, 1).T.astype(np.float32))
        paths.append(path)
    return paths


# -- measurements ------------------------------------------------------------------------

def baseline(paths: list[Path]) -> float:
    """Read every file in blocks, in lockstep, and sum them into a mix block by block."""
    from workbench.audio_io import iter_blocks

    readers = [iter_blocks(p) for p in paths]
    total = 0.0
    while True:
        mix = None
        for r in readers:
            block = next(r, None)
            if block is None:
                continue
            mix = block.copy() if mix is None else mix + block
        if mix is None:
            break
        total += float(mix[0, 0])
    return total


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """Wall time of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its finished worker processes."""
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def best_of(n: int, fn, *args, **kwargs) -> tuple[float, float]:
    """Best wall time and the CPU time (all threads and worker processes) of that run."""
    best = (math.inf, math.inf)
    for _ in range(n):
        c0, t0 = _cpu(), time.perf_counter()
        fn(*args, **kwargs)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        if wall < best[0]:
            best = (wall, cpu)
    return best


def components(path: Path) -> dict[str, float]:
    """CPU seconds of each part of one stem's analysis (single thread, best of 3)."""
    from workbench import audio_io
    from workbench.analysis import features, loudness, spectrum

    def cpu(fn) -> float:
        best = math.inf
        for _ in range(3):
            c0 = time.process_time()
            fn()
            best = min(best, time.process_time() - c0)
        return best

    blocks = list(audio_io.iter_blocks(path))
    L = spectrum.frame_length(SR)
    n = sum(b.shape[1] for b in blocks)

    def meter():
        m = loudness.LoudnessMeter(2, SR, frame_length=L)
        for b in blocks:
            m.push(b)
        return m.finish()

    def bands():
        acc = spectrum.BandPowerAccumulator(SR)
        for b in blocks:
            acc.push(features._mono_fold(b))
        acc.finish()

    def sums():
        f = features._FrameSums(2, L)
        for b in blocks:
            f.push(b)
        f.finish()

    metered = meter()
    peaks = metered.frame_peak

    def tp():
        return loudness.true_peak(lambda s, k: audio_io.iter_blocks(path, start=s, frames=k), peaks,
                                  frame_curvature=metered.frame_curvature,
                                  frame_length=L, n_samples=n, channels=2, sample_rate=SR)

    with features.blas_single_thread():
        out = {
            "read (16-bit → float32 blocks)": cpu(lambda: [b for b in audio_io.iter_blocks(path)]),
            "loudness meter (libebur128 K-weighting + gating)": cpu(meter),
            "band power (mono fold + STFT, spectrum.py)": cpu(bands),
            "per-frame sums (RMS, activity, stereo)": cpu(sums),
            "true-peak pass (re-read + 4× oversampling)": cpu(tp),
            "whole `analyse_stem`": cpu(lambda: features.measure_stem(path, sample_rate=SR)),
        }
    out["frames oversampled for true peak"] = tp()[1] / peaks.size
    return out


def child_main(args: argparse.Namespace) -> None:
    """Inside a child process: ``--child analyse|read FOLDER``."""
    what, folder = args.child
    from workbench.analysis import analyse
    from workbench.session import load_session

    session = load_session(folder, check_audio=False)
    if what == "analyse":
        analyse(session, cache=False)
    elif what == "analyse+masking":
        analyse(session, cache=False).masking
    else:
        baseline([s.path for s in session.mixable_stems])


def peak_memory_mib(what: str, folder: Path) -> float:
    """Peak PSS (MiB) of a child running ``what`` and its worker processes."""
    from perf import run_sampled

    code, _, err, peak = run_sampled([sys.executable, __file__, "--child", what, str(folder)])
    if code != 0:
        raise RuntimeError(f"{what} failed:\n{err}")
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 stems × 30 s, no 10-minute run")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "analysis.md"))
    args = parser.parse_args()
    if args.child:
        return child_main(args)

    from workbench import workers
    from workbench.analysis import analyse
    from workbench.session import load_session

    n_stems = 4 if args.quick else N_STEMS
    minutes = 0.5 if args.quick else 3.0
    tmp = Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    rows: list[tuple[str, str]] = []
    try:
        t_gen, paths = timed(make_session, tmp / "short", minutes=minutes, n_stems=n_stems)
        session = load_session(tmp / "short", check_audio=False)
        assert len(session.mixable_stems) == n_stems
        audio_s = n_stems * minutes * 60
        cache = tmp / "cache"

        load_before = os.getloadavg()
        baseline(paths)  # warm the page cache and the imports
        base_wall, base_cpu = best_of(3, baseline, paths)
        one_wall, one_cpu = best_of(2, analyse, session, cache=False, workers=1)
        caches = iter(range(100))

        def cold():
            return analyse(session, cache_dir=cache / f"run{next(caches)}")

        two_wall, two_cpu = best_of(2, cold)
        uses_processes = workers.use_processes(audio_s)
        min_s = workers.PROCESS_MIN_SECONDS
        workers.PROCESS_MIN_SECONDS = math.inf            # what a caller with other threads gets
        thr_wall, thr_cpu = best_of(2, cold)
        workers.PROCESS_MIN_SECONDS = min_s
        t_hit, again = timed(analyse, session, cache_dir=cache / "run0")
        mask_wall, mask_cpu = best_of(2, lambda: analyse(session, cache_dir=cache / "run0").masking)
        result = analyse(session, cache=False)
        shutil.rmtree(cache / "run0" / "files", ignore_errors=True)  # forget the stat memo
        t_hash, _ = timed(analyse, session, cache_dir=cache / "run0")
        assert all(a == b for a, b in zip(result.stems, again.stems))
        assert np.array_equal(result.band_power, again.band_power)
        tp = [s.true_peak_dbtp - s.sample_peak_dbfs for s in result.stems]
        parts = components(paths[3])
        load_after = os.getloadavg()

        rows += [
            ("session", f"{n_stems} stereo 16-bit stems × {minutes:g} min at {SR} Hz "
                        f"({audio_s / 60:.0f} min of audio, "
                        f"{sum(p.stat().st_size for p in paths) / 1e6:.0f} MB)"),
            ("baseline: read all files in blocks and sum (1 thread)", f"{base_wall:.2f} s (CPU {base_cpu:.2f} s)"),
            (f"`analyse()`, empty cache, default: 2 workers "
             f"({'forked processes' if uses_processes else 'threads'})", f"{two_wall:.2f} s (CPU {two_cpu:.2f} s)"),
            ("`analyse()`, empty cache, 2 threads (a caller running other threads, e.g. Jupyter)",
             f"{thr_wall:.2f} s (CPU {thr_cpu:.2f} s)"),
            ("`analyse()`, no cache, 1 worker", f"{one_wall:.2f} s (CPU {one_cpu:.2f} s)"),
            ("**ratio analyse (default) / baseline** (target ≤ 2×)", f"**{two_wall / base_wall:.1f}×**"),
            ("ratio of CPU time, analyse / baseline", f"{two_cpu / base_cpu:.1f}×"),
            ("speed-up 1 → 2 workers (default; threads)", f"{one_wall / two_wall:.2f}×; {one_wall / thr_wall:.2f}×"),
            ("`analyse()` again, cache hit", f"{t_hit * 1000:.0f} ms"),
            ("cache hit with the stat memo removed (re-hash every file)", f"{t_hash * 1000:.0f} ms"),
            ("cache hit + first read of `.masking` (16×16 masking, masking.py)",
             f"{mask_wall:.2f} s (CPU {mask_cpu:.2f} s)"),
            ("analysis throughput (audio time / wall time)", f"{audio_s / two_wall:.0f}× real time"),
            ("true peak − sample peak over the stems (dB)", f"{min(tp):.2f} … {max(tp):.2f}"),
            ("load average (1 min) before / after the timings", f"{load_before[0]:.1f} / {load_after[0]:.1f}"),
        ]
        part_rows = [(k, f"{v:.3f} s" if not k.startswith("frames") else f"{v:.0%}") for k, v in parts.items()]
        keys = list(parts)
        read_s, meter_s, bands_s, tp_s = (parts[keys[0]], parts[keys[1]], parts[keys[2]], parts[keys[4]])
        per_stem_samples = minutes * 60 * SR

        # Peak memory: 3 and 10 minute sessions, each in its own child process.
        mem_minutes = [0.5, 1.0] if args.quick else [3.0, 10.0]
        for m in mem_minutes:
            folder = tmp / f"mem{m:g}"
            make_session(folder, minutes=m, n_stems=n_stems)
            read_mib = peak_memory_mib("read", folder)
            an_mib = peak_memory_mib("analyse", folder)
            mask_mib = peak_memory_mib("analyse+masking", folder)
            frames = int(np.ceil(m * 60 * SR / 4096))
            per_frame_mib = n_stems * frames * (40 * 4 + 4 + 1) / 2**20
            rows.append((f"peak memory (PSS, with workers), {n_stems} stems × {m:g} min: read+sum / `analyse()` / "
                         f"`analyse().masking`",
                         f"{read_mib:.0f} / {an_mib:.0f} / {mask_mib:.0f} MiB "
                         f"(per-frame arrays ≈ {per_frame_mib:.1f} MiB)"))
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    import numpy, pyebur128, scipy  # noqa: E401 - versions for the record
    env = (f"Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, "
           f"pyebur128 {pyebur128.__version__}; {os.cpu_count()} CPUs ({platform.machine()})")
    table = ["| measure | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    parts_table = ["| part (CPU time, one stereo stem, 1 thread) | time |", "|---|---|"] + [
        f"| {a} | {b} |" for a, b in part_rows]
    text = "\n".join([
        "# Analysis benchmark", "",
        f"`python benchmarks/bench_analysis.py{' --quick' if args.quick else ''}` — {env}; "
        f"generating the test session took {t_gen:.1f} s.", "",
        *table, "",
        f"Where the time of one {minutes:g}-minute stem goes (`{paths[3].name}`, a sustained stem; the "
        "true-peak pass oversamples only the frames that both the interpolator's worst-case gain (5.4 dB) "
        "and the frame's curvature bound allow to hold the true peak, see `loudness.py`):", "",
        *parts_table, "",
        "Reading the numbers:", "",
        f"- Reading a 16-bit WAV into float32 costs ~{read_s * 1e9 / per_stem_samples:.0f} ns per "
        "stereo sample frame; every per-sample computation the analysis must do costs more than "
        f"that on its own: K-weighting ({meter_s / read_s:.1f}× the read), the STFT band power "
        f"({bands_s / read_s:.1f}×), 4× oversampling for true peak (up to {tp_s / read_s:.1f}× on "
        "sustained stems). The ≤ 2× target is below the cost of these parts, so it cannot hold "
        "without dropping a measurement; the ratio of CPU time is the load-independent figure.",
        "- pyebur128's `add_frames` holds the GIL, so the loudness meter of two stems cannot run "
        "side by side in threads; the rest (file reads, FFTs, BLAS, large numpy operations) "
        "releases it. Forked worker processes (the default for long sessions in a single-threaded "
        "caller, `workbench/workers.py`) run everything side by side.",
        "- Wall times depend on what else the machine runs: see the load average row (2 CPUs).",
        "- Peak memory grows with session length only through the per-frame arrays (and the "
        "masking's intermediates, which are proportional to stems × bands × frames); a stem's "
        "audio is never held whole.",
        "",
    ])
    print(text)
    if not args.quick:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)


if __name__ == "__main__":
    main()
