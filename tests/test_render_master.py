"""The master room's gain search (workbench.mixing.render.master.gain_for_target)."""

from __future__ import annotations

import math

import pytest

from workbench.mixing.render.master import MAX_GAIN_STEP_DB, SATURATION_SLOPE, gain_for_target


def test_interpolates_between_the_points_around_the_target():
    curve = [(0.0, -20.0), (4.0, -17.0), (2.0, -18.0)]        # any order
    assert gain_for_target(curve, -17.5) == pytest.approx(3.0)
    assert gain_for_target(curve, -19.0) == pytest.approx(1.0)


def test_extrapolates_at_no_more_than_one_lu_per_db_and_a_bounded_step():
    # Steeper than 1 LU/dB (cannot be: a limiter never adds more loudness than gain) -> slope 1.
    assert gain_for_target([(0.0, -20.0), (1.0, -18.0)], -16.0) == pytest.approx(3.0)
    # Far below the points: the step down is capped.
    assert gain_for_target([(0.0, -20.0), (1.0, -19.0)], -60.0) == pytest.approx(-MAX_GAIN_STEP_DB)
    # Shallow but not saturated: a larger step, still capped.
    shallow = 2 * SATURATION_SLOPE
    assert gain_for_target([(0.0, -10.0), (1.0, -10.0 + shallow)], -9.0) == pytest.approx(
        1.0 + min(MAX_GAIN_STEP_DB, (1.0 - shallow) / shallow))


def test_none_when_the_limiter_is_saturated():
    flat = 0.5 * SATURATION_SLOPE
    assert gain_for_target([(0.0, -8.0), (3.0, -8.0 + 3 * flat)], -6.0) is None
    # ...but a target below the points is still reachable.
    assert gain_for_target([(0.0, -8.0), (3.0, -8.0 + 3 * flat)], -9.0) is not None


def test_silent_points_are_ignored():
    assert gain_for_target([(0.0, -math.inf), (2.0, -20.0), (3.0, -19.0)], -19.5) == pytest.approx(2.5)
    assert gain_for_target([(1.5, -math.inf)], -14.0) == 1.5
