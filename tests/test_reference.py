"""Reference mode: measuring references, planning toward them, the master EQ/width stage, styles."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import sosfilt

from workbench.analysis.reference import (
    ReferenceMeasurement,
    combine,
    load_reference,
    measure_audio,
    measure_reference,
    parse_reference_spec,
    tonal_distance_db,
    tonal_distance_file,
)
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.mixing import dsp
from workbench.mixing.plan import EQBand, MasterPlan, MixPlan, PlanError
from workbench.mixing.reference_match import MatchAmounts, fit_tone_eq, master_tone, parse_match
from workbench.mixing.response import eq_response_db
from workbench.mixing.style import Style, apply_style, load_style, shipped_styles
from workbench.pipeline import mix_session

from .conftest import SAMPLE_STEMS

SR = 44100


def noise(seconds=8.0, sr=SR, seed=0, channels=2, level=0.1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((channels, int(seconds * sr))) * level).astype(np.float32)


def shelf(x, gain_db, freq_hz=4000.0, sr=SR):
    sos = dsp.rbj_biquad_sos("high_shelf", freq_hz, gain_db, 0.707, sr)
    return sosfilt(sos, x, axis=-1).astype(np.float32)


# ------------------------------------------------------------------ measuring
def test_width_of_independent_channels_mono_and_imbalance():
    x = noise()
    m = measure_audio(x, SR)
    assert 0.45 < m.region_side_share(120, 20000) < 0.55          # two uncorrelated channels
    mono = measure_audio(np.stack([x[0], x[0]]), SR)
    assert max(mono.side_share) < 1e-6 and mono.low_side_share < 1e-6
    left_up = measure_audio(np.stack([x[0] * 2.0, x[1]]), SR)        # +6.02 dB on the left
    assert left_up.imbalance_db == pytest.approx(6.02, abs=0.15)


def test_tonal_balance_sees_a_shelf_by_its_gain():
    x = noise()
    flat, bright = measure_audio(x, SR), measure_audio(shelf(x, 6.0), SR)
    c = np.asarray(flat.centres_hz)
    d = np.asarray(bright.tonal_db) - np.asarray(flat.tonal_db)
    hi, lo = d[(c > 9000) & (c < 16000)].mean(), d[(c > 100) & (c < 1000)].mean()
    assert hi - lo == pytest.approx(6.0, abs=0.5)
    assert tonal_distance_db(flat, flat) == 0.0
    assert tonal_distance_db(flat, bright) > 1.0


def test_loud_section_ignores_a_quiet_intro_of_another_colour():
    body = noise(12.0, seed=1)
    intro = shelf(noise(12.0, seed=2, level=0.01), 12.0)             # quiet and very bright
    with_intro = measure_audio(np.concatenate([intro, body], axis=1), SR)
    alone = measure_audio(body, SR)
    assert tonal_distance_db(with_intro, alone) < 0.3
    assert with_intro.loud_seconds == pytest.approx(12.0, abs=3.1)


def test_loudness_descriptors_follow_the_signal():
    x = noise(level=0.05)
    m = measure_audio(x, SR)
    louder = measure_audio(x * 2.0, SR)
    assert louder.integrated_lufs - m.integrated_lufs == pytest.approx(6.02, abs=0.05)
    assert louder.plr_db == pytest.approx(m.plr_db, abs=0.05)        # PLR does not depend on the level
    assert m.crest_db == pytest.approx(louder.crest_db, abs=0.01)


@pytest.mark.parametrize("fmt,subtype,sr", [("FLAC", "PCM_16", 48000), ("OGG", "VORBIS", 32000),
                                            ("MP3", "MPEG_LAYER_III", 44100), ("WAV", "FLOAT", 96000)])
def test_references_decode_and_resample(tmp_path, fmt, subtype, sr):
    t = np.arange(int(4 * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path / f"ref.{fmt.lower()}"
    sf.write(str(path), np.stack([x, x]).T, sr, format=fmt, subtype=subtype)
    y = load_reference(path)
    assert y.shape[0] == 2 and abs(y.shape[1] - 4 * SR) < 0.1 * SR    # MP3 adds encoder padding
    spec = np.abs(np.fft.rfft(y[0][: SR]))
    assert abs(np.argmax(spec) - 1000) <= 2                            # still 1 kHz at 44.1 kHz
    assert measure_reference(path).integrated_lufs == pytest.approx(measure_audio(y, SR).integrated_lufs)


def test_bad_references_are_refused_with_the_file_named(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(WorkbenchError) as e:
        load_reference(text)
    assert e.value.code == "bad_reference" and "notes.wav" in e.value.message
    aiff = tmp_path / "song.aiff"
    sf.write(str(aiff), noise(4.0).T, SR, format="AIFF")
    with pytest.raises(WorkbenchError, match="AIFF|WAV, FLAC, MP3 or OGG"):
        load_reference(aiff)
    short = tmp_path / "short.wav"
    sf.write(str(short), noise(1.0).T, SR)
    with pytest.raises(WorkbenchError, match="1.0 s"):
        load_reference(short)
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros((SR * 4, 2)), SR)
    with pytest.raises(WorkbenchError, match="silent"):
        load_reference(silent)
    with pytest.raises(WorkbenchError, match="does not exist"):
        load_reference(tmp_path / "missing.flac")


def test_reference_specs_and_weights():
    assert parse_reference_spec("song.wav") == ("song.wav", 1.0)
    assert parse_reference_spec("a/song.flac:2.5") == ("a/song.flac", 2.5)
    with pytest.raises(WorkbenchError, match="positive"):
        parse_reference_spec("song.wav:-1")
    a, b = measure_audio(noise(level=0.05), SR), measure_audio(noise(level=0.2, seed=3), SR)
    both = combine([(a, 3.0), (b, 1.0)])
    assert both.integrated_lufs == pytest.approx(0.75 * a.integrated_lufs + 0.25 * b.integrated_lufs)
    assert combine([(a, 1.0)]) is a


def test_match_amounts_parse_and_refuse():
    assert parse_match("tone=40 width=0") == MatchAmounts(tone=40, dynamics=50, width=0, loudness=0)
    assert parse_match(["tone=100", "loudness=100"]).loudness == 100
    for bad in ("tone=120", "colour=50", "tone=loud", "tone"):
        with pytest.raises(WorkbenchError) as e:
            parse_match(bad)
        assert e.value.code == "bad_match"


# ------------------------------------------------------------------ planning and the master stage
def test_tone_fit_is_bounded_and_reaches_a_broad_tilt():
    c = np.asarray(measure_audio(noise(4.0), SR).centres_hz)
    tilt = 2.0 * np.log2(c / 1000.0)                      # +2 dB per octave
    gains = fit_tone_eq(tilt, c)
    from workbench.mixing.reference_match import _band_set

    bands = [EQBand(b.kind, b.freq_hz, g, b.q) for b, g in zip(_band_set(), gains)]
    got = eq_response_db(bands, c)
    keep = (c > 60) & (c < 12000)
    err = (got - tilt)[keep] - (got - tilt)[keep].mean()
    assert np.sqrt(np.mean(err ** 2)) < 0.5
    steep = fit_tone_eq(40.0 * np.log2(c / 1000.0), c)
    from workbench.mixing.reference_match import MASTER_EQ_MAX_DB

    assert max(abs(g) for g in steep) == pytest.approx(MASTER_EQ_MAX_DB)     # bounded, and the bound is reached


def test_master_tone_stage_physics():
    x = noise(2.0)
    # width 0 folds to mono; mono below 120 Hz removes the low side only
    fold = master_tone(MasterPlan(width=0.0), SR)(x)
    assert np.allclose(fold[0], fold[1])
    y = master_tone(MasterPlan(mono_below_hz=120.0), SR)(x)
    side_in, side_out = 0.5 * (x[0] - x[1]), 0.5 * (y[0] - y[1])
    lo = np.fft.rfftfreq(x.shape[1], 1 / SR) < 40
    assert np.sum(np.abs(np.fft.rfft(side_out))[lo] ** 2) < 0.05 * np.sum(np.abs(np.fft.rfft(side_in))[lo] ** 2)
    assert master_tone(MasterPlan(), SR) is None
    # a +6 dB bell at 1 kHz lifts a 1 kHz sine by 6 dB; streaming in blocks gives the same samples
    t = np.arange(SR) / SR
    sine = np.tile(0.1 * np.sin(2 * np.pi * 1000 * t), (2, 1)).astype(np.float32)
    stage = master_tone(MasterPlan(eq=[EQBand("bell", 1000.0, 6.0, 1.41)]), SR)
    whole = stage(sine)
    gain = 20 * np.log10(np.abs(whole[0, SR // 2:]).max() / 0.1)
    assert gain == pytest.approx(6.0, abs=0.1)
    stage2 = master_tone(MasterPlan(eq=[EQBand("bell", 1000.0, 6.0, 1.41)]), SR)
    parts = np.concatenate([stage2(sine[:, :1000]), stage2(sine[:, 1000:])], axis=1)
    assert np.array_equal(parts, whole)


def test_master_plan_fields_are_validated_and_old_plans_load(tmp_path):
    with pytest.raises(PlanError, match="master.width|MasterPlan.width"):
        MasterPlan(width=3.0)
    with pytest.raises(PlanError, match="mono_below_hz"):
        MasterPlan(mono_below_hz=1000.0)


# ------------------------------------------------------------------ the whole flow on the sample stems
@pytest.fixture(scope="module")
def brighter_wider_reference(tmp_path_factory):
    """The sample stems' automix, made brighter (+6 dB above 4 kHz), wider and 3 dB quieter: a reference."""
    tmp = tmp_path_factory.mktemp("ref")
    auto = mix_session(SAMPLE_STEMS, tmp / "auto")
    audio, sr = sf.read(str(auto.audio_path), dtype="float32", always_2d=True)
    x = shelf(audio.T, 6.0, sr=sr)
    mid, side = 0.5 * (x[0] + x[1]), 0.5 * (x[0] - x[1]) * 1.6
    ref = np.stack([mid + side, mid - side]) * 10 ** (-3 / 20)
    path = tmp / "reference.flac"
    sf.write(str(path), ref.T, sr, subtype="PCM_24")
    return auto, path


