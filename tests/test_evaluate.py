"""The quality metrics on signals whose answer is known, and the evaluation corpus script."""

from __future__ import annotations

import doctest
import hashlib
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from workbench import evaluate as ev
from workbench.analysis.bands import erb_bands
from workbench.analysis.masking import compute_masking

ROOT = Path(__file__).resolve().parents[1]
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def sine(freq_hz: float, seconds: float, sr: int, rms_dbfs: float) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (10 ** (rms_dbfs / 20) * math.sqrt(2) * np.sin(2 * np.pi * freq_hz * t)).astype(np.float64)


def test_docstring_examples():
    result = doctest.testmod(ev)
    assert result.attempted >= 10 and result.failed == 0


# ------------------------------------------------------------------ loudness
@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("channels, expected_lufs", [(1, -20.0), (2, -16.99)])
def test_loudness_of_a_sine_at_a_known_level(sr, channels, expected_lufs):
    # BS.1770-4: a 997 Hz sine at -20 dBFS RMS in one channel reads -20 LUFS;
    # channel powers add, so the same sine in two channels reads +3.01 LU.
    x = np.tile(sine(997, 10, sr, -20.0), (channels, 1))
    r = ev.loudness_compliance(x, sr, target_lufs=-14.0)
    assert r.integrated_lufs == pytest.approx(expected_lufs, abs=0.1)
    assert r.lufs_error_lu == pytest.approx(expected_lufs + 14.0, abs=0.1)
    # true peak of a sine whose RMS is -20 dBFS: peak -16.99 dBFS
    assert r.true_peak_dbtp == pytest.approx(-16.99, abs=0.1)
    assert r.true_peak_over_db == 0.0
    assert r.clipped_samples == 0


def test_true_peak_over_the_ceiling_is_reported():
    sr = 44100
    x = sine(1000, 2, sr, 20 * math.log10(0.99 / math.sqrt(2)))  # peak 0.99 = -0.09 dBFS
    r = ev.loudness_compliance(x, sr, ceiling_dbtp=-1.0)
    assert r.true_peak_dbtp == pytest.approx(-0.09, abs=0.1)
    assert r.true_peak_over_db == pytest.approx(0.91, abs=0.1)


def test_clipped_samples_counts_full_scale_samples_of_a_16_bit_file(tmp_path):
    sr = 44100
    x = 1.5 * sine(100, 1, sr, -3.01)  # peak 1.5: clipped when written to 16 bits
    path = tmp_path / "hot.wav"
    sf.write(str(path), np.clip(x, -1, 1), sr, subtype="PCM_16")
    y, _ = sf.read(str(path), dtype="float64")
    expected = int(np.count_nonzero(np.abs(x) >= 32767 / 32768))
    assert expected > 0
    assert ev.clipped_samples(y) == expected
    assert ev.loudness_compliance(y, sr).clipped_samples == expected
    assert ev.clipped_samples(0.5 * y) == 0


def test_silence_is_minus_inf_lufs_and_not_an_error():
    r = ev.loudness_compliance(np.zeros((2, 44100)), 44100)
    assert r.integrated_lufs == -math.inf and r.true_peak_over_db == 0.0 and r.clipped_samples == 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="sample_rate"):
        ev.loudness_compliance(np.zeros(100), 0)
    with pytest.raises(ValueError, match="finite"):
        ev.clipped_samples(np.array([0.0, np.nan]))


# ------------------------------------------------------------------ balance
@pytest.mark.parametrize("seed", range(5))
def test_balance_error_is_zero_when_gains_equal_intended_plus_a_constant(seed):
    rng = np.random.default_rng(seed)
    n = 8
    reference = rng.uniform(-30, -10, n)          # stems as rendered at the reference level
    offsets = rng.uniform(-12, 0, n)              # as they arrived
    stem_lufs = reference + offsets               # what a meter reads on the files
    intended = rng.uniform(-15, 0, n)
    constant = rng.uniform(-20, 20)
    gains = intended - offsets + constant         # undo the offsets, apply the musician's faders
    r = ev.balance_error(gains, stem_lufs, intended, reference)
    assert r.mean_abs_db == pytest.approx(0.0, abs=1e-9)
    assert r.max_abs_db == pytest.approx(0.0, abs=1e-9)
    assert r.offset_db == pytest.approx(constant, abs=1e-9)


