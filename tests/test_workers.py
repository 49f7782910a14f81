"""Per-stem work side by side (workbench/workers.py): processes, threads, in the caller."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from workbench import workers


def _square(i: int) -> int:
    if i == 3:
        raise ValueError("stem 3 is broken")
    return i * i


@pytest.mark.parametrize("n_workers", [1, 2])
def test_every_job_reports_once_with_its_own_result_or_error(n_workers, monkeypatch):
    monkeypatch.setattr(workers, "PROCESS_MIN_SECONDS", float("inf"))   # threads in this test process
    seen = {}
    for i, fut in workers.run_each(_square, [(i,) for i in range(6)], workers=n_workers):
        seen[i] = fut.exception() or fut.result()
    assert sorted(seen) == list(range(6))
    assert isinstance(seen.pop(3), ValueError)
    assert seen == {i: i * i for i in (0, 1, 2, 4, 5)}


def test_processes_only_for_long_jobs_in_a_single_threaded_caller(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert workers.use_processes(workers.PROCESS_MIN_SECONDS)
    assert not workers.use_processes(workers.PROCESS_MIN_SECONDS - 1)
    monkeypatch.setattr(threading, "active_count", lambda: 2)    # a Jupyter kernel, a web server
    assert not workers.use_processes(10 * workers.PROCESS_MIN_SECONDS)


_KILLED_WORKER = """
import os, signal
from workbench import workers

PARENT = os.getpid()

def job(i):
    if i == 2 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)      # a worker killed (out of memory...)
    return i * i, os.getpid() == PARENT

workers.PROCESS_MIN_SECONDS = 0.0
out = {i: f.result() for i, f in workers.run_each(job, [(i,) for i in range(6)], seconds=1.0)}
assert {i: r for i, (r, _) in out.items()} == {i: i * i for i in range(6)}, out
assert out[2][1], "the killed job must have been run again in the caller"
print("in caller:", sorted(i for i, (_, here) in out.items() if here))
"""


def test_a_killed_worker_process_does_not_lose_a_job():
    # In a fresh interpreter (no other thread), so the pool really forks.
    res = subprocess.run([sys.executable, "-c", _KILLED_WORKER], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "2" in res.stdout.split("in caller:")[1]


def test_worker_count_comes_from_the_machine():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert workers.machine_workers() == cores
    assert workers.machine_workers(1) == 1
    assert workers.DEFAULT_WORKERS == min(cores, workers.MAX_DEFAULT_WORKERS)


_MIX_WITH_TWO_WORKERS = """
import sys
from workbench import workers
workers.DEFAULT_WORKERS = 2          # two forked workers whatever the machine's core count
from workbench.cli import main
sys.exit(main(["mix", sys.argv[1], "-o", sys.argv[2], "--quiet"]))
"""


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_cli_during_analysis_leaves_no_worker_behind(tmp_path):
    # A session long enough (4 × 40 s) that the checks and the analysis fork worker processes.
    folder = tmp_path / "long"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, name in enumerate(["Kick", "Bass", "Keys", "Lead Vocal"]):
        x = (0.1 * rng.standard_normal(40 * 44100)).astype(np.float32)
        sf.write(str(folder / f"{name}.wav"), x, 44100, subtype="PCM_16")
    cli = subprocess.Popen([sys.executable, "-c", _MIX_WITH_TWO_WORKERS, str(folder), str(tmp_path / "out")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        kids: set[int] = set()
        for _ in range(1200):                 # until the workers are forked (or the run ends)
            kids = _children(cli.pid)
            if len(kids) >= 2 or cli.poll() is not None:
                break
            time.sleep(0.05)
        assert len(kids) >= 2, "the CLI never forked its workers"
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait()
        for _ in range(200):                  # the kernel delivers the workers' SIGKILL at once
            if not any(_alive(k) for k in kids):
                break
            time.sleep(0.05)
        stray = [k for k in kids if _alive(k)]
        for k in stray:
            os.kill(k, signal.SIGKILL)
        assert not stray, f"worker processes {stray} outlived their killed parent"
    finally:
        if cli.poll() is None:
            cli.kill()
    # The next run into the same folder sweeps what the killed one staged (nothing is staged
    # before the render, so there is nothing to sweep here, and no output appeared).
    assert not (tmp_path / "out" / "mix.wav").exists()
