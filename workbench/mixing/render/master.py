"""The master: gain to the loudness target → true-peak limiter → TPDF dither → the output file.

The mix stage (:mod:`.bus`) leaves the pre-limiter bus in a temporary float32
WAV (after the glue compressor, built here by :func:`glue_stage`). The master
reads it again in fixed ``MASTER_BLOCK_FRAMES`` blocks, measuring the result's
integrated loudness (libebur128) and true peak (libebur128's interpolator,
:class:`~workbench.analysis.loudness.TruePeakMeter`) as it is written; the
limiter of the next block runs in a second thread (:func:`workbench.stages.pipelined`).

If the loudness is more than ``LOUDNESS_TOLERANCE_LU`` off target (the limiter
took some) or the true peak is above the ceiling, the gain or the limiter
ceiling is corrected and the master alone runs again — at most
``MAX_MASTER_PASSES`` times, plus one last pass only if the true peak were
still over (:func:`master_to_target`). When the limiter is expected to work,
cheap loudness-only copies of it first run at a few gains
(:func:`probe_loudness`): the first pass takes the gain they predict, and a
second pass can interpolate the right gain instead of creeping towards it.

The chain after the bus is built in one place, :func:`limiter_stage` (gain →
limiter), used by the passes and the probes alike.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyebur128 as ebu
import soundfile as sf

from ...analysis.loudness import TruePeakMeter
from ...audio_io import atomic_path, iter_blocks
from ...errors import WorkbenchError
from ...stages import pipelined
from .. import dsp
from ..plan import MasterPlan, MixPlan
from ..reference_match import master_tone
from .chain import Plugins, compressor_plugins
from .result import Progress, RenderResult

#: Iterate the master stage until the loudness is this close to the target (LU).
#: Two BS.1770 meters (pyloudnorm, libebur128) agreed within 0.05 LU on the test
#: mixes; 0.2 LU keeps an independent meter well inside a ±0.5 LU tolerance.
LOUDNESS_TOLERANCE_LU = 0.2
#: At most this many master passes (each re-reads the stereo temporary file).
MAX_MASTER_PASSES = 3
#: The limiter's ceiling starts this far below the plan's true-peak ceiling.
#: The limiter holds its own 4×-oversampled peaks (resample_poly's filter) at
#: its ceiling, but meters interpolate differently: on the test mixes the
#: output's resample_poly 4× peak stayed within 0.02 dB of the limiter's
#: ceiling while libebur128 (a shorter interpolator) read up to 0.25 dB above it
#: (0.34 dB under 30 dB of limiting, where a second pass corrects it).
LIMITER_MARGIN_DB = 0.3
#: When the measured true peak is still above the ceiling, the limiter ceiling
#: is lowered by the excess plus this much.
TRUE_PEAK_STEP_DB = 0.05
#: Limiter lookahead and release (5 ms / 100 ms: pedalboard's BrickwallLimiter
#: defaults, and the usual range of mastering limiters — a lookahead of a few
#: milliseconds lets the gain ramp down before a transient instead of clipping it).
LIMITER_LOOKAHEAD_MS = 5.0
LIMITER_RELEASE_MS = 100.0
#: Extra gains (dB above the loudness-matching gain) at which loudness-only
#: limiter copies ("probes") run before the first master pass when the limiter
#: is expected to work, one more copy running at that gain itself: the first
#: pass takes the gain they predict for the target, and a second pass, if
#: needed, interpolates instead of creeping towards it (a limiter returns only
#: ~0.6 dB per dB of gain when busy). The copies detect sample peaks only (a
#: third of the cost) and so limit a little less than the real, true-peak
#: limiter: the first pass measures by how much and shifts them.
PROBE_GAINS_DB = (2.0, 5.0)
#: Below this many LU per dB of gain the limiter is saturated: every few
#: milliseconds of the signal already reach the ceiling, so more gain cannot
#: make it louder (only noisier). The master stage then stops and says so.
SATURATION_SLOPE = 0.1
#: The largest gain step (dB) one master pass may take beyond what was measured.
MAX_GAIN_STEP_DB = 12.0
#: Fixed block size of the master stage (its output never depends on the caller's block size).
MASTER_BLOCK_FRAMES = 65536
#: Seed of the dither generator: any fixed number; fixed so that a plan renders
#: byte-identical files (1770 after ITU-R BS.1770).
DITHER_SEED = 1770
#: Output sample formats by bit depth (32 = float, written without dither).
SUBTYPES = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}



@dataclass
class MasterPass:
    """What one master pass did and measured (and, for the last one, how many ran)."""

    gain_db: float
    ceiling_db: float
    lufs: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    probes: list[tuple[float, float]] = field(default_factory=list)
    passes: int = 1
    notes: list[str] = field(default_factory=list)


def glue_stage(master: MasterPlan, sample_rate: int, bypass: frozenset[str] = frozenset()) -> Plugins | None:
    """The master's glue compressor as a streaming processor, or ``None`` (none, inactive or bypassed)."""
    glue = master.glue
    if "master" in bypass or glue is None or not glue.active:
        return None
    return Plugins(compressor_plugins(glue), sample_rate)


