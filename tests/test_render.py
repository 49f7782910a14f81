"""The renderer: physics of the chain, loudness and true peak, determinism, safety.

Sessions are made on the spot (tones, noise, drum-like bursts; 2–6 stems, 2–6 s)
and loaded with :func:`workbench.load_session`; plans are built by hand. The
result is measured with meters independent of the renderer's own (libebur128):
pyloudnorm for BS.1770 integrated loudness and a 4× ``resample_poly``
oversampled peak for the true peak.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm as pyln
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from workbench import WorkbenchError, load_session
from workbench.mixing import dsp
from workbench.mixing.plan import STAGES, Compressor, EQBand, MasterPlan, MixPlan, ReverbBus, StemPlan
from workbench.mixing.render import (PLAIN_SUM, RenderResult, ReverbReturn, StemChain, render,
                                     render_stem_chain)

SR = 44100


# ----------------------------------------------------------------- helpers
def sine(freq_hz: float, seconds: float, level_db: float = -12.0, sr: int = SR, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (10 ** (level_db / 20) * np.sin(2 * np.pi * freq_hz * t + phase)).astype(np.float32)


def noise(seconds: float, level_db: float = -20.0, sr: int = SR, seed: int = 0, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((channels, int(round(seconds * sr))))
    return (x * 10 ** (level_db / 20)).astype(np.float32)


def drums(seconds: float, level_db: float = 0.0, sr: int = SR, seed: int = 1) -> np.ndarray:
    """Kick-and-snare-like decaying bursts, stereo: a high crest factor, like real drums."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    x = np.zeros((2, n))
    beat = sr // 2
    for k in range(0, n, beat):
        m = min(8000, n - k)
        i = np.arange(m)
        x[:, k:k + m] += np.sin(2 * np.pi * (50 + 100 * np.exp(-i / 300)) * i / sr) * np.exp(-i / 1500)
    for k in range(beat // 2, n, beat):
        m = min(6000, n - k)
        x[:, k:k + m] += 0.6 * rng.standard_normal((2, m)) * np.exp(-np.arange(m) / 1200)
    x *= 10 ** (level_db / 20) / np.abs(x).max()
    return x.astype(np.float32)


def make_session(folder: Path, stems: dict[str, np.ndarray], sr: int | dict[str, int] = SR):
    """Write ``{file name: audio}`` as 24-bit WAVs and load them as a session."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, audio in stems.items():
        rate = sr[name] if isinstance(sr, dict) else sr
        sf.write(str(folder / name), np.atleast_2d(audio).T, rate, subtype="PCM_24")
    return load_session(folder)


def neutral(stem, **kw) -> StemPlan:
    """A stem plan that changes nothing (unity gain, no EQ, centre, no send)."""
    return StemPlan(file=stem.file, category=None, importance="medium", gain_db=kw.pop("gain_db", 0.0),
                    gain_reason="test", channels=stem.channels, **kw)


def make_plan(session, per_stem: dict[str, dict] | None = None, *, target_lufs: float = -14.0,
              ceiling_dbtp: float = -1.0, glue: Compressor | None = None, reverb: ReverbBus | None = None,
              bit_depth: int = 16, dither: bool = True) -> MixPlan:
    per_stem = per_stem or {}
    return MixPlan(
        stems={s.name: neutral(s, **per_stem.get(s.name, {})) for s in session.stems},
        reverb=reverb or ReverbBus(),
        master=MasterPlan(target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp, glue=glue, bit_depth=bit_depth,
                          dither=dither),
        sample_rate=SR, frames=session.frames)


def busy_plan(session, **kw) -> MixPlan:
    """Every stage in use: gain, high-pass, bell, shelf, compressor, pan, width, send, glue."""
    per = {}
    for i, s in enumerate(session.stems):
        per[s.name] = dict(
            gain_db=-2.0 - i, pan=[-0.6, 0.4, 0.0, 0.8, -0.3, 0.2][i % 6], width=0.7,
            eq=[EQBand("highpass", 60.0 + 20 * i, slope_db_per_oct=[12, 24][i % 2]),
                EQBand("bell", 800.0 + 300 * i, -3.0, 1.4), EQBand("high_shelf", 6000.0, 2.0)],
            compressor=Compressor(-24.0, 3.0, 10.0, 120.0, 2.0), reverb_send_db=-12.0 - i)
    return make_plan(session, per, glue=Compressor(-18.0, 2.0, 30.0, 200.0, 0.0), **kw)


def read(path) -> np.ndarray:
    y, _ = sf.read(str(path), dtype="float64", always_2d=True)
    return y.T


def lufs(y: np.ndarray, sr: int = SR) -> float:
    return pyln.Meter(sr).integrated_loudness(y.T)


def true_peak_db(y: np.ndarray) -> float:
    return 20 * np.log10(np.abs(resample_poly(y, 4, 1, axis=1)).max())


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-300)


@pytest.fixture(scope="module")
def band(tmp_path_factory):
    """Four stems (mono and stereo, one at 48 kHz and shorter, one stopping half way) with the busy plan."""
    folder = tmp_path_factory.mktemp("band")
    session = make_session(folder, {
        "kick.wav": drums(4.0, -6.0)[0],
        "bass.wav": sine(55, 4.0, -10) + noise(4.0, -40)[0],
        "keys.wav": np.stack([sine(330, 4.0, -16), sine(440, 4.0, -18, phase=1.0)]) * (np.arange(4 * SR) < 2 * SR),
        "pad.wav": noise(3.0, -24, sr=48000, channels=2, seed=3),
    }, sr={"kick.wav": SR, "bass.wav": SR, "keys.wav": SR, "pad.wav": 48000})
    return session, busy_plan(session)


# ------------------------------------------------------ determinism, streaming
def test_block_size_does_not_change_the_output(band, tmp_path):
    session, plan = band
    a = render(plan, session, tmp_path / "a.wav", block_frames=4096, bit_depth=32)
    b = render(plan, session, tmp_path / "b.wav", block_frames=65536, bit_depth=32)
    assert a.frames == b.frames == session.frames
    assert np.array_equal(read(a.path), read(b.path))
    for frames in (1000, 10000):
        c = render(plan, session, tmp_path / f"{frames}.wav", block_frames=frames, bit_depth=32)
        assert np.array_equal(read(a.path), read(c.path))


def test_worker_count_does_not_change_the_output(band, tmp_path):
    session, plan = band
    a = render(plan, session, tmp_path / "a.wav", workers=1)
    b = render(plan, session, tmp_path / "b.wav", workers=4)
    assert a.path.read_bytes() == b.path.read_bytes()


def test_same_plan_gives_a_byte_identical_dithered_file(band, tmp_path):
    session, plan = band
    a = render(plan, session, tmp_path / "a.wav")
    b = render(plan, session, tmp_path / "b.wav")
    assert sf.info(str(a.path)).subtype == "PCM_16"
    assert a.path.read_bytes() == b.path.read_bytes()
    # ...and the dither is really there: without it the file differs.
    plain = make_plan(session)
    plain.stems, plain.master.glue = plan.stems, plan.master.glue
    plain.master.dither = False
    c = render(plain, session, tmp_path / "c.wav")
    assert c.path.read_bytes() != a.path.read_bytes()
    assert np.abs(read(c.path) - read(a.path)).max() <= 2.0 / 32768 + 1e-12   # within ±1 LSB (+ rounding)


def test_24_bit_option_writes_pcm_24(band, tmp_path):
    session, plan = band
    r = render(plan, session, tmp_path / "mix24.wav", bit_depth=24)
    info = sf.info(str(r.path))
    assert (info.subtype, info.samplerate, info.channels, info.frames) == ("PCM_24", SR, 2, session.frames)


def test_progress_is_reported_for_both_stages(band, tmp_path):
    session, plan = band
    calls = []
    render(plan, session, tmp_path / "p.wav", progress=lambda d, t, s: calls.append((d, t, s)),
           block_frames=32768)
    stages = [s for _, _, s in calls]
    assert stages[0] == "mix" and "master" in stages
    assert set(stages) <= {"mix", "master", "master pass 2", "master pass 3", "master pass 4"}
    last_mix = [c for c in calls if c[2] == "mix"][-1]
    assert last_mix[0] == last_mix[1] == session.frames


# ---------------------------------------------------- loudness and true peak
@pytest.mark.parametrize("target_lufs, ceiling_dbtp", [(-14.0, -1.0), (-20.0, -2.0)])
@pytest.mark.parametrize("level", ["quiet", "hot"])
def test_loudness_on_target_and_true_peak_under_ceiling(tmp_path, target_lufs, ceiling_dbtp, level):
    offset = -38.0 if level == "quiet" else 0.0     # hot stems peak at 0 dBFS
    session = make_session(tmp_path / "s", {
        "drums.wav": drums(5.0, offset),
        "bass.wav": sine(60, 5.0, offset - 4) + noise(5.0, offset - 40)[0],
        "hats.wav": noise(5.0, offset - 10, seed=7, channels=2),
        "lead.wav": sine(880, 5.0, offset - 8) * (np.arange(5 * SR) % SR < SR // 2),
    })
    plan = busy_plan(session, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp)
    r = render(plan, session, tmp_path / "mix.wav")
    y = read(r.path)
    assert lufs(y) == pytest.approx(target_lufs, abs=0.5)
    assert true_peak_db(y) <= ceiling_dbtp
    assert r.true_peak_dbtp <= ceiling_dbtp
    assert r.integrated_lufs == pytest.approx(lufs(y), abs=0.3)
    assert r.master_passes <= 3


def test_heavy_limiting_still_reaches_the_target(tmp_path):
    """A drum-heavy mix (peak-to-loudness ~18 dB) pushed to −9 LUFS: the limiter takes ~8 dB."""
    session = make_session(tmp_path / "s", {"drums.wav": drums(6.0, -3.0), "bass.wav": sine(55, 6.0, -14)})
    plan = make_plan(session, target_lufs=-9.0, ceiling_dbtp=-1.0)
    r = render(plan, session, tmp_path / "mix.wav")
    y = read(r.path)
    assert lufs(y) == pytest.approx(-9.0, abs=0.5)
    assert true_peak_db(y) <= -1.0


def test_plain_sum_is_loudness_matched_to_the_target(band, tmp_path):
    session, plan = band
    r = render(plan, session, tmp_path / "plain.wav", bypass=PLAIN_SUM)
    full = render(plan, session, tmp_path / "full.wav")
    assert r.bypass == frozenset(STAGES)
    y = read(r.path)
    assert lufs(y) == pytest.approx(plan.master.target_lufs, abs=0.5)
    assert true_peak_db(y) <= plan.master.ceiling_dbtp
    assert not np.allclose(y, read(full.path), atol=1e-3)


@pytest.mark.parametrize("stage", STAGES)
def test_each_bypass_renders_on_target(band, tmp_path, stage):
    session, plan = band
    r = render(plan, session, tmp_path / f"{stage}.wav", bypass={stage})
    y = read(r.path)
    assert lufs(y) == pytest.approx(plan.master.target_lufs, abs=0.5)
    assert true_peak_db(y) <= plan.master.ceiling_dbtp


def test_silence_renders_silence(tmp_path):
    session = make_session(tmp_path / "s", {"a.wav": np.zeros(2 * SR, np.float32)})
    r = render(make_plan(session), session, tmp_path / "mix.wav", bit_depth=32)
    assert r.integrated_lufs == -np.inf
    assert not read(r.path).any()


# -------------------------------------------------------- limiter alignment
def test_limiter_latency_is_compensated_in_a_render(tmp_path):
    """An impulse (far above the ceiling after normalisation) stays at its sample."""
    at = 30001
    x = sine(300, 2.0, -40)
    x[at] = 0.5
    session = make_session(tmp_path / "s", {"click.wav": x})
    r = render(make_plan(session), session, tmp_path / "mix.wav", bit_depth=32)
    y = read(r.path)
    assert y.shape[1] == x.size
    assert abs(int(np.argmax(np.abs(y[0]))) - at) <= 1
    # The tone before and after the click keeps its phase: sample-aligned output.
    g = 10 ** (r.master_gain_db / 20) / np.sqrt(2)
    np.testing.assert_allclose(y[0, 1000:20000], g * x[1000:20000], atol=1e-4)


def test_limiter_keeps_length_position_and_ceiling():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 50000)) * 0.05).astype(np.float32)
    x[:, 12345] = 4.0
    lim = dsp.LookaheadLimiter(-1.0, SR, 2)
    y = np.concatenate([lim.process(x[:, i:i + 3000]) for i in range(0, x.shape[1], 3000)] + [lim.flush()], axis=1)
    assert y.shape == x.shape
    assert int(np.argmax(np.abs(y[0]))) == 12345
    np.testing.assert_array_equal(y[:, :12000], x[:, :12000])        # before the lookahead: untouched
    assert 20 * np.log10(np.abs(y).max()) <= -1.0 + 1e-4
    assert true_peak_db(y.astype(np.float64)) <= -1.0 + 0.3
    # Quiet parts pass untouched once the release has recovered.
    q = np.full((2, 20000), 0.1, np.float32)
    lim2 = dsp.LookaheadLimiter(-1.0, SR, 2)
    out = np.concatenate([lim2.process(q), lim2.flush()], axis=1)
    np.testing.assert_allclose(out, q, atol=1e-6)


@pytest.mark.parametrize("level_db", [-30.0, -12.0, -3.0, 6.0])
def test_limiter_skips_interpolation_only_where_it_cannot_matter(level_db, monkeypatch):
    # The true-peak detector leaves out stretches that cannot reach the
    # ceiling: the limited audio is bit-identical to interpolating everything.
    rng = np.random.default_rng(2)
    n = 5 * SR
    env = np.where((np.arange(n) // 20000) % 3 == 0, 1.0, 0.05)          # loud and quiet passages
    x = (rng.standard_normal((2, n)) * env * 10 ** (level_db / 20) / 3).astype(np.float32)
    x[:, 70000] = 10 ** ((level_db + 8) / 20)                              # a lone spike

    calls = []
    real = dsp.TruePeakDetector._stretches

    def limit(everything: bool) -> np.ndarray:
        def stretches(self, extended_abs, n_out, below):
            out = ([(0, n_out)] if n_out else []) if everything else real(self, extended_abs, n_out, below)
            calls.append(sum(hi - lo for lo, hi in out))
            return out
        monkeypatch.setattr(dsp.TruePeakDetector, "_stretches", stretches)
        lim = dsp.LookaheadLimiter(-1.0, SR, 2)
        return np.concatenate([lim.process(x[:, i:i + 65536]) for i in range(0, n, 65536)] + [lim.flush()], axis=1)

    full = limit(True)
    interpolated_all = sum(calls)
    calls.clear()
    skipping = limit(False)
    np.testing.assert_array_equal(skipping, full)
    if level_db <= -12.0:
        assert sum(calls) < 0.5 * interpolated_all                            # most stretches left out
    if level_db == -30.0:
        assert sum(calls) == 0


# ------------------------------------------------------------------ reverb
def test_reverb_bypass_removes_the_tail(tmp_path):
    """Stems stop at 2 s of 4 s: with the reverb there is a tail, bypassed there is none."""
    body = 2 * SR
    a = np.concatenate([sine(440, 2.0, -12) + noise(2.0, -30)[0], np.zeros(2 * SR, np.float32)])
    b = np.concatenate([noise(2.0, -18, seed=5, channels=2), np.zeros((2, 2 * SR), np.float32)], axis=1)
    session = make_session(tmp_path / "s", {"a.wav": a, "b.wav": b})
    plan = make_plan(session, {s.name: dict(reverb_send_db=-6.0) for s in session.stems},
                     reverb=ReverbBus(room_size=0.8, predelay_ms=20.0))
    tail = slice(body + SR // 4, body + SR)     # 0.25–1 s after the stems stop
    wet = read(render(plan, session, tmp_path / "wet.wav", bit_depth=32).path)
    dry = read(render(plan, session, tmp_path / "dry.wav", bit_depth=32, bypass={"reverb"}).path)
    assert rms_db(wet[:, tail]) > -60.0
    assert rms_db(dry[:, tail]) < -120.0


def test_reverb_predelay_delays_the_return():
    bus = ReverbBus(predelay_ms=50.0, highpass_hz=100.0, lowpass_hz=8000.0)
    ret = ReverbReturn(bus, SR)
    x = np.zeros((2, SR), np.float32)
    x[:, 0] = 1.0
    y = ret.process(x)
    first = int(np.flatnonzero(np.abs(y).max(axis=0) > 1e-6)[0])
    assert first >= int(0.050 * SR)


# --------------------------------------------------------- section renders
def test_section_has_exact_length_and_matches_the_full_render(tmp_path):
    session = make_session(tmp_path / "s", {
        "drums.wav": drums(6.0, -6.0),
        "keys.wav": np.stack([sine(330, 6.0, -14), sine(392, 6.0, -16)]),
        "bass.wav": sine(55, 6.0, -10),
    })
    plan = busy_plan(session, target_lufs=-20.0, ceiling_dbtp=-2.0)
    full = read(render(plan, session, tmp_path / "full.wav", bit_depth=32).path)
    start, n = 3 * SR, 2 * SR
    part = render(plan, session, tmp_path / "part.wav", section=(start, n), preroll_frames=2 * SR, bit_depth=32)
    y = read(part.path)
    assert y.shape == (2, n) and part.frames == n
    for ch in range(2):
        assert np.corrcoef(y[ch], full[ch, start:start + n])[0, 1] > 0.99
    # The section is normalised on itself.
    assert lufs(y) == pytest.approx(-20.0, abs=0.5)


def test_section_preroll_is_clamped_and_past_the_end_is_silence(tmp_path):
    session = make_session(tmp_path / "s", {"a.wav": sine(220, 2.0, -12)})
    plan = make_plan(session)
    r = render(plan, session, tmp_path / "head.wav", section=(1000, SR), preroll_frames=10 * SR)
    assert sf.info(str(r.path)).frames == SR
    r = render(plan, session, tmp_path / "tail.wav", section=(SR, 2 * SR), bit_depth=32)
    y = read(r.path)
    assert y.shape == (2, 2 * SR)
    assert not y[:, SR + 1000:].any()


# ------------------------------------------------------ the chain's physics
def tone_gain_db(stem_plan: StemPlan, freq_hz: float, sr: int) -> float:
    """Steady-state gain (dB) of a stem chain at a frequency, on the left output."""
    x = sine(freq_hz, 2.0, -20.0, sr=sr)[None, :]
    dry, _ = render_stem_chain(stem_plan, x, sr)
    settle = sr // 2
    return rms_db(dry[0, settle:]) - rms_db(x[0, settle:]) + 3.0103   # undo the centre pan law


def eq_stem(*bands: EQBand) -> StemPlan:
    return StemPlan(file="t.wav", category=None, importance="medium", gain_db=0.0, gain_reason="",
                    eq=list(bands), channels=1)


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("slope, octave_below_db", [(12, -12.0), (24, -24.0)])
def test_highpass_slope(sr, slope, octave_below_db):
    plan = eq_stem(EQBand("highpass", 400.0, slope_db_per_oct=slope))
    assert tone_gain_db(plan, 400.0, sr) == pytest.approx(-3.01, abs=0.5)
    assert tone_gain_db(plan, 200.0, sr) == pytest.approx(octave_below_db, abs=1.5)
    assert tone_gain_db(plan, 4000.0, sr) == pytest.approx(0.0, abs=0.1)


def test_lowpass_is_minus_3_db_at_cutoff():
    plan = eq_stem(EQBand("lowpass", 2000.0, slope_db_per_oct=12))
    assert tone_gain_db(plan, 2000.0, SR) == pytest.approx(-3.01, abs=0.5)
    assert tone_gain_db(plan, 4000.0, SR) == pytest.approx(-12.0, abs=1.5)


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("kind, freq_hz, probe_hz, expect_db", [
    ("bell", 1000.0, 1000.0, 6.0),
    ("low_shelf", 200.0, 30.0, 6.0),
    ("high_shelf", 5000.0, 16000.0, 6.0),
])
def test_bells_and_shelves_reach_their_gain(sr, kind, freq_hz, probe_hz, expect_db):
    plan = eq_stem(EQBand(kind, freq_hz, 6.0, 1.0 if kind == "bell" else 0.707))
    assert tone_gain_db(plan, probe_hz, sr) == pytest.approx(expect_db, abs=0.5)
    assert tone_gain_db(plan, freq_hz * (8 if kind != "high_shelf" else 1 / 8), sr) == pytest.approx(0.0, abs=0.6)


@pytest.mark.parametrize("kind, cls", [("bell", "PeakFilter"), ("low_shelf", "LowShelfFilter"),
                                       ("high_shelf", "HighShelfFilter")])
def test_bells_and_shelves_match_pedalboard(kind, cls):
    """Our float64 RBJ biquads are pedalboard's (JUCE's) filters, to float32 precision."""
    import pedalboard

    x = noise(1.0, -12.0, seed=4)
    ours, _ = render_stem_chain(eq_stem(EQBand(kind, 700.0, -5.0, 1.3)), x, SR)
    theirs = getattr(pedalboard, cls)(cutoff_frequency_hz=700.0, gain_db=-5.0, q=1.3)(x, SR)
    np.testing.assert_allclose(ours[0] / np.float32(np.cos(np.pi / 4)), theirs[0], atol=2e-5)


def test_gain_and_compressor_bypass():
    x = sine(1000, 1.0, -6.0)[None, :]
    plan = StemPlan(file="t.wav", category=None, importance="medium", gain_db=-6.0, gain_reason="", channels=1,
                    compressor=Compressor(-30.0, 4.0, 1.0, 50.0, 0.0))
    dry, _ = render_stem_chain(plan, x, SR)
    unity, _ = render_stem_chain(plan, x, SR, bypass={"gain", "compression"})
    np.testing.assert_allclose(unity[0], x[0] * np.float32(np.cos(np.pi / 4)), rtol=1e-6)
    # −6 dB in, then ~(−12 + 30)·(1 − 1/4) ≈ 13.5 dB of compression below it.
    assert rms_db(dry[0, SR // 2:]) - rms_db(unity[0, SR // 2:]) < -15.0


def pan_stem(pan: float = 0.0, width: float = 1.0, channels: int = 1, send=None) -> StemPlan:
    return StemPlan(file="t.wav", category=None, importance="medium", gain_db=0.0, gain_reason="",
                    pan=pan, width=width, channels=channels, reverb_send_db=send)


def test_mono_pan_law_is_constant_power():
    x = sine(500, 1.0, -6.0)[None, :]
    centre, _ = render_stem_chain(pan_stem(0.0), x, SR)
    assert rms_db(centre[0]) - rms_db(x[0]) == pytest.approx(-3.0103, abs=0.01)
    assert rms_db(centre[1]) - rms_db(x[0]) == pytest.approx(-3.0103, abs=0.01)
    left, _ = render_stem_chain(pan_stem(-1.0), x, SR)
    assert not left[1].any()
    np.testing.assert_array_equal(left[0], x[0])
    for pan in (-0.7, -0.2, 0.3, 0.9):
        y, _ = render_stem_chain(pan_stem(pan), x, SR)
        power = np.mean(y[0].astype(np.float64) ** 2) + np.mean(y[1].astype(np.float64) ** 2)
        assert power == pytest.approx(np.mean(x[0].astype(np.float64) ** 2), rel=1e-5)


def test_stereo_stem_at_centre_full_width_passes_unchanged():
    x = noise(1.0, -12.0, channels=2, seed=9)
    y, _ = render_stem_chain(pan_stem(0.0, 1.0, channels=2), x, SR)
    np.testing.assert_array_equal(y, x)


def test_width_zero_folds_to_mono_and_balance_is_constant_power():
    x = noise(1.0, -12.0, channels=2, seed=9)
    y, _ = render_stem_chain(pan_stem(0.0, 0.0, channels=2), x, SR)
    np.testing.assert_array_equal(y[0], y[1])
    np.testing.assert_allclose(y[0], 0.5 * (x[0] + x[1]), atol=1e-7)
    hard, _ = render_stem_chain(pan_stem(-1.0, 1.0, channels=2), x, SR)
    assert not hard[1].any()
    np.testing.assert_allclose(hard[0], np.sqrt(2) * x[0], rtol=1e-6)


def test_reverb_send_is_post_fader_pre_pan():
    x = sine(500, 0.5, -6.0)[None, :]
    plan = pan_stem(-1.0, send=-6.0)
    plan.gain_db = -4.0
    dry, send = render_stem_chain(plan, x, SR)
    expected = x[0] * np.float32(10 ** (-4 / 20)) * np.float32(10 ** (-6 / 20)) * np.float32(np.cos(np.pi / 4))
    np.testing.assert_allclose(send[0], expected, rtol=1e-5)
    np.testing.assert_allclose(send[1], expected, rtol=1e-5)   # pre-pan: both sides although panned left
    _, none = render_stem_chain(plan, x, SR, bypass={"reverb"})
    assert none is None


def test_chain_is_independent_of_block_size():
    plan = StemPlan(file="t.wav", category=None, importance="medium", gain_db=-2.0, gain_reason="", channels=2,
                    pan=0.3, width=0.5, reverb_send_db=-10.0,
                    eq=[EQBand("highpass", 80.0, slope_db_per_oct=24), EQBand("bell", 900.0, -4.0, 2.0)],
                    compressor=Compressor(-25.0, 4.0, 5.0, 80.0, 3.0))
    x = np.ascontiguousarray(drums(2.0, -3.0)[:, :4096 * 21 + 2])    # the last 4096-block is 2 frames
    a = render_stem_chain(plan, x, SR, block_frames=4096)
    b = render_stem_chain(plan, x, SR, block_frames=65536)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    # Blocks that grow (an exporter feeding odd sizes) give the same result too.
    chain = StemChain(plan, SR, 2)
    cuts = [0, 500, 3000, 20000, x.shape[1]]
    grown = [chain.process(x[:, i:j])[0] for i, j in zip(cuts, cuts[1:])]
    np.testing.assert_array_equal(np.concatenate(grown, axis=1), a[0])


def test_mono_stem_panned_hard_left_leaves_right_silent_in_the_mix(tmp_path):
    session = make_session(tmp_path / "s", {"a.wav": sine(220, 2.0, -12), "b.wav": sine(880, 2.0, -12)})
    names = [s.name for s in session.stems]
    plan = make_plan(session, {names[0]: dict(pan=-1.0), names[1]: dict(pan=1.0, mute=True)})
    y = read(render(plan, session, tmp_path / "mix.wav", bit_depth=32).path)
    assert not y[1].any()
    assert rms_db(y[0]) > -40


def test_dither_is_triangular_and_unbiased():
    rng = np.random.default_rng(1)
    x = np.full((2, 200000), 0.25 / 32768)          # a quarter of an LSB
    q = dsp.tpdf_quantize(x, 16, rng)
    assert set(np.unique(q)) <= {-1, 0, 1, 2}
    assert q.mean() == pytest.approx(0.25, abs=0.01)  # TPDF: the output's mean follows the input
    assert not dsp.tpdf_quantize(x, 16, None).any()    # undithered, it rounds to silence


# ------------------------------------------------------------------ safety
def test_plan_stem_missing_from_the_session(band, tmp_path):
    session, plan = band
    stems = dict(plan.stems)
    stems["Ghost Vocal"] = StemPlan(file="ghost.wav", category=None, importance="high", gain_db=0.0,
                                    gain_reason="")
    bad = MixPlan(stems=stems, reverb=plan.reverb, master=plan.master, sample_rate=SR, frames=plan.frames)
    with pytest.raises(WorkbenchError) as err:
        render(bad, session, tmp_path / "mix.wav")
    assert err.value.code == "plan_mismatch"
    assert "Ghost Vocal" in err.value.message
    assert not (tmp_path / "mix.wav").exists()


def test_never_writes_over_an_input(band):
    session, plan = band
    target = session.stems[0].path
    before = target.read_bytes()
    with pytest.raises(WorkbenchError) as err:
        render(plan, session, target)
    assert err.value.code == "overwrite_input"
    assert target.read_bytes() == before
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]   # no temp files left


def test_bad_arguments_name_the_parameter(band, tmp_path):
    session, plan = band
    with pytest.raises(ValueError, match="bypass"):
        render(plan, session, tmp_path / "x.wav", bypass={"delay"})
    with pytest.raises(ValueError, match="bit_depth"):
        render(plan, session, tmp_path / "x.wav", bit_depth=8)


def test_stem_chain_example_from_the_docstring():
    chain = StemChain(pan_stem(-1.0), SR, channels=1)
    dry, send = chain.process(np.ones((1, 4), np.float32))
    assert dry.shape == (2, 4) and send is None and not dry[1].any()


def test_render_result_fields(band, tmp_path):
    session, plan = band
    r = render(plan, session, tmp_path / "mix.wav")
    assert isinstance(r, RenderResult)
    assert r.path == tmp_path / "mix.wav" and r.frames == session.frames and r.seconds > 0
    assert r.sample_peak_dbfs <= r.true_peak_dbtp + 1e-6
    assert r.bypass == frozenset()


# ------------------------------------------------------------- stem cache
def _count_cores(monkeypatch) -> dict:
    """Counts, per stem file, the blocks its chain's ``core`` processed."""
    from workbench.mixing import render as R

    counts: dict = {}
    real_init, real_core = R.StemChain.__init__, R.StemChain.core

    def init(self, stem_plan, *a, **k):
        real_init(self, stem_plan, *a, **k)
        self._file = stem_plan.file

    def core(self, block):
        counts[self._file] = counts.get(self._file, 0) + 1
        return real_core(self, block)

    monkeypatch.setattr(R.StemChain, "__init__", init)
    monkeypatch.setattr(R.StemChain, "core", core)
    return counts


