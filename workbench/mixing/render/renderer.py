"""The renderer's entry point: a plan and its stems in, the mix file out (:func:`render`).

It checks the request, matches the plan's stems to the session's, runs the mix
stage (:func:`.bus.mix_to_bus`) into a temporary bus file beside the output,
then the master (:func:`.master.master_to_target`) into the output — written
atomically — and, when asked, hands the processed stems to
:class:`workbench.export.stems.ProcessedStemWriter`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ...audio_io import BLOCK_FRAMES, atomic_path
from ...errors import ParameterError, WorkbenchError
from ...session import Session
from ...workers import DEFAULT_WORKERS
from ..plan import MixPlan
from .bus import Matched, match_stems, mix_to_bus
from .cache import StemCache
from .chain import check_bypass
from .master import SUBTYPES, loudness_loss, master_to_target, peak_reduction
from .result import Progress, RenderResult

if TYPE_CHECKING:
    from ...export.stems import ProcessedStemWriter


def render(
    plan: MixPlan,
    session: Session,
    out_path: str | os.PathLike,
    *,
    bypass: Iterable[str] = frozenset(),
    section: tuple[int, int] | None = None,
    preroll_frames: int = 0,
    bit_depth: int | None = None,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
    block_frames: int = BLOCK_FRAMES,
    stems_dir: str | os.PathLike | None = None,
    cache: StemCache | None = None,
    stems_bit_depth: int = 24,
) -> RenderResult:
    """Render the mix a plan describes to a WAV file.

    Parameters
    ----------
    plan : MixPlan
        What to do; its stems are matched to the session's by name.
    session : Session
        The stems.
    out_path : path-like
        The WAV to write (atomically; never one of the session's files).
    bypass : iterable of str
        Stages to skip for A/B listening, from ``STAGES``; :data:`PLAIN_SUM` for all.
    section : (start_frame, n_frames), optional
        Render only these frames (at ``plan.sample_rate``); the file holds
        exactly ``n_frames``, silence past the end of the song.
    preroll_frames : int
        Frames before ``section`` processed and discarded so that compressors,
        reverb and limiter have settled (clamped at the start of the song).
    bit_depth : {16, 24, 32}, optional
        Output format (32 = float); default ``plan.master.bit_depth``.
        16 and 24 bit are TPDF-dithered when ``plan.master.dither``.
    progress : callable ``(done_frames, total_frames, stage)``, optional
        Called after every block; ``stage`` is ``"mix"``, then ``"master"``
        (and ``"master pass 2"``, ``"master pass 3"`` when the master stage re-runs).
    workers : int
        Threads processing stems in parallel (the result does not depend on it).
    block_frames : int
        Frames per processing block (the result does not depend on it).
    stems_dir : path-like, optional
        Also write each stem after its chain, gain and pan, and the reverb
        return, as WAVs from 0:00 (the section, for a section render) into this
        folder: the processed stems. A mono stem at the centre stays mono (its
        file holds one side of the pan law, which :func:`master_stems` puts on
        both); a panned or stereo stem, and the reverb return, are stereo.
        Their sum is the mix bus before the master; :func:`master_stems` puts
        it through the same master and reproduces the mix within dither.
    stems_bit_depth : {16, 24, 32}
        Sample format of the processed stems (32 = float; 16 and 24 bit are
        plain rounded PCM, no dither). Default 24.
    cache : StemCache, optional
        For section renders: reuse the processed stems it holds and keep the
        ones computed here (the output does not depend on it). Ignored for
        full-length renders.

    Returns
    -------
    RenderResult

    Notes
    -----
    Session stems that the plan does not name are not rendered; muted plan
    stems are not even read.

    Raises
    ------
    WorkbenchError
        ``plan_mismatch`` when a plan stem is not in the session;
        ``cannot_mix`` when an unmuted plan stem has an error finding;
        ``overwrite_input`` when ``out_path`` is one of the stems;
        ``bad_plan`` when the plan's master rate differs from its rate.
    """
    started = time.perf_counter()
    bypass = check_bypass(bypass)
    if workers < 1:
        raise ParameterError(f"workers must be >= 1, got {workers}")
    if block_frames < 1:
        raise ParameterError(f"block_frames must be >= 1, got {block_frames}")
    bits = plan.master.bit_depth if bit_depth is None else int(bit_depth)
    if bits not in SUBTYPES:
        raise ParameterError(f"bit_depth must be one of {sorted(SUBTYPES)}, got {bits}")
    if stems_bit_depth not in SUBTYPES:
        raise ParameterError(f"stems_bit_depth must be one of {sorted(SUBTYPES)}, got {stems_bit_depth}")
    sr = int(plan.sample_rate)
    if plan.master.sample_rate != sr:
        raise WorkbenchError(
            "bad_plan", f"The plan mixes at {sr} Hz but its master asks for {plan.master.sample_rate} Hz.",
            "Set master.sample_rate equal to sample_rate in the plan.")
    stems = match_stems(plan, session)
    total = plan.frames or int(round(session.frames * sr / session.sample_rate))
    if section is None:
        start, n_frames, pre = 0, total, 0
    else:
        start, n_frames = int(section[0]), int(section[1])
        if start < 0 or n_frames < 1:
            raise ParameterError(f"section must be (start >= 0, n_frames >= 1), got {section}")
        pre = min(max(int(preroll_frames), 0), start)
    if n_frames < 1:
        raise WorkbenchError("nothing_to_render", "The session has no audio to render (zero frames).",
                             "Check that the stems hold audio.")

    out = Path(out_path)
    inputs = tuple(s.path for s in session.stems)
    with atomic_path(out, inputs=inputs) as tmp_out, contextlib.ExitStack() as outputs:
        writer = (outputs.enter_context(_stem_writer(Path(stems_dir), stems, inputs, sr, bypass=bypass,
                                                     bits=stems_bit_depth))
                  if stems_dir is not None else None)
        fd, bus_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".bus.wav", dir=out.parent)
        os.close(fd)
        bus_path = Path(bus_name)
        try:
            bus = mix_to_bus(plan, stems, bus_path, sr=sr, start=start - pre, frames=pre + n_frames,
                             preroll=pre, bypass=bypass, workers=workers, block_frames=block_frames,
                             progress=progress, taps=writer, cache=cache if section is not None else None)
            master = master_to_target(plan, bus.lufs, bus.sample_peak, bus_path, tmp_out, sr=sr, preroll=pre,
                                      frames=n_frames, bits=bits, progress=progress)
        finally:
            bus_path.unlink(missing_ok=True)
    return RenderResult(path=out, integrated_lufs=master.lufs, true_peak_dbtp=master.true_peak_dbtp,
                        sample_peak_dbfs=master.sample_peak_dbfs, master_gain_db=master.gain_db,
                        frames=n_frames, seconds=time.perf_counter() - started, bypass=bypass,
                        master_passes=master.passes, notes=tuple(master.notes),
                        limiter_ceiling_db=master.ceiling_db,
                        limiter_peak_reduction_db=peak_reduction(bus.sample_peak, master),
                        limiter_loudness_loss_lu=loudness_loss(bus.lufs, master),
                        stem_files=writer.paths if writer is not None else ())


def _stem_writer(folder: Path, stems: list[Matched], inputs: tuple[Path, ...], sr: int, *,
                 bypass: frozenset[str], bits: int) -> ProcessedStemWriter:
    """The writer of the processed stems: one file per stem (mono for a mono stem at the centre)."""
    from ...export.stems import ProcessedStemWriter  # the exporters load only when stems are written

    # A mono stem at the centre keeps one channel: both sides of the pan law are
    # the same float32 factor (cos π/4 == sin π/4 in float32), so nothing is lost.
    mono = [(stem.channels != 2 or sp.channels == 1) and ("panning" in bypass or sp.pan == 0.0)
            for _, sp, stem in stems]
    return ProcessedStemWriter(folder, [name for name, _, _ in stems], mono, sample_rate=sr,
                               subtype=SUBTYPES[bits], inputs=inputs)
