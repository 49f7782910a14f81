"""The balance model: each part's loudness in the mix, fitted on authored mixes.

The model says how loud a part sits relative to the others, in LU, from what
it is and what it does:

``offset = role_offset[role] + Σ_k coef_k · (x_k − centre_k)``

- ``role_offset`` per role (:mod:`workbench.mixing.rules.roles`): the typical
  level of tom hits, hand percussion, a groove hi-hat, a bass, the part that
  carries the melody...;
- a few measured terms ``x_k`` that are the same at any input level (how much
  of the song the part plays, its register, how many parts of its role play
  with it).

It is fitted by ``scripts/fit_balance_model.py`` on a corpus of songs whose
authors set the balance themselves (``scripts/make_training_corpus.py``;
the per-stem table is ``benchmarks/data/training_features.csv``). Only
*relative* levels matter — the master sets the overall loudness — so the fit
removes each song's own mean level (a fixed-effects regression) and minimises
a robust (Huber) error of the stems' levels around it. Role offsets are shrunk
toward the literature prior (:data:`workbench.mixing.rules.gain.PRIOR_OFFSET_LU`)
with a weight of :data:`PRIOR_WEIGHT_STEMS` pseudo-stems, so a role seen a few
times moves only part of the way from the prior and a role never seen (vocals:
none of the authored sources has one) keeps it. The fitted terms are ridge
regularised. The model file records what it was fitted on and its
leave-one-song-out error, and every gain reason quotes it.

Everything here is numbers in, numbers out: no audio, no files except
:func:`BalanceModel.load` / :meth:`BalanceModel.save`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ParameterError, WorkbenchError

__all__ = ["BalanceModel", "MODEL_PATH", "PRIOR_WEIGHT_STEMS", "TERMS", "default_model", "fit", "fit_pan_distance",
           "term_values"]

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "balance_model.json"

#: Prior strength: a role's fitted offset is the mean of its stems' residual
#: levels and ``PRIOR_WEIGHT_STEMS`` pseudo-stems at the prior (empirical-Bayes
#: shrinkage of group means; our choice, checked by leave-one-song-out).
PRIOR_WEIGHT_STEMS = 4.0
#: Ridge penalty on the feature terms (per unit of a standardised term).
RIDGE = 2.0
#: Huber threshold (dB) of the robust fit: levels further than this from the
#: fit are down-weighted (Huber 1964, "Robust estimation of a location
#: parameter", Ann. Math. Statist. 35(1)); chosen by leave-one-song-out among
#: 1.5, 3 and 6 dB and squares (``scripts/fit_balance_model.py``).
HUBER_DB = 3.0

#: The measured terms, each: name → (what it is, its unit).
TERMS: dict[str, tuple[str, str]] = {
    "log_duty": ("how much of the song the part plays", "log2 of the share"),
    "register": ("the part's spectral centroid", "octaves re 1 kHz"),
    "section": ("how many parts of the same role play with it", "log2 of the count"),
    "hits": ("the share of its playing that is onsets", "0..1"),
}


def term_values(duty: float, register_hz: float, section_size: float, hit_share: float = 0.0) -> dict[str, float]:
    """The model's terms for one part.

    Parameters
    ----------
    duty : float
        Share of the song the part plays (0..1).
    register_hz : float
        Spectral centroid (Hz).
    section_size : float
        The part itself plus the parts of its role that play with it (≥ 1;
        fractional when they overlap only part of the time).
    hit_share : float
        Share of its playing frames at or just after an onset (0..1).
    """
    reg = math.log2(register_hz / 1000.0) if register_hz and math.isfinite(register_hz) and register_hz > 0 else 0.0
    return {
        "log_duty": math.log2(min(1.0, max(duty, 0.01))),
        "register": float(min(4.0, max(-4.0, reg))),
        "section": math.log2(max(1.0, section_size)),
        "hits": float(min(1.0, max(0.0, hit_share))) if math.isfinite(hit_share) else 0.0,
    }


@dataclass(frozen=True)
class BalanceModel:
    """A fitted balance model (see the module doc).

    Attributes
    ----------
    role_offset_lu : dict
        Role → level offset (LU) at the terms' centres.
    role_stems : dict
        Role → how many training stems had it (0: the prior alone).
    coef_lu : dict
        Term → LU per unit.
    centre : dict
        Term → the value at which the role offset applies (training median).
    prior_offset_lu : dict
        Role → the literature prior the offsets were shrunk toward.
    fitted_on : dict
        Provenance: songs, stems, families, corpus and table paths.
    loso_mean_abs_db : float or None
        Leave-one-song-out balance error of this model form on its corpus.
    pan_distance, pan_pair_distance : float
        The authored pan style's distances (0..1) for a clashing part and for
        each of a named pair: medians of the distances the authors panned such
        parts to (:func:`fit_pan_distance`).
    pan_fitted_on : dict
        Provenance of the pan distances.
    """

    role_offset_lu: dict[str, float]
    role_stems: dict[str, int]
    coef_lu: dict[str, float]
    centre: dict[str, float]
    prior_offset_lu: dict[str, float]
    fitted_on: dict = field(default_factory=dict)
    loso_mean_abs_db: float | None = None
    pan_distance: float = 0.3
    pan_pair_distance: float = 0.5
    pan_fitted_on: dict = field(default_factory=dict)

    def offset(self, role: str, terms: Mapping[str, float]) -> float:
        """The part's level offset (LU) relative to the model's reference."""
        base = self.role_offset_lu.get(role, self.prior_offset_lu.get(role, 0.0))
        return base + sum(self.coef_lu.get(k, 0.0) * (terms[k] - self.centre.get(k, 0.0))
                          for k in terms if k in self.coef_lu)

    def explain(self, role: str, terms: Mapping[str, float]) -> list[tuple[str, float]]:
        """The contributions to :meth:`offset`, largest first: ``[(what, LU), ...]``."""
        out = [(f"role {role}", self.role_offset_lu.get(role, self.prior_offset_lu.get(role, 0.0)))]
        for k in terms:
            if k in self.coef_lu:
                out.append((k, self.coef_lu[k] * (terms[k] - self.centre.get(k, 0.0))))
        return out

    def provenance(self) -> str:
        """One line on what the model was fitted on (for reasons and reports)."""
        f = self.fitted_on
        if not f:
            return "literature defaults (no fitted model)"
        return f"fitted on {f.get('stems', '?')} stems from {f.get('songs', '?')} songs"

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        """Write the model as readable JSON (sorted keys, rounded numbers)."""
        def rnd(x):
            if isinstance(x, float):
                return round(x, 4)
            if isinstance(x, dict):
                return {k: rnd(v) for k, v in x.items()}
            if isinstance(x, list):
                return [rnd(v) for v in x]
            return x
        Path(path).write_text(json.dumps(rnd(self.to_dict()), indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Mapping) -> "BalanceModel":
        try:
            return cls(role_offset_lu={str(k): float(v) for k, v in data["role_offset_lu"].items()},
                       role_stems={str(k): int(v) for k, v in data.get("role_stems", {}).items()},
                       coef_lu={str(k): float(v) for k, v in data.get("coef_lu", {}).items()},
                       centre={str(k): float(v) for k, v in data.get("centre", {}).items()},
                       prior_offset_lu={str(k): float(v) for k, v in data.get("prior_offset_lu", {}).items()},
                       fitted_on=dict(data.get("fitted_on", {})),
                       loso_mean_abs_db=(None if data.get("loso_mean_abs_db") is None
                                         else float(data["loso_mean_abs_db"])),
                       pan_distance=float(data.get("pan_distance", 0.3)),
                       pan_pair_distance=float(data.get("pan_pair_distance", 0.5)),
                       pan_fitted_on=dict(data.get("pan_fitted_on", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WorkbenchError("balance_model", f"The balance model is malformed: {exc}.",
                                 "Reinstall the workbench or run scripts/fit_balance_model.py again.") from exc

    @classmethod
    def load(cls, path: str | Path) -> "BalanceModel":
        """Read a model file written by :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorkbenchError("balance_model", f"Cannot read the balance model {path}: {exc}.",
                                 "Reinstall the workbench or run scripts/fit_balance_model.py again.") from exc
        return cls.from_dict(data)