@pytest.fixture(scope="module")
def reference_mix(brighter_wider_reference, tmp_path_factory):
    auto, ref = brighter_wider_reference
    out = tmp_path_factory.mktemp("refmix")
    return mix_session(SAMPLE_STEMS, out, reference=[str(ref)], match="tone=100 dynamics=50 width=100"), ref


def test_reference_mode_moves_the_mix_toward_the_reference(brighter_wider_reference, reference_mix):
    auto, ref_path = brighter_wider_reference
    res, _ = reference_mix
    ref = measure_reference(ref_path)
    before = tonal_distance_file(auto.audio_path, ref)
    after = tonal_distance_file(res.audio_path, ref)
    assert after < 0.5 * before
    m_before = measure_reference(auto.audio_path)
    m_after = measure_reference(res.audio_path)
    goal = ref.region_side_share(120, 20000)
    assert abs(m_after.region_side_share(120, 20000) - goal) < abs(m_before.region_side_share(120, 20000) - goal)
    assert res.render.integrated_lufs == pytest.approx(-14.0, abs=0.5)          # loudness 0 %: stays at −14
    # the moves are in the plan and the report, each with its reason
    m = res.plan.master
    assert m.eq and all("matched at 100 %" in b.reason for b in m.eq)
    assert any(b.gain_db > 0 and b.freq_hz >= 4000 for b in m.eq)
    assert m.width > 1.0 and "side share" in m.width_reason
    report = res.report_path.read_text(encoding="utf-8")
    for b in m.eq:
        assert b.reason in report.replace("\\|", "|")
    plan = json.loads(res.plan_path.read_text(encoding="utf-8"))
    assert plan["version"] == 2 and plan["master"]["eq"] and plan["master"]["width"] == m.width
    # the release check measures the mix's tonal distance to the reference, as the benchmark does
    rows = [r for c in res.release for r in c.rows if r.name == "Tonal distance to reference"]
    assert len(rows) == 1 and rows[0].value == f"{after:.1f} dB"
    assert "Tonal distance to reference" in report


