"""The mix stage: every stem read, sent through its chain and summed, with the reverb return and the glue, to the bus.

Each stem is read block by block (one reader per stem, advanced together) and
sent through its :class:`~.chain.StemChain`. Three steps overlap across blocks
(:func:`workbench.stages.pipelined`): the stems of block b + 1 (in parallel
threads: pedalboard releases the GIL), the sum of block b in plan order, and
the reverb return, glue compressor, bus file and loudness meter of block b − 1.
Each step takes its blocks in order and the sums run in plan order, so the bus
is the same as in series and does not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pedalboard as pb
import pyebur128 as ebu
import soundfile as sf

from ...audio_io import BLOCK_FRAMES, iter_blocks
from ...errors import WorkbenchError
from ...session import Session, Stem
from ...stages import pipelined
from .. import dsp
from ..plan import MixPlan, ReverbBus, StemPlan
from .cache import StemCache
from .chain import Plugins, StemChain
from .master import glue_stage, tone_stage
from .result import Progress

#: Stems are always read in blocks of this size and re-cut to ``block_frames``.
READ_BLOCK_FRAMES = BLOCK_FRAMES

#: A plan stem to render: its name, its decisions and the session's stem.
Matched = tuple[str, StemPlan, Stem]


class StemSink(Protocol):
    """Where the mix stage writes the processed stems (:class:`workbench.export.stems.ProcessedStemWriter`)."""

    def write(self, i: int, block: np.ndarray) -> None:
        """Stem ``i``'s ``(2, n)`` block as it enters the bus."""

    def write_return(self, block: np.ndarray) -> None:
        """The reverb return's ``(2, n)`` block."""


