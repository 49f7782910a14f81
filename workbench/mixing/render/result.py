"""What a render wrote and measured (:class:`RenderResult`), and the progress callback's type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: ``progress(done_frames, total_frames, stage)``.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render` wrote and measured.

    Attributes
    ----------
    path : Path
        The WAV written.
    integrated_lufs : float
        BS.1770-4 integrated loudness of the written file (LUFS; ``-inf`` for silence).
    true_peak_dbtp : float
        Its true peak (dBTP, libebur128's 4× oversampling).
    sample_peak_dbfs : float
        Its sample peak (dBFS).
    master_gain_db : float
        The gain applied before the limiter to reach the loudness target.
    frames : int
        Frames written.
    seconds : float
        Wall-clock time of the render.
    bypass : frozenset of str
        The stages that were bypassed.
    master_passes : int
        How many times the master stage ran.
    notes : tuple of str
        Plain-words notes about the result (e.g. a loudness target the limiter
        could not reach), for reports.
    limiter_ceiling_db : float
        The ceiling the limiter ran at in the final pass (below the plan's
        ceiling by a safety margin).
    limiter_peak_reduction_db : float
        How far the loudest pre-limiter peak, after the master gain, was above
        the limiter's ceiling: the largest gain reduction the limiter applied (dB, ≥ 0).
    limiter_loudness_loss_lu : float
        Integrated loudness the limiter took away: the bus loudness plus the
        master gain, minus the output's loudness (LU, ≥ 0).
    stem_files : tuple of Path
        The processed stems written (``stems_dir``), the reverb return last.
    """

    path: Path
    integrated_lufs: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    master_gain_db: float
    frames: int
    seconds: float
    bypass: frozenset[str]
    master_passes: int = 1
    notes: tuple[str, ...] = ()
    limiter_ceiling_db: float = 0.0
    limiter_peak_reduction_db: float = 0.0
    limiter_loudness_loss_lu: float = 0.0
    stem_files: tuple[Path, ...] = ()

