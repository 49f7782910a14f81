"""Small helpers for the teaching notebooks: players for arrays, a level-over-time picture.

Presentation only: they play and draw audio that the package rendered; they
decide nothing about a mix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from ..errors import ParameterError
from ..mixing.plan import STAGES
from .files import wav_bytes
from .style import esc


def only(*stages: str) -> frozenset:
    """The ``bypass`` set that keeps only ``stages`` (``only("eq")``: hear what the EQ alone does;
    ``only()``: bypass everything)."""
    for stage in stages:
        if stage not in STAGES:
            raise ParameterError(f"stage must be one of {STAGES}, got {stage!r}")
    return frozenset(STAGES) - set(stages)


def audio_player(audio: np.ndarray, sample_rate: int, label: str = "", note: str = "") -> W.VBox:
    """A labelled player for ``(channels, samples)`` float audio (sent as a 16-bit WAV)."""
    player = W.Audio(value=wav_bytes(audio, sample_rate), format="wav", autoplay=False, loop=False,
                     layout=W.Layout(width="300px"))
    player.add_class("wb-player")
    head = W.HTML(f"<b>{esc(label)}</b>" + (f"<br><span style='color:#666;font-size:12px'>{esc(note)}</span>"
                                             if note else ""))
    return W.VBox([head, player], layout=W.Layout(margin="0 16px 8px 0"))


def file_player(path, label: str = "", note: str = "") -> W.VBox:
    """A labelled player for a WAV file on disk (e.g. a preview the renderer wrote)."""
    from pathlib import Path

    player = W.Audio(value=Path(path).read_bytes(), format="wav", autoplay=False, loop=False,
                     layout=W.Layout(width="300px"))
    player.add_class("wb-player")
    head = W.HTML(f"<b>{esc(label)}</b>" + (f"<br><span style='color:#666;font-size:12px'>{esc(note)}</span>"
                                             if note else ""))
    return W.VBox([head, player], layout=W.Layout(margin="0 16px 8px 0"))


def side_by_side(players: Iterable[W.Widget]) -> W.HBox:
    return W.HBox(list(players), layout=W.Layout(flex_flow="row wrap"))


def _level_db(audio: np.ndarray, sample_rate: int, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    power = np.mean(a ** 2, axis=0)
    n = max(1, int(round(window_s * sample_rate)))
    frames = power.size // n
    if frames == 0:
        return np.zeros(0), np.zeros(0)
    ms = power[: frames * n].reshape(frames, n).mean(axis=1)
    t = (np.arange(frames) + 0.5) * n / sample_rate
    return t, 10.0 * np.log10(np.maximum(ms, 1e-12))


def level_comparison(before: np.ndarray, after: np.ndarray, sample_rate: int, *,
                     labels: tuple[str, str] = ("before", "after"), window_s: float = 0.05,
                     title: str = "Level over time") -> Figure:
    """RMS level (dBFS, in ``window_s`` windows) of two versions of a sound over time.

    For the compression lesson: a compressor narrows the distance between the
    loud and the quiet moments, which shows as a flatter "after" curve. The
    spread of each curve (loudest minus quietest tenth of the active windows)
    is printed in the legend.
    """
    fig = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    ax = fig.subplots()
    for audio, label, colour in ((before, labels[0], "0.55"), (after, labels[1], "#2166ac")):
        t, lv = _level_db(audio, sample_rate, window_s)
        active = lv[lv > lv.max() - 40] if lv.size else lv
        spread = (np.percentile(active, 95) - np.percentile(active, 10)) if active.size else math.nan
        ax.plot(t, lv, color=colour, linewidth=1.2, label=f"{label} (spread {spread:.1f} dB)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"RMS level, {window_s * 1000:.0f} ms windows (dBFS)")
    ax.grid(color="0.92")
    top = max(_level_db(before, sample_rate, window_s)[1].max(initial=-120),
              _level_db(after, sample_rate, window_s)[1].max(initial=-120))
    ax.set_ylim(top - 48, top + 3)
    ax.legend(loc="lower right", fontsize=9)
    fig.suptitle(title, fontsize=13)
    return fig
