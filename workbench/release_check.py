"""Release check: is a delivered file ready to send where it goes? One pass/warn row per measure.

Pure functions over ``(channels, samples)`` float arrays with the sample rate
passed explicitly. Each row says what was measured, the threshold and one line
of reason. Thresholds cite their source, or say "our engineering choice" where
no standard gives the number.

Rows (:func:`check_release`): integrated loudness vs the target, loudness range,
true peak, PLR (peak-to-loudness ratio), mono compatibility (level lost folded to
mono; L/R correlation), clipping, DC offset, low-end mono, and the tonal distance
to a reference when a measurement of it is given (reference mode supplies it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfilt

from .analysis.loudness import measure
from .checks import CLIP_LEVEL, CLIP_RUN_SAMPLES, DC_OFFSET_LEVEL
from .errors import ParameterError
from .units import amp_to_db, power_to_db

PASS, WARN = "pass", "warn"

#: Loudness tolerance of a streaming master around its target (LU): our engineering
#: choice (streaming services normalise anyway; 1 LU is about the smallest loudness
#: step listeners notice in programme material).
STREAMING_TOLERANCE_LU = 1.0
#: EBU R 128 version 4.0 (August 2020): the Programme Loudness tolerance around the −23 LUFS
#: target is ±1 LU in production (±0.2 LU for QC measurements); version 3.0 (2014) had ±0.5 LU
#: (tech.ebu.ch/publications/r128, the version history).
BROADCAST_TOLERANCE_LU = 1.0
#: The meters' rounding when comparing a true peak with its ceiling (as the pipeline's check).
TRUE_PEAK_TOLERANCE_DB = 0.1
#: Loudness range below this reads as heavily levelled (LU): our engineering choice.
MIN_LRA_LU = 3.0
#: PLR (true peak − integrated loudness) below this reads as over-limited (dB): our engineering
#: choice (a −14 LUFS master with a −1 dBTP peak has PLR 13 dB; 8 dB means heavy limiting).
MIN_PLR_DB = 8.0
#: Level lost when folded to mono (dB) above which it warns: our engineering choice — two
#: uncorrelated channels lose 3 dB; more means out-of-phase content cancels.
MAX_MONO_LOSS_DB = 3.0
#: Correlation below this warns: a correlation meter reading below 0 means the channels are
#: more out of phase than in phase (our threshold; the meter's scale is −1…+1).
MIN_CORRELATION = 0.0
#: Low-end mono: below this frequency (Hz) ...
LOW_END_HZ = 120.0
#: ... the side signal should be this far below the mid signal (dB): our engineering choice
#: (mono bass below ~120 Hz is the vinyl-cutting and club-system habit; −12 dB keeps a little width).
LOW_END_SIDE_DB = -12.0
#: Tonal distance to a reference (dB, as the given measure returns it) above which it warns:
#: our engineering choice.
MAX_TONAL_DISTANCE_DB = 3.0


@dataclass(frozen=True)
class CheckRow:
    """One row of a release check.

    Attributes
    ----------
    name : str
        What was checked ("True peak").
    value : str
        The measured figure, with its unit.
    status : {"pass", "warn"}
    reason : str
        One line: why it passes or warns, with the threshold and its source.
    """

    name: str
    value: str
    status: str
    reason: str


@dataclass(frozen=True)
class ReleaseTarget:
    """What a delivered file is checked against.

    Attributes
    ----------
    name : str
        "streaming", "broadcast", "dynamic", or a version name.
    target_lufs : float or None
        Integrated loudness it should reach (None: not checked, e.g. a version at the mix's master gain).
    tolerance_lu : float
    ceiling_dbtp : float
    """

    name: str
    target_lufs: float | None
    tolerance_lu: float = STREAMING_TOLERANCE_LU
    ceiling_dbtp: float = -1.0
    #: Said in the loudness row when ``target_lufs`` is None.
    no_target_reason: str = "No target of its own: it shares the main mix's master gain (not re-normalised)."


@dataclass(frozen=True)
class ReleaseCheck:
    """The rows for one file."""

    label: str
    rows: tuple[CheckRow, ...]

    @property
    def passed(self) -> bool:
        """True when no row warns."""
        return all(r.status == PASS for r in self.rows)


TonalDistance = Callable[[np.ndarray, int], float]


def _audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.ndim != 2 or x.shape[0] not in (1, 2) or x.shape[1] == 0:
        raise ParameterError(f"audio must be (1 or 2, samples) with samples > 0, got shape {np.shape(audio)}.",
                             "Pass the file's audio as (channels, samples).", code="bad_audio")
    if not np.all(np.isfinite(x)):
        raise ParameterError("audio holds NaN or infinite samples.", "Check the file.", code="bad_audio")
    if int(sample_rate) <= 0:
        raise ParameterError(f"sample_rate must be > 0 Hz, got {sample_rate!r}.")
    return x


def mono_fold_loss_db(audio: np.ndarray) -> float:
    """Level lost when the stereo signal is folded to mono, ``(L + R) / 2`` against the channels' mean power (dB ≥ 0).

    0 dB for identical channels, 3 dB for uncorrelated ones, ``inf`` for opposite ones.
    """
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.shape[0] < 2:
        return 0.0
    stereo = float(np.mean(x[:2] ** 2))
    mono = float(np.mean(((x[0] + x[1]) / 2) ** 2))
    if stereo <= 0:
        return 0.0
    return math.inf if mono <= 0 else max(0.0, float(power_to_db(stereo / mono)))


def correlation(audio: np.ndarray) -> float:
    """Pearson correlation of left and right (−1…+1; +1 for mono or silence), as a phase-correlation meter reads."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.shape[0] < 2:
        return 1.0
    den = math.sqrt(float(np.sum(x[0] ** 2)) * float(np.sum(x[1] ** 2)))
    return 1.0 if den == 0 else float(np.sum(x[0] * x[1]) / den)


def clip_runs(audio: np.ndarray) -> int:
    """Runs of at least :data:`~workbench.checks.CLIP_RUN_SAMPLES` consecutive samples at full scale, all channels."""
    count = 0
    for ch in np.atleast_2d(np.asarray(audio)):
        hot = np.concatenate([[False], np.abs(ch) >= CLIP_LEVEL, [False]]).astype(np.int8)
        edges = np.diff(hot)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        count += int(np.sum(ends - starts >= CLIP_RUN_SAMPLES))
    return count


def low_end_side_db(audio: np.ndarray, sample_rate: int, *, below_hz: float = LOW_END_HZ) -> float:
    """Side energy relative to mid energy below ``below_hz`` (dB; ``-inf`` when the low end is mono)."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.shape[0] < 2:
        return -math.inf
    sos = butter(4, below_hz, "lowpass", fs=sample_rate, output="sos")
    mid, side = sosfilt(sos, (x[0] + x[1]) / 2), sosfilt(sos, (x[0] - x[1]) / 2)
    pm, ps = float(np.mean(mid ** 2)), float(np.mean(side ** 2))
    if ps <= 0:
        return -math.inf
    return math.inf if pm <= 0 else float(power_to_db(ps / pm))


def check_release(audio: np.ndarray, sample_rate: int, target: ReleaseTarget, *,
                  tonal_distance: TonalDistance | None = None, label: str = "") -> ReleaseCheck:
    """Check one delivered file: a pass/warn row per measure, each with its reason.

    Parameters
    ----------
    audio : np.ndarray
        ``(channels, samples)`` float audio (1 or 2 channels), full scale ±1.
    sample_rate : int
        Its rate (Hz).
    target : ReleaseTarget
        The loudness target and true-peak ceiling it is meant for.
    tonal_distance : callable ``(audio, sample_rate) -> dB``, optional
        A measure of the file's tonal distance to the reference (reference mode provides it); without it
        the row is left out.
    label : str
        The file's name, for tables.

    Returns
    -------
    ReleaseCheck

    Examples
    --------
    >>> sr = 48000
    >>> t = np.arange(5 * sr) / sr
    >>> x = 0.05 * np.sin(2 * np.pi * 1000 * t)
    >>> c = check_release(np.vstack([x, -x]), sr, ReleaseTarget("broadcast", -23.0, 1.0))
    >>> [r.status for r in c.rows if r.name.startswith("Mono")]
    ['warn', 'warn']
    """
    x = _audio(audio, sample_rate)
    sr = int(sample_rate)
    m = measure(x.astype(np.float32), sr)
    rows: list[CheckRow] = []
    lufs, tp, lra = m.integrated_lufs, m.true_peak_dbtp, m.loudness_range_lu
    if target.target_lufs is not None:
        off = lufs - target.target_lufs if math.isfinite(lufs) else -math.inf
        ok = abs(off) <= target.tolerance_lu
        src = ("EBU R 128 v4.0's ±1 LU production tolerance" if target.name == "broadcast"
               else f"±{target.tolerance_lu:g} LU, our engineering choice")
        rows.append(CheckRow("Integrated loudness", f"{lufs:.1f} LUFS", PASS if ok else WARN,
                             f"{off:+.1f} LU from the {target.target_lufs:g} LUFS target "
                             f"({'within' if ok else 'outside'} {src})."))
    else:
        rows.append(CheckRow("Integrated loudness", f"{lufs:.1f} LUFS", PASS, target.no_target_reason))
    rows.append(CheckRow("Loudness range", f"{lra:.1f} LU", PASS if lra >= MIN_LRA_LU else WARN,
                         f"EBU Tech 3342 LRA; below {MIN_LRA_LU:g} LU reads as heavily levelled (our engineering "
                         "choice)." if lra < MIN_LRA_LU else
                         f"EBU Tech 3342 LRA, at least {MIN_LRA_LU:g} LU (our engineering choice)."))
    tp_ok = tp <= target.ceiling_dbtp + TRUE_PEAK_TOLERANCE_DB
    rows.append(CheckRow("True peak", f"{tp:.1f} dBTP", PASS if tp_ok else WARN,
                         f"{'At or below' if tp_ok else 'Above'} the {target.ceiling_dbtp:g} dBTP ceiling "
                         "(ITU-R BS.1770-4 true peak; EBU R 128's maximum true peak is −1 dBTP)."))
    plr = tp - lufs if math.isfinite(lufs) else math.nan
    rows.append(CheckRow("PLR", f"{plr:.1f} dB", PASS if plr >= MIN_PLR_DB else WARN,
                         f"True peak minus integrated loudness; {'below' if plr < MIN_PLR_DB else 'at least'} "
                         f"{MIN_PLR_DB:g} dB ({'heavily limited, ' if plr < MIN_PLR_DB else ''}our engineering "
                         "choice)."))
    loss, corr = mono_fold_loss_db(x), correlation(x)
    rows.append(CheckRow("Mono fold", f"−{loss:.1f} dB", PASS if loss <= MAX_MONO_LOSS_DB else WARN,
                         f"Level lost folded to (L+R)/2; more than {MAX_MONO_LOSS_DB:g} dB (uncorrelated channels) "
                         "means out-of-phase parts cancel in mono (our engineering choice)."))
    phase = "more out of phase than in phase" if corr < MIN_CORRELATION else "in phase overall"
    rows.append(CheckRow("Mono correlation", f"{corr:+.2f}", PASS if corr >= MIN_CORRELATION else WARN,
                         f"L/R correlation {'below' if corr < MIN_CORRELATION else 'at or above'} "
                         f"{MIN_CORRELATION:g}: {phase} (our engineering choice on the correlation meter's scale)."))
    runs = clip_runs(x)
    rows.append(CheckRow("Clipping", f"{runs} runs", PASS if runs == 0 else WARN,
                         f"Runs of ≥ {CLIP_RUN_SAMPLES} full-scale samples (the clip detectors' usual threshold, "
                         "as in the stem checks)."))
    dc = float(np.max(np.abs(x.mean(axis=1))))
    rows.append(CheckRow("DC offset", f"{amp_to_db(max(dc, 1e-12)):.0f} dBFS", PASS if dc < DC_OFFSET_LEVEL else WARN,
                         f"Mean per channel; {amp_to_db(DC_OFFSET_LEVEL):.0f} dBFS or more warns (as the stem "
                         "checks)."))
    side = low_end_side_db(x, sr)
    rows.append(CheckRow("Low-end mono", "mono" if side == -math.inf else f"side {side:+.1f} dB",
                         PASS if side <= LOW_END_SIDE_DB else WARN,
                         f"Side vs mid below {LOW_END_HZ:g} Hz; above {LOW_END_SIDE_DB:g} dB the bass is wide "
                         "(our engineering choice: mono low end for vinyl cutting and club systems)."))
    if tonal_distance is not None:
        d = float(tonal_distance(x, sr))
        rows.append(CheckRow("Tonal distance to reference", f"{d:.1f} dB",
                             PASS if d <= MAX_TONAL_DISTANCE_DB else WARN,
                             f"Band-balance distance to the reference; above {MAX_TONAL_DISTANCE_DB:g} dB warns "
                             "(our engineering choice)."))
    return ReleaseCheck(label or target.name, tuple(rows))


def check_file(path: str | os.PathLike, target: ReleaseTarget, *, tonal_distance: TonalDistance | None = None,
               label: str | None = None) -> ReleaseCheck:
    """:func:`check_release` on a written file (any format soundfile reads); labelled with its file name."""
    import soundfile as sf

    audio, sr = sf.read(str(path), always_2d=True, dtype="float32")
    return check_release(audio.T, sr, target, tonal_distance=tonal_distance, label=label or Path(path).name)


def markdown_table(checks: Sequence[ReleaseCheck]) -> list[str]:
    """The checks as Markdown lines: one table, a row per file and measure."""
    lines = ["| File | Check | Value | Result | Why |", "|---|---|---|---|---|"]
    for c in checks:
        for r in c.rows:
            lines.append(f"| {_md(c.label)} | {r.name} | {r.value} | {'✓ pass' if r.status == PASS else '! warn'} "
                         f"| {_md(r.reason)} |")
    return lines


def summary_lines(checks: Sequence[ReleaseCheck]) -> list[str]:
    """One line per file for the command line: pass, or the rows that warn."""
    out = []
    for c in checks:
        warns = [f"{r.name} {r.value}" for r in c.rows if r.status == WARN]
        out.append(f"{c.label}: " + ("all checks pass" if not warns else "warn — " + "; ".join(warns)))
    return out


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
