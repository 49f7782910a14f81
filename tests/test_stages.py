"""The one helper behind the renderer's overlapping stages (workbench.stages.pipelined)."""

from __future__ import annotations

import threading

import pytest

from workbench.stages import THREAD_PREFIX, pipelined

#: Longest a test waits for another stage's thread to reach a point (a
#: deadlock guard only: the assertions hold however fast the machine is).
WAIT_S = 10.0


def _stage_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def test_results_in_order_and_each_stage_in_series():
    """Every item goes through every stage in order; a stateful stage sees the items one by one."""
    seen: list[list[int]] = [[], [], []]
    busy = [0, 0, 0]
    most = [0, 0, 0]
    lock = threading.Lock()

    def stage(k):
        def run(x):
            with lock:
                busy[k] += 1
                most[k] = max(most[k], busy[k])
            seen[k].append(x)
            total = sum(seen[k])          # state carried from item to item
            with lock:
                busy[k] -= 1
            return x if k < 2 else (x, total)
        return run

    out = list(pipelined(range(50), [stage(0), stage(1), stage(2)]))
    assert out == [(i, i * (i + 1) // 2) for i in range(50)]
    assert seen == [list(range(50))] * 3
    assert most == [1, 1, 1]


def test_stages_overlap():
    """Stage 0 works on item 1 while stage 1 still works on item 0 (a series run would deadlock here)."""
    second_started = threading.Event()
    overlapped = []

    def first(x):
        if x == 1:
            second_started.set()
        return x

    def second(x):
        if x == 0:
            overlapped.append(second_started.wait(WAIT_S))
        return x

    assert list(pipelined(range(3), [first, second])) == [0, 1, 2]
    assert overlapped == [True]


def test_nothing_runs_more_than_one_item_ahead():
    """When the caller gets item i, no stage has started beyond item i + number of stages."""
    pulled: list[int] = []
    started: list[int] = []
    lock = threading.Lock()

    def source():
        for i in range(30):
            pulled.append(i)
            yield i

    def stage(x):
        with lock:
            started.append(x)
        return x

    stages = [stage, lambda x: x, lambda x: x]
    for i in pipelined(source(), stages):
        assert max(pulled) <= i + len(stages)
        with lock:
            assert max(started) <= i + len(stages)
    assert pulled == list(range(30))


def test_an_exception_reaches_the_caller_after_the_items_before_it():
    def boom(x):
        if x == 3:
            raise RuntimeError("stage failed on 3")
        return x

    got = []
    with pytest.raises(RuntimeError, match="stage failed on 3"):
        for y in pipelined(range(10), [lambda x: x, boom, lambda x: x]):
            got.append(y)
    assert got == [0, 1, 2]
    assert _stage_threads() == []


def test_an_exception_from_the_items_reaches_the_caller_in_order():
    def source():
        yield 0
        yield 1
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for y in pipelined(source(), [lambda x: x * 2, lambda x: x + 1]):
            got.append(y)
    assert got == [1, 3]
    assert _stage_threads() == []


def test_threads_are_joined_when_done_or_abandoned():
    assert list(pipelined([], [lambda x: x])) == []
    assert list(pipelined(range(5), [lambda x: x, lambda x: x])) == list(range(5))
    assert _stage_threads() == []
    gen = pipelined(range(100), [lambda x: x, lambda x: x])
    assert next(gen) == 0
    assert _stage_threads() != []          # running while the caller holds the generator
    gen.close()                            # the caller stops early
    assert _stage_threads() == []


def test_needs_a_stage():
    with pytest.raises(ValueError, match="at least one stage"):
        list(pipelined(range(3), []))
