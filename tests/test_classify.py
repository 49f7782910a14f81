"""Tests for workbench.analysis.classify: category from audio, and name + audio.

Signals are made here, seeded, from physics: a kick is a decaying sine whose pitch
drops, a bass line is sustained low tones, hats are short bursts of broadband
noise. Assertions are the robust ones: the features measure what they say (with
stated tolerances), the shipped model loads offline and gives a valid category
with probabilities that sum to 1, obvious signals land in a sensible class, and
combine() follows its rules.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from workbench.analysis import classify
from workbench.analysis.classify import (FEATURE_NAMES, MODEL_PATH, AudioSuggestion, audio_features, combine,
                                         excerpt, excerpt_array, load_model, suggest_from_audio)
from workbench.categories import CATEGORY_NAMES
from workbench.errors import WorkbenchError

SR = 44100
BPM = 120.0
BEAT_S = 60.0 / BPM


# ---------------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------------

def kick_pattern(sr: int = SR, seconds: float = 12.0, channels: int = 1) -> np.ndarray:
    """A kick on every beat: 55 Hz sine, pitch dropping from ~150 Hz, 120 ms decay."""
    n = int(seconds * sr)
    out = np.zeros(n)
    t = np.arange(int(0.45 * sr)) / sr
    freq = 55.0 + 95.0 * np.exp(-t / 0.03)
    hit = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.12)
    for start in range(0, n - hit.size, int(BEAT_S * sr)):
        out[start:start + hit.size] += hit
    return np.repeat((0.8 * out)[None, :], channels, axis=0).astype(np.float32)


def bass_line(sr: int = SR, seconds: float = 12.0, channels: int = 1) -> np.ndarray:
    """Sustained low notes (41-98 Hz) with a few soft harmonics, two beats each."""
    notes_hz = [41.2, 55.0, 49.0, 65.4, 73.4, 61.7, 98.0, 82.4]
    note_n = int(2 * BEAT_S * sr)
    t = np.arange(note_n) / sr
    env = np.minimum(1.0, t / 0.02) * np.minimum(1.0, (t[-1] - t) / 0.05 + 0.0)
    parts = []
    for k in range(int(np.ceil(seconds * sr / note_n))):
        f0 = notes_hz[k % len(notes_hz)]
        tone = sum(a * np.sin(2 * np.pi * f0 * h * t) for h, a in ((1, 1.0), (2, 0.35), (3, 0.12)))
        parts.append(0.5 * tone * env)
    out = np.concatenate(parts)[: int(seconds * sr)]
    return np.repeat(out[None, :], channels, axis=0).astype(np.float32)


def noise_bursts(sr: int = SR, seconds: float = 12.0, channels: int = 1, seed: int = 1) -> np.ndarray:
    """Broadband noise bursts (40 ms, 8 ms decay) on every 8th note, high-passed by a difference."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n)
    m = int(0.04 * sr)
    env = np.exp(-np.arange(m) / (0.008 * sr))
    for start in range(0, n - m, int(BEAT_S / 2 * sr)):
        burst = rng.standard_normal(m + 1)
        out[start:start + m] += np.diff(burst) * env * 0.3
    return np.repeat(out[None, :], channels, axis=0).astype(np.float32)


def sine(freq_hz: float, sr: int = SR, seconds: float = 4.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return np.repeat((0.5 * np.sin(2 * np.pi * freq_hz * t))[None, :], channels, axis=0).astype(np.float32)


def high_melody(sr: int = SR, seconds: float = 12.0) -> np.ndarray:
    """Plucked square-ish notes around 1-2 kHz: nothing below 250 Hz."""
    notes_hz = [1046.5, 1174.7, 1318.5, 1568.0, 1760.0, 1568.0, 1318.5, 1174.7]
    note_n = int(BEAT_S / 2 * sr)
    t = np.arange(note_n) / sr
    parts = []
    for k in range(int(np.ceil(seconds * sr / note_n))):
        f0 = notes_hz[k % len(notes_hz)]
        tone = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 3, 5))
        parts.append(0.3 * tone * np.exp(-t / 0.15))
    return np.concatenate(parts)[None, : int(seconds * sr)].astype(np.float32)


