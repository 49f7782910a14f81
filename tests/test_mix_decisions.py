"""Mix decisions grounded in what each part does (issue 13): roles, the balance model, the guards.

Each failure mode the issue reports is rebuilt here from audio the test makes
(a sparse tom part beside a shaker, a faint tail stem, a chord synth with a
generic name, a hi-hat pair, resonance cuts on pitched parts) and the general
rule that fixes it is asserted on the plan.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from workbench.analysis import analyse
from workbench.mixing import balance_model as bm
from workbench.mixing.planner import part_roles, plan_mix
from workbench.mixing.rules import eq, gain
from workbench.mixing.rules.roles import FOREGROUND, assign_role, foreground_parts
from workbench.session import load_session

SR = 44100


def _env(n: int, period_s: float, decay_s: float, offset_s: float = 0.0) -> np.ndarray:
    t = (np.arange(n) / SR - offset_s) % period_s
    return np.exp(-t / decay_s)


def _write(folder, name, x, level_db=-6.0):
    x = np.asarray(x, dtype=np.float64)
    x = x / max(np.abs(x).max(), 1e-12) * 10 ** (level_db / 20)
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(str(folder / f"{name}.wav"), x.astype(np.float32), SR, subtype="PCM_16")


def _instrumental(folder, seconds=20.0):
    """A melody (vibrato, 660 Hz), a chord part that comes and goes, and a kick: an instrumental."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    melody = sum(np.sin(2 * np.pi * 660 * k * t * (1 + 0.003 * np.sin(2 * np.pi * 5 * t))) / k for k in range(1, 6))
    chords = sum(np.sin(2 * np.pi * f * t) for f in (110, 138.6, 164.8)) * (np.sin(2 * np.pi * 0.1 * t) > 0.3)
    _write(folder, "Synth 1", melody, -8)
    _write(folder, "Synth 2", chords, -8)
    _write(folder, "Kick", _kick(n), -6)
    return folder


def _kick(n: int) -> np.ndarray:
    t = np.arange(n) / SR
    return np.sin(2 * np.pi * (50 + 80 * _env(n, 0.5, 0.03)) * t) * _env(n, 0.5, 0.12)


