"""Each rule module on its own: what it promises, for every category × importance × role.

The planner tests check the rules together on audio; these call each rule
directly with made-up measurements and assert the promise the module's
docstring makes (tables cover every category and role, importance moves things
the right way, cuts stay bounded, the low end and the lead stay centred).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.analysis.bands import erb_bands
from workbench.categories import CATEGORY_NAMES
from workbench.mixing import balance_model as bm
from workbench.mixing.rules import dynamics, eq, gain, pan, space
from workbench.mixing.rules.roles import (CENTRED, IMPORTANCE_LEVELS, PRIORITY, ROLE_BY_CATEGORY, ROLES,
                                          assign_role, category_key, priority)
from workbench.mixing.settings import MixSettings

LEVELS = IMPORTANCE_LEVELS


# ------------------------------------------------------------------ tables cover every category and role
@pytest.mark.parametrize("table", [dynamics.CATEGORY_COMPRESSION, eq.HIGHPASS_HZ, space.CATEGORY_SEND_DB,
                                   ROLE_BY_CATEGORY])
def test_every_category_table_covers_the_sixteen_categories(table):
    assert set(table) == set(CATEGORY_NAMES) == set(PRIORITY)


def test_every_role_has_a_prior_and_a_shipped_level():
    model = bm.default_model()
    assert set(gain.PRIOR_OFFSET_LU) == set(ROLES)
    for r in ROLES:
        assert math.isfinite(model.offset(r, bm.term_values(0.5, 1000.0, 1.0)))


@pytest.mark.parametrize("category", [*CATEGORY_NAMES, None, "Kazoo"])
@pytest.mark.parametrize("duty", [0.02, 0.5, 1.0])
def test_every_category_gets_a_known_role_with_a_reason(category, duty):
    r = assign_role(category, duty, 0.3)
    assert r.key in ROLES and r.category == category_key(category)
    assert f"{duty:.0%}" in r.reason


# ------------------------------------------------------------------ gain
@pytest.mark.parametrize("role", ROLES)
def test_gain_rises_with_importance_by_the_documented_steps(role):
    model = bm.default_model()
    t = bm.term_values(0.5, 1000.0, 1.0)
    levels = {lv: gain.plan_gains([gain.GainInput("x", role, "", lv, "medium", -30.0, t),
                                   gain.GainInput("y", "keys", "", "medium", "medium", -30.0, t)], model)["x"]
              for lv in LEVELS}
    assert levels["low"].gain_db < levels["medium"].gain_db < levels["high"].gain_db
    assert levels["high"].gain_db - levels["medium"].gain_db == pytest.approx(gain.IMPORTANCE_OFFSET_LU["high"])
    assert levels["medium"].gain_db - levels["low"].gain_db == pytest.approx(-gain.IMPORTANCE_OFFSET_LU["low"])
    assert all(d.rule == "model" and d.reason.rule == "gain.model" and d.reason.measured["role"] == role
               and role in d.reason.text for d in levels.values())
    assert levels["high"].reason.measured["importance_lu"] == pytest.approx(gain.IMPORTANCE_OFFSET_LU["high"])
    assert "zwicker_fastl" in levels["high"].reason.sources and "zwicker_fastl" not in levels["medium"].reason.sources


@pytest.mark.parametrize("offset_db", [-12.0, -3.0, 6.0])
def test_gain_ignores_the_level_a_stem_arrived_at(offset_db):
    model = bm.default_model()
    t = bm.term_values(0.5, 1000.0, 1.0)
    stems = [gain.GainInput("a", "kick", "", "medium", "medium", -24.0, t),
             gain.GainInput("b", "pad", "", "medium", "medium", -28.0, t)]
    moved = [stems[0], gain.GainInput("b", "pad", "", "medium", "medium", -28.0 + offset_db, t)]
    before, after = gain.plan_gains(stems, model), gain.plan_gains(moved, model)
    assert after["b"].gain_db == pytest.approx(before["b"].gain_db - offset_db, abs=0.01)
    assert after["b"].target_lufs == pytest.approx(before["b"].target_lufs, abs=0.01)


def test_a_silent_stem_gets_no_gain():
    d = gain.plan_gains([gain.GainInput("s", "pad", "", "medium", "medium", -math.inf, {})], bm.default_model())
    assert d["s"].gain_db == 0.0 and d["s"].rule == "silent" and d["s"].reason.rule == "gain.silent"


def test_gains_stay_within_their_bounds():
    model = bm.default_model()
    t = bm.term_values(0.5, 1000.0, 1.0)
    out = gain.plan_gains([gain.GainInput("loud", "pad", "", "low", "medium", 10.0, t),
                           gain.GainInput("x", "pad", "", "medium", "medium", -20.0, t)], model)
    assert gain.MAX_CUT_DB <= out["loud"].gain_db <= gain.MAX_BOOST_DB


# ------------------------------------------------------------------ dynamics
@pytest.mark.parametrize("category", CATEGORY_NAMES)
def test_compression_is_tighter_for_more_important_stems_and_keeps_its_reason(category):
    comps = {lv: dynamics.compressor(category, lv, -6.0, 16.0, 0.0) for lv in LEVELS}
    ratio = dynamics.CATEGORY_COMPRESSION[category][0]
    if ratio <= 1.0:
        assert all(c is not None and not c.active for c in comps.values())
        return
    assert comps["low"].threshold_db > comps["medium"].threshold_db > comps["high"].threshold_db
    for c in comps.values():
        assert c.active and c.reason and 1.0 < c.ratio <= 10.0 and c.attack_ms > 0 and c.release_ms > 0


def test_an_already_limited_stem_is_compressed_more_gently():
    fresh = dynamics.compressor("Bass", "medium", -6.0, 16.0, 0.0)
    limited = dynamics.compressor("Bass", "medium", -6.0, 6.0, 0.0)
    assert limited.ratio < fresh.ratio and limited.threshold_db > fresh.threshold_db
    assert limited.reason.rule == "dynamics.already_limited" and limited.reason.measured["crest_db"] == 6.0
    assert fresh.reason.rule == "dynamics.category"
    assert limited.reason.measured["reduction_db"] == pytest.approx(fresh.reason.measured["reduction_db"] / 2)
    assert "already arrives compressed" in limited.reason.text
    assert limited.to_plan().reason == limited.reason.text


def test_a_silent_stem_gets_no_compressor():
    assert dynamics.compressor("Keys", "medium", None, None, 0.0) is None


# ------------------------------------------------------------------ eq
@pytest.mark.parametrize("category", CATEGORY_NAMES)
def test_the_highpass_never_cuts_into_the_stems_content(category):
    bands = erb_bands()
    c = np.asarray(bands.centres_hz)
    lt = np.where(c >= 60.0, -20.0, -80.0)            # content from 60 Hz up
    hp = eq.highpass(category, lt, bands)
    content_hz = float(c[c >= 60.0][0])               # the stem's lowest strong band
    assert hp.kind == "highpass" and hp.slope_db_per_oct in (12, 24)
    assert hp.freq_hz <= max(eq.HIGHPASS_HZ[category], eq.SUBSONIC_HZ)
    # a subsonic filter, or half an octave under the content (about 1 dB down there at 12 dB/oct)
    assert hp.freq_hz <= eq.SUBSONIC_HZ or hp.freq_hz <= eq.HIGHPASS_BELOW_CONTENT * content_hz + 0.1


@pytest.mark.parametrize("category", CATEGORY_NAMES)
def test_resonance_cuts_only_on_unpitched_drums_and_bounded(category):
    bands = erb_bands()
    c = np.asarray(bands.centres_hz)
    lt = -20 * np.log10(c / 100)
    lt[int(np.argmin(abs(c - 1500)))] += 14.0
    cut = eq.corrective(category, lt, bands)
    if category in eq.RESONANCE_CATEGORIES:
        assert cut is not None and -eq.RESONANCE_MAX_CUT_DB <= cut.gain_db < 0 and 0.1 <= cut.q <= 20
    else:
        assert cut is None


@pytest.mark.parametrize("gap, limit", [(0, 3.0), (1, 4.5), (2, 6.0)])
def test_unmasking_cuts_the_less_important_stem_within_its_bound(gap, limit):
    bands = erb_bands()
    nb = bands.n_bands
    levels = ("high", "medium", "low")
    imps = [levels[0], levels[gap]]
    share = np.zeros((2, 2, nb))
    share[1, 0, 20:23] = 0.8                       # stem 1 masks stem 0 in three bands
    energy = np.full((2, nb), 1.0 / nb)
    energy[0, 20:23] = 0.2
    margin = np.full((nb, 10), 30.0)               # a deep, constant masking margin in every band and frame
    # at the same importance the category order decides: Keys is kept, Synth is cut
    cuts = eq.unmasking(["lead", "other"], ["Keys", "Synth"], imps, share, energy,
                        lambda m, t: margin, bands, max_cut_db=6.0)
    assert list(cuts) == ["other"]
    for b in cuts["other"]:
        assert -limit - 1e-9 <= b.gain_db <= -eq.UNMASK_MIN_CUT_DB
        assert b.reason.rule == "eq.unmasking" and b.reason.measured["target"] == "lead"
        assert b.reason.measured["importance_gap"] == gap and b.reason.measured["time_share"] == 1.0
        assert "masks lead" in b.reason.text


# ------------------------------------------------------------------ pan
def _pans(categories, importances, centroids, style=None, masking=None, names=None, roles=None):
    n = len(categories)
    names = names or [f"s{i}" for i in range(n)]
    return pan.plan_pans(names, categories, importances, centroids, [0.1] * n, [1] * n, [1.0] * n,
                         np.ones(n), masking if masking is not None else np.zeros((n, n)), roles=roles,
                         authored=style)


@pytest.mark.parametrize("style", [None, pan.AuthoredPan(0.48, 0.36)])
def test_the_low_end_and_the_lead_stay_centred(style):
    cats = sorted(CENTRED) + ["Keys", "Guitar"]
    out = _pans(cats, ["medium"] * len(cats), [100.0] * len(cats) + [1000.0, 2000.0], style,
                roles=[""] * len(CENTRED) + ["foreground", ""])
    for i, c in enumerate(sorted(CENTRED)):
        assert out[f"s{i}"].pan == 0.0 and out[f"s{i}"].reason.rule == "pan.centred_category"
    assert out[f"s{len(CENTRED)}"].pan == 0.0       # the foreground part
    assert out[f"s{len(CENTRED)}"].reason.rule == "pan.foreground"


def test_wide_style_spreads_more_with_lower_importance_and_keeps_sides_even():
    cats = ["Keys", "Guitar", "Synth", "Strings"]
    for lv_a, lv_b in (("high", "medium"), ("medium", "low")):
        a = _pans(cats, [lv_a] * 4, [1000.0] * 4)
        b = _pans(cats, [lv_b] * 4, [1000.0] * 4)
        assert all(abs(a[k].pan) < abs(b[k].pan) for k in a)
    out = _pans(cats, ["medium"] * 4, [1000.0] * 4)
    assert sum(1 for d in out.values() if d.pan < 0) == sum(1 for d in out.values() if d.pan > 0)
    assert all(d.reason.rule.startswith("pan.spread_by_centroid.") for d in out.values())


def test_authored_style_pans_only_clashing_parts_and_a_named_pair_mirrored():
    cats = ["Keys", "Guitar", "Synth", "Guitar", "Guitar"]
    names = ["Keys", "Rhythm", "Pad", "Gtr L", "Gtr R"]
    masking = np.zeros((5, 5))
    masking[0, 1] = 0.2                            # Keys and Rhythm clash
    out = _pans(cats, ["medium"] * 5, [1000.0] * 5, pan.AuthoredPan(0.48, 0.36), masking, names)
    assert out["Pad"].pan == 0.0 and out["Pad"].reason.rule == "pan.no_clash"
    assert out["Keys"].pan * out["Rhythm"].pan < 0 and abs(out["Keys"].pan) == pytest.approx(0.48)
    assert out["Keys"].reason.measured["partner"] == "Rhythm" and out["Keys"].reason.measured["masking"] == 0.2
    assert out["Gtr L"].pan == pytest.approx(-0.36) and out["Gtr R"].pan == pytest.approx(0.36)
    assert out["Gtr L"].reason.rule == "pan.pair" and out["Gtr L"].reason.measured["side"] == "left"


def test_cymbals_stay_on_one_side():
    cats = ["Cymbals", "Cymbals", "Cymbals", "Keys"]
    for style in (None, pan.AuthoredPan(0.48, 0.36)):
        out = _pans(cats, ["medium", "medium", "low", "low"], [8000.0, 9000.0, 7000.0, 1000.0], style,
                    np.full((4, 4), 0.2) - np.eye(4) * 0.2)
        sides = {np.sign(out[f"s{i}"].pan) for i in range(3)} - {0.0}
        assert len(sides) <= 1


# ------------------------------------------------------------------ space
@pytest.mark.parametrize("category", CATEGORY_NAMES)
def test_important_stems_are_drier(category):
    sends = {lv: space.send(category, lv).send_db for lv in LEVELS}
    if space.CATEGORY_SEND_DB[category] is None:
        assert all(s is None for s in sends.values())
    else:
        assert sends["low"] > sends["medium"] > sends["high"]


# ------------------------------------------------------------------ priority
def test_priority_orders_by_importance_first():
    assert priority("FX", "high") < priority("Lead Vocal", "medium")
    assert priority("Lead Vocal", "medium") < priority("Kick", "medium")


def test_settings_pan_style_is_validated():
    from workbench import WorkbenchError

    assert MixSettings(pan_style="wide").pan_style == "wide"
    with pytest.raises(WorkbenchError, match="pan_style"):
        MixSettings(pan_style="huge")
