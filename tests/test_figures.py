"""Figures: what each one draws, on the sample stems' analysis and on made signals.

The figures are checked through the artists they hold (texts, labels, mesh
arrays, line data), not through pixels, plus a few physical facts: a tone's
spectrogram row, a sine's level in dBFS, the EQ curve's values.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests only: the module itself never touches pyplot or the backend

import matplotlib.pyplot as plt  # noqa: E402  (only to prove no figure leaks into it)
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from workbench import audio_io, figures, load_session  # noqa: E402
from workbench.analysis import analyse  # noqa: E402
from workbench.analysis.masking import pair_map_db  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402
from workbench.mixing.plan import (  # noqa: E402
    EQBand,
    MasterPlan,
    MixPlan,
    ReverbBus,
    StemPlan,
    describe_eq,
)
from workbench.mixing.response import eq_response_db  # noqa: E402

from .conftest import ROOT, SAMPLE_STEMS  # noqa: E402

SR = 44100
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def session():
    return load_session(SAMPLE_STEMS)


@pytest.fixture(scope="module")
def analysis(session, tmp_path_factory):
    return analyse(session, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """Every figure is a plain Figure: pyplot's figure manager never sees one."""
    yield
    assert plt.get_fignums() == []


def sine(freq_hz: float, amplitude: float = 0.5, seconds: float = 2.0, sr: int = SR,
         channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    return np.tile(x, (channels, 1))


def noise(seconds: float = 3.0, sr: int = SR, seed: int = 0, level: float = 0.1) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal((1, int(seconds * sr)))).astype(np.float32)


def all_text(fig: Figure) -> str:
    """Every visible string of a figure: titles, labels, tick labels, legends, texts."""
    parts = [fig.get_suptitle()]
    parts += [t.get_text() for t in fig.texts]
    for leg in fig.legends:
        parts += [t.get_text() for t in leg.get_texts()]
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        parts += [t.get_text() for t in ax.texts]
        if ax.get_legend() is not None:
            parts += [t.get_text() for t in ax.get_legend().get_texts()]
    return "\n".join(parts)


def mesh_of(ax) -> QuadMesh:
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    return meshes[0]


def colourbar_label(fig: Figure) -> str:
    """The label of the figure's (one) colourbar."""
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(labels) == 1
    return labels[0]


def check_freq_axis(axis) -> None:
    """Log scale with ticks at 50 … 10k Hz labelled in plain numbers."""
    assert axis.get_scale() == "log"
    ticks = list(axis.get_majorticklocs())
    assert ticks == list(figures.FREQ_TICKS_HZ)
    labels = [axis.get_major_formatter()(v, i) for i, v in enumerate(ticks)]
    assert labels == list(figures.FREQ_TICK_LABELS)


