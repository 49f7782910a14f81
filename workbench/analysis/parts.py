"""What each part does in the song: measurements that tell a role within a category.

A category says what a stem *is* (toms are Percussion, a shaker is Percussion);
these measurements say what the part *does* in this song — whether it plays
all the time or in short hits, how often it strikes, in which register, with
how many other parts at once. The role rules
(:mod:`workbench.mixing.rules.roles`) and the fitted balance model
(:mod:`workbench.mixing.rules.gain`) read them.

Every quantity is computed from the cached :class:`~workbench.analysis.Analysis`
arrays (no audio is read) and is **independent of the level a stem arrived at**:
activity is gated relative to the stem's own level (BS.1770-style two-stage
gate, :func:`~workbench.analysis.spectrum.activity_from_power`), onsets are
level *changes*, the register is a spectral centroid. Turning a stem down by
12 dB leaves every number here unchanged, which keeps the balance independent
of the input level (DESIGN §6).

Definitions (frame ``k`` is an analysis frame of ``Analysis.frame_hop_s``
seconds, 92.9 ms at 44.1 kHz):

duty
    Active frames over the *song's* frames: how much of the song the part
    plays. A tom part that plays fills reads a few percent, a shaker most of
    the song.
onset_rate_hz
    Onsets per second of the part's active time. An onset is an active frame
    whose broadband power rises at least :data:`ONSET_RISE_DB` above the
    previous frame's — the energy-rise onset detector of Bello et al. (2005,
    "A tutorial on onset detection in music signals", IEEE TASLP 13(5),
    §III-A), on the analysis frames. Frames of 93 ms resolve hits up to about
    5 per second; denser patterns (16th-note hats) blur into a continuous
    level and read as few onsets, which is what they are to a fader: a steady
    layer.
hit_share
    Share of the part's active frames that are onsets or the frame after one:
    near 1 for isolated hits (toms, crashes, one-shots), low for sustained or
    continuous parts.
register_hz
    The stem's spectral centroid (power-weighted mean frequency over its
    active frames; :class:`~workbench.analysis.features.StemFeatures`).
overlap
    Mean share of the other stems that play while this one plays (0: it
    plays alone, 1: everything plays with it).
lead_score
    How much a part looks like the one carrying the melody: its duty and
    its presence in the 300 Hz – 4 kHz region where melodies and voices sit
    (the ear's most sensitive region, ISO 226:2003), relative to the other
    pitched parts of the session. Used only to *suggest* an importance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ONSET_RISE_DB", "PartFeatures", "co_activity", "part_features"]

#: Broadband rise (dB, frame over previous frame) that counts as an onset:
#: 6 dB, a doubling of amplitude, well above the frame-to-frame fluctuation of
#: a sustained note (about 1–2 dB on 93 ms frames) and below the rise of any
#: struck drum. Our choice, in the range energy-based detectors use.
ONSET_RISE_DB = 6.0
#: Melody region for :attr:`PartFeatures.lead_score` (Hz).
MELODY_REGION_HZ = (300.0, 4000.0)


@dataclass(frozen=True)
class PartFeatures:
    """What one part does in the song (level-invariant; see the module doc).

    Attributes
    ----------
    name : str
    duty : float
        Active share of the song's frames (0..1).
    onset_rate_hz : float
        Onsets per active second.
    hit_share : float
        Share of active frames at or right after an onset (0..1).
    register_hz : float
        Spectral centroid (Hz); NaN for a silent stem.
    overlap : float
        Mean share of the other stems playing while this one plays (0..1).
    lead_score : float
        Relative melody-carrying score (higher = more likely the lead).
    """

    name: str
    duty: float
    onset_rate_hz: float
    hit_share: float
    register_hz: float
    overlap: float
    lead_score: float


def _onsets(total_power: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Boolean onset frames: active, and at least :data:`ONSET_RISE_DB` above the previous frame."""
    db = 10.0 * np.log10(np.maximum(total_power.astype(np.float64), 1e-20))
    rise = np.diff(db, prepend=-200.0)  # the song starts from silence
    return active & (rise >= ONSET_RISE_DB)


