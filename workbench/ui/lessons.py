"""Small helpers for the teaching notebooks: players for arrays, a level-over-time picture.

Presentation only: they play and draw audio that the package rendered; they
decide nothing about a mix.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from ..errors import ParameterError
from ..mixing.plan import STAGES
from .style import esc


def only(*stages: str) -> frozenset:
    """The ``bypass`` set that keeps only ``stages`` (``only("eq")``: hear what the EQ alone does;
    ``only()``: bypass everything)."""
    for stage in stages:
        if stage not in STAGES:
            raise ParameterError(f"stage must be one of {STAGES}, got {stage!r}")
    return frozenset(STAGES) - set(stages)


#: Longest excerpt a lesson's player embeds (s). Players embed 16-bit FLAC (lossless; about half the
#: 176 kB a second of 44.1 kHz stereo WAV takes, a third more as base64 in the page), so a lesson with
#: fourteen 5-second players stays near 10 MB when exported.
PLAYER_MAX_SECONDS = 5.0


def flac_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """``(channels, samples)`` float audio as the bytes of a 16-bit FLAC file (lossless)."""
    import io

    import soundfile as sf

    a = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    buf = io.BytesIO()
    sf.write(buf, np.clip(a, -1.0, 1.0).T, int(sample_rate), subtype="PCM_16", format="FLAC")
    return buf.getvalue()


@dataclass(frozen=True)
class Player:
    """A labelled HTML5 ``<audio>`` player whose sound (FLAC or WAV bytes) is embedded as a ``data:`` URL.

    Plain HTML (no widget, no script): it plays in Jupyter, in Voila and in a
    lesson exported with ``nbconvert --to html``, with the network off.
    """

    data: bytes
    label: str = ""
    note: str = ""
    mime: str = "audio/flac"

    def html(self) -> str:
        """The player as an HTML fragment (label, note, ``<audio controls>`` with a data: source)."""
        data = base64.b64encode(self.data).decode("ascii")
        note = f"<br><span style='color:#666;font-size:12px'>{esc(self.note)}</span>" if self.note else ""
        return (f"<div class='wb-lesson-player' style='display:inline-block;margin:0 16px 8px 0;"
                f"vertical-align:top'><b>{esc(self.label)}</b>{note}<br>"
                f"<audio controls preload='auto' style='width:300px' src='data:{self.mime};base64,{data}'>"
                f"</audio></div>")

    def _repr_html_(self) -> str:
        return self.html()


@dataclass(frozen=True)
class Row:
    """Players shown side by side (plain HTML)."""

    players: tuple[Player, ...]

    def _repr_html_(self) -> str:
        return "<div class='wb-lesson-row'>" + "".join(p.html() for p in self.players) + "</div>"


def excerpt(audio: np.ndarray, sample_rate: int, max_seconds: float = PLAYER_MAX_SECONDS) -> np.ndarray:
    """The first ``max_seconds`` of ``(channels, samples)`` audio (all of it if shorter)."""
    if max_seconds <= 0:
        raise ParameterError(f"max_seconds must be a positive number of seconds, got {max_seconds!r}.",
                             "Pass e.g. max_seconds=6.")
    a = np.atleast_2d(np.asarray(audio))
    return a[:, : int(round(max_seconds * sample_rate))]


def audio_player(audio: np.ndarray, sample_rate: int, label: str = "", note: str = "", *,
                 max_seconds: float = PLAYER_MAX_SECONDS) -> Player:
    """A labelled HTML5 player for ``(channels, samples)`` float audio (its first ``max_seconds``,
    embedded as 16-bit FLAC)."""
    return Player(flac_bytes(excerpt(audio, sample_rate, max_seconds), sample_rate), label, note)


def file_player(path, label: str = "", note: str = "", *, max_seconds: float = PLAYER_MAX_SECONDS) -> Player:
    """A labelled HTML5 player for a WAV file on disk (e.g. a preview the renderer wrote): its
    first ``max_seconds``."""
    import soundfile as sf

    audio, sr = sf.read(str(path), dtype="float32", always_2d=True,
                        frames=int(round(max_seconds * sf.info(str(path)).samplerate)))
    return Player(flac_bytes(audio.T, sr), label, note)


def side_by_side(players: Iterable[Player]) -> Row:
    """Players in one row."""
    return Row(tuple(players))


@dataclass(frozen=True)
class DecisionsHTML:
    """A plan's decisions (optionally only the rows mentioning ``only``) as a plain HTML table."""

    html: str

    def _repr_html_(self) -> str:
        return self.html


def decision_table(plan, only: str | None = None) -> DecisionsHTML:
    """The plan's decisions and reasons as plain HTML (survives ``nbconvert --to html``).

    Same content as :class:`workbench.ui.DecisionTable`, without the widget.
    """
    from .views import decisions_html

    # !important: JupyterLab's rendered-HTML style right-aligns table cells with a more specific selector.
    css = ("<style>table.wb-decisions{border-collapse:collapse;font-size:13px}table.wb-decisions td,"
           "table.wb-decisions th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left !important;"
           "vertical-align:top}</style>")
    return DecisionsHTML(css + decisions_html(plan, only))


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


def ab_players(results, max_seconds: float = PLAYER_MAX_SECONDS) -> Row:
    """Plain HTML players for the A/B previews of :func:`workbench.ui.render_ab` (in the order of
    :data:`workbench.ui.AB_VARIANTS`, each labelled with what it bypasses)."""
    from .model import AB_VARIANTS

    return Row(tuple(file_player(results[v.key].path, v.label, v.explains, max_seconds=max_seconds)
                     for v in AB_VARIANTS if v.key in results))


def stem_section(session, name: str, section) -> np.ndarray:
    """One stem's audio over a preview ``section``, ``(channels, samples)`` float32 at the section's rate."""
    from ..audio_io import read

    return read(session.stem(name).path, start=section.start_frame, frames=section.frames,
                sample_rate=section.sample_rate)


def masking_heard(session, masker: str, target: str, section,
                  max_seconds: float = PLAYER_MAX_SECONDS) -> Row:
    """Masking heard: the ``target`` stem alone, then the same moment with its ``masker`` added
    (both as the stems arrived, no mix moves). Listen for what of the target disappears."""
    t = stem_section(session, target, section)
    m = stem_section(session, masker, section)
    n = min(t.shape[1], m.shape[1])
    both = t[:, :n] + m[:, :n] if t.shape[0] == m.shape[0] else t.mean(0)[:n] + m.mean(0)[:n]
    sr = section.sample_rate
    return Row((audio_player(t, sr, f"{target} alone", max_seconds=max_seconds),
                audio_player(both, sr, f"{target} with {masker}", "the same moment, masker added",
                             max_seconds=max_seconds)))


def stem_player(session, name: str, label: str = "") -> Player:
    """A player for one stem's most active excerpt (the same excerpt the dashboard plays)."""
    from .files import stem_excerpt_wav

    return Player(stem_excerpt_wav(session.stem(name).path), label or name, mime="audio/wav")
