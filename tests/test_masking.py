"""The masking measure on constructed signals: what masks what, by how much, and when."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from workbench.analysis.bands import erb_bands
from workbench.analysis.masking import (
    MASKING_OFFSET_DB,
    MaskingResult,
    compute_masking,
    hz_to_bark,
    pair_map_db,
    spread,
    spreading_db,
    spreading_matrix,
)
from workbench.analysis.spectrum import BandPowerAccumulator, activity_from_power

SR = 44100
SECONDS = 2.0
BANDS = erb_bands()


def sine(freq_hz: float, level_db: float, seconds: float = SECONDS, sr: int = SR) -> np.ndarray:
    """A sine whose mean square is ``level_db`` (dB re 1.0)."""
    t = np.arange(int(seconds * sr)) / sr
    return (np.sqrt(2) * 10 ** (level_db / 20) * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def band_noise(lo_hz: float, hi_hz: float, level_db: float, seed: int,
               seconds: float = SECONDS, sr: int = SR) -> np.ndarray:
    """Gaussian noise band-limited to ``[lo_hz, hi_hz]`` with mean square ``level_db``."""
    n = int(seconds * sr)
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    spec[(f < lo_hz) | (f > hi_hz)] = 0
    x = np.fft.irfft(spec, n)
    return (x / np.sqrt(np.mean(x ** 2)) * 10 ** (level_db / 20)).astype(np.float32)


def band_power_of(*stems: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stems → band power (n, bands, frames) through the accumulator, and activity."""
    powers = []
    for x in stems:
        acc = BandPowerAccumulator(SR, bands=BANDS)
        acc.push(x)
        powers.append(acc.finish().band_power)
    p = np.stack(powers)
    return p, activity_from_power(p.sum(axis=1))


def masking_of(*stems: np.ndarray, **kw) -> MaskingResult:
    p, act = band_power_of(*stems)
    return compute_masking(p, act, BANDS, **kw)


def centre(freq_hz: float) -> float:
    """Centre of the band holding ``freq_hz`` (tones there keep their power in one band)."""
    return BANDS.centres_hz[BANDS.index_of(freq_hz)]


# --- the spreading function ---------------------------------------------------------------------

def test_spreading_function_peaks_at_0_db_with_25_and_10_db_per_bark_slopes():
    assert spreading_db(0.0) == pytest.approx(0.0, abs=0.01)
    # Asymptotic slopes (Schroeder et al. 1979): -10 dB/Bark upward, -25 dB/Bark downward.
    assert spreading_db(10.0) - spreading_db(11.0) == pytest.approx(10.0, abs=0.2)
    assert spreading_db(-10.0) - spreading_db(-11.0) == pytest.approx(25.0, abs=0.2)


def test_spreading_matrix_uses_bark_distance_between_erb_bands():
    s = spreading_matrix(BANDS)
    z = hz_to_bark(np.asarray(BANDS.centres_hz))
    # Within a row, the gains follow the spreading function at the Bark distance...
    for t, m in [(25, 20), (20, 25), (5, 2), (35, 30)]:
        assert s[t, m] / s[t, t] == pytest.approx(10 ** ((spreading_db(z[t] - z[m]) - spreading_db(0)) / 10))
    # ...and each row sums to 1, so a flat spectrum spreads to itself.
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)
    flat = np.full(BANDS.n_bands, 0.01)
    np.testing.assert_allclose(spread(flat, BANDS), flat, rtol=1e-12)
    # Upward spread (masker below the target) is stronger than downward.
    assert s[25, 20] > 100 * s[20, 25]


def test_spread_accepts_stacked_band_powers():
    rng = np.random.default_rng(0)
    p = rng.random((3, BANDS.n_bands, 7)).astype(np.float32)
    out = spread(p, BANDS)
    assert out.shape == p.shape and out.dtype == np.float32
    np.testing.assert_allclose(out[1], spread(p[1], BANDS), rtol=1e-6)
    np.testing.assert_allclose(spread(p[1, :, 2].astype(np.float64), BANDS), out[1, :, 2], rtol=1e-5)
    with pytest.raises(ValueError, match="bands"):
        spread(p[:, :-1], BANDS)


# --- what masks what ----------------------------------------------------------------------------