def part_features(analysis) -> list[PartFeatures]:
    """Measure what every stem does in the song.

    Parameters
    ----------
    analysis : Analysis
        The session's analysis (:func:`workbench.analysis.analyse`).

    Returns
    -------
    list of PartFeatures
        One per stem, in analysis order.

    Examples
    --------
    A part that plays a hit every two seconds has a low duty and a high hit
    share; a part that plays throughout has a duty near 1::

        >>> from types import SimpleNamespace
        >>> from workbench.analysis.bands import erb_bands
        >>> b = erb_bands()
        >>> frames = 200
        >>> hits = np.full(frames, 1e-12); hits[::20] = 1.0; hits[1::20] = 0.3
        >>> steady = np.ones(frames)
        >>> bp = np.stack([np.outer(np.ones(b.n_bands), hits), np.outer(np.ones(b.n_bands), steady)])
        >>> act = np.stack([hits > 1e-3, steady > 0])
        >>> stems = [SimpleNamespace(centroid_hz=150.0), SimpleNamespace(centroid_hz=1000.0)]
        >>> a = SimpleNamespace(band_power=bp, activity=act, bands=b, frame_hop_s=0.1, names=["T", "S"],
        ...                     stems=stems)
        >>> toms, shaker = part_features(a)
        >>> round(toms.duty, 2), round(toms.hit_share, 2), round(shaker.duty, 2)
        (0.1, 1.0, 1.0)
    """
    band_power = np.asarray(analysis.band_power)
    activity = np.asarray(analysis.activity, dtype=bool)
    n, _, n_frames = band_power.shape
    hop = float(analysis.frame_hop_s)
    centres = np.asarray(analysis.bands.centres_hz)
    lo, hi = MELODY_REGION_HZ
    melody_bands = (centres >= lo) & (centres <= hi)
    total = band_power.sum(axis=1)
    playing = activity.sum(axis=0)

    raw_lead = np.zeros(n)
    rows = []
    for i in range(n):
        act = activity[i]
        n_act = int(act.sum())
        duty = n_act / n_frames if n_frames else 0.0
        if n_act == 0:
            rows.append((0.0, 0.0, 0.0, math.nan, 0.0))
            raw_lead[i] = -math.inf
            continue
        on = _onsets(total[i], act)
        after = on | np.concatenate([[False], on[:-1]])
        onset_rate = float(on.sum()) / (n_act * hop)
        hit_share = float((after & act).sum()) / n_act
        others = (playing[act] - 1) / max(n - 1, 1)
        overlap = float(others.mean())
        centroid = float(getattr(analysis.stems[i], "centroid_hz", math.nan))
        # share of the part's energy in the melody region, over its active frames
        e = band_power[i][:, act].sum(axis=1, dtype=np.float64)
        melody_share = float(e[melody_bands].sum() / e.sum()) if e.sum() > 0 else 0.0
        raw_lead[i] = duty * melody_share * (1.0 - hit_share)
        rows.append((duty, onset_rate, hit_share, centroid, overlap))
    finite = raw_lead[np.isfinite(raw_lead)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    out = []
    for i, (duty, rate, hits, centroid, overlap) in enumerate(rows):
        lead = float(raw_lead[i] / top) if math.isfinite(raw_lead[i]) else 0.0
        out.append(PartFeatures(name=str(analysis.names[i]), duty=float(duty), onset_rate_hz=float(rate),
                                hit_share=float(hits), register_hz=centroid, overlap=float(overlap),
                                lead_score=lead))
    return out


def co_activity(activity: np.ndarray) -> np.ndarray:
    """``[i, j]``: share of stem ``i``'s active frames in which stem ``j`` also plays.

    The diagonal is 1 for a stem that plays at all (0 for a silent one).

    Examples
    --------
    >>> co_activity(np.array([[1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)).tolist()
    [[1.0, 0.5], [0.3333333333333333, 1.0]]
    """
    a = np.asarray(activity, dtype=np.float64)
    both = a @ a.T
    own = a.sum(axis=1, keepdims=True)
    return np.divide(both, own, out=np.zeros_like(both), where=own > 0)
