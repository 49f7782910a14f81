"""Figures for learning to mix: masking, spectra, levels, EQ and the stereo picture.

Every function returns a :class:`matplotlib.figure.Figure` built with the
object-oriented API (``Figure()``, ``fig.subplots()``). Nothing here imports
``matplotlib.pyplot`` or touches ``rcParams``, so the figures work headless, in
worker threads and in a server, and never leak into pyplot's list of open
figures: there is nothing to close, and a figure is freed when it is dropped.
Show one in a notebook with ``display(fig)`` (or return it from a cell once
``%matplotlib inline`` is active), save it with ``fig.savefig(path)``, or get
PNG bytes for a widget with :func:`figure_png`.

Conventions, so that a student sees the same thing the same way everywhere:

- stems are labelled by their display names and keep one colour each
  (:func:`stem_colours`, in session order);
- frequency axes are logarithmic, 20 Hz – 20 kHz, with ticks at 50, 100, 200,
  500, 1k, 2k, 5k and 10k Hz; time axes are in seconds;
- every colour scale has a colourbar whose label names the quantity and its
  unit; every figure has a plain-words title (``fig.get_suptitle()``) and, under
  it, one line saying how to read it;
- masking figures are indexed ``[masker, target]`` as in
  :class:`~workbench.analysis.masking.MaskingResult`: the masker *covers*, the
  target *is covered*.

Presentation only: nothing here decides anything about a mix (DESIGN §2).
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from . import audio_io
from .analysis.masking import MaskingResult, pair_map_db
from .analysis.spectrum import fft_size
from .analysis.stft import StftStream
from .audio_array import as_mono, sample_rate_hz
from .errors import ParameterError, WorkbenchError
from .importance import IMPORTANCE_LEVELS, IMPORTANCE_RANK
from .mixing.plan import EQBand, MixPlan, describe_eq, describe_pan
from .mixing.response import band_response_db, eq_response_db

if TYPE_CHECKING:
    from .analysis import Analysis
    from .session import Session

__all__ = [
    "band_profile", "eq_curve", "figure_png", "format_share", "level_meters",
    "loudness_over_time", "masking_heatmap", "masking_over_time", "pan_map",
    "safe_filename", "save_analysis_figures", "spectrogram", "spectrogram_of_stem",
    "spectrogram_of_sum", "spectrum_comparison", "stem_colours", "strongest_pairs",
]

#: Frequency-axis ticks (Hz) and their labels, on every frequency axis.
FREQ_TICKS_HZ = (50, 100, 200, 500, 1000, 2000, 5000, 10000)
FREQ_TICK_LABELS = ("50", "100", "200", "500", "1k", "2k", "5k", "10k")
#: The audible range shown on frequency axes (Hz).
FMIN_HZ, FMAX_HZ = 20.0, 20000.0
#: Resolution of written PNGs (dots per inch).
DPI = 110
#: Masking pairs drawn by :func:`save_analysis_figures`.
TOP_PAIRS = 3
#: Colour of cells that do not count (target silent, band too quiet).
NOT_COUNTED = "#d9d9d9"
#: Colour range (±dB) of masking margins: fixed, so that maps of different pairs compare.
MARGIN_RANGE_DB = 24.0
#: Default level range of spectrogram colours (dBFS, a full-scale sine at 0).
SPECTROGRAM_RANGE_DBFS = (-100.0, 0.0)
#: Smoothing of long-term spectra (octaves): the resolution an EQ bell works at.
SMOOTHING_OCTAVES = 1.0 / 6.0
#: Lowest level drawn on the level meters (dB re full scale).
METER_FLOOR_DB = -60.0
_IMPORTANCE_SIZE = {"high": 320.0, "medium": 160.0, "low": 70.0}
_SUBTITLE = {"fontsize": 9, "color": "0.3"}
_POWER_FLOOR = 1e-15  # −150 dB: "nothing", without log(0)


# --------------------------------------------------------------------- helpers
def stem_colours(n: int) -> list[tuple[float, float, float]]:
    """One distinct colour per stem, in session order (tab10, tab20, then a rainbow)."""
    if n <= 10:
        cmap = colormaps["tab10"]
        return [to_rgb(cmap(i)) for i in range(n)]
    if n <= 20:
        cmap = colormaps["tab20"]
        return [to_rgb(cmap(i)) for i in range(n)]
    cmap = colormaps["turbo"]
    return [to_rgb(cmap(0.05 + 0.9 * i / (n - 1))) for i in range(n)]


def format_share(share: float) -> str:
    """A masking share (0..1) as the heatmaps write it: ``"23%"``, ``"<1%"``, ``"0%"``."""
    pct = 100.0 * float(share)
    if pct <= 0.0:
        return "0%"
    if pct < 1.0:
        return "<1%"
    return f"{pct:.0f}%"


def safe_filename(name: str) -> str:
    """A stem name as a file-name part: lower case, only ``[a-z0-9_-]`` ("Lead Vocal" → ``lead_vocal``)."""
    s = re.sub(r"[^a-z0-9_-]+", "_", name.lower())
    s = re.sub(r"_+", "_", s).strip("_-")
    return s or "stem"


def figure_png(fig: Figure, *, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image`` or a web response)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def strongest_pairs(masking: MaskingResult, k: int = TOP_PAIRS) -> list[tuple[str, str]]:
    """The ``k`` pairs ``(masker, target)`` with the largest masking share (> 0), strongest first."""
    share = np.array(masking.share, dtype=float)
    np.fill_diagonal(share, 0.0)
    order = np.argsort(-share, axis=None, kind="stable")
    pairs = []
    for flat in order[:k]:
        m, t = np.unravel_index(flat, share.shape)
        if share[m, t] <= 0.0:
            break
        pairs.append((masking.names[m], masking.names[t]))
    return pairs


def _figure(width_in: float, height_in: float) -> Figure:
    return Figure(figsize=(width_in, height_in), layout="constrained")


def _titles(fig: Figure, ax, title: str, subtitle: str | None = None) -> None:
    """The plain-words title on top and, under it over the main axis, how to read the figure."""
    fig.suptitle(title, fontsize=13, fontweight="bold")
    if subtitle:
        ax.set_title(subtitle, **_SUBTITLE)


def _freq_axis(ax, which: str = "x", fmin_hz: float = FMIN_HZ, fmax_hz: float = FMAX_HZ,
               label: bool = True) -> None:
    """Log-frequency axis with ticks at 50, 100, 200, 500, 1k, 2k, 5k, 10k Hz."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    (ax.set_xlim if which == "x" else ax.set_ylim)(fmin_hz, fmax_hz)
    ticks = [(f, s) for f, s in zip(FREQ_TICKS_HZ, FREQ_TICK_LABELS) if fmin_hz <= f <= fmax_hz]
    axis.set_major_locator(FixedLocator([f for f, _ in ticks]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: dict(ticks).get(int(round(v)), "")))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())
    if label:
        (ax.set_xlabel if which == "x" else ax.set_ylabel)("frequency (Hz)")