def pad_chord(sr: int = SR, seconds: float = 12.0) -> np.ndarray:
    """A slowly swelling sustained chord (A minor, 220-660 Hz): no hits at all."""
    t = np.arange(int(seconds * sr)) / sr
    chord = sum(np.sin(2 * np.pi * f * t + k) for k, f in enumerate((220.0, 261.6, 329.6, 440.0, 659.3)))
    swell = np.minimum(1.0, t / 2.0)
    return (0.1 * chord * swell)[None, :].astype(np.float32)


def feats(audio: np.ndarray, sr: int = SR) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, audio_features(audio, sr)))


# ---------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("sample_rate", [22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("kind", ["silence", "click", "kick", "noise", "short", "dc"])
def test_features_are_finite(kind, channels, sample_rate):
    n = int(3 * sample_rate)
    if kind == "silence":
        audio = np.zeros((channels, n), np.float32)
    elif kind == "click":
        audio = np.zeros((channels, n), np.float32)
        audio[:, n // 2] = 1.0
    elif kind == "kick":
        audio = kick_pattern(sample_rate, 3.0, channels)
    elif kind == "noise":
        audio = np.random.default_rng(0).standard_normal((channels, n)).astype(np.float32) * 0.1
    elif kind == "short":
        audio = sine(440.0, sample_rate, 0.05, channels)
    else:
        audio = np.full((channels, n), 0.25, np.float32)
    v = audio_features(audio, sample_rate)
    assert v.shape == (len(FEATURE_NAMES),)
    assert np.all(np.isfinite(v))


def test_features_accept_1d_and_empty_input():
    assert np.all(np.isfinite(audio_features(np.zeros(0, np.float32), SR)))
    mono = kick_pattern(seconds=3.0)
    np.testing.assert_allclose(audio_features(mono[0], SR), audio_features(mono, SR))


def test_stereo_fold_equals_mono_for_identical_channels():
    mono = bass_line(seconds=4.0)
    np.testing.assert_allclose(audio_features(np.vstack([mono, mono]), SR), audio_features(mono, SR), atol=1e-9)


def test_features_do_not_depend_on_level():
    a = kick_pattern(seconds=6.0)
    np.testing.assert_allclose(audio_features(a * 0.1, SR), audio_features(a, SR), rtol=0.02, atol=0.02)


def test_silence_gives_the_neutral_vector_and_no_category():
    s = suggest_from_audio(np.zeros((2, SR * 3), np.float32), SR)
    assert s.category is None and s.confidence == 0.0 and s.probabilities == {}


@pytest.mark.parametrize("freq_hz", [55.0, 110.0, 220.0, 440.0])
def test_sine_pitch_and_voicing(freq_hz):
    f = feats(sine(freq_hz))
    assert f["voiced_fraction"] > 0.95
    assert f["f0_median_oct"] == pytest.approx(np.log2(freq_hz), abs=0.05)     # within ~a semitone
    assert f["f0_range_oct"] < 0.1
    assert f["percussive_ratio"] < 0.1


def test_noise_is_flat_unpitched_and_bright():
    noise = np.random.default_rng(3).standard_normal((1, SR * 4)).astype(np.float32) * 0.1
    f, s = feats(noise), feats(sine(440.0))
    assert f["flatness_mean"] > -0.5 > -3.0 > s["flatness_mean"]                # log10 flatness
    assert f["voiced_fraction"] < 0.05
    assert 10 ** f["share_above_5k"] > 0.7                                     # white: 17 of 22 kHz


def test_kick_features_are_low_and_percussive():
    f = feats(kick_pattern())
    assert 10 ** f["share_below_250"] > 0.9
    assert f["onset_rate_hz"] == pytest.approx(1 / BEAT_S, rel=0.15)
    assert f["attack_db"] > 20.0
    assert f["decay_db"] > 6.0                       # 120 ms time constant: ~11 dB in 150 ms


def test_noise_burst_onsets_and_top_end():
    f = feats(noise_bursts())
    assert f["onset_rate_hz"] == pytest.approx(2 / BEAT_S, rel=0.15)           # every 8th note
    assert f["high_onset_rate_hz"] == pytest.approx(2 / BEAT_S, rel=0.15)
    assert f["low_onset_rate_hz"] == 0.0
    assert 10 ** f["share_above_5k"] > 0.5
    assert f["percussive_ratio"] > 0.6


def test_sustained_chord_has_no_onsets():
    f = feats(pad_chord())
    assert f["onset_rate_hz"] < 0.2
    assert f["percussive_ratio"] < 0.15


def test_bad_input_is_refused_with_the_parameter_named():
    with pytest.raises(ValueError, match="sample_rate"):
        audio_features(np.zeros((1, 1000), np.float32), 4000)
    with pytest.raises(ValueError, match="shape"):
        audio_features(np.zeros((1, 2, 1000), np.float32), SR)
    with pytest.raises(ValueError, match="sample_rate"):
        suggest_from_audio(np.zeros((1, 1000), np.float32))


# ---------------------------------------------------------------------------
# Excerpt
# ---------------------------------------------------------------------------

def test_excerpt_reads_the_loud_part_of_a_long_file(tmp_path):
    # 60 s: quiet hiss, with a loud bass line from 30 s to 42 s
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal((2, 60 * SR)) * 1e-3).astype(np.float32)
    audio[:, 30 * SR:42 * SR] += np.vstack([bass_line(seconds=12.0)] * 2)
    path = tmp_path / "Track 7.wav"
    sf.write(str(path), audio.T, SR, subtype="PCM_16")
    ex, rate = excerpt(path, seconds=20)
    assert rate == SR and ex.shape[0] == 2
    assert ex.shape[1] <= 20 * SR
    loud_rms = np.sqrt(np.mean(audio[:, 30 * SR:42 * SR] ** 2))
    ex_rms = np.sqrt(np.mean(ex ** 2))
    assert ex_rms > 0.5 * loud_rms                   # mostly the bass line, not the hiss


