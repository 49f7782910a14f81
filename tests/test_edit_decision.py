"""edit_decision: one decision changed, the reason marked, the plan still validated and rendered."""

from __future__ import annotations

import pytest

from workbench.analysis import analyse
from workbench.errors import WorkbenchError
from workbench.mixing.edit import EDITED_PREFIX, edit_decision
from workbench.mixing.plan import PlanError
from workbench.mixing.planner import plan_mix
from workbench.mixing.settings import MixSettings
from workbench.session import load_session

from .conftest import tone, write

SECONDS = 1.5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_edit")
    write(folder, "Bass.wav", tone(SECONDS, 55.0, -10.0))
    write(folder, "Lead Vocal.wav", tone(SECONDS, 440.0, -14.0, seed=1))
    session = load_session(folder)
    return plan_mix(session, analyse(session), MixSettings())


def test_gain_edit_changes_one_decision_and_marks_reason(tiny):
    stem = next(iter(tiny.stems))
    before = tiny.stems[stem].gain_db
    old_reason = tiny.stems[stem].gain_reason
    edited = edit_decision(tiny, stem, "gain_db", before - 3.0)
    assert edited.stems[stem].gain_db == pytest.approx(before - 3.0)
    assert edited.stems[stem].gain_reason.startswith(EDITED_PREFIX)
    assert old_reason in edited.stems[stem].gain_reason
    # the original is untouched, and nothing else changed
    assert tiny.stems[stem].gain_db == before
    assert tiny.stems[stem].gain_reason == old_reason
    assert edited.to_dict()["stems"] != tiny.to_dict()["stems"]
    for other in tiny.stems:
        if other != stem:
            assert edited.stems[other] == tiny.stems[other]
    assert edited.master == tiny.master
    # the edit shows up in the decision table
    rows = [r for r in edited.decisions() if r[0] == stem and r[1].startswith("gain")]
    assert rows and rows[0][2].startswith(EDITED_PREFIX)


def test_pan_and_compressor_and_eq_edits(tiny):
    stem = next(iter(tiny.stems))
    edited = edit_decision(tiny, stem, "pan", -0.5)
    assert edited.stems[stem].pan == -0.5
    assert EDITED_PREFIX in edited.stems[stem].pan_reason
    with_comp = [n for n, s in tiny.stems.items() if s.compressor is not None]
    if with_comp:
        e = edit_decision(tiny, with_comp[0], "compressor.ratio", 6.0)
        assert e.stems[with_comp[0]].compressor.ratio == 6.0
        assert e.stems[with_comp[0]].compressor.reason.startswith(EDITED_PREFIX)
    with_eq = [n for n, s in tiny.stems.items() if s.eq]
    assert with_eq, "the planner gives at least one stem an EQ band (high-pass)"
    e = edit_decision(tiny, with_eq[0], "eq[0].freq_hz", 123.0)
    assert e.stems[with_eq[0]].eq[0].freq_hz == 123.0
    assert e.stems[with_eq[0]].eq[0].reason.startswith(EDITED_PREFIX)


def test_out_of_range_value_is_refused_naming_the_field(tiny):
    stem = next(iter(tiny.stems))
    with pytest.raises(PlanError) as info:
        edit_decision(tiny, stem, "pan", 3.0)
    assert "pan" in str(info.value)
    # refused edit leaves the plan as it was
    assert tiny.stems[stem].pan != 3.0


def test_unknown_stem_or_field_is_a_clear_error(tiny):
    stem = next(iter(tiny.stems))
    with pytest.raises(WorkbenchError) as info:
        edit_decision(tiny, "Nope", "gain_db", 0.0)
    assert "Nope" in str(info.value) and stem in str(info.value)
    with pytest.raises(WorkbenchError) as info:
        edit_decision(tiny, stem, "loudness", 0.0)
    assert "loudness" in str(info.value) and "gain_db" in str(info.value)
    with pytest.raises(WorkbenchError) as info:
        edit_decision(tiny, stem, "eq[9].gain_db", 1.0)
    assert "eq[9]" in str(info.value)