def _nice_ceiling(x: float) -> float:
    """Smallest of 1, 2, 2.5, 5 × 10^k at or above ``x`` (> 0)."""
    if not math.isfinite(x) or x <= 0:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * 10 ** k >= x * (1 - 1e-9):
            return m * 10 ** k
    return 10.0 ** (k + 1)


def _index(names: Sequence[str], key: str) -> int:
    k = key.casefold()
    for i, name in enumerate(names):
        if name.casefold() == k:
            return i
    raise WorkbenchError("unknown_stem", f"No stem called {key!r} in the masking result.",
                         "Use one of: " + ", ".join(names))


def _text_colour(rgba) -> str:
    r, g, b = to_rgb(rgba)
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def _mono(audio: np.ndarray, what: str = "audio") -> np.ndarray:
    """``(channels, samples)`` or ``(samples,)`` → the mono fold ``mean(channels)``, float64."""
    return as_mono(audio, what=what, allow_empty=False)


# ------------------------------------------------------------------ masking
def masking_scale_max(*maskings: MaskingResult, value: str = "share") -> float:
    """The top of one colour scale that fits every given masking matrix (share in %, depth in dB).

    Pass the result as ``vmax`` to :func:`masking_heatmap` for each, so that "before" and
    "after" read on the same scale.
    """
    top = 0.0
    for masking in maskings:
        off = ~np.eye(masking.n_stems, dtype=bool)
        shown = (100.0 * np.asarray(masking.share, dtype=float) if value == "share"
                 else np.asarray(masking.depth_db, dtype=float))
        top = max(top, float(shown[off].max(initial=0.0)))
    if value == "share":
        return min(100.0, 10.0 * math.ceil(max(10.0, top) / 10.0 - 1e-9))
    return _nice_ceiling(max(6.0, top))


def masking_heatmap(masking: MaskingResult, *, value: str = "share", title: str | None = None,
                    vmax: float | None = None) -> Figure:
    """Stem × stem masking matrix: rows mask (cover), columns are masked (covered).

    Parameters
    ----------
    masking : MaskingResult
        E.g. ``analysis.masking`` or ``analysis.masking_at(gains)``.
    value : {"share", "depth_db"}
        ``"share"``: the percentage of the target's audible energy that the
        masker covers; ``"depth_db"``: by how many dB it covers it, on average
        over the covered part.
    title : str or None
        Figure title (default says what is shown in plain words).
    vmax : float, optional
        Top of the colour scale (% or dB); give the same value to two heatmaps to
        compare them (:func:`masking_scale_max`). Default: from this matrix.

    Returns
    -------
    Figure
        One image axis with a colourbar; every off-diagonal cell is annotated
        (:func:`format_share` or ``"6 dB"``), the diagonal is left blank.
    """
    if value not in ("share", "depth_db"):
        raise ParameterError(f"value must be 'share' or 'depth_db', got {value!r}")
    n = masking.n_stems
    share = np.asarray(masking.share, dtype=float)
    off = ~np.eye(n, dtype=bool)
    if value == "share":
        shown = 100.0 * share
        auto_vmax = masking_scale_max(masking, value=value)
        cmap_name, cbar_label = "YlOrRd", "share of the target covered by the masker (%)"
        text = [[format_share(share[m, t]) for t in range(n)] for m in range(n)]
        default_title = "How much each stem covers (masks) the others"
        subtitle = "Read across a row: the masker covers the stems in its columns by this share of their sound"
    else:
        shown = np.asarray(masking.depth_db, dtype=float)
        auto_vmax = masking_scale_max(masking, value=value)
        cmap_name, cbar_label = "PuRd", "masking depth: masker threshold above the target (dB)"
        text = [["–" if share[m, t] <= 0 else f"{shown[m, t]:.0f} dB" for t in range(n)] for m in range(n)]
        default_title = "How deeply each stem covers (masks) the others"
        subtitle = "Read across a row: by how many dB the masker's masking threshold lies above the covered part"
    if vmax is not None:
        if not (math.isfinite(vmax) and vmax > 0):
            raise ParameterError(f"vmax must be a positive number, got {vmax!r}")
    else:
        vmax = auto_vmax
    cmap = colormaps[cmap_name].with_extremes(bad="white")
    norm = Normalize(0.0, vmax)

    side = min(16.0, max(6.5, 0.55 * n + 3.0))
    fig = _figure(side + 1.5, side)
    ax = fig.subplots()
    img = np.ma.masked_array(shown, mask=~off)
    im = ax.imshow(img, cmap=cmap, norm=norm, interpolation="nearest")
    fontsize = float(np.clip(110.0 / max(n, 1), 5.5, 9.5))
    for m in range(n):
        for t in range(n):
            if m == t:
                continue
            ax.text(t, m, text[m][t], ha="center", va="center", fontsize=fontsize,
                    color=_text_colour(cmap(norm(shown[m, t]))))
    ax.set_xticks(range(n), labels=masking.names, rotation=40, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), labels=masking.names)
    # Thin white lines between the cells.
    ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_ylabel("masker (covers…)", fontsize=11)
    ax.set_xlabel("target (…is covered)", fontsize=11)
    extend = "max" if shown[off].max(initial=0) > vmax else "neither"
    fig.colorbar(im, ax=ax, shrink=0.8, label=cbar_label, extend=extend)
    _titles(fig, ax, title or default_title, subtitle)
    return fig


def masking_comparison(before: MaskingResult, after: MaskingResult, *,
                       labels: tuple[str, str] = ("As the stems arrived", "In the mix (gains and EQ)"),
                       title: str = "Masking before and after the mix plan") -> Figure:
    """Two masking maps on ONE colour scale, and a third map of what changed.

    Left and middle: the share of each target covered by each masker (%), both
    drawn with the same colours for the same value (the scale runs to the larger
    maximum of the two), so a cell that looks lighter *is* lower. Right: after −
    before, in percentage points, blue where the plan uncovered a target, red where
    it covers it more.
    """
    if list(before.names) != list(after.names):
        raise ParameterError("The two masking results must be of the same stems in the same order.",
                             "Compute both from the same analysis (e.g. analysis.masking and masking_for_plan).")
    n = before.n_stems
    off = ~np.eye(n, dtype=bool)
    b, a = 100.0 * np.asarray(before.share, dtype=float), 100.0 * np.asarray(after.share, dtype=float)
    top = max(float(b[off].max(initial=0.0)), float(a[off].max(initial=0.0)), 10.0)
    vmax = min(100.0, 10.0 * math.ceil(top / 10.0 - 1e-9))
    d = a - b
    dlim = max(5.0, 5.0 * math.ceil(float(np.abs(d[off]).max(initial=0.0)) / 5.0 - 1e-9))
    side = min(9.0, max(4.5, 0.42 * n + 2.0))
    fig = _figure(3 * side + 2.0, side + 1.2)
    axs = fig.subplots(1, 3)
    fontsize = float(np.clip(80.0 / max(n, 1), 5.0, 8.5))
    panels = ((axs[0], b, Normalize(0.0, vmax), colormaps["YlOrRd"], labels[0], "%"),
              (axs[1], a, Normalize(0.0, vmax), colormaps["YlOrRd"], labels[1], "%"),
              (axs[2], d, Normalize(-dlim, dlim), colormaps["RdBu_r"], "What changed (after − before)", "pp"))
    for ax, values, norm, cmap, label, unit in panels:
        im = ax.imshow(np.ma.masked_array(values, mask=~off), cmap=cmap.with_extremes(bad="white"), norm=norm,
                       interpolation="nearest")
        for m in range(n):
            for t in range(n):
                if m != t:
                    v = int(round(float(values[m, t])))
                    text = f"{v:+d}" if unit == "pp" else f"{v:d}"
                    ax.text(t, m, text, ha="center", va="center", fontsize=fontsize,
                            color=_text_colour(cmap(norm(values[m, t]))))
        ax.set_xticks(range(n), labels=before.names, rotation=50, ha="right", rotation_mode="anchor", fontsize=8)
        ax.set_yticks(range(n), labels=before.names, fontsize=8)
        ax.tick_params(length=0)
        ax.set_title(label, fontsize=11)
        ax.set_xlabel("target (…is covered)", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.75,
                     label=("share covered (%), same scale in both" if unit == "%" else
                            "change (percentage points); blue = less covered"))
    axs[0].set_ylabel("masker (covers…)", fontsize=9)
    fig.suptitle(title, fontsize=13, fontweight="bold")
    return fig


