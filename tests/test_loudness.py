"""Loudness and peaks against the standards' own test signals and independent meters.

EBU Tech 3341 (loudness metering, "EBU mode") and EBU Tech 3342 (loudness range)
define their compliance signals as 1 kHz sines at given levels; they are made
here. Tolerances are the standards' (±0.1 LU for loudness, ±1 LU for LRA).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyebur128 as ebu
import pytest

from workbench.analysis import loudness
from workbench.analysis.loudness import LoudnessMeter, Oversampler, measure, true_peak_full_rate

SR = 48000  # EBU Tech 3341/3342 signals are specified at 48 kHz


def sine(level_dbfs: float, seconds: float, *, sr: int = SR, freq_hz: float = 1000.0,
         channels: int = 2, phase: float = 0.0) -> np.ndarray:
    """A sine whose *peak* is ``level_dbfs``, ``(channels, n)`` float32."""
    t = np.arange(int(round(seconds * sr))) / sr
    x = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t + phase)
    return np.tile(x.astype(np.float32), (channels, 1))


def sequence(*parts: tuple[float, float], sr: int = SR) -> np.ndarray:
    """Concatenated 1 kHz stereo sines: ``(level_dbfs, seconds)`` each."""
    return np.concatenate([sine(lv, s, sr=sr) for lv, s in parts], axis=1)


# -- EBU Tech 3341 ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "parts, expected_lufs",
    [
        ([(-23.0, 20.0)], -23.0),                                            # Tech 3341 case 1
        ([(-33.0, 20.0)], -33.0),                                            # case 2
        ([(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)], -23.0),              # case 3 (relative gate)
        ([(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)], -23.0),  # case 4
        ([(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)], -23.0),              # case 5
    ],
)
def test_integrated_loudness_tech_3341(parts, expected_lufs):
    r = measure(sequence(*parts), SR)
    assert r.integrated_lufs == pytest.approx(expected_lufs, abs=0.1)


def test_mono_sine_at_minus_20_dbfs_reads_minus_23_lufs():
    # BS.1770-4: one channel, weight 1.0; a sine's mean square is 3.01 dB below its peak.
    r = measure(sine(-20.0, 10.0, channels=1), SR)
    assert r.integrated_lufs == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("sr", [44100, 48000, 96000])
def test_short_term_of_steady_sine_is_its_loudness(sr):
    # Tech 3341 case 1 also asks for S = −23.0 once the 3 s window is full.
    frame = 4096
    r = measure(sine(-23.0, 8.0, sr=sr), sr, frame_length=frame)
    full = np.arange(r.short_term_lufs.size) * frame / sr > 3.2
    assert r.short_term_lufs.dtype == np.float32
    assert np.allclose(r.short_term_lufs[full], -23.0, atol=0.1)
    assert r.short_term_lufs.size == math.ceil(8.0 * sr / frame)
    assert r.short_term_hop_s == pytest.approx(frame / sr)


# -- EBU Tech 3342 ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "parts, expected_lu",
    [
        ([(-20.0, 20.0), (-30.0, 20.0)], 10.0),                                   # Tech 3342 case 1
        ([(-20.0, 20.0), (-15.0, 20.0)], 5.0),                                    # case 2
        ([(-40.0, 20.0), (-20.0, 20.0)], 20.0),                                   # case 3
        ([(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)], 15.0),  # case 4
    ],
)
def test_loudness_range_tech_3342(parts, expected_lu):
    r = measure(sequence(*parts), SR)
    assert r.loudness_range_lu == pytest.approx(expected_lu, abs=1.0)


# -- independent checks ------------------------------------------------------------------

@pytest.mark.parametrize("sr, channels", [(44100, 2), (48000, 1), (44100, 1)])
def test_integrated_matches_pyloudnorm_on_noise(sr, channels):
    pyln = pytest.importorskip("pyloudnorm")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((channels, 10 * sr)).astype(np.float32) * 0.05
    x[:, 3 * sr: 4 * sr] *= 0.01  # a quiet second, so the gates have work to do
    ours = measure(x, sr).integrated_lufs
    theirs = pyln.Meter(sr).integrated_loudness(x.T.astype(np.float64))
    assert ours == pytest.approx(theirs, abs=0.1)


def test_short_term_equals_libebur128_shortterm_at_every_hop():
    sr = 44100
    rng = np.random.default_rng(1)
    env = np.repeat(rng.uniform(0.0, 1.0, 80), sr // 10)   # level changes every 100 ms
    x = (rng.standard_normal((2, env.size)) * 0.1 * env).astype(np.float32)
    meter = LoudnessMeter(2, sr)                            # no frame grid: the 100 ms hop
    meter.push(x)
    ours = meter.finish().short_term_lufs
    ref_state = ebu.R128State(2, sr, ebu.MeasurementMode.MODE_S)
    flat = np.ascontiguousarray(x.T).reshape(-1)
    hop = sr // 10
    ref = []
    for i in range(0, x.shape[1] - hop + 1, hop):
        ref_state.add_frames(flat[2 * i: 2 * (i + hop)], hop)
        ref.append(ebu.get_loudness_shortterm(ref_state))
    assert ours.shape == (len(ref),)
    np.testing.assert_allclose(ours, np.asarray(ref), atol=1e-3)


# -- peaks --------------------------------------------------------------------------------

def test_sample_peak_of_a_sine():
    r = measure(sine(-6.0, 2.0, freq_hz=997.0), SR)
    assert r.sample_peak_dbfs == pytest.approx(-6.0, abs=0.01)
    assert r.true_peak_dbtp == pytest.approx(-6.0, abs=0.05)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_inter_sample_peak_of_quarter_rate_sine(sr):
    # A sine at fs/4 with a 45° phase: every sample lands 45° from a crest, so the
    # samples read cos(45°) = −3.01 dB below the true peak.
    x = sine(-6.0, 2.0, sr=sr, freq_hz=sr / 4, phase=np.pi / 4)
    r = measure(x, sr)
    assert r.sample_peak_dbfs == pytest.approx(-6.0 - 3.01, abs=0.01)
    assert r.true_peak_dbtp - r.sample_peak_dbfs == pytest.approx(3.0, abs=0.2)
    assert r.true_peak_dbtp == pytest.approx(true_peak_full_rate(x, sr), abs=0.05)


def _test_signals(sr: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 3 * sr
    t = np.arange(n) / sr
    burst = np.where((t > 1.3) & (t < 1.31), np.sin(2 * np.pi * 0.37 * sr * t), 0.01 * np.sin(2 * np.pi * 100 * t))
    drums = rng.standard_normal(n) * np.exp(-(t % 0.25) / 0.02) * 0.5
    return {
        "quarter-rate sine": np.sin(2 * np.pi * sr / 4 * t + np.pi / 4) * 0.9,
        "noise": rng.standard_normal(n) * 0.25,
        "hf burst": burst,
        "decaying hits": drums,
        "near-nyquist": np.sin(2 * np.pi * 0.45 * sr * t + 0.3) * 0.3,
    }


@pytest.mark.parametrize("sr", [22050, 44100, 48000, 96000, 192000])
@pytest.mark.parametrize("channels", [1, 2])
def test_two_pass_true_peak_matches_full_rate_libebur128(sr, channels):
    for name, x in _test_signals(sr).items():
        audio = np.stack([x, np.roll(x, 7) * 0.8])[:channels].astype(np.float32)
        r = measure(audio, sr, frame_length=4096)
        assert r.true_peak_dbtp == pytest.approx(true_peak_full_rate(audio, sr), abs=0.05), name
        assert r.true_peak_dbtp >= r.sample_peak_dbfs


def test_true_peak_oversamples_only_frames_near_the_peak():
    sr = 44100
    x = _test_signals(sr)["hf burst"].astype(np.float32)
    r = measure(x, sr, frame_length=4096)
    assert r.true_peak_frames <= 2 < r.frame_peak.size


def _smooth_signals(sr: int) -> dict[str, np.ndarray]:
    t = np.arange(4 * sr) / sr
    swell = np.minimum(1.0, 0.2 + t / 3.0)  # the peak is in the last second only
    return {
        "bass swell": 0.9 * swell * np.sin(2 * np.pi * 55 * t),
        "pad swell": 0.3 * swell * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 331 * t)
                                    + np.sin(2 * np.pi * 440 * t)),
        "sweep": 0.8 * np.sin(2 * np.pi * (20 * t + 0.5 * 2000 * t ** 2 / 4)),
    }


@pytest.mark.parametrize("sr", [44100, 96000])
def test_smoothness_bound_skips_frames_without_changing_the_true_peak(sr):
    # Skipping frames by curvature must give exactly the peak of the gain-only
    # rule (every value computed is the full-rate one), and skip more frames.
    signals = {**_test_signals(sr), **_smooth_signals(sr)}
    for name, x in signals.items():
        audio = np.stack([x, np.roll(x, 7) * 0.8]).astype(np.float32)
        r = measure(audio, sr, frame_length=4096)
        gain_only = loudness.true_peak(lambda s, k: [audio[:, s:s + k]], r.frame_peak, frame_length=4096,
                                       n_samples=audio.shape[1], channels=2, sample_rate=sr)
        assert loudness.db_from_amplitude(gain_only[0]) == r.true_peak_dbtp, name
        assert r.true_peak_frames <= gain_only[1], name
        assert r.true_peak_dbtp == pytest.approx(true_peak_full_rate(audio, sr), abs=0.05), name


def test_smoothness_bound_prunes_low_frequency_stems():
    sr, L = 44100, 4096
    plateau = math.ceil((4.0 - 2.4) * sr / L) + 2   # the swells reach full level at 2.4 s
    for name, x in _smooth_signals(sr).items():
        if name == "sweep":
            continue
        x = x.astype(np.float32)[None]
        r = measure(x, sr, frame_length=L)
        _, gain_only = loudness.true_peak(lambda s, k: [x[:, s:s + k]], r.frame_peak, frame_length=L,
                                          n_samples=x.shape[1], channels=1, sample_rate=sr)
        # The gain-only rule oversamples every frame within 5.4 dB of the peak
        # (from 1 s on); smoothness leaves the frames at full level.
        assert r.true_peak_frames <= plateau < gain_only - 10, name


@pytest.mark.parametrize("sr", [44100, 96000])
def test_smoothness_bound_holds_for_every_output(sr):
    over = Oversampler(sr)
    m = over._matrix.astype(np.float64)   # window (oldest first) -> phases
    rng = np.random.default_rng(5)
    n = over.delay
    k = np.arange(n)
    windows = [rng.standard_normal((4000, n)),                            # white
               np.cumsum(rng.standard_normal((4000, n)), axis=1),         # brown (smooth)
               np.cumsum(np.cumsum(rng.standard_normal((4000, n)), axis=1), axis=1),
               np.sign(m).T,                                              # the gain's worst cases
               np.sin(np.outer(rng.uniform(0, np.pi, 4000), k) + rng.uniform(0, 6, (4000, 1)))]
    for w in windows:
        y = np.abs(w @ m).max(axis=1)
        peak = np.abs(w).max(axis=1)
        curv = np.abs(np.diff(w, 2, axis=1)).max(axis=1)
        assert np.all(y <= over.linear_gain * peak + over.curvature_gain * curv + 1e-9)
    assert over.linear_gain == pytest.approx(1.0, abs=0.002)


def test_oversampler_gain_bounds_every_output():
    # The skip rule rests on |output| <= gain * max |window|: check it on the worst case.
    over = Oversampler(44100)
    m = over._matrix
    worst = np.sign(m).T  # for each phase, the ±1 window that maximises the output
    assert float((worst @ m).max()) == pytest.approx(over.gain, rel=1e-6)
    assert 20 * np.log10(over.gain) == pytest.approx(5.41, abs=0.01)


# -- streaming ----------------------------------------------------------------------------

@pytest.mark.parametrize("block", [1, 441, 4096, 4410, 65536])
def test_results_do_not_depend_on_block_size(block):
    sr = 44100
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 5 * sr + 123)) * np.linspace(0.01, 0.3, 5 * sr + 123)).astype(np.float32)
    one = LoudnessMeter(2, sr, frame_length=4096)
    one.push(x)
    a = one.finish()
    many = LoudnessMeter(2, sr, frame_length=4096)
    step = block if block > 1 else 997  # pushing single samples is too slow for a test
    for i in range(0, x.shape[1], step):
        many.push(x[:, i:i + step])
    b = many.finish()
    assert a.integrated_lufs == pytest.approx(b.integrated_lufs, abs=1e-9)
    assert a.loudness_range_lu == pytest.approx(b.loudness_range_lu, abs=1e-9)
    np.testing.assert_array_equal(a.frame_peak, b.frame_peak)
    np.testing.assert_allclose(a.short_term_lufs, b.short_term_lufs, atol=1e-6)


def test_frame_peaks_are_on_the_frame_grid():
    sr, L = 44100, 4096
    x = np.zeros((1, 3 * L + 100), np.float32)
    x[0, 5] = 0.25
    x[0, L + 7] = -0.5
    x[0, 3 * L + 50] = 0.125
    meter = LoudnessMeter(1, sr, frame_length=L)
    for i in range(0, x.shape[1], 1000):
        meter.push(x[:, i:i + 1000])
    np.testing.assert_array_equal(meter.finish().frame_peak, [0.25, 0.5, 0.0, 0.125])


# -- silence ------------------------------------------------------------------------------

def test_silence_is_minus_infinity_and_null_in_json():
    r = measure(np.zeros((2, 5 * SR), np.float32), SR, frame_length=4096)
    assert r.integrated_lufs == -math.inf
    assert r.sample_peak_dbfs == -math.inf and r.true_peak_dbtp == -math.inf
    assert r.loudness_range_lu == 0.0
    assert np.all(np.isneginf(r.short_term_lufs))
    doc = {k: loudness.json_level(getattr(r, k))
           for k in ("integrated_lufs", "sample_peak_dbfs", "true_peak_dbtp", "loudness_range_lu")}
    assert doc["integrated_lufs"] is None and doc["loudness_range_lu"] == 0.0
    json.dumps(doc, allow_nan=False)


def test_meter_rejects_wrong_shapes():
    meter = LoudnessMeter(2, SR)
    with pytest.raises(ValueError, match=r"\(2, n\)"):
        meter.push(np.zeros((1, 100), np.float32))
    with pytest.raises(ValueError, match="channels"):
        LoudnessMeter(0, SR)


# -- agreement with libebur128's own gating ---------------------------------------------

def _gating_signals(sr: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(21)
    n = 40 * sr
    steps = np.repeat(rng.uniform(-60, 0, 40), sr)[:n]           # a level per second
    fast = np.repeat(rng.uniform(-50, 0, 400), sr // 10)[:n]      # a level per 100 ms
    return {
        "steps": rng.standard_normal((2, n)) * 10 ** (steps / 20) * 0.3,
        "fast": rng.standard_normal((2, n)) * 10 ** (fast / 20) * 0.3,
        "mostly quiet": rng.standard_normal((2, n)) * np.where(np.arange(n) < 2 * sr, 0.3, 1e-4),
        "short": rng.standard_normal((2, int(2.5 * sr))) * 0.1,
        "very short": rng.standard_normal((2, int(0.3 * sr))) * 0.1,
    }


@pytest.mark.parametrize("sr", [44100, 48000])
def test_integrated_and_range_equal_libebur128(sr):
    mode = ebu.MeasurementMode.MODE_I | ebu.MeasurementMode.MODE_LRA
    for name, x in _gating_signals(sr).items():
        x = x.astype(np.float32)
        r = measure(x, sr)
        ref = ebu.R128State(2, sr, mode)
        ref.add_frames(np.ascontiguousarray(x.T).reshape(-1), x.shape[1])
        assert r.integrated_lufs == pytest.approx(ebu.get_loudness_global(ref), abs=1e-6), name
        assert r.loudness_range_lu == pytest.approx(ebu.get_loudness_range(ref), abs=1e-6), name


def test_short_term_returns_to_minus_infinity_after_the_music_stops():
    x = np.concatenate([sine(-6.0, 5.0), np.zeros((2, 5 * SR), np.float32)], axis=1)
    r = measure(x, SR, frame_length=4096)
    t = (np.arange(r.short_term_lufs.size) + 1) * 4096 / SR
    assert np.all(np.isneginf(r.short_term_lufs[t > 8.2]))
    assert np.all(np.isfinite(r.short_term_lufs[(t > 0.2) & (t < 7.9)]))


@pytest.mark.parametrize("sr", [44100, 96000, 192000])
def test_streamed_true_peak_meter_matches_libebur128(sr):
    from workbench.analysis.loudness import TruePeakMeter

    for name, x in _test_signals(sr).items():
        audio = np.stack([x, np.roll(x, 7) * 0.8]).astype(np.float32)
        meter = TruePeakMeter(2, sr)
        for i in range(0, audio.shape[1], 10007):   # blocks that split the interpolator's window
            meter.push(audio[:, i:i + 10007])
        assert loudness.db_from_amplitude(meter.peak) == pytest.approx(true_peak_full_rate(audio, sr),
                                                                        abs=1e-4), name
