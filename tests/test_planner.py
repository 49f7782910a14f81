"""The plan: deterministic, explained, independent of input levels, shaped by importance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench import load_session
from workbench.analysis import analyse
from workbench.mixing.plan import MixPlan
from workbench.mixing.planner import masking_for_plan, plan_mix
from workbench.mixing.preview import choose_section
from workbench.mixing.settings import MixSettings

from .conftest import SAMPLE_STEMS
from .synth import write_session


def _plan(folder, tmp_path, **choices):
    s = load_session(folder).with_settings(**choices)
    a = analyse(s, cache_dir=tmp_path / "cache")
    return s, a, plan_mix(s, a)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    s = load_session(SAMPLE_STEMS)
    a = analyse(s, cache_dir=tmp_path_factory.mktemp("cache"))
    return s, a


def test_every_decision_has_a_reason(sample):
    s, a = sample
    plan = plan_mix(s, a)
    assert list(plan.stems) == [st.name for st in s.stems]
    for where, what, why in plan.decisions():
        assert why and len(why) > 10, (where, what)
    kick = plan.stems["Kick"]
    assert kick.pan == 0 and "Kick" in kick.pan_reason
    assert plan.stems["Lead Vocal"].pan == 0
    assert plan.stems["Bass"].reverb_send_db is None


def test_plan_is_deterministic_and_round_trips_json(sample, tmp_path):
    s, a = sample
    p1, p2 = plan_mix(s, a), plan_mix(s, a)
    assert p1.to_json() == p2.to_json()
    path = tmp_path / "plan.json"
    p1.to_json(path)
    loaded = MixPlan.from_json(path)
    assert loaded.to_json() == p1.to_json()
    data = json.loads(path.read_text())
    assert "Lead Vocal" in data["stems"] and "gain_db" in data["stems"]["Lead Vocal"]
    assert data["master"]["target_lufs"] == -14.0


@pytest.mark.parametrize("name, offset_db", [("Keys", -12.0), ("Keys", 12.0 - 6.0), ("Bass", -12.0),
                                             ("Lead Vocal", -12.0)])
def test_input_level_does_not_decide_the_balance(tmp_path, name, offset_db):
    base = write_session(tmp_path / "a", levels_db={"Kick": -6.0, "Bass": -6.0, "Lead Vocal": -6.0,
                                                    "Keys": -6.0})
    moved = write_session(tmp_path / "b", levels_db={"Kick": -6.0, "Bass": -6.0, "Lead Vocal": -6.0,
                                                     "Keys": -6.0, name: -6.0 + offset_db})
    _, _, pa = _plan(base, tmp_path / "ca")
    _, _, pb = _plan(moved, tmp_path / "cb")
    for stem in pa.stems:
        # the stem's level at the fader output moves by < 1 dB; every other stem's too
        assert abs((pb.stems[stem].gain_db + (offset_db if stem == name else 0.0)) - pa.stems[stem].gain_db) < 1.0
        ca, cb = pa.stems[stem].compressor, pb.stems[stem].compressor
        if ca is not None and ca.active:
            # threshold relative to the stem's level after its input gain is unchanged
            assert abs((cb.threshold_db - pb.stems[stem].gain_db) - (ca.threshold_db - pa.stems[stem].gain_db)
                       - offset_db * (stem == name)) < 1.0
            assert cb.ratio == ca.ratio
        assert [round(b.freq_hz) for b in pa.stems[stem].eq] == [round(b.freq_hz) for b in pb.stems[stem].eq]
        assert pa.stems[stem].pan == pb.stems[stem].pan


def test_mono_in_a_stereo_file_is_folded_and_mixes_like_mono(tmp_path):
    import soundfile as sf

    from workbench.pipeline import mix_session

    mono = write_session(tmp_path / "m", ["Kick", "Bass", "Keys", "Lead Vocal"])
    stereo = write_session(tmp_path / "s", ["Kick", "Bass", "Keys", "Lead Vocal"], stereo=("Keys",))
    _, am, pm = _plan(mono, tmp_path / "c1")
    _, ast, ps = _plan(stereo, tmp_path / "c2")
    # BS.1770 counts both channels: the stereo copy measures +3 dB, its mono fold does not
    assert ast.stem("Keys").integrated_lufs - am.stem("Keys").integrated_lufs == pytest.approx(3.01, abs=0.1)
    assert ps.stems["Keys"].channels == 1 and "folded to mono" in ps.stems["Keys"].pan_reason
    assert ps.stems["Keys"].gain_db == pytest.approx(pm.stems["Keys"].gain_db, abs=0.1)
    assert ps.stems["Keys"].pan == pm.stems["Keys"].pan
    xm, _ = sf.read(str(mix_session(mono, tmp_path / "om", cache_dir=tmp_path / "c1").audio_path))
    xs, _ = sf.read(str(mix_session(stereo, tmp_path / "os", cache_dir=tmp_path / "c2").audio_path))
    assert 10 * np.log10(max(np.mean((xm - xs) ** 2), 1e-20) / np.mean(xm ** 2)) < -30.0


LEVELS = ("low", "medium", "high")


@pytest.mark.parametrize("stem", ["Keys", "Guitar"])
def test_importance_works_across_the_board(tmp_path, stem):
    folder = write_session(tmp_path / "s")
    s = load_session(folder)
    a = analyse(s, cache_dir=tmp_path / "c")
    plans = {lv: plan_mix(s.with_settings(importance={stem: lv}), a) for lv in LEVELS}
    rel = {lv: p.stems[stem].gain_db - np.mean([x.gain_db for k, x in p.stems.items() if k != stem])
           for lv, p in plans.items()}
    masked = {lv: masking_for_plan(p, a).by_mix_share[a.index(stem)] for lv, p in plans.items()}
    # the wide pan style spreads every part, so importance shows in every pan; the authored
    # style pans only clashing parts (then by importance too, tested with no stricter order)
    wide = {lv: plan_mix(s.with_settings(importance={stem: lv}), a, MixSettings(pan_style="wide")) for lv in LEVELS}
    pan = {lv: abs(p.stems[stem].pan) for lv, p in wide.items()}
    authored_pan = {lv: abs(p.stems[stem].pan) for lv, p in plans.items()}
    assert authored_pan["low"] >= authored_pan["medium"] >= authored_pan["high"]
    send = {lv: p.stems[stem].reverb_send_db for lv, p in plans.items()}
    # louder share, less masked, more central, drier — each strictly, low < medium < high
    assert rel["low"] < rel["medium"] < rel["high"]
    assert masked["low"] > masked["medium"] > masked["high"]
    assert pan["low"] > pan["medium"] > pan["high"] > 0
    assert send["low"] > send["medium"] > send["high"]
    # tighter compression on important stems: the threshold sits lower under the stem's own level
    below = {lv: plans[lv].stems[stem].gain_db - plans[lv].stems[stem].compressor.threshold_db for lv in LEVELS}
    assert below["high"] > below["medium"] > below["low"]


def test_unmasking_cuts_only_the_less_important_stem(sample):
    from workbench.mixing.rules.roles import priority

    s, a = sample
    seen = []
    for choices in ({}, {"Piano": "high", "Lead Vocal": "low"}, {"Pad": "high"}):
        plan = plan_mix(s.with_settings(importance=choices), a)
        cuts = [(name, b) for name, st in plan.stems.items() for b in st.eq if " masks " in b.reason]
        seen += cuts
        for name, b in cuts:
            target = next(t for t in plan.stems if b.reason.split(" masks ", 1)[1].startswith(t))
            me, them = plan.stems[name], plan.stems[target]
            assert priority(me.category, me.importance) > priority(them.category, them.importance)
            assert -6.0 <= b.gain_db <= -1.0
    assert seen
    # the same pair the other way round: once the Pad is the less important part, the Bass is not cut for it
    raised = plan_mix(s.with_settings(importance={"Pad": "high"}), a)
    assert [b for b in raised.stems["Bass"].eq if " masks Pad" in b.reason]
    lowered = plan_mix(s.with_settings(importance={"Pad": "low"}), a)
    assert not [b for b in lowered.stems["Bass"].eq if " masks Pad" in b.reason]


def test_unmasking_rule_depth_follows_importance_gap():
    from workbench.analysis.bands import erb_bands
    from workbench.mixing.rules import eq

    bands = erb_bands()
    n, nb = 2, bands.n_bands
    share = np.zeros((n, n, nb))
    share[0, 1, 14:17] = 0.9  # stem 0 masks stem 1 in three neighbouring bands
    share[0, 1, 30] = 0.6
    energy = np.full((n, nb), 0.01)
    energy[1, 14:17], energy[1, 30] = 0.2, 0.1  # where the target's energy is
    margin = lambda m, t: np.full((nb, 50), 20.0)  # noqa: E731 — masked by 20 dB everywhere
    depths = {}
    for imp0, imp1 in (("high", "high"), ("medium", "high"), ("low", "high")):
        cuts = eq.unmasking(["Keys", "Vox"], ["Keys", "Lead Vocal"], [imp0, imp1], share, energy, margin,
                            bands, max_cut_db=6.0)
        assert list(cuts) == ["Keys"]
        assert len(cuts["Keys"]) == 2  # the three neighbours make one bell, band 30 another
        depths[imp0] = min(b.gain_db for b in cuts["Keys"])
        assert all(b.reason.measured["target"] == "Vox" and b.reason.measured["time_share"] == 1.0
                   and "masks Vox 100% of its active time" in b.reason.text for b in cuts["Keys"])
    assert depths == {"high": -3.0, "medium": -4.5, "low": -6.0}


def test_refuses_a_session_with_errors(tmp_path):
    from workbench.errors import WorkbenchError

    folder = write_session(tmp_path / "s", ["Kick", "Bass"])
    (folder / "Broken.wav").write_bytes(b"ID3\x03\x00\x00\x00junk")
    s = load_session(folder)
    with pytest.raises(WorkbenchError) as e:
        plan_mix(s, None)
    assert e.value.code == "cannot_mix" and "Broken.wav" in e.value.message


def test_preview_section_is_where_most_stems_play(tmp_path):
    folder = write_session(tmp_path / "s", ["Kick", "Bass", "Keys"], seconds=20.0)
    import soundfile as sf

    x, sr = sf.read(str(folder / "Keys.wav"))
    x[: int(12 * sr)] = 0.0  # keys enter at 12 s
    sf.write(str(folder / "Keys.wav"), x, sr, subtype="PCM_16")
    s = load_session(folder)
    a = analyse(s, cache_dir=tmp_path / "c")
    sec = choose_section(a, 6.0)
    assert sec.start_s >= 11.5 and sec.frames == 6 * 44100
    assert sec.preroll_frames == 3 * 44100


def test_settings_are_validated():
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError) as e:
        MixSettings(target_lufs=3.0)
    assert "target_lufs" in e.value.message


def test_long_songs_are_planned_from_a_sample_of_frames(sample, monkeypatch):
    # Masking costs stems² × bands × frames: beyond PLAN_MAX_FRAMES the planner
    # reads every k-th frame; within it, every frame (the plan is unchanged).
    from workbench.mixing import planner

    session, analysis = sample[0], sample[1]
    seen = []
    real = planner.compute_masking

    def spy(band_power, activity, *a, **k):
        seen.append(band_power.shape[2])
        assert activity.shape[1] == band_power.shape[2]
        return real(band_power, activity, *a, **k)

    monkeypatch.setattr(planner, "compute_masking", spy)
    full = plan_mix(session, analysis)
    assert seen == [analysis.n_frames] * 2
    seen.clear()
    monkeypatch.setattr(planner, "PLAN_MAX_FRAMES", analysis.n_frames // 3)
    sampled = plan_mix(session, analysis)
    assert len(seen) == 2 and all(analysis.n_frames // 4 <= n <= analysis.n_frames // 3 for n in seen)
    assert [s.gain_db for s in sampled.stems.values()] == [s.gain_db for s in full.stems.values()]
    assert all(s.reverb_send_db == f.reverb_send_db for s, f in zip(sampled.stems.values(), full.stems.values()))