def tone_stage(master: MasterPlan, sample_rate: int,
               bypass: frozenset[str] = frozenset()) -> Callable[[np.ndarray], np.ndarray] | None:
    """The master's EQ → width → mono-low-end stage after the glue (reference mode), or ``None``.

    Built by :func:`workbench.mixing.reference_match.master_tone`; ``None`` when the plan asks
    for none of these moves or the master is bypassed.
    """
    return None if "master" in bypass else master_tone(master, sample_rate)


def limiter_stage(sample_rate: int, gain_db: float, ceiling_db: float, *,
                  true_peak: bool = True) -> Callable[[np.ndarray | None], np.ndarray]:
    """Gain → lookahead limiter, block by block: ``stage(block)``, then ``stage(None)`` for the tail.

    The limiter's latency is compensated: the blocks it returns add up to
    exactly the frames it was given, sample-aligned.
    """
    limiter = dsp.LookaheadLimiter(ceiling_db, sample_rate, 2, lookahead_ms=LIMITER_LOOKAHEAD_MS,
                                   release_ms=LIMITER_RELEASE_MS, true_peak=true_peak)
    amp = np.float32(dsp.db_to_amplitude(gain_db))

    def stage(block: np.ndarray | None) -> np.ndarray:
        return limiter.flush() if block is None else limiter.process(block * amp)

    return stage


def _bus_blocks(bus_path: Path) -> Iterable[np.ndarray | None]:
    """The bus file in ``MASTER_BLOCK_FRAMES`` blocks, then ``None`` (flush the limiter)."""
    yield from iter_blocks(bus_path, block_frames=MASTER_BLOCK_FRAMES)
    yield None


