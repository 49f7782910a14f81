"""The mix plan refuses what it cannot render: hand edits are checked field by field, and a fuzz of
hand-edited plans either is refused with a WorkbenchError or renders a sane mix."""

from __future__ import annotations

import copy
import json
import math
import os
import pickle

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.analysis import analyse
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.mixing.plan import Compressor, EQBand, MasterPlan, MixPlan, PlanError, ReverbBus, StemPlan
from workbench.mixing.planner import plan_mix
from workbench.mixing.settings import MixSettings
from workbench.pipeline import render_plan
from workbench.session import load_session

from .conftest import SR, tone, write

SECONDS = 1.5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A two-stem, 1.5 s session, its analysis and the plan the planner makes for it."""
    folder = tmp_path_factory.mktemp("tiny")
    write(folder, "Bass.wav", tone(SECONDS, 55.0, -10.0))
    write(folder, "Lead Vocal.wav", tone(SECONDS, 440.0, -14.0, seed=1))
    session = load_session(folder)
    plan = plan_mix(session, analyse(session), MixSettings())
    return session, plan


def _edit(d: dict, path: tuple, value) -> dict:
    d = copy.deepcopy(d)
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return d


def _load(d: dict) -> MixPlan:
    # Through JSON text as a user's file would be (Python's json writes NaN/Infinity and reads them back).
    return MixPlan.from_json(json.dumps(d, allow_nan=True))


# ------------------------------------------------------------------ single edits of the issue

BAD_EDITS = [
    (("stems", "Bass", "gain_db"), 1000, 'stems["Bass"].gain_db', "-100 to 60 dB"),
    (("stems", "Bass", "gain_db"), math.nan, 'stems["Bass"].gain_db', "NaN"),
    (("stems", "Bass", "gain_db"), math.inf, 'stems["Bass"].gain_db', "Infinity"),
    (("stems", "Bass", "gain_db"), None, 'stems["Bass"].gain_db', "null"),
    (("stems", "Bass", "gain_db"), "3", 'stems["Bass"].gain_db', "not a number"),
    (("stems", "Bass", "mute"), "false", 'stems["Bass"].mute', "true or false"),
    (("stems", "Bass", "mute"), 0, 'stems["Bass"].mute', "true or false"),
    (("stems", "Bass", "pan"), 1.5, 'stems["Bass"].pan', "-1 to 1"),
    (("stems", "Bass", "width"), -0.1, 'stems["Bass"].width', "0 to 1"),
    (("stems", "Bass", "importance"), "huge", 'stems["Bass"].importance', '"low", "medium", "high"'),
    (("stems", "Bass", "category"), "Kazoo", 'stems["Bass"].category', "Lead Vocal"),
    (("stems", "Bass", "channels"), 6, 'stems["Bass"].channels', "one of 1, 2"),
    (("stems", "Bass", "reverb_send_db"), 40.0, 'stems["Bass"].reverb_send_db', "-100 to 12 dB"),
    (("stems", "Bass", "eq"), "none", 'stems["Bass"].eq', "list of EQ bands"),
    (("master", "dither"), "no", "master.dither", "true or false"),
    (("master", "ceiling_dbtp"), 10.0, "master.ceiling_dbtp", "-12 to 0 dBTP"),
    (("master", "target_lufs"), 30.0, "master.target_lufs", "-40 to -5 LUFS"),
    (("master", "bit_depth"), 8, "master.bit_depth", "16, 24"),
    (("master", "sample_rate"), 48000, "master.sample_rate", "equal to the plan's sample_rate"),
    (("sample_rate",), 48000, "master.sample_rate", "equal to the plan's sample_rate"),
    (("sample_rate",), 1, "sample_rate", "44100, 48000"),
    (("reverb", "predelay_ms"), 1e7, "reverb.predelay_ms", "0 to 500 ms"),
    (("reverb", "room_size"), 2.0, "reverb.room_size", "0 to 1"),
    (("frames",), -5, "frames", "whole number from 0"),
    (("frames",), 1.5, "frames", "not a whole number"),
    (("version",), 3, "version", "one of 1, 2"),
    (("master", "width"), 3.0, "master.width", "0 to 2"),
    (("master", "mono_below_hz"), 500.0, "master.mono_below_hz", "0 to 300 Hz"),
    (("master", "eq"), "flat", "master.eq", "list of EQ bands"),
    (("master", "eq"), [{"kind": "bell", "freq_hz": 1000.0, "gain_db": 99.0}], "master.eq[0].gain_db", "-30 to 30 dB"),
    (("stems",), {}, "stems", "at least one stem"),
    (("stems",), [], "stems", "JSON object"),
    (("reverb",), None, "reverb", "JSON object"),
]


@pytest.mark.parametrize("path, value, where, valid", BAD_EDITS,
                         ids=[f"{'.'.join(map(str, p))}={v!r}" for p, v, _, _ in BAD_EDITS])
def test_an_out_of_range_edit_is_refused_naming_the_field(tiny, path, value, where, valid):
    _, plan = tiny
    with pytest.raises(PlanError) as err:
        _load(_edit(plan.to_dict(), path, value))
    assert err.value.code == "bad_plan"
    assert err.value.path == where
    text = str(err.value)
    assert where in text and valid in text.replace("−", "-")
    assert err.value.fix


@pytest.mark.parametrize("field, value, valid", [
    ("attack_ms", -5.0, "0.01 to 1000 ms"), ("release_ms", 0.0, "1 to 10000 ms"),
    ("ratio", 0.5, "1 to 100"), ("threshold_db", -math.inf, "finite"), ("makeup_db", 31.0, "-30 to 30 dB"),
])
def test_compressor_fields_are_refused_with_their_json_path(tiny, field, value, valid):
    _, plan = tiny
    d = plan.to_dict()
    d["stems"]["Bass"]["compressor"] = {"threshold_db": -20.0, "ratio": 4.0, "attack_ms": 10.0,
                                        "release_ms": 100.0, field: value}
    with pytest.raises(PlanError) as err:
        _load(d)
    assert err.value.path == f'stems["Bass"].compressor.{field}'
    assert valid in (str(err.value) + err.value.fix).replace("−", "-")


@pytest.mark.parametrize("field, value", [("freq_hz", 5.0), ("freq_hz", 30000.0), ("gain_db", -40.0),
                                          ("q", 0.0), ("slope_db_per_oct", 18), ("kind", "notch")])
def test_eq_band_fields_are_refused_with_their_json_path(tiny, field, value):
    _, plan = tiny
    d = plan.to_dict()
    d["stems"]["Lead Vocal"]["eq"] = [{"kind": "bell", "freq_hz": 300.0, "gain_db": -3.0, "q": 1.0}]
    d["stems"]["Lead Vocal"]["eq"][0][field] = value
    with pytest.raises(PlanError) as err:
        _load(d)
    assert err.value.path == f'stems["Lead Vocal"].eq[0].{field}'


def test_unknown_fields_are_refused_with_a_suggestion_and_forward_fields_ignored(tiny):
    _, plan = tiny
    d = plan.to_dict()
    d["stems"]["Bass"]["gain_bd"] = 3.0
    with pytest.raises(PlanError, match='"gain_bd" \\(did you mean "gain_db"\\?\\)'):
        _load(d)
    d = plan.to_dict()
    d["stems"]["Bass"]["colour"] = "red"
    d["comment"] = "edited by hand"
    assert _load(d).to_dict() == plan.to_dict()


def test_missing_required_field_is_named(tiny):
    _, plan = tiny
    d = plan.to_dict()
    del d["stems"]["Bass"]["gain_db"]
    with pytest.raises(PlanError) as err:
        _load(d)
    assert err.value.path == 'stems["Bass"].gain_db' and "missing" in str(err.value)


def test_a_plan_round_trips_and_validates_after_an_edit_in_code(tiny):
    _, plan = tiny
    again = _load(plan.to_dict())
    assert again.to_dict() == plan.to_dict()
    again.stems["Bass"].gain_db = float("nan")
    with pytest.raises(PlanError, match=r'stems\["Bass"\]\.gain_db is NaN'):
        again.validate()
    err = pickle.loads(pickle.dumps(PlanError("frames", -1, "a whole number")))
    assert err.path == "frames" and err.code == "bad_plan"


def test_construction_checks_types_too():
    with pytest.raises(PlanError, match=r"StemPlan\.mute"):
        StemPlan(file="a.wav", category=None, importance="medium", gain_db=0.0, gain_reason="", mute="false")
    with pytest.raises(PlanError, match=r"MasterPlan\.dither"):
        MasterPlan(dither="no")
    with pytest.raises(PlanError, match=r"Compressor\.attack_ms"):
        Compressor(-20.0, 4.0, -5.0, 100.0)
    with pytest.raises(PlanError, match=r"EQBand\.freq_hz"):
        EQBand("bell", float("inf"))
    with pytest.raises(PlanError, match=r"ReverbBus\.predelay_ms"):
        ReverbBus(predelay_ms=1e7)
    assert MasterPlan(sample_rate=48000.0).sample_rate == 48000     # an integral float is the int it stands for


def test_a_rescaled_sample_rate_without_frames_is_refused_with_the_fix(tiny, tmp_path):
    session, plan = tiny
    d = plan.to_dict()
    d["sample_rate"] = d["master"]["sample_rate"] = 48000
    edited = _load(d)                                # consistent in itself ...
    with pytest.raises(PlanError) as err:            # ... but it would shorten the song
        render_plan(edited, session, tmp_path / "mix.wav")
    expected = round(session.frames * 48000 / session.sample_rate)
    assert err.value.path == "frames" and f'Set "frames" to {expected}' in err.value.fix
    assert not (tmp_path / "mix.wav").exists()
    d["frames"] = expected
    result = render_plan(_load(d), session, tmp_path / "mix.wav")
    assert sf.info(str(result.path)).frames == expected and sf.info(str(result.path)).samplerate == 48000


def test_unknown_stem_and_all_muted_are_refused(tiny, tmp_path):
    session, plan = tiny
    d = plan.to_dict()
    d["stems"]["Ghost"] = d["stems"].pop("Bass") | {"file": "ghost.wav"}
    with pytest.raises(WorkbenchError) as err:
        render_plan(_load(d), session, tmp_path / "mix.wav")
    assert err.value.code == "plan_mismatch" and "Ghost" in str(err.value)
    d = plan.to_dict()
    for s in d["stems"].values():
        s["mute"] = True
    with pytest.raises(WorkbenchError) as err:
        render_plan(_load(d), session, tmp_path / "mix.wav")
    assert err.value.code == "nothing_to_mix"


def test_a_stem_turned_down_to_nothing_is_refused_not_a_silent_success(tiny, tmp_path):
    session, plan = tiny
    d = plan.to_dict()
    for s in d["stems"].values():
        s["gain_db"] = -100.0
        s["compressor"] = None
        s["reverb_send_db"] = None
    with pytest.raises(WorkbenchError) as err:
        render_plan(_load(d), session, tmp_path / "mix.wav")
    assert err.value.code == "silent_mix"


def test_cli_refuses_a_hand_edited_plan_with_exit_2(tiny, tmp_path, capsys):
    session, plan = tiny
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_edit(plan.to_dict(), ("stems", "Bass", "mute"), "false")))
    code = main(["mix", str(session.folder), "-o", str(tmp_path / "out"), "--plan", str(path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert 'stems["Bass"].mute is "false"' in err and "true or false" in err and "this is a bug" not in err
    assert not (tmp_path / "out" / "mix.wav").exists()


# ------------------------------------------------------------------ the fuzz


def _leaves(x, prefix=()):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, prefix + (k,))
    elif isinstance(x, list) and x:
        for i, v in enumerate(x):
            yield from _leaves(v, prefix + (i,))
    yield prefix


_VALUES = st.one_of(
    st.none(), st.booleans(), st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e7, -1e7]),
    st.integers(-100_000, 100_000), st.floats(-200.0, 200.0, allow_nan=False),
    st.floats(-1.0, 1.0, allow_nan=False), st.sampled_from(["false", "no", "true", "", "1", "-6", "bell", "high"]),
    st.just([]), st.just({}), st.just([{"kind": "bell"}]),
)


def _edits(base: dict):
    paths = [p for p in _leaves(base) if p]
    set_one = st.tuples(st.just("set"), st.sampled_from(paths), _VALUES)
    drop_one = st.tuples(st.just("drop"), st.sampled_from(paths), st.none())
    extra = st.tuples(st.just("add"), st.sampled_from([p[:-1] for p in paths if len(p) > 1] + [()]),
                      st.sampled_from(["gain", "mutee", "role", "comment", "x"]))
    rename = st.tuples(st.just("rename"), st.sampled_from([("stems", n) for n in base["stems"]]),
                       st.sampled_from(["Ghost", "bass", "", "Lead Vocal"]))
    return st.lists(st.one_of(set_one, drop_one, extra, rename), min_size=1, max_size=3)


def _apply(d: dict, edits) -> dict:
    d = copy.deepcopy(d)
    for op, path, value in edits:
        try:
            node = d
            for key in path[:-1]:
                node = node[key]
            if op == "set":
                node[path[-1]] = value
            elif op == "drop":
                del node[path[-1]]
            elif op == "add":
                target = node[path[-1]] if path else d
                target[value] = 0.0
            elif op == "rename":
                node[value] = node.pop(path[-1])
        except (KeyError, IndexError, TypeError, AttributeError):
            pass                              # an earlier edit removed or retyped this place
    return d


def test_fuzz_of_hand_edited_plans_is_refused_or_renders_a_sane_mix(tiny, tmp_path_factory):
    session, plan = tiny
    base = plan.to_dict()
    out_dir = tmp_path_factory.mktemp("fuzz")
    seen = {"refused": 0, "rendered": 0}

    @settings(max_examples=int(os.environ.get("PLAN_FUZZ_EXAMPLES", 80)), deadline=None,
              derandomize=not os.environ.get("PLAN_FUZZ_EXAMPLES"), database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(edits=_edits(base))
    def one(edits):
        try:
            edited = _load(_apply(base, edits))
            result = render_plan(edited, session, out_dir / "mix.wav")
        except WorkbenchError as exc:
            assert exc.code and exc.message and exc.fix
            assert "this is a bug" not in str(exc)
            seen["refused"] += 1
            return
        seen["rendered"] += 1
        # A sane mix, measured on the file itself (not on what the renderer says).
        x, sr = sf.read(str(result.path), dtype="float64", always_2d=True)
        assert sr == edited.sample_rate
        assert x.shape[0] == round(session.frames * sr / session.sample_rate)
        assert np.isfinite(x).all()
        lufs = pyloudnorm.Meter(sr).integrated_loudness(x)
        assert math.isfinite(lufs) and lufs <= edited.master.target_lufs + 1.0
        assert 20 * np.log10(np.abs(x).max()) <= edited.master.ceiling_dbtp + 0.1

    one()
    assert seen["refused"] > 10 and seen["rendered"] > 3, seen