# ------------------------------------------------------------ module hygiene
def test_import_does_not_load_pyplot():
    code = ("import sys, workbench.figures, matplotlib; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
            "print(matplotlib.rcParams['figure.dpi'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_figures_build_in_threads(analysis):
    jobs = [lambda: figures.level_meters(analysis),
            lambda: figures.masking_heatmap(analysis.masking),
            lambda: figures.spectrogram(sine(440.0), SR, title="A")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        pngs = list(pool.map(lambda job: figures.figure_png(job()), jobs))
    assert all(p.startswith(PNG_MAGIC) and len(p) > 5000 for p in pngs)


@pytest.mark.parametrize("share, text", [(0.0, "0%"), (0.003, "<1%"), (0.005, "<1%"), (0.0123, "1%"), (0.234, "23%"),
                                         (1.0, "100%")])
def test_format_share(share, text):
    assert figures.format_share(share) == text


@pytest.mark.parametrize("name, safe", [("Lead Vocal", "lead_vocal"), ("Hi-Hat", "hi-hat"),
                                        ("Gtr (L) #2", "gtr_l_2"), ("  Bass  ", "bass"),
                                        ("Überbass", "berbass"), ("??", "stem")])
def test_safe_filename(name, safe):
    assert figures.safe_filename(name) == safe
    assert re.fullmatch(r"[a-z0-9_-]+", figures.safe_filename(name))


# ------------------------------------------------------------------ masking
def test_masking_heatmap_share(analysis):
    m = analysis.masking
    fig = figures.masking_heatmap(m)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_ylabel().startswith("masker") and "covers" in ax.get_ylabel()
    assert ax.get_xlabel().startswith("target") and "covered" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == m.names
    assert [t.get_text() for t in ax.get_yticklabels()] == m.names
    assert "(%)" in colourbar_label(fig)
    assert fig.get_suptitle()
    cells = {tuple(np.round(t.get_position()).astype(int)): t.get_text() for t in ax.texts}
    n = m.n_stems
    assert len(cells) == n * (n - 1)  # every off-diagonal cell, no diagonal one
    assert all((i, i) not in cells for i in range(n))
    bass, pad = analysis.index("Bass"), analysis.index("Pad")
    # Text at (column = target, row = masker).
    assert cells[(pad, bass)] == figures.format_share(m.share[bass, pad])
    assert cells[(pad, bass)] == f"{100 * m.share[bass, pad]:.0f}%"
    # The diagonal is blank (masked) in the image.
    img = ax.images[0].get_array()
    assert np.ma.getmaskarray(img).diagonal().all()
    assert np.allclose(img[bass, pad], 100 * m.share[bass, pad])


def test_masking_heatmap_depth(analysis):
    m = analysis.masking
    fig = figures.masking_heatmap(m, value="depth_db", title="Depth")
    assert fig.get_suptitle() == "Depth"
    assert "(dB)" in colourbar_label(fig)
    ax = fig.axes[0]
    vox, pad = analysis.index("Lead Vocal"), analysis.index("Pad")
    cells = {tuple(np.round(t.get_position()).astype(int)): t.get_text() for t in ax.texts}
    assert cells[(vox, pad)] == f"{m.depth_db[pad, vox]:.0f} dB"


def test_masking_heatmaps_share_one_colour_scale(analysis):
    before = analysis.masking
    gains = np.zeros(before.n_stems)
    gains[analysis.index("Bass")] = -12.0        # a quieter bass covers less: a smaller own scale
    after = analysis.masking_at(gains)
    own = [figures.masking_heatmap(m).axes[0].images[0].norm.vmax for m in (before, after)]
    top = figures.masking_scale_max(before, after)
    assert top == max(own) and min(own) <= top
    shared = [figures.masking_heatmap(m, vmax=top).axes[0].images[0].norm.vmax for m in (before, after)]
    assert shared == [top, top]
    with pytest.raises(ValueError, match="vmax"):
        figures.masking_heatmap(before, vmax=float("nan"))


def test_masking_heatmap_rejects_unknown_value(analysis):
    with pytest.raises(ValueError, match="value"):
        figures.masking_heatmap(analysis.masking, value="loudness")


def test_masking_over_time(analysis):
    fig = figures.masking_over_time(analysis, "Bass", "Pad")
    mi, ti = analysis.index("Bass"), analysis.index("Pad")
    top, cbar, strip = fig.axes[0], fig.axes[1], fig.axes[2]
    assert "Bass" in fig.get_suptitle() and "Pad" in fig.get_suptitle()
    assert top.get_ylabel() == "frequency (Hz)"
    check_freq_axis(top.yaxis)
    assert "masker threshold − target level (dB)" in cbar.get_ylabel()
    assert strip.get_xlabel() == "time (s)"
    # The map is pair_map_db, NaN cells masked, on a colour scale centred at 0 dB.
    mesh = mesh_of(top)
    expected = pair_map_db(analysis.band_power, analysis.activity, analysis.bands, mi, ti)
    got = mesh.get_array()
    assert np.array_equal(np.ma.getmaskarray(got).reshape(expected.shape), np.isnan(expected))
    assert np.allclose(np.ma.filled(got, np.nan).reshape(expected.shape), expected, equal_nan=True)
    assert mesh.norm.vmin == -mesh.norm.vmax and mesh.norm.vmax > 0
    # Time axis spans the session in seconds.
    assert top.get_xlim()[1] == pytest.approx(analysis.n_frames * analysis.frame_hop_s)
    # The strip's covered share is the masking result's, frame by frame.
    share = strip.lines[0].get_ydata() / 100.0
    ok = np.isfinite(share)
    assert ok.sum() > 0.5 * analysis.activity[ti].sum()
    assert np.allclose(share[ok], analysis.masking.over_time[mi, ti][ok], atol=1e-4)
    assert not analysis.activity[ti][~ok].any() or np.all(analysis.masking.over_time[mi, ti][~ok] == 0)
    assert figures.format_share(analysis.masking.share[mi, ti]) in top.get_title()
    text = all_text(fig)
    assert "Bass plays" in text and "Pad plays" in text


def test_masking_over_time_at_gains(analysis):
    gains = {"Bass": -12.0}
    fig = figures.masking_over_time(analysis, "bass", "pad", gains_db=gains)
    moved = analysis.masking_at(gains)
    mi, ti = analysis.index("Bass"), analysis.index("Pad")
    assert moved.share[mi, ti] < analysis.masking.share[mi, ti]
    title = fig.axes[0].get_title()
    assert figures.format_share(moved.share[mi, ti]) in title and "gains" in title


def test_masking_over_time_bad_stems(analysis):
    with pytest.raises(ValueError, match="different"):
        figures.masking_over_time(analysis, "Bass", "Bass")
    with pytest.raises(WorkbenchError) as err:
        figures.masking_over_time(analysis, "Tuba", "Bass")
    assert err.value.code == "unknown_stem"


def test_band_profile(analysis):
    m = analysis.masking
    fig = figures.band_profile(m, "Bass", "Pad")
    ax = fig.axes[0]
    mi, ti = analysis.index("Bass"), analysis.index("Pad")
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    heights = [p.get_height() for p in bars]
    assert np.allclose(heights, 100 * m.band_share[mi, ti])
    lefts = [p.get_x() for p in bars]
    assert np.allclose(lefts, m.bands.edges_hz[:-1])
    check_freq_axis(ax.xaxis)
    assert "(%)" in ax.get_ylabel() and "Pad" in ax.get_ylabel()
    assert "Bass" in fig.get_suptitle() and "Pad" in fig.get_suptitle()
    with pytest.raises(WorkbenchError):
        figures.band_profile(m, "Bass", "Tuba")


def test_strongest_pairs(analysis):
    pairs = figures.strongest_pairs(analysis.masking, 3)
    share = [analysis.masking.share[analysis.index(a), analysis.index(b)] for a, b in pairs]
    assert len(pairs) == 3 and share == sorted(share, reverse=True)
    off = analysis.masking.share[~np.eye(analysis.n_stems, dtype=bool)]
    assert share[0] == off.max()


# ------------------------------------------------------------------ spectra
@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_spectrogram_of_a_tone(sr, channels):
    """A 1 kHz sine of amplitude 0.5 peaks in the 1 kHz row at −6 dBFS."""
    fig = figures.spectrogram(sine(1000.0, 0.5, sr=sr, channels=channels), sr, title="1 kHz")
    ax = fig.axes[0]
    assert fig.get_suptitle() == "1 kHz"
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "frequency (Hz)"
    check_freq_axis(ax.yaxis)
    assert "dBFS" in colourbar_label(fig)
    mesh = mesh_of(ax)
    coords = mesh.get_coordinates()  # (rows + 1, cols + 1, 2)
    f_edges, t_edges = coords[:, 0, 1], coords[0, :, 0]
    assert t_edges[0] == 0 and t_edges[-1] == pytest.approx(2.0, abs=1e-6)
    level = np.asarray(mesh.get_array()).reshape(len(f_edges) - 1, len(t_edges) - 1)
    row = int(np.argmax(level.mean(axis=1)))
    bin_hz = sr / figures.fft_size(sr)
    assert f_edges[row] - bin_hz <= 1000.0 <= f_edges[row + 1] + bin_hz
    centres = np.sqrt(f_edges[:-1] * f_edges[1:])
    assert abs(row - int(np.argmin(np.abs(np.log(centres / 1000.0))))) <= 1
    # −6.02 dBFS, less at most the Hann window's scalloping loss (1.42 dB).
    steady = level[row, 3:-3]
    assert np.all(steady <= -6.02 + 0.05) and np.all(steady >= -6.02 - 1.45)
    # Far from the tone: nothing.
    assert level[np.argmin(np.abs(centres - 100.0)), 3:-3].max() < -80  # (the onset clicks)


def test_spectrogram_caps_columns_and_checks_input():
    fig = figures.spectrogram(noise(seconds=20.0), SR, max_columns=50, n_rows=64)
    mesh = mesh_of(fig.axes[0])
    coords = mesh.get_coordinates()
    assert coords.shape[0] == 65 and coords.shape[1] - 1 <= 50
    assert coords[0, -1, 0] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="empty"):
        figures.spectrogram(np.zeros((2, 0)), SR)
    with pytest.raises(ValueError, match="sample_rate"):
        figures.spectrogram(sine(440.0), 0)
    with pytest.raises(ValueError, match="channels, samples"):
        figures.spectrogram(sine(440.0, channels=2).T, SR)


def test_spectrogram_of_stem(tmp_path):
    path = tmp_path / "03 Lead Vox.wav"
    sf.write(str(path), sine(2000.0, 0.25, sr=48000).T, 48000, subtype="FLOAT")
    direct = figures.spectrogram_of_stem(path)
    assert "Lead Vox" in direct.get_suptitle()
    resampled = figures.spectrogram_of_stem(path, 44100, title="at 44.1 kHz", vmin_dbfs=-90)
    assert resampled.get_suptitle() == "at 44.1 kHz"
    for fig in (direct, resampled):
        mesh = mesh_of(fig.axes[0])
        coords = mesh.get_coordinates()
        f_edges = coords[:, 0, 1]
        level = np.asarray(mesh.get_array()).reshape(len(f_edges) - 1, -1)
        row = int(np.argmax(level.mean(axis=1)))
        assert f_edges[row] - 12 <= 2000.0 <= f_edges[row + 1] + 12
        assert coords[0, -1, 0] == pytest.approx(2.0, abs=1e-3)
    assert mesh_of(resampled.axes[0]).norm.vmin == -90
    with pytest.raises(TypeError, match="colour"):
        figures.spectrogram_of_stem(path, colour="red")


def test_spectrogram_of_sum_is_the_sum_of_the_mono_folds(tmp_path):
    a = sine(200.0, 0.3, seconds=3.0)
    b = sine(3000.0, 0.2, seconds=2.0, channels=2)
    b[1] *= 0.5
    sf.write(str(tmp_path / "Tone A.wav"), a.T, SR, subtype="FLOAT")
    sf.write(str(tmp_path / "Tone B.wav"), b.T, SR, subtype="FLOAT")
    session = load_session(tmp_path)
    fig = figures.spectrogram_of_sum(session)
    assert "2 stems" in fig.get_suptitle()
    total = a[0].astype(np.float64).copy()
    total[: b.shape[1]] += b.mean(axis=0)
    ref = figures.spectrogram(total, SR)
    got = np.asarray(mesh_of(fig.axes[0]).get_array())
    want = np.asarray(mesh_of(ref.axes[0]).get_array())
    loud = want > -120
    assert loud.sum() > 100
    assert np.allclose(got[loud], want[loud], atol=1e-3)
    assert mesh_of(fig.axes[0]).get_coordinates()[0, -1, 0] == pytest.approx(3.0)


def test_spectrogram_of_the_sample_sum(session):
    fig = figures.spectrogram_of_sum(session, max_columns=300)
    coords = mesh_of(fig.axes[0]).get_coordinates()
    assert coords[0, -1, 0] == pytest.approx(session.duration_s, abs=1e-3)
    assert coords.shape[1] - 1 <= 300
    assert "10 stems" in fig.get_suptitle()


def test_long_term_spectrum_reads_rms_dbfs():
    """A full-scale sine reads −3.01 dBFS in the band holding it; pink-ish balance for noise."""
    f = np.array([125.0, 1000.0, 8000.0])
    level = figures.long_term_spectrum(sine(1000.0, 1.0, seconds=4.0), SR, f)
    assert level[1] == pytest.approx(-3.01, abs=0.05)
    assert level[0] < -60 and level[2] < -60
    # White noise: each 1/6 octave holds power in proportion to its width (+3 dB per octave).
    w = figures.long_term_spectrum(noise(seconds=8.0), SR, np.array([1000.0, 2000.0, 4000.0]))
    assert np.allclose(np.diff(w), 3.01, atol=0.5)
    # Total: the sum over all bands of the signal's mean square, here 0.1² → −20 dBFS.
    centres = SR / 2 / 2.0 ** (np.arange(12) + 0.5)  # octaves from 5.4 Hz up to Nyquist
    bands = figures.long_term_spectrum(noise(seconds=8.0), SR, centres, smoothing_octaves=1.0)
    assert 10 * np.log10(np.sum(10 ** (bands / 10))) == pytest.approx(-20.0, abs=0.3)


def test_spectrum_comparison_with_eq():
    before = noise(seconds=4.0)
    after = before * np.float32(10 ** (-6 / 20))
    eq = [EQBand("highpass", 100.0), EQBand("bell", 1000.0, gain_db=-4.0, q=1.0)]
    fig = figures.spectrum_comparison(before, after, SR, labels=("dry", "quieter"), eq=eq, difference=True)
    ax, twin = fig.axes[0], fig.axes[1]
    assert "(dBFS)" in ax.get_ylabel() and twin.get_ylabel() == "EQ gain (dB)"
    check_freq_axis(ax.xaxis)
    text = all_text(fig)
    assert "dry" in text and "quieter" in text and "EQ curve" in text
    dry, quiet = ax.lines[0].get_ydata(), ax.lines[1].get_ydata()
    assert np.allclose(dry - quiet, 6.0, atol=0.01)
    f = ax.lines[0].get_xdata()
    eq_line = twin.lines[0]
    assert np.allclose(eq_line.get_ydata(), eq_response_db(eq, f, SR))
    assert np.allclose(twin.lines[1].get_ydata(), -6.0, atol=0.01)  # measured change
    lo, hi = twin.get_ylim()
    assert lo == -hi  # 0 dB in the middle


def test_spectrum_comparison_plain():
    fig = figures.spectrum_comparison(sine(440.0, channels=2), sine(440.0), SR)
    assert len(fig.axes) == 1
    assert "before" in all_text(fig) and "after" in all_text(fig)


# ------------------------------------------------------------------- levels
def test_level_meters(analysis):
    fig = figures.level_meters(analysis)
    ax, crest = fig.axes[0], fig.axes[1]
    assert [t.get_text() for t in ax.get_yticklabels()] == analysis.names
    assert "LUFS" in ax.get_xlabel() and "dBFS" in ax.get_xlabel() and "dBTP" in ax.get_xlabel()
    ends = [p.get_x() + p.get_width() for p in ax.patches]
    assert np.allclose(ends, [s.integrated_lufs for s in analysis.stems])
    sample_peaks = ax.collections[0].get_offsets()[:, 0]
    true_peaks = ax.collections[1].get_offsets()[:, 0]
    assert np.allclose(sample_peaks, [s.sample_peak_dbfs for s in analysis.stems])
    assert np.allclose(true_peaks, [s.true_peak_dbtp for s in analysis.stems])
    assert [t.get_text() for t in crest.get_yticklabels()] == [f"{s.crest_db:.1f} dB" for s in analysis.stems]
    assert "crest factor" in crest.get_ylabel()
    text = all_text(fig)
    assert "integrated loudness (LUFS)" in text and "true peak (dBTP)" in text


def test_loudness_over_time(analysis):
    fig = figures.loudness_over_time(analysis)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == analysis.names
    assert "LUFS" in ax.get_ylabel() and ax.get_xlabel() == "time (s)"
    bass = analysis.stem("Bass").short_term_lufs
    y = ax.lines[analysis.index("Bass")].get_ydata()
    assert np.allclose(y[np.isfinite(bass)], bass[np.isfinite(bass)])
    assert np.all(np.isnan(y[~np.isfinite(bass)]))
    some = figures.loudness_over_time(analysis, ["lead vocal", "05 Bass.wav"])
    assert [line.get_label() for line in some.axes[0].lines] == ["Lead Vocal", "Bass"]


# ------------------------------------------------------------------ EQ, pan
def test_eq_curve():
    bands = [EQBand("highpass", 80.0, slope_db_per_oct=24), EQBand("bell", 300.0, gain_db=-3.0, q=1.4),
             EQBand("high_shelf", 8000.0, gain_db=2.0)]
    fig = figures.eq_curve(bands, title="Piano EQ")
    ax = fig.axes[0]
    assert fig.get_suptitle() == "Piano EQ"
    assert ax.get_ylabel() == "gain (dB)"
    check_freq_axis(ax.xaxis)
    total = next(line for line in ax.lines if line.get_label() == "total EQ")
    assert np.allclose(total.get_ydata(), eq_response_db(bands, total.get_xdata(), 44100))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    for i, b in enumerate(bands):
        assert f"{i + 1}: {describe_eq(b)}" in legend
    # The bell's marker sits at 300 Hz on the total curve.
    marker = next(line for line in ax.lines if line.get_label().startswith("2:"))
    assert marker.get_xdata()[0] == 300.0
    assert marker.get_ydata()[0] == pytest.approx(eq_response_db(bands, np.array([300.0]))[0])


def test_eq_curve_flat():
    fig = figures.eq_curve([])
    assert "no EQ" in all_text(fig)


def _plan() -> MixPlan:
    def stem(file, importance, pan, channels=1, width=1.0, mute=False):
        return StemPlan(file=file, category=None, importance=importance, gain_db=0.0, gain_reason="",
                        pan=pan, width=width, channels=channels, mute=mute)

    return MixPlan(stems={"Kick": stem("k.wav", "medium", 0.0),
                          "Shaker": stem("s.wav", "low", 0.6),
                          "Vocal": stem("v.wav", "high", 0.0),
                          "Keys": stem("p.wav", "medium", -0.4, channels=2, width=0.5),
                          "Click": stem("c.wav", "low", -1.0, mute=True)},
                   reverb=ReverbBus(), master=MasterPlan())


def test_pan_map():
    fig = figures.pan_map(_plan())
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == ["Vocal", "Kick", "Keys", "Shaker", "Click"]  # importance, then plan order
    pans = [c.get_offsets()[0, 0] for c in ax.collections]
    assert pans == [0.0, 0.0, -0.4, 0.6, -1.0]
    sizes = [c.get_sizes()[0] for c in ax.collections]
    assert sizes[0] > sizes[1] > sizes[3]
    assert "pan" in ax.get_xlabel()
    text = all_text(fig)
    assert "40% left" in text and "(muted)" in text and "high importance" in text
    # The stereo Keys show the spread of their two channels: -0.4 ± 0.5 × 0.6.
    spans = [line.get_xdata() for line in ax.lines if len(line.get_xdata()) == 2
             and line.get_xdata()[0] != line.get_xdata()[1]]
    assert len(spans) == 1 and np.allclose(spans[0], [-0.7, -0.1])


# -------------------------------------------------------------------- files
def test_save_analysis_figures(analysis, tmp_path):
    out = tmp_path / "plots"
    written = figures.save_analysis_figures(analysis, out)
    names = [p.name for p in written]
    assert names[:3] == ["masking_heatmap.png", "level_meters.png", "loudness_over_time.png"]
    pairs = figures.strongest_pairs(analysis.masking, 3)
    expected = [f"masking_{figures.safe_filename(m)}_on_{figures.safe_filename(t)}.png" for m, t in pairs]
    assert names[3:] == expected
    assert "masking_bass_on_pad.png" in names
    for p in written:
        assert p.parent == out
        assert re.fullmatch(r"[a-z0-9_-]+\.png", p.name)
        data = p.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert sorted(x.name for x in out.iterdir()) == sorted(names)  # no temporary files left


def test_save_analysis_figures_refuses_to_overwrite_an_input(analysis, tmp_path):
    out = tmp_path / "plots"
    out.mkdir()
    precious = out / "loudness_over_time.png"
    precious.write_bytes(b"user data")
    with pytest.raises(WorkbenchError) as err:
        figures.save_analysis_figures(analysis, out, inputs=(tmp_path / "other.wav", precious))
    assert err.value.code == "overwrite_input"
    assert precious.read_bytes() == b"user data"
    assert [x.name for x in out.iterdir()] == ["loudness_over_time.png"]  # nothing written first


def test_cli_writes_plots(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-m", "workbench", "analyse", str(SAMPLE_STEMS),
                          "--plots", str(tmp_path / "plots")],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "masking_heatmap.png" in out.stdout
    assert (tmp_path / "plots" / "level_meters.png").read_bytes().startswith(PNG_MAGIC)


def test_atomic_writes_leave_nothing_on_failure(analysis, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        figures.save_analysis_figures(analysis, tmp_path / "plots")
    assert list((tmp_path / "plots").iterdir()) == []


# ------------------------------------------------- the pair in the mix, before/after on one scale
def test_pair_view_in_the_mix_agrees_with_the_heatmap(session, analysis):
    from workbench.mixing.planner import masking_for_plan, plan_mix

    plan = plan_mix(session, analysis)
    after = masking_for_plan(plan, analysis)
    gains = {n: plan.stems[n].gain_db for n in analysis.names}
    differs = 0
    for m, t in figures.strongest_pairs(after, 4):
        mi, ti = analysis.index(m), analysis.index(t)
        overall = figures.pair_masking(analysis, m, t, plan=plan)[2]
        assert overall == pytest.approx(after.share[mi, ti], abs=1e-6)
        differs += abs(figures.pair_masking(analysis, m, t, gains_db=gains)[2] - after.share[mi, ti]) > 1e-3
        fig = figures.masking_over_time(analysis, m, t, plan=plan)
        assert figures.format_share(after.share[mi, ti]) in all_text(fig)
        assert "in the mix" in all_text(fig)
    assert differs, "gains alone gave the same shares: the EQ made no difference to test"
    with pytest.raises(WorkbenchError):
        figures.masking_over_time(analysis, m, t, plan=plan, gains_db=gains)


def test_masking_comparison_one_scale_and_change(session, analysis):
    from workbench.mixing.planner import masking_for_plan, plan_mix

    after = masking_for_plan(plan_mix(session, analysis), analysis)
    fig = figures.masking_comparison(analysis.masking, after)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert images[0].norm.vmin == images[1].norm.vmin and images[0].norm.vmax == images[1].norm.vmax
    top = 100 * max(np.max(analysis.masking.share), np.max(after.share))
    assert images[0].norm.vmax >= top - 1e-9
    change = np.asarray(images[2].get_array())
    n = analysis.n_stems
    off = ~np.eye(n, dtype=bool)
    expected = 100 * (np.asarray(after.share) - np.asarray(analysis.masking.share))
    assert np.allclose(change[off], expected[off])
    assert images[2].norm.vmin == -images[2].norm.vmax
    plt.close("all")
