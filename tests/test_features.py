"""Per-stem features: physical facts about signals made on the spot."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from workbench import audio_io
from workbench.analysis import features, spectrum
from workbench.analysis.features import StemFeatures, analyse_stem
from workbench.analysis.loudness import true_peak_full_rate

SR = 44100
L = spectrum.frame_length(SR)


def tone(seconds: float, freq_hz: float = 440.0, peak: float = 0.5, *, sr: int = SR,
         channels: int = 2, start_s: float = 0.0) -> np.ndarray:
    """A sine of the given peak, silent before ``start_s``, ``(channels, n)`` float32."""
    t = np.arange(int(round(seconds * sr))) / sr
    x = peak * np.sin(2 * np.pi * freq_hz * t)
    x[: int(round(start_s * sr))] = 0.0
    return np.tile(x.astype(np.float32), (channels, 1))


@pytest.fixture
def wav(tmp_path):
    """``wav(name, audio, sr=SR, subtype="FLOAT")`` writes a WAV and returns its path."""

    def _write(name: str, audio: np.ndarray, sr: int = SR, subtype: str = "FLOAT"):
        path = tmp_path / name
        sf.write(str(path), np.asarray(audio).T, sr, subtype=subtype, format="WAV")
        return path

    return _write


def test_sine_levels_and_crest_factor(wav):
    f, power, active = analyse_stem(wav("sine.wav", tone(4.0, 1000.0, peak=0.5)), sample_rate=SR)
    assert f.sample_peak_dbfs == pytest.approx(-6.02, abs=0.01)
    assert f.rms_dbfs == pytest.approx(-6.02 - 3.01, abs=0.01)
    assert f.crest_db == pytest.approx(3.01, abs=0.01)           # √2
    assert f.true_peak_dbtp == pytest.approx(-6.02, abs=0.05)
    assert f.integrated_lufs == pytest.approx(-6.02 - 3.01 + 3.01, abs=0.1)  # stereo: +3.01 dB
    assert f.active_fraction == 1.0 and f.first_active_s == 0.0
    assert f.noise_floor_dbfs == pytest.approx(f.rms_dbfs, abs=0.05)
    assert f.centroid_hz == pytest.approx(1000.0, rel=0.02)
    assert power.shape == (40, math.ceil(4.0 * SR / L)) and power.dtype == np.float32
    assert active.dtype == bool and active.shape == (power.shape[1],)
    assert f.short_term_lufs.shape == (power.shape[1],)
    assert f.duration_s == pytest.approx(4.0) and f.channels == 2 and f.sample_rate == SR


def test_late_start_gives_first_active_and_active_fraction(wav):
    f, _, active = analyse_stem(wav("late.wav", tone(20.0, 330.0, start_s=10.0)), sample_rate=SR)
    hop_s = L / SR
    assert f.first_active_s == pytest.approx(10.0, abs=hop_s)
    assert f.first_active_s <= 10.0
    assert f.active_fraction == pytest.approx(0.5, abs=1.5 / active.size)
    assert not active[: int(9.9 / hop_s)].any()
    assert active[int(10.1 / hop_s):].all()
    # The silent half is digital silence: the floor under the stem is silence.
    assert f.noise_floor_dbfs == -math.inf


def test_noise_floor_reads_the_hiss_between_phrases(wav):
    rng = np.random.default_rng(0)
    x = tone(10.0, 220.0, peak=0.5)
    x[:, (np.arange(x.shape[1]) // SR) % 2 == 1] = 0.0           # phrases of 1 s, rests of 1 s
    hiss = rng.standard_normal(x.shape).astype(np.float32) * 10 ** (-70 / 20)
    f, _, active = analyse_stem(wav("hiss.wav", x + hiss), sample_rate=SR)
    assert f.noise_floor_dbfs == pytest.approx(-70.0, abs=1.0)
    assert f.active_fraction == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("channels", [1, 2])
def test_mono_and_identical_channels_are_fully_correlated(wav, channels):
    f, _, _ = analyse_stem(wav(f"m{channels}.wav", tone(3.0, channels=channels)), sample_rate=SR)
    assert f.stereo_correlation == pytest.approx(1.0, abs=1e-6)
    assert f.stereo_width == pytest.approx(0.0, abs=1e-6)


def test_opposite_polarity_channels_are_anticorrelated(wav):
    x = tone(3.0)
    x[1] *= -1
    f, _, active = analyse_stem(wav("antiphase.wav", x), sample_rate=SR)
    assert f.stereo_correlation == pytest.approx(-1.0, abs=1e-6)
    assert f.stereo_width == pytest.approx(1.0, abs=1e-6)
    # The channels cancel in the mono fold, but the stem still plays.
    assert active.all()


def test_one_silent_channel_and_uncorrelated_channels(wav):
    x = tone(3.0)
    x[1] = 0.0
    f, _, _ = analyse_stem(wav("left.wav", x), sample_rate=SR)
    assert f.stereo_correlation == 0.0
    assert f.stereo_width == pytest.approx(0.5, abs=1e-6)
    rng = np.random.default_rng(2)
    g, _, _ = analyse_stem(wav("wide.wav", rng.standard_normal((2, 3 * SR)).astype(np.float32) * 0.1),
                           sample_rate=SR)
    assert g.stereo_correlation == pytest.approx(0.0, abs=0.01)
    assert g.stereo_width == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("freq_hz, low, high", [(60.0, 0.95, 1.0), (5000.0, 0.0, 0.01)])
def test_low_end_share(wav, freq_hz, low, high):
    f, _, _ = analyse_stem(wav("tone.wav", tone(3.0, freq_hz)), sample_rate=SR)
    assert low <= f.low_end_share <= high


def test_dc_offset_does_not_make_silence_active(wav):
    x = tone(6.0, 440.0, start_s=3.0)
    x += 0.01  # −40 dBFS of DC under everything
    _, _, active = analyse_stem(wav("dc.wav", x), sample_rate=SR)
    hop_s = L / SR
    assert not active[: int(2.9 / hop_s)].any()
    assert active[int(3.1 / hop_s):].all()


def test_true_peak_matches_full_rate_libebur128(wav):
    t = np.arange(4 * SR) / SR
    x = (0.7 * np.sin(2 * np.pi * SR / 4 * t + np.pi / 4) * (t > 2.0)
         + 0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    audio = np.stack([x, 0.5 * x])
    f, _, _ = analyse_stem(wav("isp.wav", audio), sample_rate=SR)
    assert f.true_peak_dbtp == pytest.approx(true_peak_full_rate(audio, SR), abs=0.05)
    assert f.true_peak_dbtp > f.sample_peak_dbfs + 1.0


@pytest.mark.parametrize("block_frames", [1000, 4097, 44100])
def test_same_result_for_any_block_size(wav, block_frames):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((2, 7 * SR + 321)) * np.linspace(0.0, 0.3, 7 * SR + 321)).astype(np.float32)
    path = wav("noise.wav", x, subtype="PCM_24")
    a = analyse_stem(path, sample_rate=SR)
    b = analyse_stem(path, sample_rate=SR, block_frames=block_frames)
    fa, fb = a[0], b[0]
    for name in ("integrated_lufs", "loudness_range_lu", "sample_peak_dbfs", "true_peak_dbtp",
                 "rms_dbfs", "crest_db", "noise_floor_dbfs", "stereo_correlation", "stereo_width",
                 "low_end_share", "centroid_hz", "rolloff_hz", "active_fraction", "first_active_s"):
        assert getattr(fa, name) == pytest.approx(getattr(fb, name), rel=1e-5, abs=1e-6), name
    np.testing.assert_allclose(fa.short_term_lufs, fb.short_term_lufs, atol=1e-5)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-5, atol=1e-12)
    np.testing.assert_array_equal(a[2], b[2])


def test_frames_pads_and_cuts_to_the_session_length(wav):
    path = wav("short.wav", tone(2.0))
    f, power, active = analyse_stem(path, sample_rate=SR, frames=5 * SR)
    n = math.ceil(5 * SR / L)
    assert power.shape == (40, n) and active.shape == (n,) and f.short_term_lufs.shape == (n,)
    own = math.ceil(2 * SR / L)
    assert not active[own:].any() and not power[:, own:].any()
    assert np.all(np.isneginf(f.short_term_lufs[own:]))
    assert f.duration_s == pytest.approx(2.0)
    g, power2, _ = analyse_stem(path, sample_rate=SR, frames=SR)
    assert power2.shape == (40, math.ceil(SR / L)) and g.duration_s == pytest.approx(1.0)


def test_off_rate_stem_is_resampled_onto_the_session_grid(wav):
    a = analyse_stem(wav("a44.wav", tone(5.0, 1000.0, sr=44100), sr=44100), sample_rate=SR, frames=5 * SR)
    b = analyse_stem(wav("b48.wav", tone(5.0, 1000.0, sr=48000), sr=48000), sample_rate=SR, frames=5 * SR)
    assert b[1].shape == a[1].shape and b[2].shape == a[2].shape
    assert b[0].sample_rate == SR
    assert b[0].duration_s == pytest.approx(5.0, abs=1e-3)
    assert b[0].integrated_lufs == pytest.approx(a[0].integrated_lufs, abs=0.05)
    assert b[0].centroid_hz == pytest.approx(1000.0, rel=0.02)


def test_silent_stem_is_json_safe(wav):
    f, power, active = analyse_stem(wav("silent.wav", np.zeros((2, 3 * SR), np.float32)), sample_rate=SR)
    assert f.integrated_lufs == -math.inf and f.rms_dbfs == -math.inf
    assert f.sample_peak_dbfs == -math.inf and f.true_peak_dbtp == -math.inf
    assert f.crest_db is None and f.first_active_s is None
    assert f.active_fraction == 0.0 and not active.any() and not power.any()
    doc = f.to_dict()
    assert doc["integrated_lufs"] is None and "short_term_lufs" not in doc
    json.dumps(doc, allow_nan=False)
    json.dumps(f.to_dict(arrays=True), allow_nan=False)


def test_reads_once_in_blocks_plus_a_short_true_peak_pass(wav, monkeypatch):
    # Sparse hits: the true-peak pass must re-read only a few frames.
    t = np.arange(10 * SR) / SR
    x = (np.sin(2 * np.pi * 3000 * t) * np.exp(-(t % 2.0) / 0.01) * 0.8).astype(np.float32)
    path = wav("hits.wav", np.stack([x, x]))
    read = []
    real = audio_io.iter_blocks_interleaved  # every block read goes through it

    def counting(p, **kw):
        for block, raw in real(p, **kw):
            read.append(block.shape[1])
            yield block, raw

    monkeypatch.setattr(audio_io, "iter_blocks_interleaved", counting)
    analyse_stem(path, sample_rate=SR)
    assert x.size <= sum(read) < 1.2 * x.size


def test_features_equality_and_dict_round_trip(wav):
    f, _, _ = analyse_stem(wav("x.wav", tone(2.0)), sample_rate=SR, name="Lead Vox")
    assert f.name == "Lead Vox" and f.file == "x.wav"
    assert f == StemFeatures(**{k: getattr(f, k) for k in f.__dataclass_fields__})
    d = f.to_dict()
    assert set(d) == set(f.__dataclass_fields__) - set(StemFeatures.ARRAY_FIELDS)
    assert len(d["long_term_band_db"]) == 40


def test_blas_limit_is_a_context_manager():
    with features.blas_single_thread():
        pass