def test_reference_plan_rerenders_identically_and_hand_edits_count(reference_mix, tmp_path):
    res, _ = reference_mix
    again = mix_session(SAMPLE_STEMS, tmp_path / "again", plan=res.plan_path)
    a, _ = sf.read(str(res.audio_path), dtype="int16")
    b, _ = sf.read(str(again.audio_path), dtype="int16")
    assert np.array_equal(a, b)
    edited = json.loads(res.plan_path.read_text(encoding="utf-8"))
    edited["master"]["eq"].append({"kind": "bell", "freq_hz": 250.0, "gain_db": -4.0, "q": 1.41,
                                   "slope_db_per_oct": 12, "reason": "my own cut"})
    edited["master"]["width"] = 1.0
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited), encoding="utf-8")
    e1 = mix_session(SAMPLE_STEMS, tmp_path / "e1", plan=path)
    e2 = mix_session(SAMPLE_STEMS, tmp_path / "e2", plan=path)
    x1, _ = sf.read(str(e1.audio_path), dtype="int16")
    x2, _ = sf.read(str(e2.audio_path), dtype="int16")
    assert np.array_equal(x1, x2) and not np.array_equal(x1, a)
    assert "my own cut" in e1.report_path.read_text(encoding="utf-8")
    edited["master"]["width"] = 5
    path.write_text(json.dumps(edited), encoding="utf-8")
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "bad"), "--plan", str(path), "--quiet"]) == 2