@lru_cache(maxsize=1)
def default_model() -> BalanceModel:
    """The shipped model (``workbench/data/balance_model.json``), loaded once."""
    return BalanceModel.load(MODEL_PATH)


def fit(songs: Sequence[str], roles: Sequence[str], terms: Sequence[Mapping[str, float]],
        level_lufs: Sequence[float], prior_offset_lu: Mapping[str, float], *,
        prior_weight: float = PRIOR_WEIGHT_STEMS, ridge: float = RIDGE, prior_scale: float = 1.0,
        huber_db: float | None = HUBER_DB,
        use_terms: Sequence[str] | None = None, fitted_on: Mapping | None = None) -> BalanceModel:
    """Fit role offsets and term coefficients on authored levels.

    The levels are compared within each song only (song fixed effects): the
    design matrix and the levels have each song's mean removed. Role offsets
    are penalised toward their prior by ``prior_weight`` (as that many stems at
    the prior), the terms (standardised) by ``ridge``.

    Parameters
    ----------
    songs, roles : sequences, one entry per stem
    terms : sequence of mappings
        :func:`term_values` per stem.
    level_lufs : sequence of float
        The author's level of each stem in the mix (LUFS).
    prior_offset_lu : mapping
        Role → prior offset (LU), for every role.
    prior_scale : float
        The prior's offsets are scaled by this before shrinking toward them
        (0: shrink toward equal loudness; 1: toward the literature table).
    huber_db : float, optional
        Fit with Huber's robust loss at this threshold (dB) instead of squares.
    use_terms : sequence of str, optional
        Terms to fit (default: all of :data:`TERMS`); the others get 0.

    Returns
    -------
    BalanceModel
    """
    y = np.asarray(level_lufs, dtype=np.float64)
    n = y.size
    if not (len(songs) == len(roles) == len(terms) == n) or n == 0:
        raise ParameterError("songs, roles, terms and level_lufs must be equal, non-empty lengths")
    names = list(use_terms if use_terms is not None else TERMS)
    role_list = sorted(set(roles))
    R = np.zeros((n, len(role_list)))
    for i, r in enumerate(roles):
        R[i, role_list.index(r)] = 1.0
    T = np.array([[float(t[k]) for k in names] for t in terms]) if names else np.zeros((n, 0))
    centre = np.median(T, axis=0) if names else np.zeros(0)
    scale = T.std(axis=0) if names else np.zeros(0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    Tz = (T - centre) / scale
    prior = prior_scale * np.array([float(prior_offset_lu.get(r, 0.0)) for r in role_list])

    # within-song demeaning (fixed effects)
    song_ids = {s: k for k, s in enumerate(sorted(set(songs)))}
    g = np.array([song_ids[s] for s in songs])

    def demean(a: np.ndarray) -> np.ndarray:
        out = a.astype(np.float64).copy()
        for k in range(len(song_ids)):
            m = g == k
            out[m] -= out[m].mean(axis=0)
        return out

    X = np.hstack([R, Tz])
    Xd, yd = demean(X), demean(y[:, None])[:, 0]
    # penalty: roles toward prior (weight prior_weight), terms toward 0 (ridge);
    # the prior is only defined up to a constant: fit deviations from it.
    yd_prior = yd - demean((R @ prior)[:, None])[:, 0]
    P = np.diag(np.r_[np.full(len(role_list), prior_weight), np.full(len(names), ridge)])
    beta = np.linalg.solve(Xd.T @ Xd + P, Xd.T @ yd_prior)
    if huber_db is not None:
        # Iteratively reweighted least squares with Huber weights (Huber 1964):
        # a stem more than `huber_db` off the fit counts in proportion to
        # 1/|residual|, so a few idiosyncratic levels (an effect the author
        # wanted in front) do not drag a role's offset.
        for _ in range(20):
            r = yd_prior - Xd @ beta
            w = np.minimum(1.0, huber_db / np.maximum(np.abs(r), 1e-9))
            Xw = Xd * w[:, None]
            beta = np.linalg.solve(Xd.T @ Xw + P, Xw.T @ yd_prior)
    role_dev = beta[:len(role_list)]
    role_offset = prior + role_dev
    coefs = beta[len(role_list):] / scale
    # anchor: the roles seen keep the prior's mean level, so unseen roles
    # (their prior) sit where the literature puts them relative to the others.
    shift = float(np.average(role_dev, weights=R.sum(axis=0)))
    role_offset = role_offset - shift
    offsets = {r: float(role_offset[k]) for k, r in enumerate(role_list)}
    counts = {r: int(R[:, k].sum()) for k, r in enumerate(role_list)}
    for r, v in prior_offset_lu.items():
        offsets.setdefault(str(r), prior_scale * float(v))
        counts.setdefault(str(r), 0)
    return BalanceModel(role_offset_lu=offsets, role_stems=counts,
                        coef_lu={k: float(c) for k, c in zip(names, coefs)},
                        centre={k: float(c) for k, c in zip(names, centre)},
                        prior_offset_lu={str(k): prior_scale * float(v) for k, v in prior_offset_lu.items()},
                        fitted_on=dict(fitted_on or {}))


def fit_pan_distance(author_pan: Sequence[float], *, min_pan: float = 0.05, default: float = 0.3) -> float:
    """The median distance from the centre of the parts the authors panned (``|pan| ≥ min_pan``).

    Only the distance is fitted: which side an author chose cannot be told
    from one stem's audio. ``default`` when no part was panned.
    """
    p = np.abs(np.asarray(author_pan, dtype=np.float64))
    p = p[p >= min_pan]
    return float(np.median(p)) if p.size else default