def master_to_target(plan: MixPlan, bus_lufs: float, bus_peak: float, bus_path: Path, out_path: Path, *,
                     sr: int, preroll: int, frames: int, bits: int, progress: Progress | None) -> MasterPass:
    """The master, re-run until on target: gain → limiter → dither → ``out_path`` (at most 3 passes, + 1 for peaks).

    Parameters
    ----------
    plan : MixPlan
        Its master's target, ceiling and dither.
    bus_lufs, bus_peak : float
        The bus's integrated loudness and sample peak (section only).
    bus_path, out_path : Path
    sr, preroll, frames, bits : int
        Rate, pre-roll frames in the bus file (discarded), frames to write, bit depth.
    progress : callable, optional

    Returns
    -------
    MasterPass
        The last pass, with the number of passes and notes on a target out of reach.
    """
    target, ceiling = plan.master.target_lufs, plan.master.ceiling_dbtp
    gain = target - bus_lufs if math.isfinite(bus_lufs) else 0.0
    limit = ceiling - LIMITER_MARGIN_DB
    # Probe gains (loudness only) before the first pass only when the limiter will work at all.
    busy = bus_peak > 0 and 20 * math.log10(bus_peak) + gain > limit - 3.0
    probes = (probe_loudness(bus_path, sr=sr, preroll=preroll, ceiling_db=limit,
                             gains=[gain] + [gain + p for p in PROBE_GAINS_DB]) if busy else [])
    predicted = (gain_for_target(probes, target)
                 if probes and all(math.isfinite(lu) for _, lu in probes) else None)
    if predicted is not None:
        gain = predicted
    curve: list[tuple[float, float]] = []        # measured (gain, loudness) points
    notes: list[str] = []
    saturated = False
    n_pass = 0
    while True:
        n_pass += 1
        result = master_pass(bus_path, out_path, sr=sr, preroll=preroll, frames=frames, gain_db=gain,
                             ceiling_db=limit, bits=bits, dither=plan.master.dither,
                             progress=progress, stage="master" if n_pass == 1 else f"master pass {n_pass}")
        result.passes = n_pass
        result.notes = notes
        if n_pass == 1 and probes and math.isfinite(result.lufs):
            # Shift the probes by how much less they limited than the real limiter at this gain.
            pts = sorted(probes)
            offset = result.lufs - float(np.interp(result.gain_db, [g for g, _ in pts], [lu for _, lu in pts]))
            result.probes = [(g, lu + offset) for g, lu in pts if math.isfinite(lu)]
        loud_ok = not math.isfinite(result.lufs) or abs(result.lufs - target) <= LOUDNESS_TOLERANCE_LU
        peak_ok = result.true_peak_dbtp <= ceiling
        if not math.isfinite(result.lufs):
            notes.append("The mix is silent: nothing to normalise.")
        if peak_ok and (loud_ok or n_pass >= MAX_MASTER_PASSES):
            break
        if not peak_ok:
            if n_pass > MAX_MASTER_PASSES:
                notes.append(f"The true peak stayed at {result.true_peak_dbtp:.2f} dBTP, above the "
                             f"{ceiling:g} dBTP ceiling.")
                return result
            limit -= result.true_peak_dbtp - ceiling + TRUE_PEAK_STEP_DB
            if n_pass == MAX_MASTER_PASSES:
                continue                         # one safety pass: lower ceiling, same gain
        curve += [(result.gain_db, result.lufs)] + result.probes
        if not loud_ok:
            next_gain = gain_for_target(curve, target)
            saturated = next_gain is None        # more gain would only add noise and distortion
            if saturated and peak_ok:
                break
            gain = gain if next_gain is None else next_gain
    if math.isfinite(result.lufs) and abs(result.lufs - target) > LOUDNESS_TOLERANCE_LU:
        notes.append(f"The loudness target {target:g} LUFS is out of reach for this mix: the limiter is "
                     f"saturated at {result.lufs:.1f} LUFS with a {ceiling:g} dBTP ceiling."
                     if saturated else
                     f"The loudness is {result.lufs:.1f} LUFS after {n_pass} master passes "
                     f"(target {target:g} LUFS).")
    return result


def gain_for_target(curve: list[tuple[float, float]], target: float) -> float | None:
    """The gain at which the loudness curve ``[(gain_db, lufs)]`` reaches ``target``.

    Linear interpolation between the two measured points around the target;
    outside them, extrapolation from the nearest two (slope clamped to at most
    1 LU/dB — a limiter never returns more loudness than the gain added — and
    the step to ``MAX_GAIN_STEP_DB``). ``None`` when the target is above every
    point and the curve has flattened below ``SATURATION_SLOPE``.
    """
    pts = sorted((g, lu) for g, lu in curve if math.isfinite(lu))
    if not pts:
        return curve[-1][0]
    for (g0, l0), (g1, l1) in zip(pts, pts[1:]):
        if l0 <= target <= l1 and l1 > l0:
            return g0 + (target - l0) * (g1 - g0) / (l1 - l0)
    up = target > pts[-1][1]
    (g0, l0), (g1, l1) = (pts[-2:] if up else pts[:2]) if len(pts) > 1 else (pts[0], pts[0])
    slope = (l1 - l0) / (g1 - g0) if g1 != g0 else 1.0
    if up and len(pts) > 1 and slope < SATURATION_SLOPE:
        return None
    anchor_g, anchor_l = (g1, l1) if up else (g0, l0)
    step = (target - anchor_l) / min(1.0, max(SATURATION_SLOPE, slope))
    return anchor_g + max(-MAX_GAIN_STEP_DB, min(MAX_GAIN_STEP_DB, step))


class _SectionMeter:
    """Integrated loudness of the blocks of a stream, the first ``preroll`` frames left out."""

    def __init__(self, sr: int, preroll: int) -> None:
        self.meter = ebu.R128State(2, sr, ebu.MeasurementMode.MODE_I)
        self.preroll = preroll
        self.seen = 0

    def add(self, y: np.ndarray) -> None:
        first = max(0, self.preroll - self.seen)
        self.seen += y.shape[1]
        part = np.ascontiguousarray(y[:, first:].T)
        if part.shape[0]:
            self.meter.add_frames(part.reshape(-1), part.shape[0])

    @property
    def lufs(self) -> float:
        return float(ebu.get_loudness_global(self.meter))