def test_version_1_plans_still_load(reference_mix):
    res, _ = reference_mix
    d = json.loads(res.plan_path.read_text(encoding="utf-8"))
    d["version"] = 1
    for k in ("eq", "width", "mono_below_hz", "width_reason", "target"):
        d["master"].pop(k)
    old = MixPlan.from_dict(d)
    assert old.version == 2 and old.master.eq == [] and old.master.width == 1.0


def test_cli_reference_errors_and_style_make(tmp_path, capsys, brighter_wider_reference):
    bad = tmp_path / "ref.txt"
    bad.write_text("hello")
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "o"), "--reference", str(bad), "--quiet"]) == 2
    assert "ref.txt" in capsys.readouterr().err
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "o"), "--reference", str(bad),
                 "--match", "tone=300", "--quiet"]) == 2
    _, ref = brighter_wider_reference
    out = tmp_path / "mine.json"
    assert main(["style", "make", f"{ref}:2", str(ref), "-o", str(out)]) == 0
    style = load_style(out)
    assert style.name == "mine" and style.target is not None
    assert style.target.integrated_lufs == pytest.approx(measure_reference(ref).integrated_lufs, abs=0.01)


# ------------------------------------------------------------------ styles
def test_shipped_styles_load_and_are_sourced():
    names = shipped_styles()
    assert len(names) >= 3
    for n in names:
        s = load_style(n)
        assert s.sources and s.description


def test_style_validation_names_the_field(tmp_path):
    p = tmp_path / "s.json"
    for d, field in (({"name": "x", "pan_spread": 9}, "pan_spread"), ({"name": "x", "role_offsets_db": {"kick": 20}},
                     "role_offsets_db"), ({"name": ""}, "name"), ({"name": "x", "colour": 1}, "colour"),
                     ({"name": "x", "target": {"integrated_lufs": -14}}, "target")):
        p.write_text(json.dumps(d), encoding="utf-8")
        with pytest.raises(WorkbenchError) as e:
            load_style(p)
        assert e.value.code == "bad_style" and field in e.value.message
    with pytest.raises(WorkbenchError, match="No style called"):
        load_style("no-such-style")


def test_style_tendencies_apply_with_reasons(reference_mix):
    res, _ = reference_mix
    style = Style(name="t", role_offsets_db=(("kick", 2.0),), pan_spread=0.5, reverb_offset_db=-3.0)
    styled = apply_style(res.plan, style)
    for name, s in res.plan.stems.items():
        n = styled.stems[name]
        if s.role == "kick":
            assert n.gain_db == pytest.approx(s.gain_db + 2.0) and "style 't'" in n.gain_reason
        assert n.pan == pytest.approx(s.pan * 0.5, abs=1e-3)
        if s.reverb_send_db is not None:
            assert n.reverb_send_db == pytest.approx(s.reverb_send_db - 3.0, abs=0.05)