def test_balance_error_of_a_plain_sum_inherits_the_offsets():
    reference = np.array([-20.0, -20.0, -20.0, -20.0])
    intended = np.zeros(4)
    offsets = np.array([0.0, -2.0, -6.0, -12.0])
    r = ev.balance_error(np.zeros(4), reference + offsets, intended, reference, names=list("abcd"))
    # errors are the offsets minus their median (-4): +4, +2, -2, -8
    assert r.offset_db == pytest.approx(-4.0)
    assert r.error_db == pytest.approx((4.0, 2.0, -2.0, -8.0))
    assert r.mean_abs_db == pytest.approx(4.0)
    assert r.max_abs_db == pytest.approx(8.0)


def test_balance_error_leaves_out_silent_stems():
    r = ev.balance_error([0, 0, 0], [-20, -math.inf, -23], [0, 0, -3], [-20, -math.inf, -20])
    assert math.isnan(r.error_db[1])
    assert r.mean_abs_db == pytest.approx(0.0)


def test_balance_error_wants_one_value_per_stem():
    with pytest.raises(ValueError, match="one value per stem"):
        ev.balance_error([0, 0], [1, 2, 3], [0, 0, 0], [0, 0, 0])


# ------------------------------------------------------------------ spectrum
def _band_sines(sr: int, seconds: float, levels_db: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """One sine per third-octave band at its centre, at the given level (dB re mean square 1)."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(1)
    x = np.zeros(t.size)
    for f, lv in zip(centres, levels_db):
        x += math.sqrt(2 * 10 ** (lv / 10)) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return x


@pytest.mark.parametrize("slope_db_per_octave", [0.0, -1.5, -4.5])
@pytest.mark.parametrize("level_offset_db", [-40.0, -25.0])
def test_spectral_deviation_is_zero_for_a_signal_shaped_like_the_reference(slope_db_per_octave, level_offset_db):
    sr = 44100
    centres = ev.third_octave_centres_hz()
    ref = ev.tilt_reference_db(centres, slope_db_per_octave)
    x = _band_sines(sr, 6.0, ref + level_offset_db, centres)
    c, levels = ev.third_octave_levels(x, sr)
    d = ev.spectral_deviation(c, levels, ref)
    assert d.rms_db < 0.1
    assert d.offset_db == pytest.approx(level_offset_db, abs=0.2)


def test_pink_noise_is_flat_in_third_octaves():
    sr, n = 44100, 44100 * 20
    rng = np.random.default_rng(7)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    spec[1:] /= np.sqrt(f[1:])       # power ∝ 1/f
    spec[0] = 0
    pink = np.fft.irfft(spec, n)
    c, levels = ev.third_octave_levels(pink / np.abs(pink).max(), sr)
    assert ev.spectral_deviation(c, levels).rms_db < 0.5
    # white noise rises 3.01 dB per octave in band levels: flat against that tilt, and
    # against pink it deviates by the RMS of the tilt itself (a ramp over 8.3 octaves)
    c, levels = ev.third_octave_levels(rng.standard_normal(n) * 0.1, sr)
    tilt = ev.tilt_reference_db(c, 10 * math.log10(2))
    assert ev.spectral_deviation(c, levels, tilt).rms_db < 0.5
    assert ev.spectral_deviation(c, levels).rms_db == pytest.approx(float(np.std(tilt)), abs=0.5)


def test_one_boosted_band_gives_the_expected_rms_deviation():
    sr = 44100
    centres = ev.third_octave_centres_hz()
    assert centres.size == 26 and centres[0] == pytest.approx(50.1, abs=0.1)
    levels = np.full(centres.size, -30.0)
    levels[10] += 6.0
    x = _band_sines(sr, 6.0, levels, centres)
    d = ev.spectral_deviation(*ev.third_octave_levels(x, sr))
    n = centres.size
    expected = math.sqrt(((6 - 6 / n) ** 2 + (n - 1) * (6 / n) ** 2) / n)
    assert d.rms_db == pytest.approx(expected, abs=0.1)
    assert d.deviation_db[10] == pytest.approx(6 - 6 / n, abs=0.1)


# ------------------------------------------------------------------ stereo
@pytest.mark.parametrize("sr", [44100, 48000])
def test_stereo_balance_is_zero_for_identical_channels(sr):
    x = np.random.default_rng(3).standard_normal(sr * 3) * 0.1
    r = ev.stereo_balance(np.stack([x, x]), sr)
    assert r.mean_abs_db == pytest.approx(0.0, abs=1e-9)
    assert all(abs(d) < 1e-9 for d in r.difference_db)
    assert len(r.centres_hz) == 9  # 63 Hz ... 16 kHz octaves


def test_stereo_balance_of_a_hard_panned_signal_is_over_20_db():
    sr = 44100
    x = np.random.default_rng(3).standard_normal(sr * 3) * 0.1
    left = ev.stereo_balance(np.stack([x, np.zeros_like(x)]), sr)
    right = ev.stereo_balance(np.stack([np.zeros_like(x), x]), sr)
    assert left.mean_abs_db > 20 and right.mean_abs_db > 20
    assert all(d > 20 for d in left.difference_db) and all(d < -20 for d in right.difference_db)


def test_stereo_balance_reads_a_level_difference_per_band():
    sr = 44100
    rng = np.random.default_rng(4)
    x = rng.standard_normal(sr * 4) * 0.1
    r = ev.stereo_balance(np.stack([x, x * 10 ** (-6 / 20)]), sr)
    assert r.mean_abs_db == pytest.approx(6.02, abs=0.05)
    # a bass panned left shows in the low bands only
    bass = sine(80, 4, sr, -20)
    r = ev.stereo_balance(np.stack([x + bass, x]), sr)
    assert r.difference_db[0] > 10 and abs(r.difference_db[-2]) < 0.5


# ------------------------------------------------------------------ masking
def _two_stem_masking(level_masker: float):
    b = erb_bands()
    p = np.full((2, b.n_bands, 10), 1e-8, np.float32)
    p[1, 15:25] = 1e-2                         # the target: a band of energy
    p[0, 15:25] = 1e-2 * 10 ** (level_masker / 10)
    return compute_masking(p, np.ones((2, 10), bool), b, names=["masker", "lead"])


def test_masking_comparison_of_a_mix_against_a_plain_sum():
    plain = _two_stem_masking(+10.0)            # masker 10 dB over the lead: covered
    mix = _two_stem_masking(-20.0)              # masker turned down 30 dB: free
    cmp = ev.compare_masking(mix, plain, ["lead"])
    assert cmp.reference_share == (pytest.approx(1.0, abs=1e-4),)
    assert cmp.mix_share == (pytest.approx(0.0, abs=1e-4),)
    assert cmp.reduction == pytest.approx(1.0, abs=1e-4)
    assert ev.masking_suffered([0.2, 0.4, 0.9], [0, 1]) == pytest.approx(0.3)
    assert math.isnan(ev.masking_suffered([0.2], []))


def test_channel_masking_share_weights_channels_by_energy():
    shares = [[0.8, 0.0], [0.2, 0.0]]
    energy = [[3.0, 1.0], [1.0, 0.0]]
    out = ev.channel_masking_share(shares, energy)
    assert out == pytest.approx([(0.8 * 3 + 0.2 * 1) / 4, 0.0])
    with pytest.raises(ValueError, match="channels, stems"):
        ev.channel_masking_share([[0.1]], [[1.0, 2.0]])


def test_importance_response_is_the_difference_before_after():
    r = ev.importance_response("Keys", -10.0, -7.0, 0.5, 0.2)
    assert r.loudness_rise_db == pytest.approx(3.0) and r.masking_fall == pytest.approx(0.3)


# ------------------------------------------------------------------ the corpus script
def _need_fluidsynth():
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed (apt-get install fluidsynth): cannot render the corpus")
    if not SOUNDFONT.is_file():
        pytest.skip(f"{SOUNDFONT} is missing (apt-get install fluid-soundfont-gm): cannot render the corpus")
    pytest.importorskip("mido", reason="mido is needed to write the corpus MIDI (pip install mido)")


def _build_tiny(out: Path) -> Path:
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_eval_corpus.py"), str(out), "--tiny",
                          "--quiet"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return out / "tiny"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    _need_fluidsynth()
    return _build_tiny(tmp_path_factory.mktemp("corpus"))


def test_tiny_corpus_has_stems_and_balance_with_the_stated_offsets(tiny):
    bal = json.loads((tiny / "balance.json").read_text())
    wavs = sorted((tiny / "stems").glob("*.wav"))
    assert [w.name for w in wavs] == [s["file"] for s in bal["stems"]] and len(wavs) == 3
    infos = [sf.info(str(w)) for w in wavs]
    assert {(i.samplerate, i.subtype, i.frames) for i in infos} == {(44100, "PCM_16", bal["frames"])}
    for s, w in zip(bal["stems"], wavs):
        assert -12.0 <= s["offset_db"] <= 0.0
        # the file is the reference render moved by exactly the stated offset
        assert s["file_lufs"] - s["reference_lufs"] == pytest.approx(s["offset_db"], abs=0.05)
        x, sr = sf.read(str(w), dtype="float64", always_2d=True)
        assert ev.integrated_lufs(x.T, sr) == pytest.approx(s["file_lufs"], abs=0.01)
        assert s["intended_gain_db"] == pytest.approx(40 * math.log10(s["cc7"] / 127), abs=1e-3)
        assert s["intended_pan"] == pytest.approx(max(-1, min(1, (s["cc10"] - 64) / 63)), abs=1e-3)
        assert 1 <= s["cc7"] <= 127
    # the seeded offsets differ from stem to stem (not all zero)
    assert len({s["offset_db"] for s in bal["stems"]}) == 3
    mix, sr = sf.read(str(tiny / "musicians_mix.wav"), dtype="float64", always_2d=True)
    assert sf.info(str(tiny / "musicians_mix.wav")).subtype == "FLOAT"
    assert ev.integrated_lufs(mix.T, sr) == pytest.approx(-14.0, abs=0.05)


def test_the_musicians_faders_score_zero_balance_error_on_the_corpus(tiny):
    bal = json.loads((tiny / "balance.json").read_text())
    st = bal["stems"]
    file_lufs = [s["file_lufs"] for s in st]
    intended = [s["intended_gain_db"] for s in st]
    reference = [s["file_lufs"] - s["offset_db"] for s in st]
    musician = ev.balance_error([s["intended_gain_db"] - s["offset_db"] for s in st], file_lufs, intended, reference)
    plain = ev.balance_error([0.0] * len(st), file_lufs, intended, reference)
    assert musician.mean_abs_db == pytest.approx(0.0, abs=1e-9)
    # a plain sum keeps the arrival offsets and ignores the faders: its error is exactly that
    d = np.array([s["offset_db"] - s["intended_gain_db"] for s in st])
    assert plain.error_db == pytest.approx(tuple(d - np.median(d)), abs=1e-9)


def test_corpus_is_deterministic(tiny, tmp_path):
    again = _build_tiny(tmp_path / "again")

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    for w in sorted((tiny / "stems").glob("*.wav")):
        assert digest(w) == digest(again / "stems" / w.name), w.name
    assert json.loads((tiny / "balance.json").read_text()) == json.loads((again / "balance.json").read_text())