def test_the_checks_level_pass_gives_the_same_excerpt_and_suggestion(tmp_path, monkeypatch):
    # load_session hands the checks' tile powers to the model: same excerpt,
    # same answer, and no second full read of the file.
    from workbench import audio_io
    from workbench.checks import _read_stats

    rng = np.random.default_rng(1)
    audio = (rng.standard_normal((2, 70 * SR + 1234)) * 1e-3).astype(np.float32)
    audio[:, 30 * SR:42 * SR] += np.vstack([bass_line(seconds=12.0)] * 2)
    audio[:, 55 * SR:60 * SR] += np.vstack([kick_pattern(seconds=5.0)[0]] * 2)
    path = tmp_path / "Track 7.wav"
    sf.write(str(path), audio.T, SR, subtype="PCM_16")
    tiles = _read_stats(path, SR).tile_power
    assert tiles.size == -(-audio.shape[1] // classify._tile_frames(SR))
    plain, _ = excerpt(path, seconds=20)
    read = []
    real = audio_io.iter_blocks_interleaved

    def counting(p, **kw):
        for pair in real(p, **kw):
            read.append(pair[0].shape[1])
            yield pair

    monkeypatch.setattr(audio_io, "iter_blocks_interleaved", counting)
    given, _ = excerpt(path, seconds=20, tile_power=tiles)
    assert np.array_equal(plain, given)
    assert sum(read) <= 20 * SR
    assert suggest_from_audio(path, tile_power=tiles) == suggest_from_audio(path)


def test_excerpt_of_a_short_file_is_the_whole_file(tmp_path):
    audio = kick_pattern(seconds=5.0, channels=2)
    path = tmp_path / "short.wav"
    sf.write(str(path), audio.T, SR, subtype="FLOAT")
    ex, _ = excerpt(path)
    np.testing.assert_allclose(ex, audio, atol=1e-6)


def test_excerpt_resamples_only_when_asked(tmp_path):
    rate = 48000
    audio = bass_line(rate, seconds=30.0, channels=2)
    path = tmp_path / "Audio 01.wav"
    sf.write(str(path), audio.T, rate, subtype="PCM_24")
    native, r1 = excerpt(path)
    resampled, r2 = excerpt(path, 44100)
    assert (r1, r2) == (48000, 44100)
    assert native.shape[1] == 20 * 48000
    assert abs(resampled.shape[1] - 20 * 44100) <= 1
    # same loudness either way (a resampler keeps the level of 41-98 Hz tones)
    assert np.sqrt(np.mean(resampled ** 2)) == pytest.approx(np.sqrt(np.mean(native ** 2)), rel=0.01)


def test_excerpt_array_is_bounded():
    long = np.tile(kick_pattern(seconds=10.0), (1, 6))                          # 60 s
    ex = excerpt_array(long, SR, seconds=20)
    assert 19 * SR <= ex.shape[1] <= 20 * SR


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------

def test_model_file_is_small_and_loads_offline():
    assert MODEL_PATH.exists()
    assert MODEL_PATH.stat().st_size < 100 * 1024
    model = load_model()
    assert model is load_model()                                               # cached in-process
    assert set(model.class_to_category.values()) <= set(CATEGORY_NAMES)
    assert "Backing Vocal" not in model.class_to_category.values()
    assert "Other" not in model.class_to_category.values()
    assert model.class_to_category.get("Vocal") == "Lead Vocal"
    p = model.predict_proba(audio_features(kick_pattern(seconds=4.0), SR))
    assert p.shape == (len(model.classes),)
    assert p.sum() == pytest.approx(1.0, abs=1e-9) and np.all(p >= 0)


def test_a_stale_model_file_is_a_workbench_error(tmp_path):
    data = json.loads(MODEL_PATH.read_text())
    data["feature_names"] = data["feature_names"][:-1]
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(WorkbenchError) as err:
        load_model(bad)
    assert err.value.code == "category_model"
    with pytest.raises(WorkbenchError):
        load_model(tmp_path / "missing.json")


@pytest.mark.parametrize("make", [kick_pattern, bass_line, noise_bursts, high_melody, pad_chord])
def test_suggestion_is_a_valid_category_with_probabilities_summing_to_one(make):
    s = suggest_from_audio(make(), SR)
    assert s.category in CATEGORY_NAMES
    assert 0.0 < s.confidence <= 1.0
    assert sum(s.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert set(s.probabilities) <= set(CATEGORY_NAMES)
    assert s.category == max(s.probabilities, key=s.probabilities.get)
    assert set(s.features) == set(FEATURE_NAMES)


def test_kick_pattern_sounds_like_a_kick():
    s = suggest_from_audio(kick_pattern(), SR)
    assert s.category == "Kick"


def test_sustained_low_tones_sound_like_bass():
    s = suggest_from_audio(bass_line(), SR)
    assert s.category == "Bass"


def test_noise_bursts_sound_like_cymbals_or_percussion():
    s = suggest_from_audio(noise_bursts(), SR)
    assert s.category in ("Cymbals", "Percussion")
    assert s.probabilities["Cymbals"] + s.probabilities["Percussion"] > 0.5


def test_a_file_and_its_array_agree(tmp_path):
    audio = bass_line(seconds=8.0, channels=2)
    path = tmp_path / "Audio 03.wav"
    sf.write(str(path), audio.T, SR, subtype="FLOAT")
    from_file = suggest_from_audio(path)
    from_array = suggest_from_audio(audio, SR)
    assert from_file.category == from_array.category
    assert from_file.confidence == pytest.approx(from_array.confidence, abs=1e-3)


def test_a_vocal_prediction_is_lead_vocal_at_half_confidence(monkeypatch):
    """One Vocal class; reported as Lead Vocal, confidence halved (role unknown)."""
    real = load_model()
    bias = np.full(len(real.classes), -10.0)
    bias[real.classes.index("Vocal")] = 10.0
    fake = classify._Model(classes=real.classes, class_to_category=real.class_to_category,
                           mean=np.zeros(len(FEATURE_NAMES)), scale=np.ones(len(FEATURE_NAMES)),
                           layers=((np.zeros((len(FEATURE_NAMES), len(real.classes))), bias, "softmax"),),
                           meta={})
    monkeypatch.setattr(classify, "load_model", lambda path=None: fake)
    s = suggest_from_audio(sine(220.0), SR)
    assert s.category == "Lead Vocal"
    assert s.probabilities["Lead Vocal"] == pytest.approx(1.0, abs=1e-6)
    assert s.confidence == pytest.approx(classify.VOCAL_ROLE_UNCERTAINTY, abs=1e-3)


# ---------------------------------------------------------------------------
# combine()
# ---------------------------------------------------------------------------

def audio_says(category: str, confidence: float, audio: np.ndarray | None = None) -> AudioSuggestion:
    features = feats(audio) if audio is not None else {}
    return AudioSuggestion(category, confidence, {category: confidence}, features)


def test_a_confident_name_wins():
    cat, conf, source, note = combine("Guitar", 0.92, audio_says("Keys", 0.95))
    assert (cat, conf, source, note) == ("Guitar", 0.92, "name", None)


def test_no_name_lets_the_audio_decide():
    assert combine(None, 0.0, audio_says("Pads", 0.7)) == ("Pads", 0.7, "audio", None)


def test_nothing_known_gives_no_category():
    assert combine(None, 0.0, None) == (None, 0.0, "none", None)
    silent = AudioSuggestion(None, 0.0, {}, {})
    assert combine(None, 0.0, silent) == (None, 0.0, "none", None)
    assert combine("Keys", 0.3, None) == ("Keys", 0.3, "name", None)


def test_a_weak_name_the_audio_agrees_with_gains_confidence():
    cat, conf, source, note = combine("Lead Vocal", 0.55, audio_says("Lead Vocal", 0.45))
    assert (cat, source, note) == ("Lead Vocal", "name+audio", None)
    assert conf > 0.55


def test_a_weak_name_loses_to_confident_audio():
    assert combine("Lead Vocal", 0.55, audio_says("Synth", 0.9)) == ("Synth", 0.9, "audio", None)
    assert combine("Keys", 0.55, audio_says("Synth", 0.4)) == ("Keys", 0.55, "name", None)


def test_a_vocal_hint_in_the_name_is_not_vocal_evidence():
    # "Lead" alone (a hint) is not a voice when the audio hears an instrument, however unsure (issue 13)
    assert combine("Lead Vocal", 0.55, audio_says("Synth", 0.4)) == ("Synth", 0.4, "audio", None)
    assert combine("Backing Vocal", 0.55, audio_says("Pads", 0.3)) == ("Pads", 0.3, "audio", None)
    # a confident vocal name stays a vocal
    assert combine("Lead Vocal", 0.92, audio_says("Synth", 0.9))[0] == "Lead Vocal"


def test_bass_with_no_low_end_gets_a_mislabel_note():
    heard = suggest_from_audio(high_melody(), SR)
    assert 10 ** heard.features["share_below_250"] < 0.05
    cat, conf, source, note = combine("Bass", 0.92, heard)
    assert (cat, conf, source) == ("Bass", 0.92, "name")
    assert note is not None and "Bass" in note and "250 Hz" in note and "low end" in note


def test_a_real_bass_gets_no_note():
    heard = suggest_from_audio(bass_line(), SR)
    assert combine("Bass", 0.92, heard)[3] is None


def test_a_kick_with_no_hits_gets_a_note_and_a_real_kick_does_not():
    low_drone = (sine(55.0, seconds=12.0) * np.minimum(1.0, np.arange(12 * SR) / (3.0 * SR))).astype(np.float32)
    note = combine("Kick", 0.92, suggest_from_audio(low_drone, SR))[3]
    assert note is not None and "Kick" in note and "hits" in note
    assert combine("Kick", 0.92, suggest_from_audio(kick_pattern(), SR))[3] is None


def test_drums_that_never_hit_get_a_note():
    note = combine("Snare", 0.92, suggest_from_audio(pad_chord(), SR))[3]
    assert note is not None and "no hits" in note
    assert combine("Snare", 0.92, suggest_from_audio(noise_bursts(), SR))[3] is None