def test_measurement_round_trips_through_a_dict():
    m = measure_audio(noise(4.0), SR, source="n")
    back = ReferenceMeasurement.from_dict(m.to_dict())
    assert tonal_distance_db(back, m) < 0.01 and back.integrated_lufs == pytest.approx(m.integrated_lufs, abs=1e-3)


# ------------------------------------------------------------------ the dashboard's reference panel
def test_reference_panel_upload_style_and_amounts(tmp_path, brighter_wider_reference):
    from workbench.ui.reference import NO_STYLE, ReferencePanel

    panel = ReferencePanel(tmp_path)
    changes = []
    panel.on_change(lambda: changes.append(1))
    assert panel.plan_kwargs() == {}
    _, ref = brighter_wider_reference
    data = ref.read_bytes()
    panel.upload.value = ({"name": "../../My Song.flac", "type": "audio/flac", "size": len(data),
                           "content": memoryview(data), "last_modified": datetime.datetime(2026, 1, 1)},)
    assert panel.target is not None and "My Song.flac" in panel.status.value
    written = sorted((tmp_path / "references").iterdir())
    assert [p.name for p in written] == ["reference-1.flac"]                 # our name, not the browser's
    kw = panel.plan_kwargs()
    assert kw["target"] is panel.target and kw["match"] == MatchAmounts() and changes
    panel.sliders["tone"].value = 30
    assert panel.plan_kwargs()["match"].tone == 30
    panel.upload.value = ({"name": "notes.txt", "type": "text/plain", "size": 3, "content": memoryview(b"abc"),
                           "last_modified": datetime.datetime(2026, 1, 1)},)
    assert "wb-error" in panel.status.value and panel.target is not None     # the old target stays
    panel.style_picker.value = "pink"
    assert panel.style is not None and panel.sliders["width"].value == 0     # the style's own amounts
    panel.style_picker.value = NO_STYLE
    panel.clear.click()
    assert panel.plan_kwargs() == {}


def test_dashboard_plans_toward_the_panel(brighter_wider_reference):
    from workbench.ui import Workbench

    wb = Workbench(SAMPLE_STEMS, background=False)
    _, ref = brighter_wider_reference
    wb.reference.use_file(ref)
    plan = wb.model.make_plan()
    assert plan.master.target and plan.master.eq


def test_a_shipped_style_from_the_cli(tmp_path):
    out = tmp_path / "styled"
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(out), "--style", "hydrogen-drums", "--preview", "--quiet"]) == 0
    plan = MixPlan.from_json(out / "plan.json")
    assert "the style 'hydrogen-drums'" in plan.master.target
    style = load_style("hydrogen-drums")
    offsets = dict(style.role_offsets_db)
    moved = [s for s in plan.stems.values() if s.role in offsets]
    assert moved and all("hydrogen-drums" in s.gain_reason for s in moved)
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "x"), "--style", "no-such", "--quiet"]) == 2


def _says_opposite(band) -> bool:
    """An EQ band that moves against the difference its reason states ('less' but boosted, or vice versa)."""
    import re

    m = re.search(r"has [0-9.]+ dB (more|less)", band.reason)
    return bool(m) and ((m.group(1) == "less" and band.gain_db > 0) or (m.group(1) == "more" and band.gain_db < 0))


def test_an_eq_band_against_the_stated_difference_says_why(brighter_wider_reference, tmp_path):
    # The rules' own mix as the reference, through a style: faders move toward it first, then the EQ
    # is fitted to what they left — a band may then move against the raw difference, and must say so.
    auto, _ = brighter_wider_reference
    res = mix_session(SAMPLE_STEMS, tmp_path / "styled", reference=[str(auto.audio_path)], style="lmms-electronic")
    bands = [b for s in res.plan.stems.values() for b in s.eq] + list(res.plan.master.eq)
    moved = [b for b in bands if "matched at" in b.reason]
    assert moved
    for b in moved:
        if _says_opposite(b):
            assert ("fader moves above already change this region" in b.reason
                    or "so this band was corrected by" in b.reason), b.reason