def _drum_session(folder, seconds=24.0, seed=0):
    """Kick, snare, bass, a shaker that plays throughout and toms that play one fill every 8 s."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    rng = np.random.default_rng(seed)
    kick = _kick(n)
    snare = (rng.standard_normal(n) * 0.7 + np.sin(2 * np.pi * 190 * t)) * _env(n, 1.0, 0.08, 0.5)
    shaker = np.diff(rng.standard_normal(n + 1)) * (0.4 + 0.6 * _env(n, 0.125, 0.03))
    bass = sum(np.sin(2 * np.pi * 55 * k * t) / k ** 1.5 for k in range(1, 7)) * (0.6 + 0.4 * _env(n, 0.5, 0.3))
    toms = np.zeros(n)
    for bar in np.arange(0.0, seconds, 8.0):
        for k, f in enumerate((220, 180, 150, 120, 100, 90)):
            start = int((bar + 6.5 + 0.2 * k) * SR)
            seg = np.arange(min(int(0.3 * SR), n - start)) / SR
            if seg.size > 0:
                toms[start:start + seg.size] += (np.sin(2 * np.pi * f * seg) + 0.2 * rng.standard_normal(seg.size)) \
                    * np.exp(-seg / 0.12)
    for name, x, lv in (("Kick", kick, -6), ("Snare", snare, -8), ("Shaker", shaker, -10), ("Bass", bass, -6),
                        ("Toms", toms, -6)):
        _write(folder, name, x, lv)
    return folder


@pytest.fixture(scope="module")
def drums(tmp_path_factory):
    root = tmp_path_factory.mktemp("drums")
    folder = _drum_session(root / "song")
    session = load_session(folder)
    analysis = analyse(session, cache_dir=root / "cache")
    return session, analysis, plan_mix(session, analysis)


def _level(plan, analysis, name):
    return plan.stems[name].gain_db + analysis.stem(name).integrated_lufs


# ------------------------------------------------------------------ roles
def test_tom_hits_and_a_shaker_are_one_category_but_two_roles(drums):
    session, analysis, plan = drums
    assert plan.stems["Toms"].category == plan.stems["Shaker"].category == "Percussion"
    assert plan.stems["Toms"].role == "percussion hits"
    assert plan.stems["Shaker"].role == "hand percussion"
    assert "of the song" in plan.stems["Toms"].role_reason


def test_sparse_toms_sit_near_the_snare_and_above_the_shaker(drums):
    session, analysis, plan = drums
    toms, snare, shaker = (_level(plan, analysis, k) for k in ("Toms", "Snare", "Shaker"))
    assert toms - snare > -4.0, plan.stems["Toms"].gain_reason
    assert toms - shaker > 2.0, (plan.stems["Toms"].gain_reason, plan.stems["Shaker"].gain_reason)
    # parts of one category that never play together are not a "section" that must be turned down
    assert "one of" not in plan.stems["Toms"].gain_reason


def test_roles_are_independent_of_the_input_level(tmp_path):
    a = _drum_session(tmp_path / "a")
    b = tmp_path / "b"
    b.mkdir()
    for p in a.glob("*.wav"):
        x, sr = sf.read(p)
        sf.write(str(b / p.name), x * 10 ** (-12 / 20), sr, subtype="PCM_16")
    ra = part_roles(load_session(a), analyse(load_session(a), cache_dir=tmp_path / "c"))
    rb = part_roles(load_session(b), analyse(load_session(b), cache_dir=tmp_path / "c"))
    assert [r.role.key for r in ra] == [r.role.key for r in rb]
    for x, y in zip(ra, rb):
        for k in x.terms:
            # duty: the absolute floor gates a few more tail frames of the quieter copy
            assert x.terms[k] == pytest.approx(y.terms[k], abs=0.1)


@pytest.mark.parametrize("category, duty, expected", [
    ("Percussion", 0.08, "percussion hits"), ("Percussion", 0.9, "hand percussion"),
    ("Cymbals", 0.05, "cymbal accents"), ("Cymbals", 0.8, "groove cymbals"),
    ("FX", 0.03, "fx accents"), ("FX", 0.7, "fx texture"), ("Kick", 0.02, "kick"),
    (None, 0.5, "other"), ("Lead Vocal", 0.5, "lead vocal"),
])
def test_role_by_category_and_duty(category, duty, expected):
    assert assign_role(category, duty, 0.3).key == expected


def test_foreground_only_for_a_melodic_part_that_stands_out_and_never_beside_a_vocal():
    cats = ["Synth", "Synth", "Bass", "Kick"]
    assert foreground_parts(cats, [1.0, 0.4, 0.9, 0.1], [0.6, 0.6, 0.9, 0.9]) == [0]
    assert foreground_parts(cats, [1.0, 0.95, 0.9, 0.1], [0.6, 0.6, 0.9, 0.9]) == []      # no clear lead
    assert foreground_parts(cats, [1.0, 0.4, 0.9, 0.1], [0.1, 0.6, 0.9, 0.9]) == []       # plays too little
    assert foreground_parts(cats + ["Lead Vocal"], [1.0, 0.4, 0.9, 0.1, 0.5],
                            [0.6, 0.6, 0.9, 0.9, 0.8]) == []                               # the vocal leads


def test_a_suggested_lead_is_high_and_the_users_choice_wins(tmp_path):
    session = load_session(_instrumental(tmp_path / "s"))
    analysis = analyse(session, cache_dir=tmp_path / "c")
    plan = plan_mix(session, analysis)
    lead = plan.stems["Synth 1"]
    assert lead.role == FOREGROUND and lead.importance == "high"
    assert lead.importance_reason.startswith("high: suggested") and "melody" in lead.importance_reason
    assert lead.pan == 0.0
    # the user's choice wins, and moving it from the suggestion moves the level by the importance step
    user = plan_mix(session.with_settings(importance={"Synth 1": "medium"}), analysis)
    assert user.stems["Synth 1"].importance == "medium"
    assert "your choice" in user.stems["Synth 1"].importance_reason
    step = gain.importance_step("high", "medium")
    assert user.stems["Synth 1"].gain_db - lead.gain_db == pytest.approx(step, abs=0.05)
    assert user.stems["Kick"].gain_db == pytest.approx(plan.stems["Kick"].gain_db, abs=1e-9)  # the others stay
    # setting the suggested level by hand changes nothing
    same = plan_mix(session.with_settings(importance={"Synth 1": "high"}), analysis)
    assert same.stems["Synth 1"].gain_db == pytest.approx(lead.gain_db, abs=1e-6)


# ------------------------------------------------------------------ faint tail
def test_a_faint_tail_is_not_raised_to_its_role_target(tmp_path):
    n = int(16 * SR)
    t = np.arange(n) / SR
    rng = np.random.default_rng(3)
    folder = tmp_path / "s"
    _write(folder, "Kick", _kick(n), -6)
    _write(folder, "Bass", sum(np.sin(2 * np.pi * 55 * k * t) / k ** 1.5 for k in range(1, 7)), -6)
    _write(folder, "Keys", sum(np.sin(2 * np.pi * 262 * k * t) / k for k in range(1, 8)), -8)
    tail = np.zeros(n)
    start = int(13 * SR)
    seg = np.arange(n - start) / SR
    tail[start:] = np.convolve(rng.standard_normal(seg.size), np.ones(30) / 30, "same") * np.exp(-seg / 1.0)
    _write(folder, "Pad", tail, -52)
    session = load_session(folder)
    assert any(f.code == "too_quiet" and f.stem == "Pad.wav" for f in session.findings)
    analysis = analyse(session, cache_dir=tmp_path / "c")
    plan = plan_mix(session, analysis)
    gains = {k: s.gain_db for k, s in plan.stems.items()}
    others = sorted(v for k, v in gains.items() if k != "Pad")
    median = others[len(others) // 2] if len(others) % 2 else 0.5 * (others[len(others) // 2 - 1]
                                                                     + others[len(others) // 2])
    assert gains["Pad"] <= median + 0.01
    assert "too_quiet" in plan.stems["Pad"].gain_reason and "tail" in plan.stems["Pad"].gain_reason
    # what the role target alone would have asked for: tens of dB more than the others
    offsets = {k: bm.default_model().offset(plan.stems[k].role, {}) for k in plan.stems}
    raw = {k: offsets[k] - analysis.stem(k).integrated_lufs for k in plan.stems}
    assert raw["Pad"] - raw["Keys"] > (gains["Pad"] - gains["Keys"]) + 10


def test_no_stem_is_raised_far_above_the_session():
    # C's role sits 10 LU above the others and it arrives 18 LU below them (not faint: < 20 LU):
    # its target would take 30 dB more than A's gain, the median's 2 dB more is allowed 24
    model = bm.BalanceModel(role_offset_lu={"keys": 0.0, "pad": 10.0}, role_stems={}, coef_lu={}, centre={},
                            prior_offset_lu={})
    stems = [gain.GainInput("A", "keys", "", "medium", "medium", -20.0, {}),
             gain.GainInput("B", "keys", "", "medium", "medium", -22.0, {}),
             gain.GainInput("C", "pad", "", "medium", "medium", -40.0, {})]
    out = gain.plan_gains(stems, model)
    assert out["C"].rule == "capped"
    assert out["C"].gain_db - out["A"].gain_db == pytest.approx(2.0 + gain.MAX_ABOVE_MEDIAN_DB, abs=0.02)
    # far below the others it is a faint part instead: it keeps its arrival relation
    faint = gain.plan_gains(stems[:2] + [gain.GainInput("C", "pad", "", "medium", "medium", -60.0, {})], model)
    assert faint["C"].rule == "faint" and faint["C"].gain_db == pytest.approx(faint["B"].gain_db, abs=1.01)
    assert out["C"].reason.rule == "gain.capped" and "capped" in out["C"].reason.text
    assert out["C"].reason.measured["raw_gain_db"] > out["C"].gain_db
    assert faint["C"].reason.rule == "gain.faint" and faint["C"].reason.measured["below_median_lu"] > 20


# ------------------------------------------------------------------ vocals need vocal evidence
def test_a_chord_synth_with_a_generic_name_is_not_heard_as_a_vocal(tmp_path):
    n = int(16 * SR)
    t = np.arange(n) / SR
    # a chip-style pulse-wave chord, arpeggiated every 50 ms over three notes (a SID chord part)
    notes = np.array([220.0, 277.2, 329.6])
    f = notes[(np.arange(n) // int(0.05 * SR)) % 3]
    phase = np.cumsum(2 * np.pi * f / SR)
    pulse = np.sign(np.sin(phase)) * 0.5 + 0.3 * np.sign(np.sin(2 * phase))
    folder = tmp_path / "s"
    _write(folder, "Track 3", pulse * (0.6 + 0.4 * _env(n, 2.0, 1.5)), -10)
    _write(folder, "Kick", _kick(n), -6)
    session = load_session(folder)
    stem = session.stem("Track 3")
    assert stem.category not in ("Lead Vocal", "Backing Vocal"), (stem.category, stem.confidence)


def test_vocal_evidence_rule():
    from workbench.analysis.classify import _vocal_evidence

    voice = {"voiced_fraction": 0.8, "f0_step_semitones": 0.3}
    assert _vocal_evidence(0.9, voice)
    assert not _vocal_evidence(0.6, voice)                                          # model unsure
    assert not _vocal_evidence(0.9, {"voiced_fraction": 0.8, "f0_step_semitones": 2.0})  # jumps: arpeggio
    assert not _vocal_evidence(0.9, {"voiced_fraction": 0.8, "f0_step_semitones": 0.0})  # fixed pitch: a drone
    assert not _vocal_evidence(0.9, {"voiced_fraction": 0.2, "f0_step_semitones": 0.3})  # mostly unpitched


# ------------------------------------------------------------------ cymbals on one side, authored spread
def test_a_hat_pair_stays_on_one_side_and_within_the_authored_spread(tmp_path):
    n = int(16 * SR)
    t = np.arange(n) / SR
    rng = np.random.default_rng(1)
    folder = tmp_path / "s"
    _write(folder, "Kick", _kick(n), -6)
    _write(folder, "Hat Closed", np.diff(rng.standard_normal(n + 1)) * _env(n, 0.25, 0.02), -12)
    _write(folder, "Hat Open", np.diff(rng.standard_normal(n + 1)) * _env(n, 1.0, 0.3, 0.75), -14)
    _write(folder, "Keys", sum(np.sin(2 * np.pi * 262 * k * t) / k for k in range(1, 8)), -8)
    _write(folder, "Guitar", sum(np.sin(2 * np.pi * 196 * k * t) / k ** 0.8 for k in range(1, 14))
           * _env(n, 0.25, 0.15), -8)
    session = load_session(folder)
    analysis = analyse(session, cache_dir=tmp_path / "c")
    plan = plan_mix(session, analysis)
    closed, opened = plan.stems["Hat Closed"].pan, plan.stems["Hat Open"].pan
    assert closed * opened >= 0, (closed, opened)
    from workbench.mixing.rules.pan import MAX_SPREAD
    from workbench.mixing.settings import MixSettings

    model = bm.default_model()
    for s in plan.stems.values():
        assert abs(s.pan) <= min(MAX_SPREAD, 1.15 * max(model.pan_distance, model.pan_pair_distance)) + 1e-9
        assert s.pan == 0.0 or "clashes" in s.pan_reason or "same side" in s.pan_reason or "pair" in s.pan_reason
    wide = plan_mix(session, analysis, settings=MixSettings(pan_style="wide"))
    assert sum(abs(s.pan) for s in wide.stems.values()) > sum(abs(s.pan) for s in plan.stems.values())
    assert wide.stems["Hat Closed"].pan * wide.stems["Hat Open"].pan >= 0


# ------------------------------------------------------------------ resonance cuts
def test_no_resonance_cut_on_a_pitched_part():
    from workbench.analysis.bands import erb_bands

    bands = erb_bands()
    c = np.asarray(bands.centres_hz)
    lt = -20 * np.log10(c / 100)
    lt[np.argmin(abs(c - 1000))] += 12.0  # a strong harmonic
    assert eq.corrective("Synth", lt, bands) is None
    assert eq.corrective("Keys", lt, bands) is None
    cut = eq.corrective("Snare", lt, bands)
    assert cut is not None and -eq.RESONANCE_MAX_CUT_DB <= cut.gain_db < 0
    assert abs(math.log2(cut.freq_hz / 1000)) < 0.3
    assert cut.reason.rule == "eq.resonance" and cut.reason.measured["excess_db"] >= eq.RESONANCE_MIN_DB


def test_a_resonance_that_does_not_persist_is_not_cut():
    from workbench.analysis.bands import erb_bands

    bands = erb_bands()
    c = np.asarray(bands.centres_hz)
    k = int(np.argmin(abs(c - 1000)))
    frames = 100
    bp = np.tile((10 ** (-2 * np.log10(c / 100)))[:, None], (1, frames))
    ring = bp.copy()
    ring[k] *= 10 ** 1.2
    lt = 10 * np.log10(ring.mean(axis=1))
    act = np.ones(frames, dtype=bool)
    assert eq.corrective("Snare", lt, bands, ring, act) is not None            # rings on every hit
    once = bp.copy()
    once[k, :10] *= 10 ** 2.2                                                  # a few frames only
    lt_once = 10 * np.log10(once.mean(axis=1))
    assert eq.corrective("Snare", lt_once, bands, once, act) is None


def test_resonance_cuts_follow_the_measured_peak_not_a_fixed_recipe():
    from workbench.analysis.bands import erb_bands

    bands = erb_bands()
    c = np.asarray(bands.centres_hz)
    cuts = []
    for ring_hz, excess_db in ((900.0, 8.0), (2500.0, 14.0)):
        lt = -20 * np.log10(c / 100)
        lt[int(np.argmin(abs(c - ring_hz)))] += excess_db
        cuts.append(eq.corrective("Snare", lt, bands))
    (a, b) = cuts
    assert abs(math.log2(a.freq_hz / 900.0)) < 0.2 and abs(math.log2(b.freq_hz / 2500.0)) < 0.2
    assert a.gain_db > b.gain_db                        # a smaller ring gets a shallower cut
    assert (a.freq_hz, a.gain_db) != (b.freq_hz, b.gain_db)


# ------------------------------------------------------------------ the model
def test_fit_recovers_role_levels_and_ignores_each_songs_overall_level():
    rng = np.random.default_rng(0)
    truth = {"kick": 0.0, "pad": -8.0, "snare": -2.0}
    songs, roles, terms, levels = [], [], [], []
    for s in range(12):
        base = rng.uniform(-30, -10)                       # each song at its own overall level
        for r, v in truth.items():
            songs.append(f"s{s}")
            roles.append(r)
            terms.append(bm.term_values(0.5, 1000.0, 1.0))
            levels.append(base + v + rng.normal(0, 0.3))
    m = bm.fit(songs, roles, terms, levels, {"kick": 0.0, "pad": 0.0, "snare": 0.0}, prior_weight=0.1)
    got = {r: m.offset(r, bm.term_values(0.5, 1000.0, 1.0)) for r in truth}
    for r in truth:
        assert got[r] - got["kick"] == pytest.approx(truth[r] - truth["kick"], abs=0.5)


def test_fit_shrinks_a_rarely_seen_role_toward_its_prior_and_keeps_unseen_roles_at_it():
    songs = ["a", "a", "b", "b"]
    roles = ["kick", "toms", "kick", "pad"]
    terms = [bm.term_values(0.5, 1000.0, 1.0)] * 4
    levels = [0.0, 10.0, 0.0, -6.0]
    prior = {"kick": 0.0, "toms": 0.0, "pad": -6.0, "lead vocal": 3.0}
    m = bm.fit(songs, roles, terms, levels, prior, prior_weight=4.0)
    t = bm.term_values(0.5, 1000.0, 1.0)
    assert 0.0 < m.offset("toms", t) - m.offset("kick", t) < 10.0       # between prior (0) and data (10)
    assert m.role_stems["lead vocal"] == 0
    assert m.offset("lead vocal", t) - m.offset("kick", t) == pytest.approx(3.0, abs=2.0)


def test_pan_distance_is_the_median_of_what_authors_panned():
    assert bm.fit_pan_distance([0.0, 0.0, 0.2, -0.4, 0.6]) == pytest.approx(0.4)
    assert bm.fit_pan_distance([0.0, 0.01]) == 0.3


def test_shipped_model_is_fitted_and_covers_every_role():
    from workbench.mixing.rules.roles import ROLES

    m = bm.default_model()
    assert m.fitted_on.get("stems", 0) >= 250 and m.fitted_on.get("songs", 0) >= 20
    assert m.loso_mean_abs_db is not None and math.isfinite(m.loso_mean_abs_db)
    for r in ROLES:
        assert math.isfinite(m.offset(r, bm.term_values(0.5, 1000.0, 1.0)))
    assert set(gain.PRIOR_OFFSET_LU) == set(ROLES)
    assert 0.0 < m.pan_distance <= 1.0 and 0.0 < m.pan_pair_distance <= 1.0


def test_shipped_model_is_reproducible_from_the_committed_table():
    import sys

    from workbench.mixing.balance_model import default_model

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "scripts"))
    import fit_balance_model as fbm

    rows = fbm.read_table()
    shipped = default_model()
    refit = fbm.fit_rows(rows, **shipped.fitted_on["hyperparameters"])
    for r, v in shipped.role_offset_lu.items():
        assert refit.role_offset_lu[r] == pytest.approx(v, abs=1e-3)
    for k, v in shipped.coef_lu.items():
        assert refit.coef_lu[k] == pytest.approx(v, abs=1e-3)


# ------------------------------------------------------------------ the master's limiting is reported
def test_heavy_limiting_is_reported_with_a_gentler_target(tmp_path):
    from workbench.pipeline import HEAVY_LIMITING_DB, mix_session

    n = int(12 * SR)
    t = np.arange(n) / SR
    rng = np.random.default_rng(5)
    folder = tmp_path / "drums"
    # sharp, sparse hits: a very high crest factor, so −14 LUFS needs a lot of limiting
    _write(folder, "Kick", np.sin(2 * np.pi * (50 + 120 * _env(n, 1.0, 0.01)) * t) * _env(n, 1.0, 0.04), -3)
    _write(folder, "Snare", rng.standard_normal(n) * _env(n, 2.0, 0.02, 1.0), -3)
    res = mix_session(folder, tmp_path / "out", cache_dir=tmp_path / "c")
    r = res.render
    assert r.limiter_peak_reduction_db > HEAVY_LIMITING_DB
    assert r.limiter_loudness_loss_lu >= 0.0
    report = res.report_path.read_text()
    assert f"Limiter: takes up to {r.limiter_peak_reduction_db:.1f} dB off the loudest peaks" in report
    assert "--target-lufs" in report and "Warning: reaching -14 LUFS" in report
    gentler = float(report.split("`--target-lufs ")[1].split("`")[0])
    assert gentler < -14.0
    # the suggested target does what it says: about 3 dB of limiting
    from workbench.mixing.settings import MixSettings

    again = mix_session(folder, tmp_path / "out2", cache_dir=tmp_path / "c", settings=MixSettings(target_lufs=gentler))
    assert again.render.limiter_peak_reduction_db < HEAVY_LIMITING_DB - 1.5


def test_the_user_can_override_a_role(drums, tmp_path):
    from workbench import WorkbenchError
    from workbench.cli import main

    session, analysis, plan = drums
    moved = plan_mix(session.with_settings(role={"Toms": "hand percussion"}), analysis)
    assert moved.stems["Toms"].role == "hand percussion"
    assert moved.stems["Toms"].role_reason.startswith("your choice (detected: percussion hits")
    model = bm.default_model()
    i = analysis.index("Toms")
    before = part_roles(session, analysis)[i].terms
    after = part_roles(session.with_settings(role={"Toms": "hand percussion"}), analysis)[i].terms  # shaker's section
    expected = model.offset("hand percussion", after) - model.offset("percussion hits", before)
    assert moved.stems["Toms"].gain_db - plan.stems["Toms"].gain_db == pytest.approx(expected, abs=0.02)
    with pytest.raises(WorkbenchError, match="Role 'tom fills' for 'Toms' is not known"):
        session.with_settings(role={"Toms": "tom fills"})
    # the same from the command line; a bad role is a clear message and exit 2
    folder = session.folder
    assert main(["mix", str(folder), "-o", str(tmp_path / "o"), "--preview", "--quiet",
                 "--role", "Toms=hand percussion"]) == 0
    assert "| Toms | role: hand percussion | your choice" in (tmp_path / "o" / "report.md").read_text()
    assert main(["mix", str(folder), "-o", str(tmp_path / "p"), "--quiet", "--role", "Toms=fills"]) == 2
