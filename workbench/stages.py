"""Stages that overlap: stage N + 1 works on one item while stage N works on the next.

The renderer streams audio in blocks through a few steps (process the stems,
sum them, run the bus; or limit, then dither and write). Each step is
sequential over the blocks (a compressor or a limiter carries its state from
block to block) but the steps are independent of one another, and numpy,
scipy and pedalboard release the GIL, so running them side by side — block
b + 1 in the first step while block b is in the second — shortens the render
without changing a sample. :func:`pipelined` is that schedule, once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .errors import ParameterError

#: Name prefix of the threads :func:`pipelined` starts (one per stage).
THREAD_PREFIX = "workbench-stage"


def pipelined(items: Iterable[Any], stages: Sequence[Callable[[Any], Any]]) -> Iterator[Any]:
    """``stages[-1](… stages[0](item))`` for every item, in order, the stages overlapping.

    Each stage runs in a thread of its own and takes its items one after
    another, in order, so a stateful stage computes exactly what it computes in
    series. While the caller handles the result of item *i*, the last stage
    works on item *i* + 1, the one before it on item *i* + 2, and so on: every
    stage holds at most one item, and ``items`` is read (in the caller's
    thread) only as the first stage becomes free.

    Parameters
    ----------
    items : iterable
        The inputs of the first stage (read lazily).
    stages : sequence of callable
        One-argument functions; each one's result is the next one's input.

    Yields
    ------
    object
        The last stage's result for each item, in the order of ``items``.

    Raises
    ------
    Exception
        The first exception a stage (or ``items``) raises, once the items
        before it have been yielded; the other stages finish the one item they
        hold and nothing more is started. Every thread is joined when the
        generator ends, raises or is closed.

    Examples
    --------
    >>> list(pipelined(range(4), [lambda x: x + 1, lambda x: 10 * x]))
    [10, 20, 30, 40]
    """
    stages = list(stages)
    if not stages:
        raise ParameterError("pipelined needs at least one stage")
    with contextlib.ExitStack() as stack:
        pools = [stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{THREAD_PREFIX}-{k}"))
                 for k in range(len(stages))]
        # held[k]: stage k's result for the item it holds (a future), or None.
        held: list[Future | None] = [None] * len(stages)
        source = iter(items)
        exhausted = False
        try:
            while True:
                done = held[-1]
                held[-1] = None
                # Every item moves one stage on; stage k starts on it once stage k - 1 is done
                # with it (a failure travels down the stages to the caller, in order).
                for k in range(len(stages) - 1, 0, -1):
                    previous = held[k - 1]
                    if previous is not None:
                        held[k - 1] = None
                        held[k] = pools[k].submit(_after, stages[k], previous)
                if not exhausted:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                    except Exception as e:          # raised in order, after the items before it
                        exhausted = True
                        failed: Future = Future()
                        failed.set_exception(e)
                        held[0] = failed
                    else:
                        held[0] = pools[0].submit(stages[0], item)
                if done is not None:
                    yield done.result()
                elif exhausted and all(f is None for f in held):
                    return
        finally:
            for f in held:
                if f is not None:
                    f.cancel()


def _after(stage: Callable[[Any], Any], previous: Future) -> Any:
    return stage(previous.result())
