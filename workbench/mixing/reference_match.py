"""Planning toward a reference (or a style): the moves an engineer makes to match a target.

Given the plan the rules decided and a target (:class:`~workbench.analysis.reference.ReferenceMeasurement`,
measured from one or more references or read from a style), :func:`match_reference` adds, each
with a reason naming the measurement and the amount:

- **master tonal EQ** — a low shelf, sixteen one-octave-wide bells half an octave apart and a high shelf, fitted by
  regularised least squares to the difference between the target's tonal balance and the mix's,
  scaled by the *tone* amount, each band within ±:data:`MASTER_EQ_MAX_DB`. Broad, smooth moves only:
  no narrow matching curve (each bell spans an octave, and the ridge term keeps neighbours from fighting);
- **per-stem EQ** where one stem carries most of a band's energy (:data:`OWNER_SHARE`): the band goes on
  that stem instead of the bus, the move an engineer makes when "too much low end" is really the bass;
- **glue compression toward the target's dynamics** — more glue when the target's peak-to-loudness
  ratio is lower than the mix's would be, less when it is higher (the *dynamics* amount); the
  limiter follows the loudness target, which moves toward the target's loudness by the
  *loudness* amount (0 % by default: the streaming master stays at −14 LUFS);
- **width toward the target's image** — a master mid/side width (side gain) that moves the mix's side
  share above :data:`~workbench.analysis.reference.LOW_END_HZ` toward the target's, and a mono low end
  when the target's is mono (the *width* amount).

The mix's own descriptors are **estimated from the analysis**, not rendered: each stem's band power
at its planned gain and EQ, placed by its pan (constant-power law) or, for a stereo stem, split into
mid and side by its inter-channel correlation, summed in power over the frames where the estimated
bus is at or above its mean power (the loud-section rule of the reference measurement). Why: the
planner never touches audio (DESIGN §2), and re-planning after a slider move stays a matter of
milliseconds. What the estimate leaves out — compression, the reverb return, the limiter — is why
the benchmark (``benchmarks/reference.py``) measures the rendered mixes, not the estimate.

:func:`master_tone` builds the renderer's master EQ and width stage from a plan's master: the one
place the renderer calls into this module.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..analysis.reference import LOW_END_HZ, TONAL_RANGE_HZ, ReferenceMeasurement, tonal_balance_db
from ..errors import WorkbenchError
from . import dsp
from .plan import Compressor, EQBand, MasterPlan, MixPlan
from .response import eq_response_db
from .rules import master as master_rule

__all__ = ["MatchAmounts", "MixEstimate", "estimate_mix", "match_reference", "master_tone", "parse_match"]

#: Largest master EQ move (dB). Our engineering choice: a master EQ that needs more than this is a
#: mix problem, and a bounded curve cannot chase a reference's quirks.
MASTER_EQ_MAX_DB = 9.0
#: Master EQ moves smaller than this (dB) are left out. Our threshold: too small to be worth a decision.
MIN_MOVE_DB = 0.3
#: Centres of the master bells (Hz): half an octave apart, from 63 Hz to 11 kHz.
BELL_HZ = tuple(round(62.5 * 2 ** (k / 2), 1) for k in range(16))
#: Bell Q: 1.41 is one octave between the band-edge frequencies (RBJ cookbook:
#: ``1/Q = 2 sinh(ln 2 / 2 · BW)``) — broad bells overlapping their neighbours make a smooth curve,
#: not a narrow matching one.
BELL_Q = 1.41
LOW_SHELF_HZ = 45.0
HIGH_SHELF_HZ = 14000.0
SHELF_Q = 0.707
#: Ridge weight of the least-squares fit (per dB² of band gain, against the mean squared error in
#: dB² per ERB band): keeps neighbouring overlapping bells from fighting. Our choice.
RIDGE = 0.003
#: A band goes on one stem when that stem holds at least this share of the estimated bus energy in the
#: band's region ("clearly one stem's region"). Our threshold.
OWNER_SHARE = 0.75
#: A stem's level moves toward the target only where it holds at least this share of the estimated mix
#: energy (three neighbouring ERB bands): "clearly one stem's region". Our threshold.
STEM_OWNER_SHARE = 0.75
#: Stem level moves toward a target stay within this (dB), and smaller ones than STEM_MIN_MOVE_DB are
#: left out (the balance model's level stands unless the target clearly asks otherwise). Our choices.
STEM_MOVE_MAX_DB = 9.0
STEM_MIN_MOVE_DB = 1.0
#: Ridge weight of the stem level fit (per dB² of move). Our choice.
STEM_RIDGE = 0.01
#: Master width (side gain) limits: 0 folds to mono; above 1.5 (+3.5 dB of side) the mono fold loses
#: too much. Our engineering choice.
MASTER_WIDTH_RANGE = (0.0, 1.5)
#: Glue gain reduction range (dB) when moving toward a target's dynamics (2:1 ratio as the rule).
GLUE_REDUCTION_RANGE_DB = (0.5, 6.0)
#: A target's low end counts as mono when its side share below LOW_END_HZ is under this.
MONO_LOW_SHARE = 0.05
_FLOOR = 1e-20


@dataclass(frozen=True)
class MatchAmounts:
    """How far to move toward the target per dimension, each 0–100 %.

    Defaults: tone 70, dynamics 50, width 100, loudness 0 (the issue's example: the streaming
    master keeps its −14 LUFS unless asked).
    """

    tone: float = 70.0
    dynamics: float = 50.0
    width: float = 100.0
    loudness: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v <= 100:
                raise WorkbenchError("bad_match", f"The match amount {f.name}={v!r} is not a number from 0 to 100.",
                                     f"Write e.g. --match {f.name}=70 (percent of the way to the reference).")

    def describe(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name):g} %" for f in dataclasses.fields(self))


def parse_match(specs: Iterable[str] | str | None, base: MatchAmounts | None = None) -> MatchAmounts:
    """``["tone=70", "width=100"]`` (or one string ``"tone=70 width=100"``) → :class:`MatchAmounts`.

    Raises
    ------
    WorkbenchError
        ``bad_match`` for an unknown dimension or a value that is not 0–100.
    """
    base = base or MatchAmounts()
    if specs is None:
        return base
    items = specs.replace(",", " ").split() if isinstance(specs, str) else \
        [p for s in specs for p in str(s).replace(",", " ").split()]
    names = {f.name for f in dataclasses.fields(MatchAmounts)}
    values: dict[str, float] = {}
    for item in items:
        key, sep, val = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in names:
            raise WorkbenchError("bad_match", f"Cannot read the match amount {item!r}.",
                                 "Write dimension=percent with dimension one of " + ", ".join(sorted(names))
                                 + ", e.g. --match tone=70 dynamics=50 width=100 loudness=0.")
        try:
            values[key] = float(val.rstrip("%"))
        except ValueError:
            raise WorkbenchError("bad_match", f"The match amount {item!r} is not a number.",
                                 f"Write {key}=70 (a percent from 0 to 100).") from None
    return dataclasses.replace(base, **values)


@dataclass(frozen=True)
class MixEstimate:
    """The mix's descriptors as the planner estimates them (see the module doc)."""

    centres_hz: tuple[float, ...]
    tonal_db: tuple[float, ...]
    mid_power: tuple[float, ...]
    side_power: tuple[float, ...]
    stem_mid_power: tuple[tuple[float, ...], ...]
    plr_db: float

    def side_share(self, lo_hz: float, hi_hz: float, side_gain: float = 1.0) -> float:
        """Mean over the bands in ``[lo_hz, hi_hz)`` of ``E_S / (E_M + E_S)`` (as the reference's),
        with the side scaled by ``side_gain``."""
        c = np.asarray(self.centres_hz)
        keep = (c >= lo_hz) & (c < hi_hz)
        m = np.asarray(self.mid_power)[keep]
        s = np.asarray(self.side_power)[keep] * side_gain ** 2
        return float(np.mean(s / np.maximum(m + s, _FLOOR))) if keep.any() else 0.0


