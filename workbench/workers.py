"""Per-stem work side by side: forked worker processes for long jobs, else threads.

Reading, checking, classifying and measuring stems are independent per stem.
Part of that work holds Python's GIL (pyebur128's ``add_frames``, the many
small numpy operations of the checks), so threads overlap only the rest while
processes overlap everything. Processes are used when

- the job is long: at least :data:`PROCESS_MIN_SECONDS` of audio to read —
  forking and pickling results cost about 10–20 ms a worker, which a short
  session would notice;
- the caller runs no other Python thread: forking a process whose other
  threads may hold locks (a Jupyter kernel's, a web server's) can deadlock the
  child, so the dashboard and notebooks get threads;
- the platform can fork (not Windows).

Forked workers inherit the caller's state (imported modules, BLAS limits), so
they start in milliseconds and compute exactly what the caller would. They die
with the caller: on Linux the kernel sends them ``SIGKILL`` when it dies
(``prctl(PR_SET_PDEATHSIG)``, set as each worker starts), and everywhere a
worker whose parent is gone already when it starts exits at once. A ``kill -9``
of ``workbench mix`` during the analysis leaves no process behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any


def machine_workers(limit: int | None = None) -> int:
    """The CPU cores this process may run on (its affinity set where known), at least 1, at most ``limit``."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    n = max(1, n)
    return min(n, limit) if limit else n


#: Most workers per job: past 8, stems read from one disk wait for the disk, and
#: each forked worker holds ~80 MB (measured on a 16-stem analysis). Our choice.
MAX_DEFAULT_WORKERS = 8
#: Workers per job: the cores the machine gives this process (at most :data:`MAX_DEFAULT_WORKERS`).
DEFAULT_WORKERS = machine_workers(MAX_DEFAULT_WORKERS)
#: Audio (s, summed over the stems of one job) from which worker processes pay off.
PROCESS_MIN_SECONDS = 120.0


def use_processes(seconds: float) -> bool:
    """Whether a job reading ``seconds`` of audio should run in forked processes."""
    return (seconds >= PROCESS_MIN_SECONDS and threading.active_count() == 1
            and "fork" in multiprocessing.get_all_start_methods())


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Worker initializer: ask the kernel for SIGKILL when the parent dies; exit if it is gone already."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    # The parent may have died before prctl took effect: then we were re-parented.
    if os.getppid() != parent:
        os._exit(1)


def executor(workers: int, seconds: float) -> Executor:
    """A pool of ``workers`` forked processes or threads for a job (see the module doc).

    Threads as well where the system refuses a process pool (no POSIX
    semaphores, e.g. a container without ``/dev/shm``).
    """
    if use_processes(seconds):
        try:
            return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_die_with_parent, initargs=(os.getpid(),))
        except (OSError, ImportError):
            pass
    return ThreadPoolExecutor(max_workers=workers)


def _in_this_thread(fn: Callable[..., Any], job: tuple) -> Future:
    fut: Future = Future()
    try:
        fut.set_result(fn(*job))
    except Exception as exc:
        fut.set_exception(exc)
    return fut


def run_each(fn: Callable[..., Any], jobs: Sequence[tuple], *, workers: int | None = None,
             seconds: float = 0.0) -> Iterator[tuple[int, Future]]:
    """Run ``fn(*job)`` for every job; yield ``(index, finished future)`` as each ends.

    ``workers`` defaults to :data:`DEFAULT_WORKERS`; ``seconds`` is the audio
    the job reads (it decides between processes and threads).

    ``fn`` must be a module-level function and jobs and results picklable (they
    may cross to a worker process). With one worker or one job everything runs
    in the calling thread (the future is already done). A future's
    ``result()`` re-raises the job's exception; when the caller stops early
    (an exception, ``close()``), jobs not yet started are cancelled. A job
    whose worker process died (killed, out of memory) is run again in the
    calling thread, so that one lost worker does not fail every stem after it.
    """
    workers = DEFAULT_WORKERS if workers is None else int(workers)
    if workers <= 1 or len(jobs) <= 1:
        for i, job in enumerate(jobs):
            yield i, _in_this_thread(fn, job)
        return
    with executor(min(workers, len(jobs)), seconds) as pool:
        futures = {pool.submit(fn, *job): i for i, job in enumerate(jobs)}
        try:
            for fut in as_completed(futures):
                i = futures[fut]
                if not fut.cancelled() and isinstance(fut.exception(), BrokenProcessPool):
                    fut = _in_this_thread(fn, jobs[i])
                yield i, fut
        finally:
            for fut in futures:
                fut.cancel()
