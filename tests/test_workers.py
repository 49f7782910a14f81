"""Per-stem work side by side (workbench/workers.py): processes, threads, in the caller."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

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