def estimate_mix(plan: MixPlan, analysis) -> MixEstimate:
    """Estimate the planned mix's tonal balance, mid/side power per band and PLR from the analysis."""
    centres = np.asarray(analysis.bands.centres_hz)
    n = len(analysis.files)
    by_file = {s.file: s for s in plan.stems.values()}
    gains = np.zeros((n, len(centres)))
    mid_k = np.zeros(n)
    side_k = np.zeros(n)
    for i, f in enumerate(analysis.files):
        sp = by_file.get(f)
        if sp is None or sp.mute:
            continue
        gains[i] = 10 ** ((sp.gain_db + eq_response_db(sp.eq, centres, plan.sample_rate)) / 10)
        feats = analysis.stems[i]
        if sp.channels == 1 or feats.channels == 1:
            gl, gr = dsp.constant_power_gains(sp.pan)
            # A mono stem x panned to (gl·x, gr·x): M = (gl + gr)/2·x, S = (gl − gr)/2·x.
            mid_k[i], side_k[i] = (gl + gr) ** 2 / 4, (gl - gr) ** 2 / 4
        else:
            c = min(max(float(feats.stereo_correlation), -1.0), 1.0)
            mid_k[i] = 1.0
            side_k[i] = (1 - c) / max(1 + c, 1e-3) * sp.width ** 2
    power = analysis.band_power.astype(np.float64) * gains[:, :, None]      # (stems, bands, frames)
    total = (power * mid_k[:, None, None]).sum(axis=(0, 1))
    loud = total >= total.mean() if total.size else np.ones(0, bool)
    if not loud.any():
        loud = np.ones_like(total, dtype=bool)
    stem_band = power[:, :, loud].mean(axis=2)
    mid = (stem_band * mid_k[:, None]).sum(axis=0)
    side = (stem_band * side_k[:, None]).sum(axis=0)
    # PLR: the bus loud-peak estimate of the glue rule (power sum of each stem's loud peak at its gain)
    # over the power sum of the stems' loudness at their gains; the master cannot exceed ceiling − target.
    peaks, louds = [], []
    for i, f in enumerate(analysis.files):
        sp = by_file.get(f)
        feats = analysis.stems[i]
        if sp is None or sp.mute:
            continue
        if math.isfinite(feats.loud_peak_dbfs):
            peaks.append(feats.loud_peak_dbfs + sp.gain_db)
        if math.isfinite(feats.integrated_lufs):
            louds.append(feats.integrated_lufs + sp.gain_db)
    plr = plan.master.ceiling_dbtp - plan.master.target_lufs
    if peaks and louds:
        est = 10 * math.log10(sum(10 ** (p / 10) for p in peaks)) - 10 * math.log10(sum(10 ** (x / 10) for x in louds))
        plr = min(plr, est)
    return MixEstimate(centres_hz=tuple(float(c) for c in centres),
                       tonal_db=tuple(float(v) for v in tonal_balance_db(mid, centres)),
                       mid_power=tuple(float(v) for v in mid), side_power=tuple(float(v) for v in side),
                       stem_mid_power=tuple(tuple(float(v) for v in row * mid_k[i]) for i, row in enumerate(stem_band)),
                       plr_db=float(plr))