def probe_loudness(bus_path: Path, *, sr: int, preroll: int, ceiling_db: float,
                   gains: list[float]) -> list[tuple[float, float]]:
    """The loudness (section only) of gain → sample-peak limiter at each gain: ``[(gain_db, lufs)]``.

    Probes only estimate loudness: sample-peak detection is close enough and a
    third of the cost of the real limiter; nothing is dithered or written.
    """
    limiters = [limiter_stage(sr, g, ceiling_db, true_peak=False) for g in gains]
    meters = [_SectionMeter(sr, preroll) for _ in gains]

    def limit(block: np.ndarray | None) -> list[np.ndarray]:
        return [stage(block) for stage in limiters]

    # The limiters of block b + 1 run in a second thread while this one meters block b.
    for outputs in pipelined(_bus_blocks(bus_path), [limit]):
        for meter, y in zip(meters, outputs):
            meter.add(y)
    return [(g, m.lufs) for g, m in zip(gains, meters)]


class _Output:
    """Dither → file → meters for the limited blocks of one pass, the pre-roll dropped."""

    def __init__(self, out: sf.SoundFile, *, sr: int, preroll: int, frames: int, bits: int, dither: bool,
                 progress: Progress | None, stage: str) -> None:
        self.out, self.preroll, self.frames, self.bits = out, preroll, frames, bits
        self.progress, self.stage = progress, stage
        self.meter = ebu.R128State(2, sr, ebu.MeasurementMode.MODE_I)
        # libebur128's own true peak, vectorised (a third of MODE_TRUE_PEAK's cost).
        self.tp_meter = TruePeakMeter(2, sr)
        self.sample_peak = 0.0
        self.rng = np.random.default_rng(DITHER_SEED) if dither and bits < 32 else None
        self.scale = float(2 ** (bits - 1))
        self.seen = 0            # output frames seen (pre-roll included)
        self.written = 0

    def emit(self, y: np.ndarray) -> None:
        first = max(0, self.preroll - self.seen)
        self.seen += y.shape[1]
        y = y[:, first:]
        if not y.shape[1]:
            return
        if self.bits == 32:
            written = np.ascontiguousarray(y.T)
            self.out.write(written)
        else:
            q = dsp.tpdf_quantize(y, self.bits, self.rng)
            self.out.write(np.ascontiguousarray((q << 8).T if self.bits == 24 else q.T.astype(np.int16)))
            written = np.ascontiguousarray(q.T, dtype=np.float32) / np.float32(self.scale)
        self.meter.add_frames(written.reshape(-1), written.shape[0])
        self.tp_meter.push(written.T)
        self.sample_peak = max(self.sample_peak, float(np.abs(written).max()))
        self.written += written.shape[0]
        if self.progress:
            self.progress(self.written, self.frames, self.stage)


def master_pass(bus_path: Path, out_path: Path, *, sr: int, preroll: int, frames: int, gain_db: float,
                ceiling_db: float, bits: int, dither: bool,
                progress: Progress | None, stage: str = "master") -> MasterPass:
    """One master pass: gain → limiter → dither → ``out_path``, measured while written."""
    limit = limiter_stage(sr, gain_db, ceiling_db)
    with sf.SoundFile(str(out_path), "w", sr, 2, SUBTYPES[bits], format="WAV") as out:
        output = _Output(out, sr=sr, preroll=preroll, frames=frames, bits=bits, dither=dither,
                         progress=progress, stage=stage)
        # The limiter of block b + 1 runs in a second thread (its FIR detector
        # releases the GIL) while this one dithers, writes and meters block b.
        for y in pipelined(_bus_blocks(bus_path), [limit]):
            output.emit(y)
    if output.written != frames:   # the limiter returns exactly what it was given
        raise RuntimeError(f"master stage wrote {output.written} frames instead of {frames}")
    return MasterPass(gain_db=gain_db, ceiling_db=ceiling_db, lufs=float(ebu.get_loudness_global(output.meter)),
                      true_peak_dbtp=_db(output.tp_meter.peak), sample_peak_dbfs=_db(output.sample_peak))


