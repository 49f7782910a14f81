"""Deciding a mix: from a session and its analysis to a :class:`MixPlan`.

``plan_mix`` reads like the order an engineer works in: hear what each part
does in the song (its role, and which part carries the melody), balance the
levels by loudness with the fitted balance model, clean up each stem's low end
and a drum's ringing resonance, measure who masks
whom at those levels and cut the less important stem where it covers a more
important one, compress, place in the stereo field, send to the reverb, set
up the master. Every rule lives in :mod:`workbench.mixing.rules` with its
sources; this module only wires them together. It never touches audio: it
reads numbers from the :class:`~workbench.analysis.Analysis`, so changing an
importance or a category re-plans in milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..analysis import Analysis
from ..analysis.features import blas_single_thread
from ..analysis.masking import MaskingResult, compute_masking, pair_map_db
from ..analysis.parts import PartFeatures, co_activity, part_features
from ..categories import default_importance
from ..errors import WorkbenchError
from ..units import db_to_power, power_to_db
from .balance_model import BalanceModel, default_model, term_values
from .plan import EQBand, MixPlan, StemPlan
from .response import eq_response_db
from .rules import dynamics, eq, gain, master, pan, space
from .rules.roles import MELODIC, Role, assign_role, category_key, foreground_parts
from .settings import MixSettings

#: The planner measures masking on at most this many analysis frames (every
#: k-th frame of a song longer than 2048 × 92.9 ms ≈ 3 min 10 s): masking
#: costs stems² × bands × frames (32 stems × 5 min took 1.4 s to re-plan), and
#: the shares it reads are ratios of sums over a stem's active frames, which a
#: systematic sample of at least 1024 frames estimates closely. Measured on
#: the seven evaluation sessions planned from every other frame (about 180
#: frames each, a much smaller sample): five plans were identical, one cut
#: moved by 0.2 dB and one −2.9 dB bell appeared (a cut at its threshold).
PLAN_MAX_FRAMES = 2048


def plan_mix(session, analysis: Analysis, settings: MixSettings | None = None, *,
             model: BalanceModel | None = None, target=None, match=None, target_label: str = "the reference",
             style=None, mix=None) -> MixPlan:
    """Decide the whole mix.

    Parameters
    ----------
    session : Session
        Stems with their category and importance (the user's choices).
    analysis : Analysis
        The measurements of ``session.mixable_stems`` (:func:`workbench.analyse`).
    settings : MixSettings, optional
        Loudness target, ceiling, output format... (defaults when omitted).
    model : BalanceModel, optional
        The balance model (default: the shipped one, fitted on authored mixes).
    target : ReferenceMeasurement, optional
        Mix toward it (:func:`workbench.mixing.reference_match.match_reference`), by ``match``
        (:class:`~workbench.mixing.reference_match.MatchAmounts`); reasons name it ``target_label``.
    style : Style, optional
        A style (:mod:`workbench.mixing.style`): its role offsets, pan/width/space tendencies, and its
        target descriptors as the target when ``target`` is not given.
    mix : ReferenceMeasurement, optional
        The rules' plan (with the style) rendered and measured (:func:`workbench.pipeline.measure_plan_mix`),
        for the moves toward the target; without it the mix is estimated from the analysis.

    Returns
    -------
    MixPlan
        Deterministic for the same input.

    Raises
    ------
    WorkbenchError
        ``cannot_mix`` when the session has error findings; ``stale_analysis``
        when the analysis does not cover the session's stems.
    """
    # The masking maps are many small matrix products: OpenBLAS's own threads
    # only oversubscribe the cores. Measured on the 2-core machine with another
    # process busy: a 16-stem re-plan took 1.6–1.8 s CPU with the default BLAS
    # threads and 0.12–0.17 s with one.
    with blas_single_thread():
        plan = _plan_mix(session, analysis, settings, model)
    # Toward a style and/or a reference: moves on top of the rules' mix, each with its reason.
    if style is not None:
        from .style import apply_style

        plan = apply_style(plan, style)
        if target is None and style.target is not None:
            target, target_label = style.target, f"the style '{style.name}'"
    if target is not None:
        from .reference_match import match_reference

        plan = match_reference(plan, analysis, target, match, label=target_label, mix=mix)
    return plan


def _plan_mix(session, analysis: Analysis, settings: MixSettings | None, model: BalanceModel | None) -> MixPlan:
    settings = settings or MixSettings()
    if not session.can_mix:
        listed = "; ".join(f"{f.stem or 'session'}: {f.message}" for f in session.errors)
        raise WorkbenchError("cannot_mix", f"The session cannot be mixed: {listed}",
                             "Fix the errors listed by `workbench check` and try again.")
    stems = _stems_in_analysis_order(session, analysis)
    names = list(analysis.names)
    cats = [s.category for s in stems]
    feats = analysis.stems
    n = len(names)

    # A stereo file whose channels are the same is mono in a stereo file: it is
    # folded to mono and panned as one. BS.1770 sums the channels' powers, so
    # its mono fold measures 3.01 dB less (10·log10 2).
    fold = [f.channels == 2 and f.stereo_correlation >= pan.FAKE_STEREO_CORRELATION for f in feats]
    fold_db = [power_to_db(2.0) if fold[i] else 0.0 for i in range(n)]
    measured = [f.integrated_lufs - fold_db[i] for i, f in enumerate(feats)]

    # 1. What each part does (its role), which part leads, and the loudness
    #    balance from the fitted model (input level never decides it).
    model = model or default_model()
    decided = part_roles(session, analysis)
    roles = [d.role for d in decided]
    imps = [d.importance for d in decided]
    quiet = {f.stem for f in session.findings if f.code == "too_quiet"}
    inputs = [gain.GainInput(name=names[i], role=roles[i].key, role_reason=roles[i].reason, importance=imps[i],
                             suggested_importance=decided[i].suggested_importance, measured_lufs=measured[i],
                             terms=decided[i].terms, too_quiet=stems[i].file in quiet,
                             peak_dbfs=feats[i].sample_peak_dbfs) for i in range(n)]
    gains = gain.plan_gains(inputs, model)
    gain_db = np.array([gains[nm].gain_db for nm in names])

    # 2. High-pass per stem, and one cut on a drum's persistent resonance.
    eqs: list[list[EQBand]] = []
    for i in range(n):
        bands_i = [eq.highpass(cats[i], feats[i].long_term_band_db, analysis.bands).to_band()]
        fix = eq.corrective(cats[i], feats[i].long_term_band_db, analysis.bands,
                            analysis.band_power[i], analysis.activity[i])
        if fix is not None:
            bands_i.append(fix.to_band())
        eqs.append(bands_i)

    # 3. Masking at the planned levels, after those filters → unmasking cuts.
    frames = _plan_frames(analysis.n_frames)
    activity = analysis.activity[:, frames]
    shaped = _shaped_band_power(analysis, eqs, frames)
    masking = compute_masking(shaped, activity, analysis.bands, gains_db=gain_db, names=names)
    energy = _band_energy(shaped, activity)
    cuts = eq.unmasking(
        names, cats, imps, masking.band_share, energy,
        lambda m, t: pair_map_db(shaped, activity, analysis.bands, m, t, gain_db),
        analysis.bands, max_cut_db=settings.max_eq_cut_db)
    for i, nm in enumerate(names):
        eqs[i].extend(c.to_band() for c in cuts.get(nm, []))

    # 4. Compression from each stem's own loud level.
    # (A compressor's detector follows the signal's peak envelope, so thresholds
    # are set from the level the stem's loud hits reach, not from its loudness.)
    peaks = [f.loud_peak_dbfs if math.isfinite(f.loud_peak_dbfs) else None for f in feats]
    comps = [dynamics.compressor(cats[i], imps[i], peaks[i], feats[i].crest_db, gain_db[i]) for i in range(n)]
    comp_plans = [c.to_plan() if c is not None else None for c in comps]

    # 5. Panning, with the masking after EQ deciding who goes where.
    after = compute_masking(_shaped_band_power(analysis, eqs, frames), activity, analysis.bands,
                            gains_db=gain_db, names=names)
    weight = np.array([db_to_power(gains[nm].target_lufs) for nm in names])
    pans = pan.plan_pans(names, cats, imps, [f.centroid_hz for f in feats], [f.low_end_share for f in feats],
                         [f.channels for f in feats], [f.stereo_correlation for f in feats], weight, after.share,
                         roles=[r.key for r in roles],
                         authored=(pan.AuthoredPan(model.pan_distance, model.pan_pair_distance)
                                   if settings.pan_style == "authored" else None))

    # 6. Reverb sends and the shared return; 7. the master.
    plans: dict[str, StemPlan] = {}
    for i, nm in enumerate(names):
        sent = space.send(cats[i], imps[i])
        placed = pans[nm]
        plans[nm] = StemPlan(
            file=stems[i].file, category=cats[i], importance=imps[i],
            gain_db=float(gain_db[i]), gain_reason=gains[nm].reason.text,
            pan=float(placed.pan), width=float(settings.width) if feats[i].channels == 2 and not fold[i] else 1.0,
            pan_reason=placed.reason.text + ("; its two channels are identical, so it is folded to mono"
                                             if fold[i] else ""),
            eq=eqs[i], compressor=comp_plans[i], reverb_send_db=sent.send_db, reverb_reason=sent.reason.text,
            channels=1 if fold[i] else int(feats[i].channels),
            role=roles[i].key, role_reason=roles[i].reason, importance_reason=decided[i].importance_reason)
    mplan = master.master(settings, [peaks[i] + gain_db[i] if peaks[i] is not None else -math.inf
                                     for i in range(n)]).to_plan()
    notes = _masking_notes(names, imps, masking, after)
    return MixPlan(stems=plans, reverb=space.reverb_bus().to_plan(), master=mplan, sample_rate=settings.sample_rate,
                   frames=int(round(session.frames * settings.sample_rate / session.sample_rate)),
                   folder=str(session.folder), notes=notes)


def masking_for_plan(plan: MixPlan, analysis: Analysis) -> MaskingResult:
    """The masking the plan's gains and EQ predict (compression and panning aside)."""
    eqs = [plan.stems[nm].eq if nm in plan.stems else [] for nm in analysis.names]
    gains = np.array([plan.stems[nm].gain_db if nm in plan.stems else -120.0 for nm in analysis.names])
    return compute_masking(_shaped_band_power(analysis, eqs), analysis.activity, analysis.bands,
                           gains_db=gains, names=list(analysis.names))


def _stems_in_analysis_order(session, analysis: Analysis):
    by_file = {s.file: s for s in session.mixable_stems}
    missing = [f for f in analysis.files if f not in by_file]
    extra = [f for f in by_file if f not in analysis.files]
    if missing or extra:
        raise WorkbenchError("stale_analysis",
                             "The analysis does not match the session's stems "
                             f"(missing: {', '.join(missing) or '—'}; new: {', '.join(extra) or '—'}).",
                             "Analyse the session again.")
    return [by_file[f] for f in analysis.files]


def _plan_frames(n_frames: int) -> slice:
    """The analysis frames the planner reads: every k-th, at most :data:`PLAN_MAX_FRAMES`."""
    return slice(None, None, max(1, -(-n_frames // PLAN_MAX_FRAMES)))


def _shaped_band_power(analysis: Analysis, eqs: list[list[EQBand]], frames: slice = slice(None)) -> np.ndarray:
    """Band powers (of ``frames``) with each stem's EQ applied (response at the band centres)."""
    centres = np.asarray(analysis.bands.centres_hz)
    lin = np.stack([db_to_power(eq_response_db(e, centres, analysis.sample_rate)) for e in eqs])
    return analysis.band_power[:, :, frames] * lin.astype(np.float32)[:, :, None]


def _band_energy(band_power: np.ndarray, activity: np.ndarray) -> np.ndarray:
    """Each stem's share of its own energy per band over its active frames (rows sum to 1)."""
    w = activity[:, None, :].astype(np.float32)
    e = (band_power * w).sum(axis=2, dtype=np.float64)
    tot = e.sum(axis=1, keepdims=True)
    return np.divide(e, tot, out=np.zeros_like(e), where=tot > 0)


def _masking_notes(names, imps, before: MaskingResult, after: MaskingResult) -> list[str]:
    notes = []
    for i, nm in enumerate(names):
        if imps[i] == "high":
            notes.append(f"{nm} masked by the rest of the mix: {before.by_mix_share[i]:.0%} of its energy "
                         f"before unmasking EQ, {after.by_mix_share[i]:.0%} after")
    return notes


@dataclass(frozen=True)
class PartRole:
    """What the planner decided a part is doing, and the importance it gets.

    Attributes
    ----------
    role : Role
    section : float
        The part plus the parts of its role that play with it (≥ 1).
    terms : dict
        The balance model's terms (:func:`~workbench.mixing.balance_model.term_values`).
    importance : str
        In force: the user's, or the suggestion.
    suggested_importance : str
    importance_reason : str
    """

    role: Role
    section: float
    terms: dict
    importance: str
    suggested_importance: str
    importance_reason: str


def part_roles(session, analysis: Analysis, *,
               parts: list[PartFeatures] | None = None, co: np.ndarray | None = None) -> list[PartRole]:
    """Each part's role, its balance terms, the importance in force and the suggested one.

    The part that carries the melody is suggested as high: a melodic part whose
    name marks it as the lead ("Synth Lead", "Gtr Solo"), or else the one the
    audio shows carrying the melody (:func:`~workbench.mixing.rules.roles.foreground_parts`).
    The user's own choice always wins; the balance model's levels are for the
    suggested importance, so only a choice that differs from it moves the level.

    Parameters
    ----------
    session : Session
    analysis : Analysis
    parts, co : optional
        :func:`~workbench.analysis.parts.part_features` and
        :func:`~workbench.analysis.parts.co_activity`, when already computed.

    Returns
    -------
    list of PartRole
        In analysis order.
    """
    stems = _stems_in_analysis_order(session, analysis)
    cats = [s.category for s in stems]
    parts = parts if parts is not None else part_features(analysis)
    co = co if co is not None else co_activity(analysis.activity)
    n = len(stems)
    named = [i for i in range(n) if stems[i].importance_source == "name" and stems[i].importance == "high"
             and category_key(cats[i]) in MELODIC]
    heard = foreground_parts(cats, [p.lead_score for p in parts], [p.duty for p in parts])
    fg = set(named) if named else set(heard)
    roles = [assign_role(cats[i], parts[i].duty, parts[i].hit_share, foreground=i in fg) for i in range(n)]
    for i, s in enumerate(stems):
        if getattr(s, "role", None):
            roles[i] = Role(s.role, category_key(cats[i]), f"your choice (detected: {roles[i].key}, "
                                                           f"{roles[i].reason})")
    out = []
    for i, s in enumerate(stems):
        if i in fg:
            auto = "high"
            why = ("its name marks the lead" if i in named else
                   f"it carries the melody or hook: plays {parts[i].duty:.0%} of the song, most in the "
                   "300 Hz–4 kHz melody range, more than any other pitched part")
        elif s.importance_source in ("name", "default"):
            auto = s.importance
            why = ("from its name" if s.importance_source == "name" else
                   f"the usual importance for {category_key(cats[i])}")
        else:
            auto = default_importance(cats[i]) if cats[i] else "medium"
            why = f"the usual importance for {category_key(cats[i])}"
        if s.importance_source == "user":
            imp, reason = s.importance, f"{s.importance}: your choice (suggested {auto}: {why})"
        else:
            imp, reason = auto, f"{auto}: suggested — {why}; set it to change"
        section = 1.0 + float(sum(co[i, j] for j in range(n) if j != i and roles[j].key == roles[i].key))
        out.append(PartRole(role=roles[i], section=section,
                            terms=term_values(parts[i].duty, parts[i].register_hz, section, parts[i].hit_share),
                            importance=imp, suggested_importance=auto, importance_reason=reason))
    return out