# ---------------------------------------------------------------- tone
def _band_set() -> list[EQBand]:
    return ([EQBand("low_shelf", LOW_SHELF_HZ, 0.0, SHELF_Q)]
            + [EQBand("bell", f, 0.0, BELL_Q) for f in BELL_HZ]
            + [EQBand("high_shelf", HIGH_SHELF_HZ, 0.0, SHELF_Q)])


def fit_tone_eq(diff_db: np.ndarray, centres_hz: np.ndarray, sample_rate: int = 44100) -> list[float]:
    """Gains (dB) of the master band set that best reach ``diff_db`` over the tonal range.

    Regularised least squares (weight :data:`RIDGE`) with a free level offset, two refinement passes
    with the filters' true responses, each gain bounded to ±:data:`MASTER_EQ_MAX_DB`.
    """
    c = np.asarray(centres_hz, dtype=float)
    keep = (c >= TONAL_RANGE_HZ[0]) & (c <= TONAL_RANGE_HZ[1])
    proto = _band_set()
    unit = np.stack([eq_response_db([dataclasses.replace(b, gain_db=1.0)], c[keep], sample_rate) for b in proto],
                    axis=1)
    a = np.concatenate([unit, np.ones((unit.shape[0], 1))], axis=1)     # last column: level offset
    reg = np.diag([RIDGE * unit.shape[0]] * len(proto) + [0.0])
    target = np.asarray(diff_db, dtype=float)[keep]
    g = np.zeros(len(proto))
    for _ in range(3):
        actual = eq_response_db([dataclasses.replace(b, gain_db=float(gi)) for b, gi in zip(proto, g)],
                                c[keep], sample_rate) if np.any(g) else np.zeros(keep.sum())
        resid = target - actual
        # Solve for the step on the linearised responses, the offset re-fitted every pass.
        x = np.linalg.solve(a.T @ a + reg, a.T @ (resid + unit @ g))
        g = np.clip(x[:len(proto)], -MASTER_EQ_MAX_DB, MASTER_EQ_MAX_DB)
    return [float(v) for v in g]