def masking_over_time(analysis: "Analysis", masker: str, target: str, *,
                      gains_db: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
                      plan: MixPlan | None = None, title: str | None = None) -> Figure:
    """When and in which bands one stem covers another: a band × time map and a share strip.

    Parameters
    ----------
    analysis : Analysis
    masker, target : str
        Stem display names (or file names).
    gains_db : mapping, sequence or None
        Per-stem fader gains (dB) to show the masking at (``Analysis.gains_vector``
        form); ``None`` = as the stems arrived.
    plan : MixPlan or None
        Show the pair *in the mix*: at the plan's gains **and** through each stem's EQ,
        as :func:`~workbench.mixing.planner.masking_for_plan` computes the heatmap (so
        the overall share printed here is that heatmap's cell). Not together with ``gains_db``.
    title : str or None

    Returns
    -------
    Figure
        Top: the masking margin ``masker threshold − target level`` (dB) per ERB
        band and analysis frame (:func:`~workbench.analysis.masking.pair_map_db`),
        diverging colours centred at 0 dB — red where the target is covered,
        blue where it is clear, grey where it does not count (not playing, or
        too quiet in that band). Bottom: where the target plays and the share of
        it that is covered, frame by frame.
    """
    mi, ti = analysis.index(masker), analysis.index(target)
    if mi == ti:
        raise ParameterError(f"masker and target must be two different stems, got {masker!r} twice")
    masker, target = analysis.names[mi], analysis.names[ti]
    margin, share_t, overall = pair_masking(analysis, masker, target, gains_db=gains_db, plan=plan)

    nf = margin.shape[1]
    hop = analysis.frame_hop_s
    t_edges = np.arange(nf + 1) * hop
    f_edges = np.asarray(analysis.bands.edges_hz)
    lim = MARGIN_RANGE_DB
    cmap = colormaps["RdBu_r"].with_extremes(bad=NOT_COUNTED)

    fig = _figure(11, 7)
    axs = fig.subplots(2, 2, width_ratios=[60, 1.3], height_ratios=[3, 1.15])
    ax, cax = axs[0]
    strip, spare = axs[1]
    spare.set_axis_off()
    strip.sharex(ax)
    ax.set_facecolor(NOT_COUNTED)
    mesh = ax.pcolormesh(t_edges, f_edges, np.ma.masked_invalid(margin), cmap=cmap,
                         norm=Normalize(-lim, lim), shading="flat", rasterized=True)
    _freq_axis(ax, "y", f_edges[0], f_edges[-1])
    ax.tick_params(labelbottom=False)
    cb = fig.colorbar(mesh, cax=cax, extend="both")
    cb.set_label("masker threshold − target level (dB)\nabove 0: target covered")
    fig.legend(handles=[Patch(color=cmap(0.9), label=f"{target} covered by {masker}"),
                       Patch(color=cmap(0.1), label=f"{target} clear"),
                       Patch(color=NOT_COUNTED, label=f"{target} not playing / too quiet there")],
              loc="outside lower center", ncols=3, fontsize=9, frameon=False)

    # The strip: covered share per frame, and two lanes showing who plays when.
    t_mid = (np.arange(nf) + 0.5) * hop
    strip.plot(t_mid, 100.0 * share_t, color="#b2182b", linewidth=1.3, drawstyle="steps-mid")
    for lane, (i, name, colour) in enumerate(((ti, target, "0.45"), (mi, masker, "#b2182b"))):
        y0 = -12.0 - 13.0 * lane
        strip.broken_barh(_runs(analysis.activity[i], hop), (y0, 9.0), color=colour, alpha=0.55, linewidth=0)
    strip.axhline(0.0, color="0.7", linewidth=0.6)
    strip.set_ylim(-28.0, 100.0)
    strip.set_yticks([-20.5, -7.5, 0, 50, 100],
                     labels=[f"{masker} plays", f"{target} plays", "0%", "50%", "100%"])
    strip.tick_params(axis="y", labelsize=8)
    strip.set_ylabel(f"{target}\ncovered (%)")
    strip.set_xlabel("time (s)")
    strip.set_xlim(0, t_edges[-1] if nf else 1.0)
    strip.grid(axis="y", color="0.92")

    at = (" in the mix (the plan's gains and EQ)" if plan is not None else
          " at the given fader gains" if gains_db is not None else "")
    _titles(fig, ax, title or f"When and where {masker} covers {target}",
            f"{format_share(overall)} of {target}'s audible sound is covered by {masker} overall{at}")
    return fig