@pytest.mark.parametrize("target_hz, masker_hz", [(1000.0, 1030.0), (3000.0, 3100.0), (400.0, 410.0)])
@pytest.mark.parametrize("lead_db", [15.0, 25.0])
def test_a_louder_tone_in_the_same_band_masks_the_target(target_hz, masker_hz, lead_db):
    t = centre(target_hz)
    b = BANDS.index_of(t)
    assert BANDS.index_of(masker_hz) == b
    res = masking_of(sine(t, -30.0), sine(masker_hz, -30.0 + lead_db))
    assert res.share[1, 0] > 0.95
    # A lone tone keeps the diagonal share of its spread in its own band.
    own = 10 * np.log10(spreading_matrix(BANDS)[b, b])
    assert res.depth_db[1, 0] == pytest.approx(lead_db + own - MASKING_OFFSET_DB, abs=1.0)


@pytest.mark.parametrize("target_hz, masker_hz", [(4000.0, 250.0), (250.0, 4000.0), (8000.0, 100.0),
                                                  (100.0, 1500.0)])
def test_tones_in_far_apart_bands_do_not_mask(target_hz, masker_hz):
    res = masking_of(sine(centre(target_hz), -30.0), sine(centre(masker_hz), -10.0))
    assert res.share[1, 0] < 0.01
    assert res.share[0, 1] < 0.01


def test_equal_tones_in_one_band_sit_offset_db_below_masking():
    # The threshold lies at least MASKING_OFFSET_DB below the masker: an
    # equal-level neighbour in the same band is audible, not masked.
    f = centre(1000.0)
    p, act = band_power_of(sine(f, -20.0), sine(f + 20.0, -20.0))
    margin = pair_map_db(p, act, BANDS, masker=1, target=0)
    b = BANDS.index_of(f)
    own = 10 * np.log10(spreading_matrix(BANDS)[b, b])
    assert np.nanmedian(margin[b]) == pytest.approx(own - MASKING_OFFSET_DB, abs=0.3)
    assert compute_masking(p, act, BANDS).share[1, 0] < 0.05


def test_louder_masker_masks_more():
    # Masker and target share one band of noise (different seeds), so the
    # margins of all cells move together. (Depth is a mean over the masked
    # cells: a masker wider than the target can first cover only the target's
    # faint skirts, deeply, and the mean then falls as it reaches the body.)
    target = band_noise(900.0, 1150.0, -30.0, seed=1, seconds=4.0)
    levels = np.arange(-45.0, 0.1, 5.0)
    shares, depths = [], []
    for level in levels:
        masker = band_noise(900.0, 1150.0, level, seed=2, seconds=4.0)
        res = masking_of(target, masker)
        shares.append(res.share[1, 0])
        depths.append(res.depth_db[1, 0])
    shares, depths = np.array(shares), np.array(depths)
    assert np.all(np.diff(shares) >= -1e-9), shares
    masked = shares > 0
    assert np.all(np.diff(depths[masked]) >= -0.05), depths
    assert shares[0] < 0.05 and shares[-1] > 0.95
    assert depths[-1] > depths[masked][0] + 10.0


@pytest.mark.parametrize("low_hz, high_hz", [(200.0, 400.0), (500.0, 700.0), (1000.0, 1500.0),
                                            (2000.0, 3000.0), (3000.0, 6000.0)])
def test_low_maskers_spread_upward_more_than_high_maskers_downward(low_hz, high_hz):
    low, high = centre(low_hz), centre(high_hz)
    # Margins at equal levels, masker -> target.
    p, act = band_power_of(sine(low, -20.0), sine(high, -20.0))
    up = np.nanmedian(pair_map_db(p, act, BANDS, masker=0, target=1)[BANDS.index_of(high)])
    down = np.nanmedian(pair_map_db(p, act, BANDS, masker=1, target=0)[BANDS.index_of(low)])
    s = spreading_matrix(BANDS)
    bl, bh = BANDS.index_of(low), BANDS.index_of(high)
    expected = 10 * np.log10(s[bh, bl] / s[bl, bh])
    assert up - down == pytest.approx(expected, abs=1.0)
    assert up - down > 5.0
    # Half-way between the two thresholds the low masker masks and the high one does not.
    lead = -(up + down) / 2
    up_res = masking_of(sine(high, -40.0), sine(low, -40.0 + lead))
    down_res = masking_of(sine(low, -40.0), sine(high, -40.0 + lead))
    assert up_res.share[1, 0] > 0.9
    assert down_res.share[1, 0] < 0.1


@pytest.mark.parametrize("gap_db", [10.0, 20.0])
def test_masking_is_asymmetric_when_levels_differ(gap_db):
    f = centre(2000.0)
    loud, quiet = band_noise(f * 0.95, f * 1.05, -20.0, seed=3), band_noise(f * 0.95, f * 1.05,
                                                                           -20.0 - gap_db, seed=4)
    res = masking_of(loud, quiet)
    assert res.share[0, 1] > 0.8
    assert res.share[1, 0] < 0.02
    assert res.share[0, 1] > res.share[1, 0] + 0.75


def test_silent_and_inactive_maskers_mask_nothing_without_warnings():
    f = centre(1000.0)
    target = sine(f, -30.0)
    loud = sine(f, -10.0)
    silent = np.zeros_like(target)
    p, act = band_power_of(target, silent, loud)
    act[2] = False  # the loud masker is gated off (e.g. a stem that never plays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = compute_masking(p, act, BANDS)
    for m in (1, 2):
        assert res.share[m, 0] == 0.0 and res.depth_db[m, 0] == 0.0
        assert not res.band_share[m, 0].any() and not res.over_time[m, 0].any()
    assert res.by_mix_share[0] == 0.0
    # A silent target has nothing to mask.
    assert not res.share[:, 1].any() and res.by_mix_share[1] == 0.0
    assert not res.over_time[:, 1].any()
    for arr in (res.share, res.depth_db, res.band_share, res.over_time, res.by_mix_share,
                res.by_mix_band_share, res.by_mix_over_time, res.by_mix_depth_db):
        assert np.isfinite(arr).all()


def test_masking_only_counts_where_the_target_plays():
    f = centre(1000.0)
    target = sine(f, -30.0, seconds=4.0)
    target[: 2 * SR] = 0.0  # the target enters at 2 s
    masker = sine(f, -10.0, seconds=4.0)
    masker[3 * SR:] = 0.0  # the masker stops at 3 s
    p, act = band_power_of(target, masker)
    res = compute_masking(p, act, BANDS)
    t = (np.arange(p.shape[2]) + 0.5) * 4096 / SR
    assert not res.over_time[1, 0, t < 1.9].any()
    assert (res.over_time[1, 0, (t > 2.2) & (t < 2.8)] > 0.95).all()
    assert not res.over_time[1, 0, t > 3.2].any()
    assert res.share[1, 0] == pytest.approx(0.5, abs=0.06)
    margin = pair_map_db(p, act, BANDS, masker=1, target=0)
    assert np.isnan(margin[:, t < 1.9]).all()


# --- gains, the mix, consistency ----------------------------------------------------------------

def three_stems() -> list[np.ndarray]:
    return [band_noise(300.0, 3000.0, -25.0, seed=10),
            band_noise(800.0, 1500.0, -28.0, seed=11),
            band_noise(150.0, 1000.0, -22.0, seed=12)]


@pytest.mark.parametrize("gains_db", [(0.0, 0.0, 0.0), (-6.0, 0.0, 4.5), (3.0, -12.0, -3.0)])
def test_gains_db_is_the_same_as_scaling_the_audio(gains_db):
    stems = three_stems()
    p, act = band_power_of(*stems)
    scaled_p, scaled_act = band_power_of(*[x * np.float32(10 ** (g / 20)) for x, g in zip(stems, gains_db)])
    np.testing.assert_array_equal(scaled_act, act)
    np.testing.assert_allclose(scaled_p, p * 10 ** (np.array(gains_db) / 10)[:, None, None],
                               rtol=1e-4, atol=1e-12)
    by_gain = compute_masking(p, act, BANDS, gains_db=np.array(gains_db))
    by_audio = compute_masking(scaled_p, scaled_act, BANDS)
    for name in ("share", "band_share", "by_mix_share", "by_mix_band_share"):
        np.testing.assert_allclose(getattr(by_gain, name), getattr(by_audio, name), atol=2e-3, err_msg=name)
    np.testing.assert_allclose(by_gain.depth_db, by_audio.depth_db, atol=0.05)


def test_turning_a_masker_down_reduces_its_masking():
    p, act = band_power_of(*three_stems())
    base = compute_masking(p, act, BANDS)
    down = compute_masking(p, act, BANDS, gains_db=np.array([0.0, 0.0, -10.0]))
    assert (down.share[2, :2] < base.share[2, :2]).all()
    assert (down.by_mix_share[:2] < base.by_mix_share[:2]).all()
    # The turned-down stem is now masked more by the others.
    assert down.by_mix_share[2] > base.by_mix_share[2]


def test_the_mix_masks_at_least_as_much_as_any_one_stem():
    rng = np.random.default_rng(7)
    p = (10 ** rng.uniform(-9, -2, (6, BANDS.n_bands, 200))).astype(np.float32)
    act = rng.random((6, 200)) > 0.3
    res = compute_masking(p, act, BANDS)
    assert (res.by_mix_share >= res.share.max(axis=0) - 1e-6).all()
    assert (res.by_mix_band_share >= res.band_share.max(axis=0) - 1e-6).all()
    assert ((0 <= res.share) & (res.share <= 1)).all()
    np.testing.assert_array_equal(np.diag(res.share), 0.0)


def test_with_two_stems_the_mix_is_the_other_stem():
    p, act = band_power_of(*three_stems()[:2])
    res = compute_masking(p, act, BANDS)
    np.testing.assert_allclose(res.by_mix_share, [res.share[1, 0], res.share[0, 1]], atol=1e-3)


def test_pair_map_agrees_with_compute_masking():
    p, act = band_power_of(*three_stems())
    res = compute_masking(p, act, BANDS, gains_db=np.array([0.0, 6.0, -3.0]))
    for m, t in [(0, 1), (1, 0), (2, 1), (1, 2)]:
        margin = pair_map_db(p, act, BANDS, m, t, gains_db=np.array([0.0, 6.0, -3.0]))
        assert margin.shape == (BANDS.n_bands, p.shape[2])
        counted = ~np.isnan(margin)
        w = np.where(counted, p[t], 0.0)
        share = w[np.nan_to_num(margin, nan=-1.0) >= 0].sum() / w.sum()
        assert share == pytest.approx(res.share[m, t], abs=1e-5)
        assert np.isnan(margin[:, ~act[t]]).all()


@pytest.mark.parametrize("active_fraction", [0.2, 0.45, 0.8, 1.0])
def test_every_output_matches_a_brute_force_reference(active_fraction):
    # Reference: each pair's cell-by-cell margin from pair_map_db, summed by hand.
    rng = np.random.default_rng(int(active_fraction * 100))
    n, nf = 4, 60
    p = (10 ** rng.uniform(-9, -2, (n, BANDS.n_bands, nf))).astype(np.float32)
    act = rng.random((n, nf)) < active_fraction
    gains = rng.normal(0, 6, n)
    res = compute_masking(p, act, BANDS, gains_db=gains)
    for m in range(n):
        for t in range(n):
            if m == t:
                continue
            margin = pair_map_db(p, act, BANDS, m, t, gains_db=gains).astype(np.float64)
            w = np.where(np.isnan(margin), 0.0, p[t] * 10 ** (gains[t] / 10))
            mw = np.where(np.nan_to_num(margin, nan=-1.0) >= 0, w, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = mw.sum() / w.sum() if w.sum() > 0 else 0.0
                band = np.nan_to_num(mw.sum(1) / w.sum(1))
                over = np.nan_to_num(mw.sum(0) / w.sum(0))
                depth = (mw * np.nan_to_num(margin)).sum() / mw.sum() if mw.sum() > 0 else 0.0
            assert res.share[m, t] == pytest.approx(share, abs=1e-5)
            np.testing.assert_allclose(res.band_share[m, t], band, atol=1e-5)
            np.testing.assert_allclose(res.over_time[m, t], over, atol=1e-5)
            assert res.depth_db[m, t] == pytest.approx(depth, abs=1e-3)


def test_result_shapes_names_and_json():
    p, act = band_power_of(*three_stems())
    res = compute_masking(p, act, BANDS, names=["Keys", "Lead Vocal", "Bass"])
    n, nb, nf = p.shape
    assert res.share.shape == res.depth_db.shape == (n, n)
    assert res.band_share.shape == (n, n, nb)
    assert res.over_time.shape == (n, n, nf)
    assert res.by_mix_share.shape == (n,) and res.by_mix_band_share.shape == (n, nb)
    assert res.by_mix_over_time.shape == (n, nf)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["names"] == ["Keys", "Lead Vocal", "Bass"]
    assert np.array(d["share"]).shape == (n, n)
    assert "over_time" not in d and "band_share" not in d


def test_bad_inputs_are_refused_with_the_parameter_named():
    p, act = band_power_of(*three_stems()[:2])
    with pytest.raises(ValueError, match="activity"):
        compute_masking(p, act[:, :-1], BANDS)
    with pytest.raises(ValueError, match="gains_db"):
        compute_masking(p, act, BANDS, gains_db=np.zeros(3))
    with pytest.raises(ValueError, match="names"):
        compute_masking(p, act, BANDS, names=["one"])
    with pytest.raises(ValueError, match="band_power"):
        compute_masking(-p, act, BANDS)
    with pytest.raises(ValueError, match="target"):
        pair_map_db(p, act, BANDS, masker=0, target=2)