def _smoothed_share(stem_power: np.ndarray) -> np.ndarray:
    """Each stem's share of the estimated mix energy per band, smoothed over three neighbouring bands."""
    kernel = np.ones(3)
    p = np.array([np.convolve(row, kernel, mode="same") for row in stem_power])
    return p / np.maximum(p.sum(axis=0, keepdims=True), _FLOOR)


def _owned_region(stem_power: np.ndarray, i: int, centres: np.ndarray) -> tuple[float, float]:
    """The band range (Hz) where stem ``i`` holds at least :data:`STEM_OWNER_SHARE` of the energy."""
    owned = np.nonzero(_smoothed_share(stem_power)[i] >= STEM_OWNER_SHARE)[0]
    if not owned.size:
        return float(centres[0]), float(centres[-1])
    return float(centres[owned.min()]), float(centres[owned.max()])


def fit_stem_levels(stem_power: np.ndarray, goal_db: np.ndarray, keep: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Level moves (dB) of the stems that own a region, fitted to the tonal ``goal_db``.

    Only stems holding at least :data:`STEM_OWNER_SHARE` of the estimated mix energy somewhere (three
    neighbouring ERB bands) may move, each within ±:data:`STEM_MOVE_MAX_DB`, by regularised
    Gauss-Newton on the band levels ``10 log10 Σ_s share_sb 10^(δ_s/10)`` (level offset free); moves
    under :data:`STEM_MIN_MOVE_DB` are dropped. Returns the moves (0 for the others) and the tonal
    change they make per band (dB, mean over ``keep`` removed).
    """
    n = stem_power.shape[0]
    total = np.maximum(stem_power.sum(axis=0), _FLOOR)
    share = stem_power / total
    eligible = np.nonzero(_smoothed_share(stem_power).max(axis=1) >= STEM_OWNER_SHARE)[0] if n > 1 else np.array([])
    delta = np.zeros(n)

    def change(d: np.ndarray) -> np.ndarray:
        c = 10 * np.log10(np.maximum((share * 10 ** (d[:, None] / 10)).sum(axis=0), _FLOOR))
        return c - c[keep].mean()

    if eligible.size:
        goal = np.asarray(goal_db)[keep]
        for _ in range(12):
            new_share = share * 10 ** (delta[:, None] / 10)
            new_share = new_share / np.maximum(new_share.sum(axis=0), _FLOOR)
            jac = new_share[eligible][:, keep].T                      # d(band dB)/d(δ_s dB)
            jac = jac - jac.mean(axis=0)                              # the level offset is free
            resid = goal - change(delta)[keep]
            step = np.linalg.solve(jac.T @ jac + STEM_RIDGE * keep.sum() * np.eye(eligible.size),
                                   jac.T @ resid - STEM_RIDGE * keep.sum() * delta[eligible])
            delta[eligible] = np.clip(delta[eligible] + step, -STEM_MOVE_MAX_DB, STEM_MOVE_MAX_DB)
        delta = np.where(np.abs(delta) >= STEM_MIN_MOVE_DB, np.round(delta, 2), 0.0)
    return [float(d) for d in delta], change(delta)


def _region(b: EQBand) -> tuple[float, float]:
    if b.kind == "low_shelf":
        return 0.0, b.freq_hz * 1.2
    if b.kind == "high_shelf":
        return b.freq_hz / 1.2, 1e9
    return b.freq_hz / math.sqrt(2), b.freq_hz * math.sqrt(2)


def _fmt_hz(f: float) -> str:
    return f"{f / 1000:.1f} kHz" if f >= 1000 else f"{f:.0f} Hz"


def _where(b: EQBand) -> str:
    lo, hi = _region(b)
    if b.kind == "low_shelf":
        return f"below {_fmt_hz(hi)}"
    if b.kind == "high_shelf":
        return f"above {_fmt_hz(lo)}"
    return f"around {_fmt_hz(b.freq_hz)} ({_fmt_hz(lo)}–{_fmt_hz(hi)})"


def _kind_name(b: EQBand) -> str:
    return {"low_shelf": "low shelf", "high_shelf": "high shelf", "bell": "bell"}[b.kind]


# ---------------------------------------------------------------- the whole match
def from_measurement(mix: ReferenceMeasurement, plan: MixPlan, analysis) -> MixEstimate:
    """A :class:`MixEstimate` from a measured render of the plan (tonal balance, mid/side, PLR measured).

    The per-stem shares (who owns a band) still come from the analysis estimate.
    """
    est = estimate_mix(plan, analysis)
    mid = 10 ** (np.asarray(mix.tonal_db) / 10)
    share = np.clip(np.asarray(mix.side_share), 0.0, 0.999)
    return dataclasses.replace(est, tonal_db=tuple(mix.tonal_db), mid_power=tuple(float(v) for v in mid),
                               side_power=tuple(float(v) for v in mid * share / (1 - share)),
                               plr_db=float(mix.plr_db))


def match_reference(plan: MixPlan, analysis, target: ReferenceMeasurement, amounts: MatchAmounts | None = None, *,
                    label: str = "the reference", mix: ReferenceMeasurement | None = None) -> MixPlan:
    """A new plan that moves ``plan`` toward ``target`` by ``amounts``; every move carries its reason.

    Parameters
    ----------
    plan : MixPlan
        The plan the rules decided (not changed).
    analysis : Analysis
        The session's measurements (for the mix estimate).
    target : ReferenceMeasurement
        What to move toward (one or more references combined, or a style's target).
    amounts : MatchAmounts, optional
    label : str
        How reasons name the target ("the reference", "the style 'lmms-electronic'").
    mix : ReferenceMeasurement, optional
        ``plan`` rendered and measured like the target (:func:`workbench.pipeline.measure_plan_mix`);
        without it the mix is estimated from the analysis (:func:`estimate_mix`).

    Returns
    -------
    MixPlan
        With ``master.eq``, ``master.width``, ``master.mono_below_hz``, a glue set toward the target's
        dynamics, possibly a moved ``master.target_lufs`` and stem EQ bands, and ``master.target``.
    """
    amounts = amounts or MatchAmounts()
    est = estimate_mix(plan, analysis) if mix is None else from_measurement(mix, plan, analysis)
    how = "estimated from the stems at their planned levels" if mix is None else "measured on a render of the mix"
    centres = np.asarray(est.centres_hz)
    if len(target.centres_hz) != len(centres) or not np.allclose(target.centres_hz, centres, rtol=1e-3):
        raise WorkbenchError("bad_reference", "The target was measured on other bands than this analysis uses.",
                             "Measure the reference again with this workbench (or make the style again).")
    stems = {k: dataclasses.replace(v, eq=list(v.eq)) for k, v in plan.stems.items()}
    notes = list(plan.notes)
    m = plan.master

    # 1. Tone: fit the broad band set to the difference, scaled by the amount.
    keep = (centres >= TONAL_RANGE_HZ[0]) & (centres <= TONAL_RANGE_HZ[1])
    diff = np.asarray(target.tonal_db) - np.asarray(est.tonal_db)
    diff = diff - diff[keep].mean()
    a_tone = amounts.tone / 100.0
    master_eq: list[EQBand] = []
    if a_tone > 0:
        names_by_file = {s.file: k for k, s in stems.items()}
        stem_power = np.asarray(est.stem_mid_power)
        # 1a. A stem that owns a region moves by its fader first (a balance move), the master EQ
        #     takes what is left.
        goal = diff * a_tone
        deltas, change = fit_stem_levels(stem_power, goal, keep)
        for i, d in enumerate(deltas):
            nm = names_by_file.get(analysis.files[i])
            if nm is None or d == 0.0 or stems[nm].mute:
                continue
            lo_hz, hi_hz = _owned_region(stem_power, i, centres)
            inside = (centres >= lo_hz) & (centres <= hi_hz) & keep
            measured = float(diff[inside].mean()) if inside.any() else 0.0
            share = float(stem_power[i, inside].sum() / max(float(stem_power[:, inside].sum()), _FLOOR))
            sp = stems[nm]
            stems[nm] = dataclasses.replace(
                sp, gain_db=round(sp.gain_db + d, 2),
                gain_reason=f"{sp.gain_reason}; {d:+.1f} dB toward {label}: it has {abs(measured):.1f} dB "
                            f"{'more' if measured > 0 else 'less'} level from {_fmt_hz(lo_hz)} to {_fmt_hz(hi_hz)} "
                            f"than this mix ({how}), where {nm} holds {share * 100:.0f} % of the mix's energy; "
                            f"matched at {amounts.tone:g} %")
        gains = fit_tone_eq(goal - change, centres, plan.sample_rate)
        for proto, g in zip(_band_set(), gains):
            if abs(g) < MIN_MOVE_DB:
                continue
            lo, hi = _region(proto)
            inside = (centres >= lo) & (centres < hi) & keep
            measured = float(diff[inside].mean()) if inside.any() else float(g / a_tone)
            band = dataclasses.replace(proto, gain_db=round(g, 2))
            why = (f"{label} has {abs(measured):.1f} dB {'more' if measured > 0 else 'less'} "
                   f"{'low end' if proto.kind == 'low_shelf' else 'air' if proto.kind == 'high_shelf' else 'level'} "
                   f"{_where(proto)} than this mix ({how}), "
                   f"matched at {amounts.tone:g} %")
            took = float(np.asarray(change)[inside].mean()) if inside.any() else 0.0
            if abs(took) >= 0.05:
                # the faders moved first; the EQ is fitted to what they left (it may even give some back)
                rest = float(np.asarray(goal - change)[inside].mean())
                why += (f"; the fader moves above already change this region by {took:+.1f} dB, so the EQ "
                        f"makes up the remaining {rest:+.1f} dB (fitted with its neighbouring bands)")
            region_power = stem_power[:, inside].sum(axis=1) if inside.any() else np.zeros(len(stem_power))
            owners = region_power / max(float(region_power.sum()), _FLOOR)
            owner = int(np.argmax(owners)) if owners.size else -1
            owner_name = names_by_file.get(analysis.files[owner]) if owner >= 0 else None
            if owner_name is not None and owners[owner] >= OWNER_SHARE and not stems[owner_name].mute:
                band = dataclasses.replace(band, reason=f"{band.gain_db:+.1f} dB {_kind_name(band)} at "
                                           f"{_fmt_hz(band.freq_hz)} on {owner_name}: {why}; {owner_name} holds "
                                           f"{owners[owner] * 100:.0f} % of the mix's energy there")
                stems[owner_name].eq.append(band)
            else:
                band = dataclasses.replace(band, reason=f"{band.gain_db:+.1f} dB {_kind_name(band)} at "
                                           f"{_fmt_hz(band.freq_hz)} on the mix bus: {why}")
                master_eq.append(band)

    # 2. Loudness (the limiter's drive) and dynamics (the glue).
    target_lufs = m.target_lufs
    if amounts.loudness > 0:
        from .settings import TARGET_LUFS_RANGE

        target_lufs = round(min(max(m.target_lufs + amounts.loudness / 100 * (target.integrated_lufs - m.target_lufs),
                                    TARGET_LUFS_RANGE[0]), TARGET_LUFS_RANGE[1]), 1)
    master_reason = m.reason
    if target_lufs != m.target_lufs:
        master_reason += (f"; loudness target {target_lufs:g} LUFS: {label} plays at "
                          f"{target.integrated_lufs:.1f} LUFS, matched at {amounts.loudness:g} % "
                          f"from {m.target_lufs:g} LUFS")
    glue = m.glue
    plr_now = min(est.plr_db, m.ceiling_dbtp - target_lufs)
    if amounts.dynamics > 0 and glue is not None:
        # Half of the PLR difference is asked of the 2:1 glue (its gain reduction lowers the peaks less
        # than it lowers the loudest passages' level); the limiter does the rest at the loudness target.
        gap = plr_now - target.plr_db
        reduction = master_rule.GLUE_REDUCTION_DB + amounts.dynamics / 100 * gap / 2
        reduction = round(min(max(reduction, GLUE_REDUCTION_RANGE_DB[0]), GLUE_REDUCTION_RANGE_DB[1]), 1)
        if abs(reduction - master_rule.GLUE_REDUCTION_DB) >= 0.1:
            ratio = 1 - 1 / glue.ratio
            bus_db = glue.threshold_db + master_rule.GLUE_REDUCTION_DB / ratio
            glue = Compressor(round(bus_db - reduction / ratio, 1), glue.ratio, glue.attack_ms, glue.release_ms,
                              glue.makeup_db,
                              f"glue {glue.ratio:g}:1, {glue.attack_ms:g}/{glue.release_ms:g} ms aiming at about "
                              f"{reduction:g} dB on the loudest passages: {label} has a peak-to-loudness ratio of "
                              f"{target.plr_db:.1f} dB, this mix about {plr_now:.1f} dB ({how}), matched at "
                              f"{amounts.dynamics:g} %")

    # 3. Width: one side gain above the low end, and a mono low end when the target's is mono.
    a_w = amounts.width / 100.0
    width, mono_hz, width_reason = 1.0, 0.0, ""
    if a_w > 0:
        s_mix = est.side_share(LOW_END_HZ, 20000.0)
        s_ref = target.region_side_share(LOW_END_HZ, 20000.0)
        s_goal = s_mix + a_w * (s_ref - s_mix)
        mid_p = float(np.asarray(est.mid_power)[centres >= LOW_END_HZ].sum())
        side_p = float(np.asarray(est.side_power)[centres >= LOW_END_HZ].sum())
        parts = []
        if side_p > 1e-6 * max(mid_p, _FLOOR) and 0 < s_goal < 1:
            # The side gain whose mean band share is the goal (the share rises with the gain: bisection).
            lo_w, hi_w = MASTER_WIDTH_RANGE
            for _ in range(40):
                w = 0.5 * (lo_w + hi_w)
                lo_w, hi_w = (w, hi_w) if est.side_share(LOW_END_HZ, 20000.0, w) < s_goal else (lo_w, w)
            w = round(0.5 * (lo_w + hi_w), 2)
            if abs(w - 1.0) >= 0.05:
                width = w
                parts.append(f"side {20 * math.log10(max(w, 1e-3)):+.1f} dB (width {w:g}) above "
                             f"{LOW_END_HZ:g} Hz: {label}'s side share there is {s_ref:.2f}, this mix's about "
                             f"{s_mix:.2f} ({how}), matched at {amounts.width:g} %")
        elif s_ref > s_mix + 0.02:
            notes.append(f"{label} is wider than this mix (side share {s_ref:.2f} against {s_mix:.2f}) but the mix "
                         "has almost no side signal to widen: pan parts apart to open it.")
        low_mix = est.side_share(0.0, LOW_END_HZ)
        if target.low_side_share < MONO_LOW_SHARE and low_mix > target.low_side_share + 0.02:
            mono_hz = LOW_END_HZ
            parts.append(f"low end mono below {LOW_END_HZ:g} Hz: {label}'s side share there is "
                         f"{target.low_side_share:.2f}, this mix's about {low_mix:.2f}")
        width_reason = "; ".join(parts)

    if master_eq or width != 1.0 or mono_hz > 0:
        notes.append("The master EQ and width toward the target are rendered into the mix and the remastered "
                     "processed stems; the DAW projects do not carry them yet: add them on the project's master.")
    new_master = dataclasses.replace(
        m, target_lufs=target_lufs, glue=glue, reason=master_reason, eq=master_eq, width=width,
        mono_below_hz=mono_hz, width_reason=width_reason,
        target=f"{label}: {target.source} ({amounts.describe()})")
    return dataclasses.replace(plan, stems=stems, master=new_master, notes=notes)


# ---------------------------------------------------------------- the renderer's master stage
def master_tone(master: MasterPlan, sample_rate: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """The master EQ → width → mono-low-end stage of a plan, as a streaming ``(2, n) → (2, n)`` function.

    ``None`` when the plan asks for none of them (the bus passes untouched). EQ bands are the RBJ
    biquads and Butterworth filters of the stems' EQ (:mod:`workbench.mixing.dsp`); width scales the
    side signal (Blumlein's mid/side); the mono low end high-passes the side signal (12 dB/oct
    Butterworth) at ``mono_below_hz``. State is carried across blocks.
    """
    sections = []
    for b in master.eq:
        if b.kind in ("highpass", "lowpass"):
            sections.append(dsp.butterworth_sos(b.kind, b.freq_hz, b.slope_db_per_oct, sample_rate))
        elif b.gain_db != 0.0:
            sections.append(dsp.rbj_biquad_sos(b.kind, b.freq_hz, b.gain_db, b.q, sample_rate))
    eq = dsp.SosFilter(np.concatenate(sections), 2) if sections else None
    width = float(master.width)
    side_hp = (dsp.SosFilter(dsp.butterworth_sos("highpass", master.mono_below_hz, 12, sample_rate), 1)
               if master.mono_below_hz > 0 else None)
    if eq is None and width == 1.0 and side_hp is None:
        return None

    def process(block: np.ndarray) -> np.ndarray:
        y = eq.process(block) if eq is not None else block
        if width == 1.0 and side_hp is None:
            return y.astype(np.float32, copy=False)
        mid = 0.5 * (y[0] + y[1])
        side = (0.5 * width) * (y[0] - y[1])
        if side_hp is not None:
            side = side_hp.process(side[None, :])[0]
        return np.stack([mid + side, mid - side]).astype(np.float32, copy=False)

    return process


def refine_tone(plan: MixPlan, target: ReferenceMeasurement, first: ReferenceMeasurement,
                second: ReferenceMeasurement, amounts: MatchAmounts | None = None, *,
                label: str = "the reference") -> MixPlan:
    """Correct the master EQ once more after measuring the matched mix (closed loop).

    ``first`` is the rules' mix measured, ``second`` the mix after :func:`match_reference`. The goal
    stays ``first`` moved toward ``target`` by the tone amount; what the render still misses (the
    limiter, compression and reverb react to the EQ) is fitted with the same broad bands and added to
    the master's, within the same bounds. Stem EQ moves are left as they are.
    """
    amounts = amounts or MatchAmounts()
    a = amounts.tone / 100.0
    if a <= 0:
        return plan
    centres = np.asarray(target.centres_hz)
    keep = (centres >= TONAL_RANGE_HZ[0]) & (centres <= TONAL_RANGE_HZ[1])
    goal = np.asarray(first.tonal_db) + a * (np.asarray(target.tonal_db) - np.asarray(first.tonal_db))
    resid = goal - np.asarray(second.tonal_db)
    resid = resid - resid[keep].mean()
    delta = fit_tone_eq(resid, centres, plan.sample_rate)
    have = {(b.kind, b.freq_hz): b for b in plan.master.eq}
    diff = np.asarray(target.tonal_db) - np.asarray(first.tonal_db)
    diff = diff - diff[keep].mean()
    bands = []
    for proto, d in zip(_band_set(), delta):
        old = have.get((proto.kind, proto.freq_hz))
        g = (old.gain_db if old is not None else 0.0) + d
        g = round(min(max(g, -MASTER_EQ_MAX_DB), MASTER_EQ_MAX_DB), 2)
        if abs(g) < MIN_MOVE_DB:
            continue
        lo, hi = _region(proto)
        inside = (centres >= lo) & (centres < hi) & keep
        measured = float(diff[inside].mean()) if inside.any() else 0.0
        missed = float(resid[inside].mean()) if inside.any() else 0.0
        what = 'low end' if proto.kind == 'low_shelf' else 'air' if proto.kind == 'high_shelf' else 'level'
        bands.append(dataclasses.replace(
            proto, gain_db=g,
            reason=f"{g:+.1f} dB {_kind_name(proto)} at {_fmt_hz(proto.freq_hz)} on the mix bus: {label} has "
                   f"{abs(measured):.1f} dB {'more' if measured > 0 else 'less'} {what} {_where(proto)} than this mix "
                   f"(measured on a render of the mix), matched at {amounts.tone:g} %; measured again after "
                   f"matching, the mix was {abs(missed):.1f} dB {'below' if missed > 0 else 'above'} the goal "
                   f"here, so this band was corrected by {d:+.1f} dB (the stems' moves, the compressors and the "
                   f"limiter react to the EQ)"))
    return dataclasses.replace(plan, master=dataclasses.replace(plan.master, eq=bands))