def pair_masking(analysis: "Analysis", masker: str, target: str, *,
                 gains_db: Mapping[str, float] | Sequence[float] | np.ndarray | None = None,
                 plan: MixPlan | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """What :func:`masking_over_time` draws: ``(margin_db, covered share per frame, overall share)``.

    With ``plan``, at the plan's gains and through its EQ: the overall share is then the cell
    ``(masker, target)`` of :func:`~workbench.mixing.planner.masking_for_plan`'s heatmap.
    """
    if plan is not None and gains_db is not None:
        raise ParameterError("Give either gains_db or plan to masking_over_time, not both.",
                             "Pass plan= to see the pair in the mix (its gains and EQ).")
    mi, ti = analysis.index(masker), analysis.index(target)
    band_power = analysis.band_power
    gains: np.ndarray | None
    if plan is not None:
        band_power, gains = plan_band_power(plan, analysis)
    else:
        gains = None if gains_db is None else analysis.gains_vector(gains_db)
    margin = pair_map_db(band_power, analysis.activity, analysis.bands, mi, ti, gains)
    share_t, overall = _pair_share_over_time(band_power, ti, margin, gains)
    return margin, share_t, overall


def plan_band_power(plan: MixPlan, analysis: "Analysis") -> tuple[np.ndarray, np.ndarray]:
    """The analysis band powers through each stem's planned EQ, and the plan's gains (dB, analysis order).

    The same shaping and gains as :func:`workbench.mixing.planner.masking_for_plan` (EQ response at
    the band centres; a stem missing from the plan at -120 dB).
    """
    from .units import db_to_power

    centres = np.asarray(analysis.bands.centres_hz)
    eqs = [plan.stems[n].eq if n in plan.stems else [] for n in analysis.names]
    lin = np.stack([db_to_power(eq_response_db(e, centres, analysis.sample_rate)) for e in eqs])
    gains = np.array([plan.stems[n].gain_db if n in plan.stems else -120.0 for n in analysis.names])
    return analysis.band_power * lin.astype(np.float32)[:, :, None], gains


def _pair_share_over_time(band_power: np.ndarray, ti: int, margin: np.ndarray,
                          gains: np.ndarray | None) -> tuple[np.ndarray, float]:
    """Per-frame covered share of the target (NaN where nothing counts) and the overall share.

    The cells that count are the finite cells of ``margin``; each is weighted by
    the target's band energy at its gain — the weighting of
    :func:`~workbench.analysis.masking.compute_masking`.
    """
    g = 0.0 if gains is None else float(gains[ti])
    energy = band_power[ti].astype(np.float64) * 10.0 ** (g / 10.0)
    counted = np.isfinite(margin)
    w = np.where(counted, energy, 0.0)
    covered = np.where(counted & (np.nan_to_num(margin, nan=-1.0) >= 0.0), w, 0.0)
    den = w.sum(axis=0)
    share = np.full(margin.shape[1], np.nan)
    np.divide(covered.sum(axis=0), den, out=share, where=den > 0)
    total = float(den.sum())
    return share, (float(covered.sum()) / total if total > 0 else 0.0)


def _runs(active: np.ndarray, hop_s: float) -> list[tuple[float, float]]:
    """``(start_s, duration_s)`` of each run of active frames."""
    a = np.concatenate([[False], np.asarray(active, dtype=bool), [False]])
    d = np.flatnonzero(np.diff(a.astype(np.int8)))
    return [(s * hop_s, (e - s) * hop_s) for s, e in zip(d[::2], d[1::2])]


def band_profile(masking: MaskingResult, masker: str, target: str, *, title: str | None = None) -> Figure:
    """Per-band covered share of one pair, as bars over the ERB bands (log frequency).

    A step line adds how much of the target the whole rest of the mix covers
    in each band, for context.
    """
    mi, ti = _index(masking.names, masker), _index(masking.names, target)
    if mi == ti:
        raise ParameterError(f"masker and target must be two different stems, got {masker!r} twice")
    masker, target = masking.names[mi], masking.names[ti]
    edges = np.asarray(masking.bands.edges_hz)
    heights = 100.0 * np.asarray(masking.band_share[mi, ti], dtype=float)
    by_mix = 100.0 * np.asarray(masking.by_mix_band_share[ti], dtype=float)

    fig = _figure(9, 4.8)
    ax = fig.subplots()
    ax.bar(edges[:-1], heights, width=np.diff(edges), align="edge", color="#d6604d",
           edgecolor="white", linewidth=0.6, label=f"covered by {masker}")
    ax.stairs(by_mix, edges, baseline=None, color="0.25", linewidth=1.2, linestyle="--",
              label="covered by all the other stems together")
    _freq_axis(ax, "x", edges[0], edges[-1])
    ax.set_ylim(0, 104)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_ylabel(f"share of {target} covered\nin this band (%)")
    ax.grid(axis="y", color="0.9")
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    _titles(fig, ax, title or f"Where in frequency {masker} covers {target}",
            f"{format_share(masking.share[mi, ti])} of {target} is covered overall; "
            f"one bar per auditory (ERB) band")
    return fig


# --------------------------------------------------------------- spectra
def _stft_power(sample_rate: int, n_samples: int, *, overlap: int = 4, n_fft: int | None = None) -> StftStream:
    """The shared STFT (:class:`~workbench.analysis.stft.StftStream`), periodic Hann, ``n_fft / overlap`` hop."""
    n = fft_size(sample_rate) if n_fft is None else int(n_fft)
    return StftStream(sample_rate, n, n // overlap, n_samples)


class _LogSpectrogram:
    """A spectrogram on a log-frequency grid, averaged to at most ``max_columns`` time columns.

    Levels are sine-calibrated dBFS: a full-scale sine at a bin centre reads
    0 dB (Hann: ``|X| = A · Σw / 2``). Each row shows the loudest bin inside it
    (rows narrower than a bin take the nearest bin), so a tone reads its level
    whatever the row width.
    """

    def __init__(self, sample_rate: int, n_samples: int, *, fmin_hz: float, fmax_hz: float,
                 n_rows: int, max_columns: int) -> None:
        self.sample_rate = sample_rate
        self.n_samples = int(n_samples)
        self.stft = _stft_power(sample_rate, n_samples)
        self.scale = 4.0 / self.stft.window.sum() ** 2
        self.per_col = max(1, -(-self.stft.n_frames // max(1, int(max_columns))))
        self.n_cols = -(-self.stft.n_frames // self.per_col)
        self.row_edges_hz = np.geomspace(fmin_hz, fmax_hz, int(n_rows) + 1)
        f = self.stft.freqs_hz
        lo, hi = self.row_edges_hz[:-1], self.row_edges_hz[1:]
        starts = np.searchsorted(f, lo, side="left")
        ends = np.searchsorted(f, hi, side="left")
        self._empty = ends <= starts
        self._nearest = np.clip(np.round(np.sqrt(lo * hi) / (f[1] - f[0])).astype(int), 0, f.size - 1)
        starts = np.minimum(starts, f.size - 1)
        self._keep_last = ends[-1] >= f.size
        self._idx = starts if self._keep_last else np.append(starts, ends[-1])
        self._sum = np.zeros((self.n_cols, int(n_rows)))
        self._count = np.zeros(self.n_cols)

    def _add(self, first: int, power: np.ndarray) -> None:
        pooled = np.maximum.reduceat(power, self._idx, axis=1)
        if not self._keep_last:
            pooled = pooled[:, :-1]
        pooled[:, self._empty] = power[:, self._nearest[self._empty]]
        cols = (first + np.arange(power.shape[0])) // self.per_col
        np.add.at(self._sum, cols, pooled)
        np.add.at(self._count, cols, 1.0)

    def push(self, mono: np.ndarray) -> None:
        for first, power in self.stft.push(mono):
            self._add(first, power)

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(time_edges_s, freq_edges_hz, level_dbfs (rows, columns))``."""
        for first, power in self.stft.finish():
            self._add(first, power)
        mean = self._sum / np.maximum(self._count, 1.0)[:, None] * self.scale
        db = 10.0 * np.log10(np.maximum(mean, _POWER_FLOOR)).T
        hop = self.stft.hop
        edges = (np.arange(self.n_cols + 1) * self.per_col - 0.5) * hop
        edges[-1] = self.n_samples  # the last column runs to the end of the signal
        edges = np.clip(edges, 0, max(self.n_samples, 1)) / self.sample_rate
        return edges, self.row_edges_hz, db


def _spectrogram_figure(result, title: str, subtitle: str, vmin_dbfs: float, vmax_dbfs: float) -> Figure:
    t_edges, f_edges, db = result
    fig = _figure(11, 5)
    ax = fig.subplots()
    mesh = ax.pcolormesh(t_edges, f_edges, db, cmap="magma", vmin=vmin_dbfs, vmax=vmax_dbfs,
                         shading="flat", rasterized=True)
    _freq_axis(ax, "y", f_edges[0], f_edges[-1])
    ax.set_xlabel("time (s)")
    ax.set_xlim(t_edges[0], t_edges[-1])
    cb = fig.colorbar(mesh, ax=ax, extend="both", pad=0.01)
    cb.set_label("level (dBFS; a full-scale sine reads 0)")
    _titles(fig, ax, title, subtitle)
    return fig


def _spectrogram_settings(sample_rate: int, fmin_hz: float, fmax_hz: float | None) -> tuple[float, float]:
    top = min(FMAX_HZ, 0.5 * sample_rate) if fmax_hz is None else float(fmax_hz)
    if not 0 < fmin_hz < top <= 0.5 * sample_rate:
        raise ParameterError(f"need 0 < fmin_hz < fmax_hz <= sample_rate / 2 ({0.5 * sample_rate:g} Hz), "
                         f"got fmin_hz={fmin_hz}, fmax_hz={top}")
    return float(fmin_hz), top


_SPECTROGRAM_SUBTITLE = "Brighter = louder; time runs left to right, higher up = higher frequency"


def spectrogram(audio: np.ndarray, sample_rate: int, *, title: str = "Spectrogram",
                fmin_hz: float = FMIN_HZ, fmax_hz: float | None = None,
                vmin_dbfs: float = SPECTROGRAM_RANGE_DBFS[0], vmax_dbfs: float = SPECTROGRAM_RANGE_DBFS[1],
                n_rows: int = 256, max_columns: int = 1500) -> Figure:
    """Spectrogram of a signal on a log-frequency axis, in dBFS.

    Parameters
    ----------
    audio : np.ndarray, shape ``(channels, samples)`` or ``(samples,)``
        The signal; channels are folded to mono (their mean), as the analysis does.
    sample_rate : int
        Hz.
    title : str
    fmin_hz, fmax_hz : float
        Frequency range shown (default 20 Hz to 20 kHz or the Nyquist frequency).
    vmin_dbfs, vmax_dbfs : float
        Colour range. Keep them equal across figures you compare (before/after).
    n_rows : int
        Log-spaced frequency rows.
    max_columns : int
        Time columns at most; longer signals average neighbouring STFT frames.

    Returns
    -------
    Figure
        One axis with a ``QuadMesh`` (rows × columns of dBFS) and a colourbar.
        The STFT is a periodic Hann window of :func:`~workbench.analysis.spectrum.fft_size`
        samples (4096 at 44.1 kHz) at 75 % overlap.

    Examples
    --------
    >>> sr = 44100
    >>> t = np.arange(sr) / sr
    >>> fig = spectrogram(0.5 * np.sin(2 * np.pi * 1000 * t), sr, title="1 kHz tone")
    """
    sample_rate = sample_rate_hz(sample_rate)
    mono = _mono(audio)
    fmin_hz, fmax_hz = _spectrogram_settings(sample_rate, fmin_hz, fmax_hz)
    acc = _LogSpectrogram(sample_rate, mono.size, fmin_hz=fmin_hz, fmax_hz=fmax_hz,
                          n_rows=n_rows, max_columns=max_columns)
    for s in range(0, mono.size, audio_io.BLOCK_FRAMES):
        acc.push(mono[s:s + audio_io.BLOCK_FRAMES])
    return _spectrogram_figure(acc.finish(), title, _SPECTROGRAM_SUBTITLE, vmin_dbfs, vmax_dbfs)


def spectrogram_of_stem(path: str | os.PathLike, sample_rate: int | None = None, *,
                        title: str | None = None, **kwargs) -> Figure:
    """:func:`spectrogram` of an audio file, read in blocks (constant memory).

    ``sample_rate`` resamples while reading (default: the file's rate); other
    keywords go to :func:`spectrogram`.
    """
    import soundfile as sf

    from .categories import display_name

    path = Path(path)
    info = sf.info(str(path))
    sr = info.samplerate if sample_rate is None else sample_rate_hz(sample_rate)
    n = int(round(info.frames * sr / info.samplerate))
    if n == 0:
        raise ParameterError(f"{path.name} holds no audio (0 samples)")
    acc = _spectrogram_accumulator(sr, n, kwargs)
    for block in audio_io.iter_blocks(path, sample_rate=sr, frames=n):
        acc.push(_mono(block))
    return _spectrogram_figure(acc.finish(), title or f"Spectrogram of {display_name(path.name)}",
                               _SPECTROGRAM_SUBTITLE, *_colour_range(kwargs))


def spectrogram_of_sum(session: "Session", *, title: str | None = None, **kwargs) -> Figure:
    """:func:`spectrogram` of the plain sum of a session's mixable stems at unity gain.

    The stems are read side by side in blocks at the session's rate and summed
    (mono folds: a mono stem counts once, a stereo stem as the mean of its
    channels), so memory stays a block per stem whatever the length. This is
    the "before" of a mix: every fader at 0 dB, no processing.
    """
    stems = list(session.mixable_stems)
    if not stems:
        raise WorkbenchError("no_mixable_stems", "The session has no stem that can be summed.",
                             "Fix the errors the checks report, then try again.")
    sr, n = int(session.sample_rate), int(session.frames)
    if n == 0:
        raise ParameterError("the session's stems hold no audio (0 samples)")
    acc = _spectrogram_accumulator(sr, n, kwargs)
    size = audio_io.BLOCK_FRAMES
    readers = [_rechunk(audio_io.iter_blocks(s.path, sample_rate=sr, frames=n, block_frames=size), size)
               for s in stems]
    try:
        for start in range(0, n, size):
            total = np.zeros(min(size, n - start))
            for reader in readers:
                block = next(reader, None)
                if block is not None and block.shape[1]:
                    m = min(block.shape[1], total.size)
                    total[:m] += _mono(block[:, :m])
            acc.push(total)
    finally:
        for reader in readers:
            reader.close()
    return _spectrogram_figure(
        acc.finish(), title or f"Spectrogram of all {len(stems)} stems summed at unity (no mixing)",
        _SPECTROGRAM_SUBTITLE, *_colour_range(kwargs))


def _spectrogram_accumulator(sample_rate: int, n: int, kwargs: dict) -> _LogSpectrogram:
    unknown = set(kwargs) - {"fmin_hz", "fmax_hz", "vmin_dbfs", "vmax_dbfs", "n_rows", "max_columns"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    fmin_hz, fmax_hz = _spectrogram_settings(sample_rate, kwargs.get("fmin_hz", FMIN_HZ), kwargs.get("fmax_hz"))
    return _LogSpectrogram(sample_rate, n, fmin_hz=fmin_hz, fmax_hz=fmax_hz,
                           n_rows=kwargs.get("n_rows", 256), max_columns=kwargs.get("max_columns", 1500))


def _colour_range(kwargs: dict) -> tuple[float, float]:
    return (kwargs.get("vmin_dbfs", SPECTROGRAM_RANGE_DBFS[0]), kwargs.get("vmax_dbfs", SPECTROGRAM_RANGE_DBFS[1]))


def _rechunk(blocks: Iterable[np.ndarray], size: int) -> Generator[np.ndarray, None, None]:
    """Blocks of exactly ``size`` frames (the last may be shorter), whatever came in."""
    pending: list[np.ndarray] = []
    have = 0
    for block in blocks:
        pending.append(block)
        have += block.shape[1]
        while have >= size:
            joined = np.concatenate(pending, axis=1)
            yield joined[:, :size]
            rest = joined[:, size:]
            pending, have = [rest], rest.shape[1]
    if have:
        yield np.concatenate(pending, axis=1)


def long_term_spectrum(audio: np.ndarray, sample_rate: int, freqs_hz: np.ndarray, *,
                       smoothing_octaves: float = SMOOTHING_OCTAVES) -> np.ndarray:
    """Long-term level (dBFS) in a band ``smoothing_octaves`` wide around each of ``freqs_hz``.

    The mean power spectrum of the mono fold (Hann, 4 × :func:`~workbench.analysis.spectrum.fft_size`
    samples, 50 % overlap), scaled so
    that its bins sum to the signal's mean square, then summed over each band:
    a full-scale sine reads −3.01 dBFS in the band that holds it (the RMS
    convention of :mod:`workbench.analysis.features`), and pink noise reads
    flat.
    """
    sample_rate = sample_rate_hz(sample_rate)
    mono = _mono(audio)
    # A long window (16384 at 44.1 kHz, 2.7 Hz bins) resolves the low end's 1/6 octaves.
    stft = _stft_power(sample_rate, mono.size, overlap=2, n_fft=4 * fft_size(sample_rate))
    total = np.zeros(stft.freqs_hz.size)
    n = stft.n_fft
    batches = [stft.push(mono[s:s + audio_io.BLOCK_FRAMES]) for s in range(0, mono.size, audio_io.BLOCK_FRAMES)]
    for batch in [*batches, stft.finish()]:
        for _, power in batch:
            total += power.sum(axis=0)
    # Parseval for a windowed frame: Σ(x w)² = Σ|X_k|² / N over all N bins; the
    # one-sided spectrum counts bins 1..N/2−1 twice. Dividing by the window
    # energy that fell on the signal (frames overhanging either end count only
    # their part inside it) gives the mean square.
    side = np.full(total.size, 2.0)
    side[0] = side[-1] = 1.0
    p = total * side / (n * _window_energy_on_signal(stft, mono.size))
    # Bin k covers [(k − ½)Δf, (k + ½)Δf): integrate with the cumulative sum.
    df = stft.freqs_hz[1]
    edges = (np.arange(p.size + 1) - 0.5) * df
    cum = np.concatenate([[0.0], np.cumsum(p)])
    f = np.asarray(freqs_hz, dtype=float)
    half = 2.0 ** (smoothing_octaves / 2)
    band = np.interp(f * half, edges, cum) - np.interp(f / half, edges, cum)
    return 10.0 * np.log10(np.maximum(band, _POWER_FLOOR))


def _window_energy_on_signal(stft: StftStream, n_samples: int) -> float:
    """``Σ_frames Σ_n w[n]²`` over the samples of each frame that lie inside the signal."""
    cum = np.concatenate([[0.0], np.cumsum(stft.window ** 2)])
    start = np.arange(stft.n_frames) * stft.hop - stft.n_fft // 2  # first sample of each frame
    lo = np.clip(-start, 0, stft.n_fft)
    hi = np.clip(n_samples - start, 0, stft.n_fft)
    return float(np.sum(cum[hi] - cum[lo]))


def spectrum_comparison(before: np.ndarray, after: np.ndarray, sample_rate: int, *,
                        labels: tuple[str, str] = ("before", "after"), eq: Sequence[EQBand] | None = None,
                        difference: bool = False, title: str | None = None,
                        fmin_hz: float | None = None, fmax_hz: float | None = None) -> Figure:
    """Long-term spectra of two versions of a sound overlaid, optionally with the EQ curve.

    Parameters
    ----------
    before, after : np.ndarray, shape ``(channels, samples)`` or ``(samples,)``
        The two versions (e.g. a stem dry and after its EQ), same sample rate.
    sample_rate : int
    labels : (str, str)
        Legend names of the two curves.
    eq : list of EQBand or None
        When given, the EQ's magnitude response
        (:func:`~workbench.mixing.response.eq_response_db`) is drawn on a second
        axis on the right (dB gain, 0 in the middle).
    difference : bool
        Also draw the measured ``after − before`` (dB) on that right axis, to
        compare what happened with what the EQ curve says.
    title : str or None
    fmin_hz, fmax_hz : float or None
        Zoom on this frequency range (default: the whole audible range); e.g.
        :func:`workbench.teach.eq_focus_hz` of the EQ.

    Returns
    -------
    Figure
        Levels per 1/6 octave (:func:`long_term_spectrum`) on a log-frequency axis.
    """
    sample_rate = sample_rate_hz(sample_rate)
    fmin = FMIN_HZ if fmin_hz is None else max(1.0, float(fmin_hz))
    fmax = min(FMAX_HZ if fmax_hz is None else float(fmax_hz), 0.45 * sample_rate)
    if not fmin < fmax:
        raise ParameterError(f"fmin_hz ({fmin:g}) must be below fmax_hz ({fmax:g}).", "Widen the zoom range.")
    f = np.geomspace(fmin, fmax, 400)
    lb = long_term_spectrum(before, sample_rate, f)
    la = long_term_spectrum(after, sample_rate, f)

    fig = _figure(10, 5.2)
    ax = fig.subplots()
    ax.plot(f, lb, color="0.55", linewidth=1.6, label=labels[0])
    ax.plot(f, la, color="#2166ac", linewidth=1.8, label=labels[1])
    top = math.ceil((max(lb.max(), la.max()) + 3.0) / 6.0) * 6.0
    bottom = max(top - 78.0, math.floor((min(lb.min(), la.min()) - 3.0) / 6.0) * 6.0)
    ax.set_ylim(bottom, top)
    ax.set_ylabel("level per 1/6 octave (dBFS)")
    _freq_axis(ax, "x", fmin, fmax)
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    handles, names = ax.get_legend_handles_labels()
    if eq is not None or difference:
        ax2 = ax.twinx()
        curves = []
        if eq is not None:
            resp = eq_response_db(list(eq), f, sample_rate)
            ax2.plot(f, resp, color="#1b7837", linewidth=2.2, linestyle="--", label="EQ curve (gain, dB)")
            curves.append(resp)
        if difference:
            diff = la - lb
            ax2.plot(f, diff, color="#762a83", linewidth=1.2, linestyle=":",
                     label=f"measured change: {labels[1]} − {labels[0]} (dB)")
            curves.append(diff)
        peak = max(float(np.max(np.abs(c[f >= 30.0]), initial=0.0)) for c in curves)
        lim = min(24.0, max(6.0, 3.0 * math.ceil((peak + 1.0) / 3.0)))
        ax2.set_ylim(-lim, lim)
        ax2.axhline(0.0, color="#1b7837", linewidth=0.6, alpha=0.5)
        ax2.set_ylabel("EQ gain (dB)" if eq is not None else "change (dB)")
        h2, n2 = ax2.get_legend_handles_labels()
        handles, names = handles + h2, names + n2
    fig.legend(handles, names, loc="outside lower center", ncols=min(4, len(names)), fontsize=9, frameon=False)
    sub = "Average level over the whole clip, smoothed to 1/6 octave"
    if eq is not None:
        sub += "; dashed green: the EQ's own curve (right axis)"
    _titles(fig, ax, title or f"Spectrum: {labels[0]} vs {labels[1]}", sub)
    return fig


# ------------------------------------------------------------------ levels
def level_meters(analysis: "Analysis", *, title: str | None = None) -> Figure:
    """Per-stem level meters: integrated loudness bars, sample- and true-peak markers, crest factor.

    Levels share one dB axis re full scale (LUFS for loudness, dBFS for sample
    peaks, dBTP for true peaks); the crest factor (sample peak − RMS of the
    playing part, dB) is written on the right. Silent stems say so.
    """
    stems = analysis.stems
    n = len(stems)
    colours = stem_colours(n)
    lufs = np.array([s.integrated_lufs for s in stems], dtype=float)
    sp = np.array([s.sample_peak_dbfs for s in stems], dtype=float)
    tp = np.array([s.true_peak_dbtp for s in stems], dtype=float)
    values = np.concatenate([lufs, sp, tp])
    values = values[np.isfinite(values)]
    floor = min(METER_FLOOR_DB, 6.0 * math.floor((values.min() - 3.0) / 6.0)) if values.size else METER_FLOOR_DB
    right = max(3.0, float(np.ceil(values.max())) + 2.0) if values.size else 3.0

    fig = _figure(10, max(3.6, 0.5 * n + 2.0))
    ax = fig.subplots()
    y = np.arange(n)
    ok = np.isfinite(lufs)
    ax.barh(y[ok], lufs[ok] - floor, left=floor, height=0.62,
            color=[colours[i] for i in np.flatnonzero(ok)], alpha=0.85)
    for i in range(n):
        if ok[i]:
            ax.text(floor + 0.6, i, f"{lufs[i]:.1f} LUFS", va="center", ha="left", fontsize=8,
                    color=_text_colour(colours[i]))
        else:
            ax.text(floor + 0.6, i, "silent", va="center", ha="left", fontsize=8, color="0.4")
    fin = np.isfinite(sp)
    ax.scatter(sp[fin], y[fin], marker="|", s=420, linewidths=2.2, color="black", zorder=3)
    fin = np.isfinite(tp)
    ax.scatter(tp[fin], y[fin] - 0.42, marker="v", s=55, color="#d62728", zorder=4)
    ax.axvline(0.0, color="0.35", linewidth=1.0)
    ax.text(0.3, n - 0.55, "full scale (0 dB)", rotation=90, ha="left", va="bottom", fontsize=8, color="0.35")
    ax.set_xlim(floor, right)
    ax.set_ylim(n - 0.5, -1.0)
    ax.set_yticks(y, labels=analysis.names)
    ax.set_xlabel("level (dB re full scale: LUFS for loudness, dBFS / dBTP for peaks)")
    ax.grid(axis="x", color="0.9")
    ax.set_axisbelow(True)
    crest = ax.twinx()
    crest.set_ylim(ax.get_ylim())
    crest.set_yticks(y, labels=[("–" if s.crest_db is None or not math.isfinite(s.crest_db)
                                 else f"{s.crest_db:.1f} dB") for s in stems])
    crest.tick_params(axis="y", length=0)
    crest.set_ylabel("crest factor (peak − RMS)")
    fig.legend(handles=[Patch(color="0.6", label="integrated loudness (LUFS)"),
                        Line2D([], [], marker="|", markersize=14, markeredgewidth=2.2, linestyle="none",
                               color="black", label="sample peak (dBFS)"),
                        Line2D([], [], marker="v", markersize=7, linestyle="none", color="#d62728",
                               label="true peak (dBTP)")],
               loc="outside lower center", ncols=3, fontsize=9, frameon=False)
    _titles(fig, ax, title or "How loud each stem is, and how high its peaks reach",
            "Longer bar = louder on average; marks near 0 = peaks close to clipping; "
            "big crest factor = spiky, percussive sound")
    return fig


def loudness_over_time(analysis: "Analysis", names: Sequence[str] | None = None, *,
                       title: str | None = None) -> Figure:
    """Short-term loudness (LUFS, 3 s window, EBU Tech 3341) of each stem over time.

    ``names`` chooses stems (display or file names; default all). A value is
    drawn at the end of the 3 s it measures; silence leaves a gap.
    """
    idx = list(range(analysis.n_stems)) if names is None else [analysis.index(k) for k in names]
    colours = stem_colours(analysis.n_stems)
    hop = analysis.frame_hop_s
    fig = _figure(11, 5.2)
    ax = fig.subplots()
    t = (np.arange(analysis.n_frames) + 1) * hop
    shown = []
    for i in idx:
        st = np.asarray(analysis.stems[i].short_term_lufs, dtype=float)[: t.size]
        st = np.where(np.isfinite(st), st, np.nan)
        ax.plot(t[: st.size], st, color=colours[i], linewidth=1.5, label=analysis.names[i])
        shown.append(st[np.isfinite(st)])
    vals = np.concatenate(shown) if shown else np.array([])
    if vals.size:
        top = math.ceil((vals.max() + 3.0) / 3.0) * 3.0
        bottom = max(-80.0, min(top - 24.0, math.floor((np.percentile(vals, 1) - 3.0) / 6.0) * 6.0))
        ax.set_ylim(bottom, top)
    ax.set_xlim(0, max(t[-1], hop) if t.size else 1.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("short-term loudness (LUFS)")
    ax.grid(color="0.92")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    _titles(fig, ax, title or "How loud each stem is over time",
            "Short-term loudness (EBU R128, 3 s window); gaps = the stem is silent")
    return fig


# ------------------------------------------------------------- EQ and pan
def eq_curve(bands: Sequence[EQBand], sample_rate: int = 44100, title: str = "EQ curve") -> Figure:
    """The magnitude response of one stem's EQ, each band numbered and described.

    Parameters
    ----------
    bands : list of EQBand
        The stem's EQ (``plan.stems[name].eq``); empty draws a flat line.
    sample_rate : int
        The rate the biquads run at (bells and shelves near Nyquist depend on it).
    title : str

    Returns
    -------
    Figure
        The total response (solid), each band's own response (dashed), and a
        numbered marker at each band's frequency; the legend describes the bands
        (:func:`~workbench.mixing.plan.describe_eq`).

    Examples
    --------
    >>> fig = eq_curve([EQBand("highpass", 80.0), EQBand("bell", 300.0, gain_db=-3.0, q=1.4)],
    ...                title="Piano EQ")
    """
    sample_rate = sample_rate_hz(sample_rate)
    bands = list(bands)
    fmax = min(FMAX_HZ, 0.49 * sample_rate)
    f = np.geomspace(FMIN_HZ, fmax, 800)
    total = eq_response_db(bands, f, sample_rate)
    fig = _figure(9.5, 5)
    ax = fig.subplots()
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    colours = [colormaps["tab10"](i % 10) for i in range(len(bands))]
    for i, b in enumerate(bands):
        ax.plot(f, band_response_db(b, f, sample_rate), color=colours[i], linewidth=1.0,
                linestyle="--", alpha=0.75)
    ax.fill_between(f, 0.0, total, where=total < 0, color="#2166ac", alpha=0.12, linewidth=0)
    ax.fill_between(f, 0.0, total, where=total > 0, color="#b2182b", alpha=0.12, linewidth=0)
    ax.plot(f, total, color="black", linewidth=2.4, label="total EQ")
    for i, b in enumerate(bands):
        fc = min(b.freq_hz, fmax)
        g = float(eq_response_db(bands, np.array([fc]), sample_rate)[0])
        ax.plot([fc], [g], marker="o", markersize=15, color=colours[i], markeredgecolor="white",
                linestyle="none", zorder=5, label=f"{i + 1}: {describe_eq(b)}")
        ax.text(fc, g, str(i + 1), ha="center", va="center", fontsize=8, fontweight="bold",
                color="white", zorder=6)
    lo = min(-12.0, max(-30.0, math.floor((float(total.min()) - 3.0) / 3.0) * 3.0))
    hi = max(6.0, math.ceil((float(total.max()) + 3.0) / 3.0) * 3.0)
    ax.set_ylim(lo, hi)
    ax.set_ylabel("gain (dB)")
    _freq_axis(ax, "x", FMIN_HZ, fmax)
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    if bands:
        ax.legend(loc="lower right", fontsize=9, framealpha=0.92)
    else:
        ax.text(0.5, 0.55, "no EQ on this stem", transform=ax.transAxes, ha="center", color="0.4")
    _titles(fig, ax, title, "Above 0 dB = boosted, below = cut; dashed lines are the single bands")
    return fig


def _stereo_span(pan: float, width: float) -> tuple[float, float]:
    """Where a stereo stem's two channels land: ``pan ± width·(1 − |pan|)`` (inside the speakers)."""
    half = width * (1.0 - abs(pan))
    return pan - half, pan + half


def pan_map(plan: MixPlan, *, title: str | None = None) -> Figure:
    """The stereo picture: each stem placed between the left and right speakers.

    x is the pan position (−1 = left, 0 = centre, +1 = right), rows are the
    stems sorted by importance (high on top) then session order, marker size
    grows with importance. A stereo stem also shows a bar for the spread of its
    two channels (``pan ± width·(1 − |pan|)``); muted stems are hollow grey.
    """
    names = list(plan.stems)
    colours = stem_colours(len(names))
    order = sorted(range(len(names)),
                   key=lambda i: (-IMPORTANCE_RANK.get(plan.stems[names[i]].importance, 1), i))
    n = len(order)
    fig = _figure(9, max(3.6, 0.45 * n + 2.2))
    ax = fig.subplots()
    ax.axvline(0.0, color="0.75", linewidth=1.0, linestyle=":")
    for row, i in enumerate(order):
        s = plan.stems[names[i]]
        colour = (0.6, 0.6, 0.6) if s.mute else colours[i]
        if s.channels >= 2 and s.width > 0:
            lo, hi = _stereo_span(s.pan, s.width)
            ax.plot([lo, hi], [row, row], color=colour, linewidth=6, alpha=0.3, solid_capstyle="round")
        ax.scatter([s.pan], [row], s=_IMPORTANCE_SIZE.get(s.importance, 160.0), zorder=3,
                   color="white" if s.mute else colour, edgecolors=colour if s.mute else "white",
                   linewidths=1.5)
        note = describe_pan(s.pan) + (" (muted)" if s.mute else "")
        ax.annotate(note, (s.pan, row), xytext=(0, 11), textcoords="offset points", ha="center",
                    va="bottom", fontsize=8, color="0.3")
    ax.set_yticks(range(n), labels=[names[i] for i in order])
    ax.set_ylim(n - 0.5, -0.9)
    ax.set_xlim(-1.15, 1.15)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1], labels=["L", "50% L", "centre", "50% R", "R"])
    ax.set_xlabel("pan position (left ← centre → right)")
    ax.grid(axis="x", color="0.93")
    ax.set_axisbelow(True)
    handles = [Line2D([], [], marker="o", linestyle="none", color="0.5", markeredgecolor="white",
                      markersize=math.sqrt(_IMPORTANCE_SIZE[k]), label=f"{k} importance")
               for k in reversed(IMPORTANCE_LEVELS)]
    handles.append(Line2D([], [], color="0.5", alpha=0.3, linewidth=6, label="stereo stem: its two channels"))
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=9, frameon=False)
    _titles(fig, ax, title or "Stereo picture: where each stem sits between the speakers",
            "Bigger dot = more important; a bar shows how wide a stereo stem spreads")
    return fig


# -------------------------------------------------------------------- files
def save_analysis_figures(analysis: "Analysis", outdir: str | os.PathLike, *,
                          inputs: Sequence[str | os.PathLike] = ()) -> list[Path]:
    """Write the analysis figures as PNGs into ``outdir`` and return their paths.

    Writes ``masking_heatmap.png``, ``level_meters.png``, ``loudness_over_time.png``
    and, for the :data:`TOP_PAIRS` pairs with the largest masking share,
    ``masking_<masker>_on_<target>.png`` (:func:`masking_over_time`; names made
    safe by :func:`safe_filename`). Each file is written atomically (temporary
    file, then rename) at :data:`DPI` dots per inch.

    Raises
    ------
    WorkbenchError
        ``overwrite_input`` when a figure would replace one of ``inputs`` —
        checked for every file before any is written.
    """
    outdir = Path(outdir)
    safe = _unique_safe_names(analysis.names)
    jobs: list[tuple[str, Callable[[], Figure]]] = [
        ("masking_heatmap.png", lambda: masking_heatmap(analysis.masking)),
        ("level_meters.png", lambda: level_meters(analysis)),
        ("loudness_over_time.png", lambda: loudness_over_time(analysis)),
    ]
    for masker, target in strongest_pairs(analysis.masking, TOP_PAIRS):
        name = f"masking_{safe[masker]}_on_{safe[target]}.png"
        jobs.append((name, functools.partial(masking_over_time, analysis, masker, target)))
    input_paths = tuple(Path(p) for p in inputs)
    # Check every destination before writing anything.
    writers = [(outdir / name, audio_io.atomic_path(outdir / name, inputs=input_paths), build)
               for name, build in jobs]
    written = []
    for dest, writer, build in writers:
        fig = build()
        with writer as tmp:
            fig.savefig(tmp, format="png", dpi=DPI)
        written.append(dest)
    return written


def _unique_safe_names(names: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = safe_filename(name)
        s, k = base, 2
        while s in used:
            s, k = f"{base}_{k}", k + 1
        used.add(s)
        out[name] = s
    return out
