"""Where and when one stem masks another, from band powers.

The measure
-----------
A cross-adaptive masking threshold in the family of Vega & Janer (2010,
"Quantifying masking in multi-track recordings", SMC: a cross-adaptive
signal-to-masker ratio) and Hafezi & Reiss (2015, "Autonomous multitrack
equalization based on masking reduction", JAES 63(5)), both built on the
threshold of the MPEG-1 psychoacoustic models (ISO/IEC 11172-3 Annex D), and
counted the way Aichinger et al. (2011, "Describing the transparency of
mixdowns: the masked-to-unmasked ratio", AES 130th Convention) count it — as
the share of the target that is masked:

1. The masker's band power is spread over the other bands with the spreading
   function of Schroeder, Atal & Hall (1979, "Optimizing digital speech coders
   by exploiting masking properties of the human ear", JASA 66(6)), evaluated
   at the true Bark distance between ERB band centres (so a low masker spreads
   upward at ~10 dB/Bark and downward at ~25 dB/Bark). Each row is normalised
   to unit sum, as model 2 of ISO/IEC 11172-3 Annex D normalises its spreading
   over partitions narrower than a critical band: the ERB bands are 0.3–0.8 Bark
   wide, and without it a broadband masker's threshold would grow with the
   number of bands per Bark (≈ 6 dB more masking in the bass than in the
   treble for the same spectrum). A flat spectrum spreads to itself.
   The spread power lowered by an offset of 5.5 dB (Johnston 1988's
   noise-masker offset) is the masking threshold.
2. A cell (band ``b``, frame ``f``) of the target counts when the target is
   active in ``f``, its band power there is within 60 dB of its own loudest
   band (the audibility floor), and it is above the target's *own* masking
   threshold — a component the stem masks itself (e.g. the skirt of a strong
   partial) is not audible in solo, so no other stem can take it away; a
   perceptual coder drops such components for the same reason (Johnston 1988).
   A counted cell is *masked* when the masker's threshold is at or above the
   target's band power.
3. ``share`` is the target's masked energy over its counted energy (energy-
   weighted over bands and frames); ``depth_db`` is the energy-weighted mean of
   threshold minus target power over the masked cells.

Levels are linear mean-square band powers as :mod:`workbench.analysis.spectrum`
measures them; ``gains_db`` moves a stem's level as a fader would. A masker
counts only where it is active (see
:func:`~workbench.analysis.spectrum.activity_from_power`): a silent or gated
stem masks nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..units import db_to_power
from .bands import Bands

#: Masking offset: the threshold lies this far below the spread masker energy.
#: 5.5 dB is the noise-masking-tone offset of Johnston (1988, "Transform coding of
#: audio signals using perceptual noise criteria", IEEE JSAC 6(2)); ISO/IEC
#: 11172-3 Annex D psychoacoustic model 2 uses NMT = 6 dB. Tonal maskers would
#: need 14.5 + z dB (Johnston) — treating every stem as a noise-like masker
#: counts the most masking, the safe side for an unmasking EQ that only cuts.
MASKING_OFFSET_DB = 5.5

#: A target cell counts only when its band power is within this many dB of the
#: target's loudest band (mean over active frames). Stems arrive at arbitrary
#: levels and the playback level is unknown, so an absolute threshold in quiet
#: (Terhardt 1979) cannot be placed; 60 dB is about the range between a loud
#: band and the threshold in quiet at moderate listening levels (ISO 226:2003
#: puts the 1–4 kHz threshold near 0 dB SPL under music at 60–80 dB SPL).
AUDIBLE_RANGE_DB = 60.0

#: Level given to zero power before taking logarithms (−300 dB): far below any
#: audio, so it never masks nor counts, and never produces ``-inf``.
_TINY = 1e-30


def hz_to_bark(freq_hz: np.ndarray | float) -> np.ndarray:
    """Critical-band rate in Bark (Zwicker & Terhardt 1980, JASA 68(5)).

    ``z = 13 atan(0.00076 f) + 3.5 atan((f / 7500)^2)``.
    """
    f = np.asarray(freq_hz, dtype=float)
    return 13.0 * np.arctan(0.00076 * f) + 3.5 * np.arctan((f / 7500.0) ** 2)


def spreading_db(dz_bark: np.ndarray | float) -> np.ndarray:
    """Schroeder spreading function in dB at ``dz = z_target - z_masker`` Bark.

    ``15.81 + 7.5 (dz + 0.474) - 17.5 sqrt(1 + (dz + 0.474)^2)`` (Schroeder,
    Atal & Hall 1979; the core of ISO/IEC 11172-3 Annex D model 2's spreading
    function). It peaks at 0 dB at ``dz = 0`` and falls asymptotically at
    25 dB/Bark below the masker and 10 dB/Bark above it.
    """
    d = np.asarray(dz_bark, dtype=float) + 0.474
    return 15.811389 + 7.5 * d - 17.5 * np.sqrt(1.0 + d * d)


@functools.lru_cache(maxsize=16)
def _spreading_matrix(bands: Bands) -> np.ndarray:
    z = hz_to_bark(np.asarray(bands.centres_hz))
    m = 10.0 ** (spreading_db(z[:, None] - z[None, :]) / 10.0)
    m /= m.sum(axis=1, keepdims=True)
    m.setflags(write=False)
    return m


def spreading_matrix(bands: Bands) -> np.ndarray:
    """Matrix ``S`` (n_bands, n_bands): ``S[t, m]`` is the power gain from masker band ``m`` to band ``t``.

    Row ``t`` is the Schroeder spreading function (:func:`spreading_db`) at the
    Bark distance from each band's centre to band ``t``'s centre, normalised to
    sum to 1 (ISO/IEC 11172-3 Annex D model 2 normalises its spreading the same
    way), so that a flat band spectrum spreads to itself and the threshold does
    not depend on how many bands fit in a Bark. Read-only, cached.
    """
    return _spreading_matrix(bands)


def spread(band_power: np.ndarray, bands: Bands) -> np.ndarray:
    """Spread a masker's linear band power across neighbouring bands.

    Parameters
    ----------
    band_power : np.ndarray, shape ``(n_bands,)`` or ``(..., n_bands, n_frames)``
        Linear (mean-square) band power; bands on axis 0 for 1-D input,
        otherwise on axis −2.
    bands : Bands
        The band layout of ``band_power``.

    Returns
    -------
    np.ndarray, same shape
        The spread power (no offset): ``S @ band_power`` along the band axis,
        with ``S`` from :func:`spreading_matrix`.
        Subtract :data:`MASKING_OFFSET_DB` (or use :func:`masking_threshold`) to
        get the masking threshold.
    """
    p = np.asarray(band_power)
    dtype = np.float32 if p.dtype == np.float32 else np.float64
    s = spreading_matrix(bands).astype(dtype)
    if p.shape[0 if p.ndim == 1 else -2] != bands.n_bands:
        raise ParameterError(
            f"band_power has {p.shape[0 if p.ndim == 1 else -2]} bands on its band axis, "
            f"bands has {bands.n_bands}"
        )
    return s @ p.astype(dtype, copy=False)


def masking_threshold(band_power: np.ndarray, bands: Bands, *,
                      offset_db: float = MASKING_OFFSET_DB) -> np.ndarray:
    """Masking threshold (linear power) that ``band_power`` puts on each band.

    :func:`spread` lowered by ``offset_db``. Same shapes as :func:`spread`.
    """
    return spread(band_power, bands) * 10.0 ** (-offset_db / 10.0)


@dataclass(frozen=True, eq=False)
class MaskingResult:
    """Masking between the stems of a session, masker × target.

    Indices are ``[masker, target]`` everywhere. Shares are fractions of the
    target's counted band energy (0..1); the diagonal is 0.

    Attributes
    ----------
    share : np.ndarray, shape ``(n, n)``
        Fraction of the target's counted band energy (active frames, above its
        audibility floor and its own masking threshold) that the masker masks.
    depth_db : np.ndarray, shape ``(n, n)``
        Energy-weighted mean of (masker threshold − target power) in dB over the
        masked cells: by how much the masker covers the target. 0 where nothing
        is masked.
    band_share : np.ndarray, shape ``(n, n, n_bands)``
        ``share`` per band (0 where the target has no counted energy in the band).
    over_time : np.ndarray, shape ``(n, n, n_frames)``
        ``share`` per frame (0 where the target is inactive).
    by_mix_share : np.ndarray, shape ``(n,)``
        Share of each stem masked by the sum of all the others.
    by_mix_depth_db : np.ndarray, shape ``(n,)``
        Depth of that masking, as ``depth_db``.
    by_mix_band_share : np.ndarray, shape ``(n, n_bands)``
    by_mix_over_time : np.ndarray, shape ``(n, n_frames)``
    names : list of str
    bands : Bands
    gains_db : np.ndarray, shape ``(n,)``
        The gains the masking was computed at.
    offset_db, audible_range_db : float
        The measure's settings.
    """

    share: np.ndarray
    depth_db: np.ndarray
    band_share: np.ndarray
    over_time: np.ndarray
    by_mix_share: np.ndarray
    by_mix_depth_db: np.ndarray
    by_mix_band_share: np.ndarray
    by_mix_over_time: np.ndarray
    names: list[str]
    bands: Bands
    gains_db: np.ndarray
    offset_db: float = MASKING_OFFSET_DB
    audible_range_db: float = AUDIBLE_RANGE_DB

    @property
    def n_stems(self) -> int:
        """Number of stems."""
        return len(self.names)

    def to_dict(self) -> dict:
        """Summaries as plain lists and floats (JSON-serialisable; no per-frame arrays)."""

        def r(a: np.ndarray) -> list:
            return np.round(np.asarray(a, dtype=np.float64), 4).tolist()

        return {
            "names": list(self.names),
            "band_centres_hz": [round(c, 2) for c in self.bands.centres_hz],
            "offset_db": float(self.offset_db),
            "audible_range_db": float(self.audible_range_db),
            "gains_db": r(self.gains_db),
            "share": r(self.share),
            "depth_db": r(self.depth_db),
            "by_mix_share": r(self.by_mix_share),
            "by_mix_depth_db": r(self.by_mix_depth_db),
            "by_mix_band_share": r(self.by_mix_band_share),
        }


def compute_masking(
    band_power: np.ndarray,
    activity: np.ndarray,
    bands: Bands,
    *,
    gains_db: np.ndarray | None = None,
    names: list[str] | None = None,
    offset_db: float = MASKING_OFFSET_DB,
    audible_range_db: float = AUDIBLE_RANGE_DB,
) -> MaskingResult:
    """Masking of every stem by every other stem, and by the rest of the mix.

    Parameters
    ----------
    band_power : np.ndarray, shape ``(n_stems, n_bands, n_frames)``
        Linear mean-square band power per stem on the analysis frame grid.
    activity : np.ndarray of bool, shape ``(n_stems, n_frames)``
        Activity per stem (:func:`~workbench.analysis.spectrum.activity_from_power`).
        Gains do not change it.
    bands : Bands
        The band layout.
    gains_db : np.ndarray or None, shape ``(n_stems,)``
        Gain applied to each stem's power before comparing (default 0 dB).
    names : list of str or None
        Stem names (default ``"stem 0"``, ``"stem 1"``, ...).
    offset_db : float
        Masking offset below the spread masker power, dB.
    audible_range_db : float
        A target band counts only within this many dB of the target's loudest
        band (gain-independent).

    Returns
    -------
    MaskingResult

    Raises
    ------
    ValueError
        When shapes disagree, powers are negative or not finite, or ``gains_db``
        or ``names`` do not have one entry per stem.

    Notes
    -----
    The measure is defined in the module docstring. Pairwise, the masker is one
    other stem; "by the mix", it is the power sum of all the other active stems
    (masking thresholds add in power, as in the MPEG-1 models), which is what
    "how masked is the lead vocal overall" asks. Cost: one pass over
    ``n_stems x n_bands x n_frames`` per target.

    See Also
    --------
    pair_map_db : the per-band, per-frame margin of one pair, for plots.

    Examples
    --------
    >>> from workbench.analysis.bands import erb_bands
    >>> b = erb_bands()
    >>> p = np.full((2, b.n_bands, 5), 1e-8, np.float32)
    >>> p[0, 20], p[1, 20] = 1e-1, 1e-3          # stem 0 is 20 dB louder in band 20
    >>> res = compute_masking(p, np.ones((2, 5), bool), b)
    >>> round(float(res.share[0, 1]), 3), round(float(res.share[1, 0]), 3)
    (1.0, 0.0)
    """
    p, act, gains = _check_inputs(band_power, activity, bands, gains_db)
    n, nb, nf = p.shape
    if names is None:
        names = [f"stem {i}" for i in range(n)]
    if len(names) != n:
        raise ParameterError(f"names has {len(names)} entries, band_power has {n} stems")

    lin = db_to_power(gains).astype(np.float32)
    pg = p * lin[:, None, None]
    # Maskers count only where they are active.
    pm = np.where(act[:, None, :], pg, np.float32(0.0))
    s = spreading_matrix(bands)
    # Masking threshold of every stem as a masker, in dB (offset applied), and
    # every stem's own band level as a target, in dB.
    thr_db = _db(s.astype(np.float32) @ pm) - np.float32(offset_db)
    target_db = _db(pg)
    mix_total = pm.sum(axis=0, dtype=np.float64)
    del pm
    weights = _target_weights(p, pg, act, bands, offset_db, audible_range_db)
    del pg

    share = np.zeros((n, n))
    depth = np.zeros((n, n))
    band_share = np.zeros((n, n, nb))
    over_time = np.zeros((n, n, nf), dtype=np.float32)
    mix_share = np.zeros(n)
    mix_depth = np.zeros(n)
    mix_band = np.zeros((n, nb))
    mix_time = np.zeros((n, nf), dtype=np.float32)
    scratch = _Scratch(n * nb * nf)
    for t in range(n):
        w = weights[t]
        den_band = w.sum(axis=1, dtype=np.float64)
        den = float(den_band.sum())
        if den <= 0.0:
            continue  # target inactive or silent: nothing of it to mask
        den_time = w.sum(axis=0, dtype=np.float64)
        # Skip the frames where the target does not count when that saves work
        # (a gather costs about as much as a pass, so only for sparse targets);
        # elsewhere its zero weight already keeps those frames out of the sums.
        cols = np.flatnonzero(den_time > 0)
        if cols.size <= nf // 2:
            sel = cols
            thr = np.take(thr_db, cols, axis=2, out=scratch.take(n, nb, cols.size))
        else:
            sel = slice(None)
            thr = thr_db
        wc = w[:, sel]
        tdc = target_db[t][:, sel]

        num = _masked_sums(thr, tdc, wc, scratch)
        share[:, t] = np.clip(num.total / den, 0.0, 1.0)
        depth[:, t] = _ratio(num.depth, num.total)
        band_share[:, t, :] = np.clip(_ratio(num.band, den_band[None, :]), 0.0, 1.0)
        over_time[:, t, sel] = np.clip(_ratio(num.time, den_time[None, sel]), 0.0, 1.0)
        share[t, t] = depth[t, t] = 0.0
        band_share[t, t] = 0.0
        over_time[t, t] = 0.0

        # The rest of the mix: threshold of the sum of all other active stems.
        own = np.where(act[t, sel], p[t][:, sel] * lin[t], np.float32(0.0))
        others = mix_total[:, sel] - own
        mix_thr = (_db(s @ np.maximum(others, 0.0)) - offset_db).astype(np.float32)
        mnum = _masked_sums(mix_thr[None], tdc, wc, scratch)
        mix_share[t] = min(max(mnum.total[0] / den, 0.0), 1.0)
        mix_depth[t] = _ratio(mnum.depth, mnum.total)[0]
        mix_band[t] = np.clip(_ratio(mnum.band[0], den_band), 0.0, 1.0)
        mix_time[t, sel] = np.clip(_ratio(mnum.time[0], den_time[sel]), 0.0, 1.0)

    return MaskingResult(
        share=share, depth_db=depth, band_share=band_share, over_time=over_time,
        by_mix_share=mix_share, by_mix_depth_db=mix_depth, by_mix_band_share=mix_band,
        by_mix_over_time=mix_time, names=list(names), bands=bands, gains_db=gains,
        offset_db=float(offset_db), audible_range_db=float(audible_range_db),
    )


def pair_map_db(
    band_power: np.ndarray,
    activity: np.ndarray,
    bands: Bands,
    masker: int,
    target: int,
    gains_db: np.ndarray | None = None,
    *,
    offset_db: float = MASKING_OFFSET_DB,
    audible_range_db: float = AUDIBLE_RANGE_DB,
) -> np.ndarray:
    """Masking margin of one pair per band and frame, for the heatmap over time.

    Returns
    -------
    np.ndarray, shape ``(n_bands, n_frames)``, float32
        Masker threshold minus target band power, dB (offset included): a cell
        is masked where it is ``>= 0``. NaN where the cell does not count — the
        target is inactive in that frame, or the band is below its audibility
        floor or its own masking threshold — exactly the cells
        :func:`compute_masking` leaves out.

    See Also
    --------
    compute_masking : the same comparison, summarised over all pairs.
    """
    p, act, gains = _check_inputs(band_power, activity, bands, gains_db)
    n = p.shape[0]
    for label, i in (("masker", masker), ("target", target)):
        if not 0 <= i < n:
            raise ParameterError(f"{label} must be a stem index in [0, {n - 1}], got {i}")
    # The same arithmetic as compute_masking, so the two agree cell by cell.
    lin = db_to_power(gains).astype(np.float32)
    pm = np.where(act[masker][None, :], p[masker] * lin[masker], np.float32(0.0))
    thr_db = _db(spreading_matrix(bands).astype(np.float32) @ pm) - np.float32(offset_db)
    pt = p[target] * lin[target]
    margin = (thr_db - _db(pt)).astype(np.float32)
    w = _target_weights(p[target:target + 1], pt[None], act[target:target + 1], bands,
                         offset_db, audible_range_db)[0]
    margin[w <= 0] = np.nan
    return margin


@dataclass(frozen=True)
class _Sums:
    total: np.ndarray  # (m,) masked target energy
    depth: np.ndarray  # (m,) masked target energy x margin (dB)
    band: np.ndarray  # (m, n_bands)
    time: np.ndarray  # (m, n_cols)


class _Scratch:
    """Reused work arrays: large temporaries cost page faults on every allocation."""

    def __init__(self, size: int) -> None:
        self._mask = np.empty(size, dtype=bool)
        self._mw = np.empty(size, dtype=np.float32)
        self._take = np.empty(size, dtype=np.float32)

    def take(self, *shape: int) -> np.ndarray:
        return self._take[: int(np.prod(shape))].reshape(shape)

    def mask(self, shape: tuple[int, ...]) -> np.ndarray:
        return self._mask[: int(np.prod(shape))].reshape(shape)

    def mw(self, shape: tuple[int, ...]) -> np.ndarray:
        return self._mw[: int(np.prod(shape))].reshape(shape)


def _masked_sums(thr_db: np.ndarray, target_db: np.ndarray, w: np.ndarray,
                 scratch: _Scratch) -> _Sums:
    """Energy sums over the masked cells, for each masker.

    ``thr_db`` (m, bands, cols) is each masker's threshold, ``target_db`` and
    ``w`` (bands, cols) the target's level and counted energy. A cell is masked
    where ``thr_db >= target_db``; its margin is ``thr_db - target_db``.
    """
    m = thr_db.shape[0]
    mask = np.greater_equal(thr_db, target_db, out=scratch.mask(thr_db.shape))
    mw = np.multiply(mask, w, out=scratch.mw(thr_db.shape))  # target energy where masked
    # float32 sums (numpy sums pairwise along the frame axis): ~1e-6 relative.
    band = mw.sum(axis=2)
    time = mw.sum(axis=1)
    flat = mw.reshape(m, -1)
    # sum(mw * (thr - target)) = sum(mw * thr) - mw @ target
    depth = (np.einsum("ij,ij->i", flat, thr_db.reshape(m, -1)).astype(np.float64)
             - (flat @ target_db.reshape(-1)).astype(np.float64))
    return _Sums(total=band.sum(axis=1, dtype=np.float64), depth=depth,
                 band=band.astype(np.float64), time=time.astype(np.float64))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0 — without division warnings."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _db(power: np.ndarray) -> np.ndarray:
    """``10 log10(power)``, with zero power at −300 dB instead of ``-inf``."""
    return 10.0 * np.log10(np.maximum(power, power.dtype.type(_TINY)))


def _target_weights(p: np.ndarray, pg: np.ndarray, act: np.ndarray, bands: Bands,
                    offset_db: float, audible_range_db: float) -> np.ndarray:
    """Target energy per cell where the cell counts, else 0.

    A cell counts when the frame is active, the band power is within
    ``audible_range_db`` of the stem's loudest band (mean over its active
    frames) and above the stem's own masking threshold. All three are measured
    before gains (``p``), so they move with the stem; the energy is ``pg``.
    """
    n_act = act.sum(axis=1)
    mean_active = np.where(act[:, None, :], p, np.float32(0.0)).sum(axis=2, dtype=np.float64)
    mean_active /= np.maximum(n_act, 1)[:, None]
    floor = (mean_active.max(axis=1) * 10.0 ** (-audible_range_db / 10.0)).astype(np.float32)
    own_threshold = (spreading_matrix(bands).astype(np.float32) @ p) * np.float32(10.0 ** (-offset_db / 10.0))
    counts = act[:, None, :] & (p >= floor[:, None, None]) & (p > own_threshold) & (p > 0)
    return np.where(counts, pg, np.float32(0.0))


def _check_inputs(band_power, activity, bands, gains_db):
    p = np.asarray(band_power, dtype=np.float32)
    if p.ndim != 3:
        raise ParameterError(f"band_power must be (n_stems, n_bands, n_frames), got shape {p.shape}")
    n, nb, nf = p.shape
    if nb != bands.n_bands:
        raise ParameterError(f"band_power has {nb} bands, bands has {bands.n_bands}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ParameterError("band_power must be finite and >= 0 (linear power)")
    act = np.asarray(activity, dtype=bool)
    if act.shape != (n, nf):
        raise ParameterError(f"activity must have shape {(n, nf)}, got {act.shape}")
    if gains_db is None:
        gains = np.zeros(n)
    else:
        gains = np.asarray(gains_db, dtype=np.float64).reshape(-1)
        if gains.shape != (n,) or not np.all(np.isfinite(gains)):
            raise ParameterError(f"gains_db must be {n} finite values in dB, got {gains_db!r}")
    return p, act, gains
