"""The one STFT front-end: window, framing, power spectra, and the streamed version."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import workbench
from workbench.analysis import stft

SR = 44100


@pytest.mark.parametrize("n_fft", [1024, 4096])
@pytest.mark.parametrize("amplitude", [1.0, 0.25])
def test_a_sine_at_a_bin_centre_reads_its_amplitude(n_fft, amplitude):
    k = 37
    f = k * SR / n_fft
    x = amplitude * np.sin(2 * np.pi * f * np.arange(4 * n_fft) / SR)
    w = stft.hann(n_fft)
    p = stft.power_spectra(stft.frames(x, n_fft, n_fft // 2), w)
    assert p.shape == (7, n_fft // 2 + 1)
    assert np.all(np.argmax(p, axis=1) == k)
    assert np.sqrt(p[:, k]) == pytest.approx(amplitude * w.sum() / 2, rel=1e-9)


@pytest.mark.parametrize("overlap", [2, 4])
def test_periodic_hann_overlap_adds_to_a_constant(overlap):
    n = 2048
    w = stft.hann(n)
    total = sum(np.roll(w, j * n // overlap) for j in range(overlap))
    assert np.ptp(total) < 1e-12 and total[0] == pytest.approx(overlap / 2)
    sym = stft.hann(n, periodic=False)
    assert np.array_equal(sym, np.hanning(n)) and not np.allclose(sym, w)


def test_frames_and_bins():
    x = np.arange(10.0)
    f = stft.frames(x, 4, 2)
    assert f.shape == (4, 4) and f[1].tolist() == [2, 3, 4, 5]
    assert stft.frames(x[:3], 4, 2).shape == (0, 4)
    assert stft.frames(x[:3], 4, 2, pad_end=True).tolist() == [[0, 1, 2, 0]]
    p = stft.power_spectra(stft.frames(np.random.default_rng(0).standard_normal(64), 16, 8), stft.hann(16),
                           bins=slice(2, 5))
    assert p.shape == (7, 3) and np.all(p >= 0)
    assert stft.power_spectra(stft.frames(np.ones(32, np.float32), 16, 8), stft.hann(16, dtype=np.float32)).dtype \
        == np.float32


@pytest.mark.parametrize("block", [1, 333, 4096, 100000])
def test_the_stream_gives_the_same_frames_whatever_the_block_size(block):
    x = np.random.default_rng(1).standard_normal(20000)
    n_fft, hop = 1024, 256
    one = stft.StftStream(SR, n_fft, hop, x.size)
    whole = np.concatenate([p for _, p in [*one.push(x), *one.finish()]])
    assert whole.shape == (-(-x.size // hop), n_fft // 2 + 1)
    streamed = stft.StftStream(SR, n_fft, hop, x.size)
    parts = [p for s in range(0, x.size, block) for _, p in streamed.push(x[s:s + block])]
    parts += [p for _, p in streamed.finish()]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    # frame j is centred on sample j·hop: frame 4 is the windowed x[4·hop − n_fft/2 : 4·hop + n_fft/2]
    direct = stft.power_spectra(x[None, 4 * hop - n_fft // 2: 4 * hop + n_fft // 2], stft.hann(n_fft))
    np.testing.assert_allclose(whole[4], direct[0], rtol=1e-12)
    assert one.freqs_hz[1] == pytest.approx(SR / n_fft)


def test_spectrum_classify_and_figures_use_the_shared_front_end():
    root = Path(workbench.__file__).parent
    for rel in ("analysis/spectrum.py", "analysis/classify.py", "figures.py"):
        src = (root / rel).read_text(encoding="utf-8")
        assert "stft." in src or "StftStream" in src, rel
        for own in ("sliding_window_view", "as_strided", "np.hanning", "np.cos(2"):
            assert own not in src, (rel, own)
        # classify's one rfft is of the window itself (its autocorrelation), not of the signal
        assert len(re.findall(r"(?<!i)rfft\(", src)) <= (1 if rel.endswith("classify.py") else 0), rel
