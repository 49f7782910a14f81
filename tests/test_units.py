"""Units (dB conversions) and importance levels, each defined once."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

import workbench
from workbench import units
from workbench.importance import IMPORTANCE_LEVELS, IMPORTANCE_RANK, check_importance
from workbench.mixing.rules import dynamics, gain, pan, space

PACKAGE = Path(workbench.__file__).parent


@pytest.mark.parametrize("db", [-60.0, -6.0, 0.0, 3.5, 20.0])
def test_db_conversions_invert_each_other(db):
    assert units.amp_to_db(units.db_to_amp(db)) == pytest.approx(db, abs=1e-12)
    assert units.power_to_db(units.db_to_power(db)) == pytest.approx(db, abs=1e-12)
    assert units.db_to_power(db) == pytest.approx(units.db_to_amp(db) ** 2, rel=1e-12)


def test_the_usual_figures():
    assert units.amp_to_db(0.5) == pytest.approx(-6.0206, abs=1e-4)          # half amplitude
    assert units.power_to_db(2.0) == pytest.approx(3.0103, abs=1e-4)          # two equal powers
    assert units.power_sum_db([-20.0, -20.0]) == pytest.approx(-16.9897, abs=1e-4)
    assert units.amp_to_db(0.0) == -math.inf and units.power_to_db(0.0) == -math.inf
    assert units.power_to_db(0.0, floor=True) == pytest.approx(-200.0)


def test_arrays_keep_their_precision_and_silence_gives_minus_infinity_without_warnings():
    x = np.array([1.0, 0.1, 0.0], dtype=np.float32)
    with np.errstate(all="raise"):
        db = units.amp_to_db(x)
        p = units.power_to_db(x, floor=True)
    assert db.dtype == np.float32 and db[0] == 0.0 and db[2] == -np.inf
    assert p[2] == pytest.approx(-200.0)
    assert units.db_to_power(np.array([0.0, -10.0], np.float32)).dtype == np.float32
    np.testing.assert_allclose(units.db_to_amp([0.0, -20.0]), [1.0, 0.1])


# ------------------------------------------------------------------ importance
@pytest.mark.parametrize("table", [gain.IMPORTANCE_OFFSET_LU, dynamics.GAIN_REDUCTION_DB, space.IMPORTANCE_SEND_DB,
                                   pan.IMPORTANCE_SPREAD])
def test_every_importance_table_covers_the_levels(table):
    assert set(table) == set(IMPORTANCE_LEVELS)


def test_the_levels_are_ordered_and_checked():
    assert [IMPORTANCE_RANK[lv] for lv in IMPORTANCE_LEVELS] == [0, 1, 2]
    assert check_importance("high", "Kick.wav") == "high"
    with pytest.raises(workbench.WorkbenchError) as e:
        check_importance("High", "Kick.wav")
    assert e.value.code == "bad_importance" and "Kick.wav" in e.value.message


def test_the_levels_are_spelt_out_in_one_module_only():
    wanted = set(IMPORTANCE_LEVELS)
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "importance.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if set(values) == wanted and len(values) == 3:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
            if isinstance(node, ast.Dict) and {getattr(k, "value", None) for k in node.keys} == wanted \
                    and all(isinstance(v, ast.Constant) and isinstance(v.value, int) for v in node.values):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} (a rank table)")
    assert not found