class ReverbReturn:
    """The reverb bus: pre-delay → high-pass → low-pass → reverb (100 % wet) → return level.

    The pre-delay is a whole-sample delay line; the filters are 12 dB/octave
    Butterworth; the reverb is pedalboard's ``Reverb`` (JUCE's Freeverb-style
    reverb after Jezar's public-domain Freeverb) with ``wet_level=1, dry_level=0``.

    Parameters
    ----------
    bus : ReverbBus
    sample_rate : int
    """

    def __init__(self, bus: ReverbBus, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._delay = dsp.SampleDelay(int(round(bus.predelay_ms * sample_rate / 1000.0)), 2)
        sections = []
        if bus.highpass_hz and bus.highpass_hz > 0:
            sections.append(dsp.butterworth_sos("highpass", bus.highpass_hz, 12, sample_rate))
        if bus.lowpass_hz and bus.lowpass_hz < dsp.MAX_FREQ_FRACTION * sample_rate:
            sections.append(dsp.butterworth_sos("lowpass", bus.lowpass_hz, 12, sample_rate))
        # One cascade (a single pass over the block, in float64 throughout).
        self._filters = [dsp.SosFilter(np.concatenate(sections), 2)] if sections else []
        self._reverb = Plugins([pb.Reverb(room_size=bus.room_size, damping=bus.damping, wet_level=1.0,
                                           dry_level=0.0, width=bus.width, freeze_mode=0.0)], sample_rate)
        self._return = np.float32(dsp.db_to_amplitude(bus.return_db))

    def process(self, send: np.ndarray) -> np.ndarray:
        """The return for one ``(2, n)`` block of the summed sends."""
        x = self._delay.process(np.ascontiguousarray(send, dtype=np.float32))
        for f in self._filters:
            x = f.process(x)
        return self._reverb.process(x) * self._return



def match_stems(plan: MixPlan, session: Session) -> list[Matched]:
    """The plan's unmuted stems with their session stems, in plan order."""
    by_name = {s.name: s for s in session.stems}
    by_file = {s.file: s for s in session.stems}
    mixable = {id(s) for s in session.mixable_stems}
    missing, broken, matched = [], [], []
    for name, stem_plan in plan.stems.items():
        stem = by_name.get(name) or by_file.get(stem_plan.file)
        if stem is None:
            missing.append(f"{name!r} ({stem_plan.file})")
        elif not stem_plan.mute:
            if id(stem) in mixable:
                matched.append((name, stem_plan, stem))
            else:
                broken.append(repr(name))
    if missing:
        raise WorkbenchError(
            "plan_mismatch",
            f"The plan names stem(s) that are not in the session in {session.folder}: "
            f"{', '.join(missing)}. The session has: {', '.join(repr(s.name) for s in session.stems)}.",
            "Render the plan with the stems it was made for, or plan the mix again for these stems.")
    if broken:
        raise WorkbenchError(
            "cannot_mix", f"Stem(s) {', '.join(broken)} cannot be read or have an error finding.",
            "Fix the file (see `workbench check`), or set \"mute\": true for it in the plan.")
    return matched


class StemReader:
    """Exactly ``n`` frames per call from a stem, resampled if needed, silence past its end."""

    def __init__(self, stem: Stem, sample_rate: int, start: int, frames: int) -> None:
        channels, stem_frames, stem_rate = _shape(stem)
        self.channels = channels
        self._chunks: list[np.ndarray] = []
        self._buffered = 0
        length = int(round(stem_frames * sample_rate / stem_rate))
        self._blocks: Iterator[np.ndarray] | None = None
        if start < length:
            self._blocks = iter_blocks(stem.path, block_frames=READ_BLOCK_FRAMES, start=start, frames=frames,
                                       sample_rate=sample_rate)

    def read(self, n: int) -> np.ndarray:
        while self._buffered < n and self._blocks is not None:
            block = next(self._blocks, None)
            if block is None:
                self._blocks = None
                break
            self._chunks.append(block)
            self._buffered += block.shape[1]
        data = (np.concatenate(self._chunks, axis=1) if len(self._chunks) > 1 else
                self._chunks[0] if self._chunks else np.zeros((self.channels, 0), np.float32))
        out, rest = data[:, :n], data[:, n:]
        self._chunks = [rest] if rest.shape[1] else []
        self._buffered = rest.shape[1]
        if out.shape[1] < n:
            out = np.concatenate([out, np.zeros((self.channels, n - out.shape[1]), np.float32)], axis=1)
        return out

    def close(self) -> None:
        if isinstance(self._blocks, Generator):
            self._blocks.close()


def _shape(stem: Stem) -> tuple[int, int, int]:
    """A readable stem's channels, frames and rate (a stem that is not readable has no place in a mix)."""
    if stem.channels is None or stem.frames is None or not stem.sample_rate:
        raise WorkbenchError("cannot_mix", f"Stem {stem.name!r} ({stem.path}) could not be read.",
                             "Fix the file (see `workbench check`), or set \"mute\": true for it in the plan.")
    return stem.channels, stem.frames, stem.sample_rate


@dataclass(frozen=True)
class Bus:
    """What the mix stage measured of the pre-limiter bus (after the pre-roll)."""

    lufs: float
    sample_peak: float


@dataclass(frozen=True)
class _Summed:
    """One block of the bus before the reverb return and the glue."""

    mix: np.ndarray
    sends: np.ndarray | None
    first: int               # the section starts at this frame of the block (after the pre-roll)


class _StemsStage:
    """Step 1: the stems of one block through their chains (in parallel), or from the cache.

    Stems missing from the cache are read and processed; the ones that fit in
    the cache's budget are collected and kept when the stage is done.
    """

    def __init__(self, chains: list[StemChain], stems: Sequence[Matched], *, sr: int, start: int, frames: int,
                 block_frames: int, cache: StemCache | None, pool: ThreadPoolExecutor) -> None:
        self.chains, self.pool, self.cache = chains, pool, cache
        self.sizes = [min(block_frames, frames - i) for i in range(0, frames, block_frames)]
        self.offsets = list(range(0, frames, block_frames))
        self.cached: list[np.ndarray | None] = [None] * len(stems)
        self.collect: list[tuple[tuple, list[np.ndarray]] | None] = [None] * len(stems)
        if cache is not None:
            keys = [cache.key(stem, sr, start, frames, chains[i].core_key) for i, (_, _, stem) in enumerate(stems)]
            self.cached, keep = cache.lookup(keys, [frames * (1 if c.mono else 2) * 4 for c in chains])
            self.collect = [(key, []) if k else None for key, k in zip(keys, keep)]
        self.readers = [None if self.cached[i] is not None else StemReader(stem, sr, start, frames)
                        for i, (_, _, stem) in enumerate(stems)]

    def one(self, i: int, b: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Stem ``i``'s block ``b``: dry and send."""
        cached = self.cached[i]
        if cached is not None:
            return self.chains[i].place(cached[:, self.offsets[b]:self.offsets[b] + self.sizes[b]])
        reader = self.readers[i]
        assert reader is not None                # every stem not in the cache has one
        x = self.chains[i].core(reader.read(self.sizes[b]))
        collecting = self.collect[i]
        if collecting is not None:
            collecting[1].append(x)
        return self.chains[i].place(x)

    def __call__(self, b: int) -> tuple[int, list[tuple[np.ndarray, np.ndarray | None]]]:
        futures = [self.pool.submit(self.one, i, b) for i in range(len(self.chains))]
        return b, [f.result() for f in futures]

    def keep(self) -> None:
        """Put the collected stems into the cache."""
        for entry in self.collect:
            if entry is not None and self.cache is not None:
                key, blocks = entry
                self.cache.put(key, np.concatenate(blocks, axis=1) if blocks else np.zeros((1, 0), np.float32))

    def close(self) -> None:
        for r in self.readers:
            if r is not None:
                r.close()


class _SumStage:
    """Step 2: the stems of one block summed in plan order (dry to the bus, sends to the reverb)."""

    def __init__(self, *, sizes: list[int], offsets: list[int], preroll: int, reverb: bool,
                 taps: StemSink | None) -> None:
        self.sizes, self.offsets, self.preroll, self.reverb, self.taps = sizes, offsets, preroll, reverb, taps

    def __call__(self, item: tuple[int, list[tuple[np.ndarray, np.ndarray | None]]]) -> _Summed:
        b, results = item
        n = self.sizes[b]
        mix = np.zeros((2, n))
        sends = np.zeros((2, n)) if self.reverb else None
        first = max(0, self.preroll - self.offsets[b])       # the section starts here in this block
        for i, (dry, send) in enumerate(results):            # plan order: deterministic sums
            mix += dry
            if send is not None and sends is not None:
                sends += send
            if self.taps is not None and first < n:
                self.taps.write(i, dry[:, first:])
        return _Summed(mix, sends, first)


class _BusStage:
    """Step 3: reverb return → glue → bus file and meter, for one block (in block order)."""

    def __init__(self, bus_file: sf.SoundFile, *, sr: int, reverb: ReverbReturn | None, glue: Plugins | None,
                 taps: StemSink | None, tone: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.bus_file, self.reverb, self.glue, self.taps = bus_file, reverb, glue, taps
        self.tone = tone                      # the master EQ and width of reference mode
        self.meter = ebu.R128State(2, sr, ebu.MeasurementMode.MODE_I)
        self.peak = 0.0

    def __call__(self, block: _Summed) -> int:
        mix, sends, first = block.mix, block.sends, block.first
        n = mix.shape[1]
        returned = (self.reverb.process(sends.astype(np.float32))
                    if self.reverb is not None and sends is not None else None)
        if returned is not None:
            mix += returned
        if self.taps is not None and first < n:
            self.taps.write_return(returned[:, first:] if returned is not None
                                   else np.zeros((2, n - first), np.float32))
        bus = mix.astype(np.float32)
        if self.glue is not None:
            bus = self.glue.process(bus)
        if self.tone is not None:
            bus = self.tone(bus)
        self.bus_file.write(bus.T)
        if first < n:                         # measure the section only, not the pre-roll
            part = np.ascontiguousarray(bus[:, first:].T)
            self.meter.add_frames(part.reshape(-1), n - first)
            self.peak = max(self.peak, float(np.abs(part).max()))
        return n

    def measured(self) -> Bus:
        return Bus(lufs=float(ebu.get_loudness_global(self.meter)), sample_peak=self.peak)


def mix_to_bus(plan: MixPlan, stems: Sequence[Matched], bus_path: Path, *, sr: int, start: int, frames: int,
               preroll: int, bypass: frozenset[str], workers: int, block_frames: int, progress: Progress | None,
               taps: StemSink | None = None, cache: StemCache | None = None) -> Bus:
    """Every stem through its chain, summed with the reverb return and glued, to ``bus_path`` (float32 WAV).

    Parameters
    ----------
    plan : MixPlan
    stems : sequence of (name, StemPlan, Stem)
        The stems to mix, in plan order (:func:`match_stems`).
    bus_path : Path
        The stereo float32 WAV written (pre-roll included).
    sr, start, frames, preroll : int
        Rate; first frame read and frames read (pre-roll included); pre-roll frames.
    bypass : frozenset of str
    workers : int
        Threads processing the stems of a block.
    block_frames : int
    progress : callable, optional
        ``(done_frames, frames, "mix")`` after every block.
    taps : StemSink, optional
        Receives every processed stem and the reverb return (the section only).
    cache : StemCache, optional

    Returns
    -------
    Bus
        The bus's integrated loudness and sample peak, the pre-roll excluded.
    """
    chains = [StemChain(sp, sr, _shape(stem)[0], bypass=bypass) for _, sp, stem in stems]
    reverb = (ReverbReturn(plan.reverb, sr)
              if "reverb" not in bypass and any(c.has_send for c in chains) else None)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        stems_stage = _StemsStage(chains, stems, sr=sr, start=start, frames=frames, block_frames=block_frames,
                                  cache=cache, pool=pool)
        try:
            with sf.SoundFile(str(bus_path), "w", sr, 2, "FLOAT", format="WAV") as bus_file:
                bus_stage = _BusStage(bus_file, sr=sr, reverb=reverb, glue=glue_stage(plan.master, sr, bypass),
                                      taps=taps, tone=tone_stage(plan.master, sr, bypass))
                sum_stage = _SumStage(sizes=stems_stage.sizes, offsets=stems_stage.offsets, preroll=preroll,
                                      reverb=reverb is not None, taps=taps)
                done = 0
                blocks: Iterator[int] = iter(range(len(stems_stage.sizes)))
                for n in pipelined(blocks, [stems_stage, sum_stage, bus_stage]):
                    done += n
                    if progress:
                        progress(done, frames, "mix")
        finally:
            stems_stage.close()
    stems_stage.keep()
    return bus_stage.measured()
