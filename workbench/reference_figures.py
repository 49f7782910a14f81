"""Figures for mixing toward a reference: the target next to the mix.

Same conventions as :mod:`workbench.figures` (object-oriented matplotlib, no pyplot, logarithmic
frequency axes with the same ticks, a plain-words title and a line saying how to read it).
Presentation only: nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from .analysis.reference import TONAL_RANGE_HZ, ReferenceMeasurement
from .figures import _figure, _freq_axis, _titles

__all__ = ["target_vs_mix"]


def target_vs_mix(target: ReferenceMeasurement, mixes: Sequence[ReferenceMeasurement] | ReferenceMeasurement = (),
                  *, labels: Sequence[str] | None = None, title: str = "The reference next to the mix") -> Figure:
    """Tonal balance and width per band of a target and one or more mixes, and their loudness figures.

    Parameters
    ----------
    target : ReferenceMeasurement
        The reference (or the references combined, or a style's target).
    mixes : ReferenceMeasurement or sequence of them
        Mixes measured the same way (:func:`workbench.pipeline.measure_plan_mix`).
    labels : sequence of str, optional
        Legend labels of the mixes (default: their ``source``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: level per ERB band relative to the 50 Hz–16 kHz mean (dB). Right: side share per band
        (0 mono, 0.5 two uncorrelated channels). Every curve is measured on the signal's loud section.
    """
    mixes = [mixes] if isinstance(mixes, ReferenceMeasurement) else list(mixes)
    labels = list(labels) if labels is not None else [m.source or f"mix {i + 1}" for i, m in enumerate(mixes)]
    fig = _figure(11.0, 4.2)
    tone_ax, width_ax = fig.subplots(1, 2, width_ratios=[3, 2])
    c = np.asarray(target.centres_hz)
    keep = (c >= TONAL_RANGE_HZ[0]) & (c <= TONAL_RANGE_HZ[1])

    def legend(m: ReferenceMeasurement, name: str) -> str:
        return f"{name} ({m.integrated_lufs:.1f} LUFS, PLR {m.plr_db:.1f} dB)"

    tone_ax.plot(c[keep], np.asarray(target.tonal_db)[keep], color="black", linewidth=2.5,
                 label=legend(target, "target: " + (target.source or "reference")))
    width_ax.plot(c, target.side_share, color="black", linewidth=2.5)
    for i, (m, name) in enumerate(zip(mixes, labels)):
        colour = f"C{i}"
        tone_ax.plot(c[keep], np.asarray(m.tonal_db)[keep], color=colour, linewidth=1.6, label=legend(m, name))
        width_ax.plot(c, m.side_share, color=colour, linewidth=1.6)
    _freq_axis(tone_ax, fmin_hz=TONAL_RANGE_HZ[0], fmax_hz=TONAL_RANGE_HZ[1])
    _freq_axis(width_ax)
    tone_ax.set_ylabel("level relative to the 50 Hz–16 kHz mean (dB)")
    width_ax.set_ylabel("side share E_S / (E_M + E_S)")
    width_ax.set_ylim(0, max(0.6, float(np.max(target.side_share)) + 0.05))
    tone_ax.grid(True, alpha=0.3)
    width_ax.grid(True, alpha=0.3)
    tone_ax.legend(fontsize=8, loc="lower left")
    _titles(fig, tone_ax, title, "tonal balance per ERB band (left) and width per band (right), "
                                 "each on its loud section; where the curves part, the mix differs")
    return fig
