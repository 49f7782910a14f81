"""Band power on the analysis frame grid: physical facts with stated tolerances."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from workbench.analysis.bands import erb_bands
from workbench.analysis.spectrum import (
    ABSOLUTE_FLOOR_DB,
    POWER_FLOOR,
    BandPowerAccumulator,
    SpectrumResult,
    activity_from_power,
    fft_size,
    frame_count,
    frame_length,
    stft_hop,
)

RATES = [44100, 48000]


def sine(freq_hz: float, seconds: float, sr: int, peak: float = 1.0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (peak * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def analyse(x: np.ndarray, sr: int, block: int | None = None) -> SpectrumResult:
    acc = BandPowerAccumulator(sr)
    if block is None:
        acc.push(x)
    else:
        for i in range(0, x.size, block):
            acc.push(x[i:i + block])
    return acc.finish()


# --- the frame grid --------------------------------------------------------------------------

@pytest.mark.parametrize("sr", [16000, 22050, 32000, 44100, 48000, 88200, 96000, 192000])
def test_frame_is_two_stft_hops_of_about_100_ms(sr):
    L = frame_length(sr)
    assert L == 2 * stft_hop(sr) == fft_size(sr)
    assert 0.080 <= L / sr <= 0.130, "the analysis frame should be near the 100 ms momentary block"
    assert 7.0 <= sr / fft_size(sr) <= 12.0, "STFT bins should be about 10 Hz wide"


def test_frame_length_at_common_rates():
    assert (frame_length(44100), frame_length(48000), frame_length(96000)) == (4096, 4096, 8192)


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("n_of_L", [(0, 0), (1, 0), (-1, 1), (0, 1), (1, 1), (7, 10), (0, 10)])
def test_frame_count_is_ceil_n_over_L(sr, n_of_L):
    extra, whole = n_of_L
    L = frame_length(sr)
    n = max(whole * L + extra, 0)
    expected = math.ceil(n / L)
    assert frame_count(n, sr) == expected
    rng = np.random.default_rng(n)
    res = analyse((0.1 * rng.standard_normal(n)).astype(np.float32), sr)
    assert res.n_frames == expected
    assert res.band_power.shape == (res.bands.n_bands, expected)
    assert res.centroid_hz.shape == res.active.shape == (expected,)


@pytest.mark.parametrize("bad", [0, -44100, 44100.0, True, "44100"])
def test_bad_sample_rate_is_refused_with_its_value(bad):
    with pytest.raises(ValueError, match="sample_rate"):
        BandPowerAccumulator(bad)


# --- streaming ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_result_does_not_depend_on_block_sizes(seed):
    sr = 44100
    rng = np.random.default_rng(seed)
    n = int(7.3 * sr)
    x = (0.2 * rng.standard_normal(n) + sine(440.0, n / sr, sr, 0.5)).astype(np.float32)
    whole = analyse(x, sr)
    acc = BandPowerAccumulator(sr)
    i = 0
    while i < n:
        step = int(rng.choice([0, 1, 17, 1000, 4096, 5000, 65536, 200000]))
        acc.push(x[i:i + step])
        i += step
    pieces = acc.finish()
    assert pieces.n_samples == whole.n_samples == n
    np.testing.assert_allclose(pieces.band_power, whole.band_power, rtol=1e-6, atol=0)
    np.testing.assert_allclose(pieces.centroid_hz, whole.centroid_hz, rtol=1e-6)
    assert pieces.rolloff_hz == pytest.approx(whole.rolloff_hz, rel=1e-6)
    np.testing.assert_array_equal(pieces.active, whole.active)


def test_push_copies_the_block_so_callers_may_reuse_their_buffer():
    sr = 44100
    x = (0.1 * np.random.default_rng(9).standard_normal(3 * sr)).astype(np.float32)
    acc = BandPowerAccumulator(sr)
    block = np.empty(1000, np.float32)
    for i in range(0, x.size, 1000):
        chunk = x[i:i + 1000]
        block[:chunk.size] = chunk
        acc.push(block[:chunk.size])
    np.testing.assert_allclose(acc.finish().band_power, analyse(x, sr).band_power, rtol=1e-6)


def test_push_checks_shape_and_order():
    acc = BandPowerAccumulator(44100)
    with pytest.raises(ValueError, match="mono must be 1-D"):
        acc.push(np.zeros((2, 100), np.float32))
    acc.push(np.zeros(0, np.float32))
    acc.finish()
    with pytest.raises(RuntimeError):
        acc.push(np.zeros(10, np.float32))
    with pytest.raises(RuntimeError):
        acc.finish()


# --- scaling and band placement ---------------------------------------------------------------

@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("band", [8, 14, 20, 27, 34])
def test_sine_power_lands_in_its_band(sr, band):
    bands = erb_bands()
    freq = bands.centres_hz[band]
    res = analyse(sine(freq, 2.0, sr), sr)
    bp = res.band_power[:, 1:-1].astype(np.float64)  # whole frames only
    share = bp[band].sum() / bp.sum()
    assert share > 0.99, f"{freq:.0f} Hz: only {share:.4f} of the power in band {band}"


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("freq_hz", [100.0, 997.0, 3000.0, 12000.0])
@pytest.mark.parametrize("peak", [1.0, 0.1])
def test_band_powers_of_a_sine_sum_to_its_mean_square(sr, freq_hz, peak):
    # Parseval scaling: a full-scale sine has mean square 0.5 (-3.01 dB).
    res = analyse(sine(freq_hz, 2.0, sr, peak), sr)
    total = res.band_power[:, 1:-1].sum(axis=0)
    np.testing.assert_allclose(total, peak ** 2 / 2, rtol=0.01)


@pytest.mark.parametrize("sr", RATES)
def test_white_noise_band_powers_sum_to_its_in_band_variance(sr):
    sigma = 0.1
    x = (sigma * np.random.default_rng(5).standard_normal(10 * sr)).astype(np.float32)
    res = analyse(x, sr)
    bands = res.bands
    in_band = (bands.edges_hz[-1] - bands.edges_hz[0]) / (sr / 2)
    measured = res.band_power[:, 1:-1].sum(axis=0).mean()
    assert measured == pytest.approx(sigma ** 2 * in_band, rel=0.02)


def test_summaries_of_a_full_scale_1khz_sine():
    sr = 44100
    res = analyse(sine(1000.0, 3.0, sr), sr)
    b = res.bands.index_of(1000.0)
    assert res.long_term_db[b] == pytest.approx(10 * np.log10(0.5), abs=0.1)
    assert res.long_term_db.argmax() == b
    assert res.centroid_hz_mean == pytest.approx(1000.0, rel=0.01)
    assert res.rolloff_hz == pytest.approx(1000.0, abs=sr / fft_size(sr) + 1)
    assert res.active.all()
    assert res.frame_hop_s == pytest.approx(frame_length(sr) / sr)


def test_centroid_rises_with_frequency():
    sr = 44100
    low, high = analyse(sine(300.0, 1.0, sr), sr), analyse(sine(5000.0, 1.0, sr), sr)
    assert high.centroid_hz_mean > 10 * low.centroid_hz_mean
    assert high.rolloff_hz > 10 * low.rolloff_hz


def test_silence_gives_zeros_and_no_warnings():
    sr = 44100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = analyse(np.zeros(3 * sr, np.float32), sr)
    assert not res.band_power.any()
    assert not res.active.any()
    np.testing.assert_allclose(res.long_term_db, 10 * np.log10(POWER_FLOOR))
    assert res.centroid_hz_mean == 0.0 and res.rolloff_hz == 0.0
    assert not res.centroid_hz.any()


# --- activity ---------------------------------------------------------------------------------

def test_activity_absolute_floor():
    floor = 10 ** (ABSOLUTE_FLOOR_DB / 10)
    p = np.array([floor * 2, floor * 2, floor * 0.5, 0.0])
    assert activity_from_power(p).tolist() == [True, True, False, False]


@pytest.mark.parametrize("gate_db", [-10.0, -20.0, -30.0])
def test_activity_relative_gate(gate_db):
    loud = 0.1
    just_in = loud * 10 ** ((gate_db + 1) / 10)
    just_out = loud * 10 ** ((gate_db - 1) / 10)
    p = np.array([loud] * 20 + [just_in, just_out])
    # The reference is the mean of the frames above the absolute floor, so a few
    # quiet frames barely move it.
    act = activity_from_power(p, relative_gate_db=gate_db)
    assert act[:20].all()
    assert act[20] and not act[21]


def test_activity_is_gain_invariant_above_the_floor_and_per_stem():
    rng = np.random.default_rng(3)
    p = 10 ** rng.uniform(-5, -1, (3, 200))
    act = activity_from_power(p)
    np.testing.assert_array_equal(activity_from_power(p * 10 ** (12 / 10)), act)
    for i in range(3):
        np.testing.assert_array_equal(activity_from_power(p[i]), act[i])


def test_activity_of_silence_is_false_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not activity_from_power(np.zeros(10)).any()
        assert not activity_from_power(np.zeros((2, 0))).any()


def test_activity_of_a_stem_with_a_pause():
    sr = 44100
    x = sine(500.0, 4.0, sr, 0.3)
    x[sr:2 * sr] = 0.0  # one second of silence
    res = analyse(x, sr)
    t = (np.arange(res.n_frames) + 0.5) * res.frame_hop_s
    assert res.active[(t < 0.9) | (t > 2.1)].all()
    assert not res.active[(t > 1.1) & (t < 1.9)].any()