def peak_reduction(bus_peak: float, master: MasterPass) -> float:
    """The limiter's largest gain reduction: the bus peak after the master gain, over its ceiling (dB)."""
    if bus_peak <= 0 or not math.isfinite(master.gain_db):
        return 0.0
    return round(max(0.0, 20 * math.log10(bus_peak) + master.gain_db - master.ceiling_db), 2)


def loudness_loss(bus_lufs: float, master: MasterPass) -> float:
    """Loudness the limiter took away (LU): bus loudness + master gain − output loudness."""
    if not (math.isfinite(bus_lufs) and math.isfinite(master.lufs)):
        return 0.0
    return round(max(0.0, bus_lufs + master.gain_db - master.lufs), 2)


def master_stems(plan: MixPlan, stem_files: Iterable[str | os.PathLike], out_path: str | os.PathLike, *,
                 master_gain_db: float | None = None, limiter_ceiling_db: float | None = None,
                 bit_depth: int | None = None, block_frames: int = MASTER_BLOCK_FRAMES) -> RenderResult:
    """Sum processed stems and put the sum through the plan's master: glue → EQ/width → gain → limiter → dither.

    With the processed stems of a render and that render's ``master_gain_db`` and
    ``limiter_ceiling_db``, this reproduces the render's mix within the 24-bit
    quantisation of the stems (at most one LSB of the output after dither). It
    shows what the processed stems are: the mix, taken apart before the master.
    A mono file is put on both sides. By default the gain and the ceiling are the
    ones the render recorded in the plan (``plan.master.rendered_gain_db`` and
    ``rendered_limiter_ceiling_db``, in ``plan.json``), so the files alone suffice.

    Raises
    ------
    WorkbenchError
        ``no_master_gain`` when neither the arguments nor the plan give the gain and ceiling.
    """
    if master_gain_db is None:
        master_gain_db = plan.master.rendered_gain_db
    if limiter_ceiling_db is None:
        limiter_ceiling_db = plan.master.rendered_limiter_ceiling_db
    if master_gain_db is None or limiter_ceiling_db is None:
        raise WorkbenchError("no_master_gain", "The plan does not record the master gain and limiter ceiling "
                             "of a render.", "Use the plan.json written by `workbench mix` with the stems, or "
                             "pass master_gain_db and limiter_ceiling_db.")
    started = time.perf_counter()
    sr = int(plan.sample_rate)
    bits = plan.master.bit_depth if bit_depth is None else int(bit_depth)
    paths = [Path(p) for p in stem_files]
    frames = max((sf.info(str(p)).frames for p in paths), default=0)
    glue = glue_stage(plan.master, sr)
    tone = tone_stage(plan.master, sr)
    out = Path(out_path)
    with atomic_path(out, inputs=tuple(paths)) as tmp_out:
        fd, bus_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".bus.wav", dir=out.parent)
        os.close(fd)
        bus_path = Path(bus_name)
        try:
            readers = [iter_blocks(p, block_frames=block_frames) for p in paths]
            with sf.SoundFile(str(bus_path), "w", sr, 2, "FLOAT", format="WAV") as bus_file:
                for blocks in zip(*readers):
                    mix = np.zeros((2, blocks[0].shape[1]))
                    for b in blocks:                    # plan order, as the mix stage sums
                        mix += b                        # a mono (1, n) block goes to both sides
                    bus = mix.astype(np.float32)
                    bus = glue.process(bus) if glue is not None else bus
                    bus_file.write((tone(bus) if tone is not None else bus).T)
            result = master_pass(bus_path, tmp_out, sr=sr, preroll=0, frames=frames, gain_db=master_gain_db,
                                  ceiling_db=limiter_ceiling_db, bits=bits, dither=plan.master.dither,
                                  progress=None)
        finally:
            bus_path.unlink(missing_ok=True)
    return RenderResult(path=out, integrated_lufs=result.lufs, true_peak_dbtp=result.true_peak_dbtp,
                        sample_peak_dbfs=result.sample_peak_dbfs, master_gain_db=master_gain_db,
                        frames=frames, seconds=time.perf_counter() - started, bypass=frozenset(),
                        limiter_ceiling_db=limiter_ceiling_db)


def _db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf
