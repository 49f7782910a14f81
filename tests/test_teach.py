"""One move on one stem, exaggerated on request: rendered by the workbench's own chain, on real audio."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import ParameterError
from workbench.figures import long_term_spectrum, spectrum_comparison
from workbench.mixing.plan import EQBand, ReverbBus, StemPlan
from workbench.teach import eq_focus_hz, eq_on_one_stem, exaggerate_eq, reverb_on_one_stem

SR = 44100


def noise(seconds=2.0, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal((2, int(seconds * SR)))).astype(np.float32)


def stem(**kw):
    base = dict(file="x.wav", category=None, importance="medium", gain_db=0.0, gain_reason="test")
    base.update(kw)
    return StemPlan(**base)


def test_exaggerate_scales_gains_and_moves_filters():
    eq = [EQBand("highpass", 100.0), EQBand("bell", 1000.0, -4.0, 2.0)]
    big = exaggerate_eq(eq, 2.0)
    assert big[0].freq_hz == 200.0 and big[1].gain_db == -8.0 and big[1].freq_hz == 1000.0
    assert exaggerate_eq(eq, 1.0) == eq
    with pytest.raises(ParameterError, match="exaggerate"):
        exaggerate_eq(eq, 0.0)
    lo, hi = eq_focus_hz(big)
    assert lo == pytest.approx(50.0) and hi == pytest.approx(4000.0)


def test_eq_on_one_stem_measured_cut_grows_with_exaggerate():
    s = stem(eq=[EQBand("bell", 1000.0, -4.0, 2.0)])
    f = np.array([1000.0])
    cuts = []
    for k in (1.0, 3.0):
        before, after, eq = eq_on_one_stem(s, noise(), SR, exaggerate=k)
        cuts.append(float(long_term_spectrum(after, SR, f)[0] - long_term_spectrum(before, SR, f)[0]))
        assert eq[0].gain_db == pytest.approx(-4.0 * k)
    assert cuts[0] == pytest.approx(-4.0, abs=1.0)
    assert cuts[1] == pytest.approx(-12.0, abs=2.0)
    fig = spectrum_comparison(before, after, SR, eq=eq, fmin_hz=250.0, fmax_hz=4000.0)
    assert fig.axes[0].get_xlim()[0] >= 240.0 and fig.axes[0].get_xlim()[1] <= 4200.0


def test_reverb_on_one_stem_leaves_a_tail_dry_does_not():
    s = stem(reverb_send_db=-10.0, reverb_reason="test")
    bus = ReverbBus(reason="test")
    burst = noise(0.5)
    dry, wet = reverb_on_one_stem(s, bus, burst, SR, tail_s=1.5)
    assert dry.shape == wet.shape == (2, int(2.0 * SR))
    tail = slice(int(0.7 * SR), int(1.2 * SR))  # after the burst stopped
    assert np.sqrt(np.mean(dry[:, tail] ** 2)) < 1e-6
    quiet = np.sqrt(np.mean(wet[:, tail] ** 2))
    assert quiet > 1e-4
    _, louder = reverb_on_one_stem(s, bus, burst, SR, tail_s=1.5, exaggerate=3.0)
    assert np.sqrt(np.mean(louder[:, tail] ** 2)) == pytest.approx(3.0 * quiet, rel=0.01)
    with pytest.raises(ParameterError, match="sends nothing"):
        reverb_on_one_stem(stem(), bus, burst, SR)
