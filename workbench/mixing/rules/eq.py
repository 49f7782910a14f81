"""EQ: high-pass by category and measured low end, one corrective cut, unmasking cuts.

Three moves, in the order an engineer makes them:

1. **High-pass** every stem below its useful range. Cutoffs by category are the
   lower limits of each source's fundamental range in Owsinski, *The Mixing
   Engineer's Handbook* (its tables of instrument frequency ranges) and Izhaki,
   *Mixing Audio* (the chapter on filters), lowered to stay below
   the stem's own measured low end, so a filter never cuts what is there.
   High-passing all non-bass sources is also the first rule of De Man & Reiss
   (2013, "A knowledge-engineered autonomous mixing system", AES 135).
2. **Corrective**: on unpitched drum parts only, the strongest resonance — a
   band standing out from the stem's own smoothed spectrum in most of its
   frames — cut by half its excess, bounded, as wide as the peak is measured.
   Target-spectrum equalisation after Perez-Gonzalez & Reiss (2009, "Automatic
   equalization of multi-channel audio using cross-adaptive methods", AES 127).
3. **Unmasking** (cross-adaptive): where a less important stem masks a more
   important one, the less important stem is cut in the bands where it masks,
   by a depth that follows the masking margin, bounded by the importance gap —
   Hafezi & Reiss (2015, "Autonomous multitrack equalization based on masking
   reduction", JAES 63(5)). Which of two clashing parts is cut follows importance
   and the priority order of :mod:`~workbench.mixing.rules.roles` — our choice;
   Wakefield & Dewey (2015, AES 138th Conv.) compared unmasking by EQ with
   panning, which the pan rule uses. At most 3 unmasking bells per
   stem: with the high-pass and the corrective band that is 5 — within the 6
   parametric bands the product we measure against outputs per track.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...analysis.bands import Bands
from ...sources import cite
from ..plan import EQBand
from .reason import Reason
from .roles import IMPORTANCE_RANK, PRIORITY_SOURCES, category_key, priority

#: The sources of each move (keys of :data:`workbench.sources.SOURCES`).
HIGHPASS_SOURCES = cite("owsinski_handbook", "izhaki_mixing_audio", "de_man_reiss_2013")
SUBSONIC_SOURCES = cite("senior_mixing_secrets", "de_man_reiss_2013")
RESONANCE_SOURCES = cite("owsinski_handbook", "perez_gonzalez_reiss_2009_eq", "workbench_choice")
UNMASK_SOURCES = cite("hafezi_reiss_2015", "workbench_choice")

#: High-pass cutoff by category, Hz (Owsinski's and Izhaki's frequency ranges). Kick and bass
#: get only a subsonic filter (energy below ~30 Hz is inaudible on most systems
#: and eats headroom; Senior, *Mixing Secrets*, on low-end management).
HIGHPASS_HZ = {
    "Kick": 30.0, "Bass": 30.0, "Drums": 35.0, "Snare": 80.0, "Percussion": 70.0,
    "Cymbals": 250.0, "Guitar": 90.0, "Keys": 50.0, "Synth": 50.0, "Pads": 100.0,
    "Strings": 50.0, "Brass": 70.0, "Lead Vocal": 90.0, "Backing Vocal": 140.0,
    "FX": 40.0, "Other": 40.0,
}
#: The stem's own low end: the lowest band within this many dB of its loudest
#: band — its strong content, where the instrument's fundamentals live. A
#: high-pass stays at or below 0.7× that frequency (≈ half an octave below,
#: where a 12 dB/oct Butterworth takes about 1 dB off). Weaker low energy
#: (rumble, spill, room) is what the high-pass is for.
LOW_END_RANGE_DB = 15.0
HIGHPASS_BELOW_CONTENT = 0.7
HIGHPASS_MIN_HZ = 20.0
#: A cutoff at or below this is a subsonic filter: it stays whatever the content.
SUBSONIC_HZ = 35.0

#: Corrective cut: a band this far above the stem's own spectrum smoothed over
#: ±3 ERB bands, and above both its neighbours, is a resonance (a ringing drum
#: mode, a boomy shell or room note); cut by half the excess, at most 4 dB.
#: Only above twice the frequency of the stem's strongest band, so that its
#: fundamental is never taken for a resonance. Taming a drum's ring with a
#: narrow cut is the textbook case (Owsinski, *The Mixing Engineer's Handbook*,
#: 4th ed., EQ chapter: snare and tom ring); the 6 dB excess and the depth are
#: our engineering choice.
RESONANCE_MIN_DB = 6.0
RESONANCE_MAX_CUT_DB = 4.0
RESONANCE_RANGE_HZ = (150.0, 10000.0)
#: Categories whose long-term spectral peaks may be faults: unpitched drums.
#: A pitched part's peaks are its notes and harmonics (issue 13).
RESONANCE_CATEGORIES = frozenset({"Kick", "Snare", "Percussion", "Drums"})
#: A resonance rings on every hit: it must stand out in this share of the
#: part's active frames (our choice; a harmonic of one note does not).
RESONANCE_PERSISTENCE = 0.6

#: A masker is cut in a band only when it masks at least this share of the
#: target's energy in that band, and the band holds at least this share of the
#: target's energy (it matters to the target).
UNMASK_MIN_BAND_SHARE = 0.25
UNMASK_MIN_TARGET_ENERGY = 0.03
UNMASK_MAX_BELLS = 3
#: Deepest cut by importance gap (masker below target): same importance 3 dB,
#: one level 4.5 dB, two levels the settings' maximum (6 dB by default).
#: Hafezi & Reiss (2015) bound their cross-adaptive cuts for the same reason:
#: deep cuts hollow out the masker.
UNMASK_MAX_CUT_BY_GAP_DB = {0: 3.0, 1: 4.5}
UNMASK_MIN_CUT_DB = 1.0


@dataclass(frozen=True)
class EQDecision:
    """One EQ move and why.

    Attributes
    ----------
    kind : str
        ``"highpass"`` or ``"bell"`` (the plan's :class:`~workbench.mixing.plan.EQBand` kinds).
    freq_hz : float
    gain_db : float
    q : float
    slope_db_per_oct : int
    reason : Reason
    """

    kind: str
    freq_hz: float
    gain_db: float
    q: float
    slope_db_per_oct: int
    reason: Reason

    def to_band(self) -> EQBand:
        """The plan's band, with the reason in words."""
        return EQBand(self.kind, self.freq_hz, self.gain_db, self.q, self.slope_db_per_oct, self.reason.text)


def highpass(category: str | None, long_term_band_db: np.ndarray, bands: Bands) -> EQDecision:
    """The high-pass for a stem: category cutoff, kept below its measured low end."""
    cat = category_key(category)
    nominal = HIGHPASS_HZ[cat]
    lt = np.asarray(long_term_band_db, dtype=float)
    finite = np.isfinite(lt)
    if finite.any():
        top = lt[finite].max()
        lowest = int(np.flatnonzero(finite & (lt >= top - LOW_END_RANGE_DB))[0])
        content_hz = bands.centres_hz[lowest]
    else:
        content_hz = nominal
    limit = max(HIGHPASS_MIN_HZ, HIGHPASS_BELOW_CONTENT * content_hz)
    if nominal <= SUBSONIC_HZ:
        freq, rule, sources, why = nominal, "eq.highpass.subsonic", SUBSONIC_SOURCES, "subsonic clean-up for {category}"
    elif nominal <= limit:
        freq, rule, sources, why = (nominal, "eq.highpass.usual", HIGHPASS_SOURCES,
                                    "usual for {category}; the stem's content starts near {content_hz:hz}")
    else:
        freq, rule, sources, why = (limit, "eq.highpass.lowered", HIGHPASS_SOURCES,
                                    "{category} usually at {nominal_hz:hz}, lowered: the stem has content "
                                    "down to {content_hz:hz}")
    freq = round(float(freq), 1)
    slope = 24 if cat in ("Cymbals", "Backing Vocal") else 12
    measured = {"freq_hz": freq, "category": cat, "nominal_hz": nominal, "content_hz": float(content_hz)}
    return EQDecision("highpass", freq, 0.0, 0.707, slope,
                      Reason(rule, measured, sources, "high-pass at {freq_hz:hz}: " + why))


def corrective(category: str | None, long_term_band_db: np.ndarray, bands: Bands,
               band_power: np.ndarray | None = None, activity: np.ndarray | None = None) -> EQDecision | None:
    """One cut on a drum's persistent resonance, or ``None``.

    Only unpitched drum parts (:data:`RESONANCE_CATEGORIES`) are searched: the
    peaks in a pitched part's long-term spectrum are its notes and their
    harmonics, not faults, and cutting them changes the part (the boilerplate
    cuts on synth harmonics reported in issue 13). A drum's ringing mode sounds
    on every hit, so a peak counts only when it stands out in at least
    :data:`RESONANCE_PERSISTENCE` of the part's active frames (when the frames
    are given). The depth is half the excess, at most
    :data:`RESONANCE_MAX_CUT_DB`; the Q follows the measured width of the peak
    (the bands within 3 dB of its top).

    Parameters
    ----------
    category : str or None
    long_term_band_db : np.ndarray, shape ``(n_bands,)``
        Mean band power over the active frames (dB).
    bands : Bands
    band_power : np.ndarray, shape ``(n_bands, n_frames)``, optional
        The stem's band power over time, for the persistence test.
    activity : np.ndarray of bool, shape ``(n_frames,)``, optional
    """
    cat = category_key(category)
    if cat not in RESONANCE_CATEGORIES:
        return None
    lt = np.asarray(long_term_band_db, dtype=float)
    if not np.isfinite(lt).any():
        return None
    lt = np.where(np.isfinite(lt), lt, np.nanmin(np.where(np.isfinite(lt), lt, np.nan)) - 20)
    excess = lt - _smooth(lt)
    centres = np.asarray(bands.centres_hz)
    lo, hi = RESONANCE_RANGE_HZ
    lo = max(lo, 2 * centres[int(np.argmax(lt))])
    peak = np.zeros(lt.size, dtype=bool)
    peak[1:-1] = (lt[1:-1] > lt[:-2]) & (lt[1:-1] > lt[2:])
    in_range = (centres >= lo) & (centres <= hi) & (lt >= lt.max() - 30) & peak
    if not in_range.any():
        return None
    i = int(np.argmax(np.where(in_range, excess, -np.inf)))
    if excess[i] < RESONANCE_MIN_DB:
        return None
    persistence = _persistence(band_power, activity, i)
    if persistence is not None and persistence < RESONANCE_PERSISTENCE:
        return None
    # the peak's width: neighbouring bands within 3 dB of its top excess
    a = b = i
    while a > 0 and excess[a - 1] >= excess[i] - 3.0:
        a -= 1
    while b < lt.size - 1 and excess[b + 1] >= excess[i] - 3.0:
        b += 1
    cut = round(-min(RESONANCE_MAX_CUT_DB, excess[i] / 2), 1)
    f = float(np.sqrt(bands.edges_hz[a] * bands.edges_hz[b + 1]))
    q = _q_for(bands, a, b)
    heard = "" if persistence is None else ", present in {persistence:.0%} of its active frames"
    measured = {"gain_db": cut, "freq_hz": f, "excess_db": float(excess[i]), "category": cat,
                "persistence": persistence}
    return EQDecision("bell", round(f, 1), cut, q, 12, Reason(
        "eq.resonance", measured, RESONANCE_SOURCES,
        "{gain_db:+.1f} dB bell at {freq_hz:hz}: a resonance {excess_db:.1f} dB above the "
        "{category}'s own spectrum around it" + heard))


def _smooth(level_db: np.ndarray, width: int = 7) -> np.ndarray:
    """The spectrum smoothed over ``width`` bands (edge-padded moving average, last axis)."""
    pad = [(0, 0)] * (level_db.ndim - 1) + [(width // 2, width // 2)]
    padded = np.pad(level_db, pad, mode="edge")
    kernel = np.ones(width) / width
    return np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="valid"), -1, padded)


def _persistence(band_power: np.ndarray | None, activity: np.ndarray | None, band: int) -> float | None:
    """Share of active frames in which ``band`` stands out (≥ 3 dB over the smoothed spectrum)."""
    if band_power is None or activity is None:
        return None
    act = np.asarray(activity, dtype=bool)
    if not act.any():
        return None
    frames = np.asarray(band_power, dtype=np.float64)[:, act]
    step = max(1, frames.shape[1] // 512)  # at most ~512 frames: a share, not a sum
    db = 10.0 * np.log10(np.maximum(frames[:, ::step], 1e-20)).T
    out = db - _smooth(db)
    return float(np.mean(out[:, band] >= 3.0))


def _q_for(bands: Bands, lo: int, hi: int) -> float:
    """Q of a bell spanning bands ``lo..hi``: centre over bandwidth, clamped 0.7–4."""
    f_lo, f_hi = bands.edges_hz[lo], bands.edges_hz[hi + 1]
    centre = math.sqrt(f_lo * f_hi)
    return round(float(min(4.0, max(0.7, centre / (f_hi - f_lo)))), 2)


def _regions(score: list[float], max_width: int = 3) -> list[tuple[int, int]]:
    """Runs of consecutive bands with a positive score, split into pieces of at most ``max_width``."""
    out, b = [], 0
    while b < len(score):
        if score[b] <= 0:
            b += 1
            continue
        lo = b
        while b < len(score) and score[b] > 0 and b - lo < max_width:
            b += 1
        out.append((lo, b - 1))
    return out


def unmasking(
    names: list[str],
    categories: list[str | None],
    importances: list[str],
    band_share: np.ndarray,
    band_energy: np.ndarray,
    pair_margin_db,
    bands: Bands,
    *,
    max_cut_db: float = 6.0,
) -> dict[str, list[EQDecision]]:
    """Cross-adaptive unmasking cuts on the less important stem of each masking pair.

    Parameters
    ----------
    names, categories, importances : lists, one entry per stem
    band_share : np.ndarray, shape ``(n, n, n_bands)``
        Masking ``[masker, target, band]`` at the planned gains and high-passes.
    band_energy : np.ndarray, shape ``(n, n_bands)``
        Each stem's share of its own energy per band (rows sum to 1).
    pair_margin_db : callable ``(masker, target) -> (n_bands, n_frames)``
        Masking margin per band and frame (NaN where the target does not count).
    bands : Bands
    max_cut_db : float
        The deepest cut allowed (two importance levels apart).

    Returns
    -------
    dict
        ``name -> [EQDecision, ...]`` (stems without cuts are absent).
    """
    n = len(names)
    order = [priority(c, i) for c, i in zip(categories, importances)]
    cuts: dict[str, list[EQDecision]] = {}
    for m in range(n):
        # per band, the most affected more-important target: (score, target)
        best = [(0.0, -1)] * bands.n_bands
        for t in range(n):
            if t == m or order[t] >= order[m]:
                continue
            for b in range(bands.n_bands):
                share, energy = band_share[m, t, b], band_energy[t, b]
                if share >= UNMASK_MIN_BAND_SHARE and energy >= UNMASK_MIN_TARGET_ENERGY:
                    best[b] = max(best[b], (float(share * energy), t))
        regions = _regions([s for s, _ in best])
        if not regions:
            continue
        regions.sort(key=lambda r: (-sum(best[b][0] for b in range(r[0], r[1] + 1)), r[0]))
        bells: list[EQDecision] = []
        for lo, hi in sorted(regions[:UNMASK_MAX_BELLS]):
            b_main = max(range(lo, hi + 1), key=lambda b: best[b][0])
            t = best[b_main][1]
            margin = pair_margin_db(m, t)[lo:hi + 1]
            valid = np.isfinite(margin)
            masked = valid & (margin >= 0)
            time_share = float(masked.any(axis=0).sum() / max(valid.any(axis=0).sum(), 1))
            median_margin = float(np.median(margin[masked])) if masked.any() else 0.0
            gap = IMPORTANCE_RANK[importances[t]] - IMPORTANCE_RANK[importances[m]]
            limit = min(UNMASK_MAX_CUT_BY_GAP_DB.get(gap, max_cut_db), max_cut_db)
            if limit < UNMASK_MIN_CUT_DB:
                continue
            depth = min(limit, UNMASK_MIN_CUT_DB + 0.5 * median_margin)
            f = math.sqrt(bands.edges_hz[lo] * bands.edges_hz[hi + 1])
            gain = round(-depth, 1)
            who = "less important" if gap > 0 else "same importance, {target} has priority"
            measured = {"gain_db": gain, "freq_hz": f, "target": names[t], "time_share": time_share,
                        "median_margin_db": median_margin, "importance_gap": gap, "limit_db": limit}
            bells.append(EQDecision("bell", round(f, 1), gain, _q_for(bands, lo, hi), 12, Reason(
                "eq.unmasking", measured, UNMASK_SOURCES + (PRIORITY_SOURCES if gap <= 0 else ()),
                "{gain_db:+.1f} dB bell at {freq_hz:hz}: masks {target} {time_share:.0%} of its "
                "active time in this range (" + who + ")")))
        if bells:
            cuts[names[m]] = bells
    return cuts