def test_stem_cache_reuses_unchanged_stems_and_changes_no_sample(band, tmp_path, monkeypatch):
    from dataclasses import replace

    from workbench.mixing.render import StemCache

    session, plan = band
    section = dict(section=(SR // 2, 2 * SR), preroll_frames=SR // 4)
    counts = _count_cores(monkeypatch)
    cache = StemCache()
    first = render(plan, session, tmp_path / "first.wav", cache=cache, **section)
    assert len(cache) == len(plan.stems) and set(counts) == {s.file for s in plan.stems.values()}
    # Same plan again: every stem from the cache, nothing processed, same bytes.
    counts.clear()
    again = render(plan, session, tmp_path / "again.wav", cache=cache, **section)
    assert counts == {} and again.path.read_bytes() == first.path.read_bytes()
    # One stem's gain changes: only that stem is processed again; the file is
    # byte-identical to a render without any cache.
    name = next(iter(plan.stems))
    changed = replace(plan, stems={**plan.stems, name: replace(plan.stems[name], gain_db=plan.stems[name].gain_db + 3)})
    counts.clear()
    cached = render(changed, session, tmp_path / "cached.wav", cache=cache, **section)
    assert set(counts) == {plan.stems[name].file}
    fresh = render(changed, session, tmp_path / "fresh.wav", **section)
    assert cached.path.read_bytes() == fresh.path.read_bytes() != first.path.read_bytes()
    # A/B versions that leave the chains alone (no reverb, no panning) reuse them.
    for stage in ("reverb", "panning"):
        counts.clear()
        ab = render(changed, session, tmp_path / f"no-{stage}.wav", cache=cache, bypass={stage}, **section)
        assert counts == {}
        plain = render(changed, session, tmp_path / f"no-{stage}-fresh.wav", bypass={stage}, **section)
        assert ab.path.read_bytes() == plain.path.read_bytes()
    # ...while one that changes them (no EQ) processes every stem.
    counts.clear()
    render(changed, session, tmp_path / "no-eq.wav", cache=cache, bypass={"eq"}, **section)
    assert set(counts) == {s.file for s in plan.stems.values()}


def test_stem_cache_is_keyed_by_the_file_and_bounded(tmp_path):
    import os

    from workbench.mixing.render import StemCache

    session = make_session(tmp_path / "s", {"a.wav": sine(220, 3.0, -12), "b.wav": noise(3.0, -20, channels=2)})
    plan = make_plan(session)
    section = dict(section=(SR, SR), preroll_frames=SR // 2)
    cache = StemCache()
    render(plan, session, tmp_path / "one.wav", cache=cache, **section)
    hits = cache.hits
    # A stem file rewritten (same name) is read again, never served stale.
    sf.write(str(tmp_path / "s" / "a.wav"), sine(330, 3.0, -12)[:, None], SR, subtype="PCM_24")
    os.utime(tmp_path / "s" / "a.wav", ns=(1, 1))
    r = render(plan, session, tmp_path / "two.wav", cache=cache, **section)
    assert cache.hits == hits + 1
    assert r.path.read_bytes() == render(plan, session, tmp_path / "three.wav", **section).path.read_bytes()
    # The budget holds: a stem larger than it never enters (the stereo one here).
    small = StemCache(max_bytes=int(1.5 * SR * 4))     # exactly the mono stem's section + pre-roll
    render(plan, session, tmp_path / "four.wav", cache=small, **section)
    assert small.nbytes == small.max_bytes and len(small) == 1
    # Stems beyond the budget are not even collected: two mono sections fit, not three.
    session3 = make_session(tmp_path / "s3", {f"{k}.wav": sine(220 * (i + 1), 3.0, -12) for i, k in enumerate("xyz")})
    two = StemCache(max_bytes=int(2 * 1.5 * SR * 4))
    render(make_plan(session3), session3, tmp_path / "five.wav", cache=two, **section)
    assert len(two) == 2 and two.nbytes == two.max_bytes
    # A full-length render does not use the cache (its memory must stay flat).
    full = StemCache()
    render(plan, session, tmp_path / "full.wav", cache=full)
    assert len(full) == 0 and full.hits == full.misses == 0


def test_stem_cache_drops_the_least_recently_used():
    from workbench.mixing.render import StemCache

    cache = StemCache(max_bytes=3 * 4000)
    for k in "abc":
        cache.put(k, np.full((1, 1000), ord(k), np.float32))
    assert cache.get("a") is not None                   # a is now the most recent
    cache.put("d", np.zeros((1, 1000), np.float32))     # over budget: b (least recent) goes
    assert [k for k in "abcd" if cache.get(k) is not None] == ["a", "c", "d"]
    assert cache.nbytes == 3 * 4000
    with pytest.raises(ValueError):
        cache.get("a")[0, 0] = 1.0                      # entries are read-only
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0
