"""Rendering: apply a :class:`~workbench.mixing.plan.MixPlan` to the stems and write the mix.

The renderer decides nothing: every number it uses comes from the plan (or,
for the master's safety mechanics, from a cited constant below). It runs in two
stages, streaming in blocks so that memory does not grow with the song:

1. **Mix** — each stem is read block by block (one reader per stem, advanced
   together) and sent through its chain (:class:`StemChain`):

   input gain → EQ → compressor → *reverb send* → pan/width → stereo bus.

   The stems of one block are processed in parallel threads (pedalboard
   releases the GIL) and summed in plan order, so the result does not depend
   on the number of workers. The reverb bus (pre-delay → high-/low-pass →
   reverb → return level) is added to the mix bus, the master glue compressor
   runs over it, and the pre-limiter bus is written to a temporary float32 WAV
   beside the output while its integrated loudness is measured (ITU-R
   BS.1770-4, libebur128). These three steps overlap across blocks: the
   stems of block b + 1, the sum of block b and the bus of block b − 1 run at
   once, each step taking its blocks in order.
2. **Master** — the temporary file is read again: gain to the loudness
   target → true-peak limiter → TPDF dither → the output file, measuring the
   result's integrated loudness (libebur128) and true peak (libebur128's
   interpolator, :class:`~workbench.analysis.loudness.TruePeakMeter`) as it is
   written, the limiter of the next block running in a second thread.
   If the loudness is more than ``LOUDNESS_TOLERANCE_LU`` off target (the
   limiter took some) or the true peak is above the ceiling, the gain or the
   limiter ceiling is corrected and this stage alone runs again — at most
   ``MAX_MASTER_PASSES`` times, plus one last pass only if the true peak were
   still over. When the limiter is expected to work, cheap loudness-only
   copies of it first run at a few gains (reading the temporary file once, no
   dither, no file written): the first pass takes the gain they predict, so it
   usually lands on target, and a second pass can interpolate the right gain
   instead of creeping towards it.

   The limiter is :class:`~workbench.mixing.dsp.LookaheadLimiter` (4×
   oversampled detection, 5 ms lookahead, 100 ms release, linked stereo), not
   ``pedalboard.BrickwallLimiter``: the latter keeps its deepest gain reduction
   for as long as the signal keeps exceeding the ceiling, so under sustained
   limiting more gain stops adding loudness and the target cannot be reached
   (see the limiter's docstring). Its latency is compensated — the output is
   sample-aligned with the input and exactly as long. A target louder than a
   clean limiter can make the mix (when every few milliseconds already peak at
   the ceiling) is not forced with absurd gain: the result says so in
   :attr:`RenderResult.notes`.

Every stateful processor carries its state across blocks, so the output is
identical whatever ``block_frames`` and ``workers`` are. (For this reason the
EQ runs in scipy, not in pedalboard: JUCE's IIR filter zeroes tiny state values
at the end of each block it is given.) The master stage reads in fixed
``MASTER_BLOCK_FRAMES`` blocks, and dither comes from a generator with a fixed
seed: the same plan and stems give a byte-identical file.

Sections (previews)
-------------------
``section=(start, n)`` renders ``n`` frames from ``start``. ``preroll_frames``
before the start run through every chain, the reverb, the glue compressor and
the limiter so that their state has settled, and are then discarded. The
loudness normalisation of a section is computed **on the section itself** (not
the pre-roll, not the whole song): a preview plays at the target loudness, as
the full mix does, so the two compare at equal level.

Regenerating a preview
----------------------
A :class:`StemCache` passed to :func:`render` keeps each stem's processed
audio (input gain → EQ → compressor, before the send and the pan) of section
renders in memory. A change of one importance re-plans every stem but changes
the chains of only one to three of them (measured on the sample and benchmark
sessions); the others are taken from the cache, and so are the shared chains
of the A/B versions (no reverb and no panning reuse the automix chains).
Entries are keyed by the file (path, size, modification time), the rate, the
section and every parameter of the chain, so a cached stem is exactly what the
chain would compute again; the output is byte-identical with or without it.

Routing and pan laws
--------------------
- Mono stems are panned with the constant-power sine/cosine law (−3.01 dB per
  side at the centre). Stereo stems: ``width`` scales the side signal (mid/side;
  0 folds to mono), then ``pan`` is a constant-power balance normalised to unity
  at the centre, so a stereo stem at pan 0 and width 1 passes unchanged. See
  :mod:`workbench.mixing.dsp`.
- The reverb send is post-fader (after gain, EQ and compression) and pre-pan:
  a stereo stem sends its two channels as they are, a mono stem sends itself at
  the centre of the pan law (−3.01 dB to each side — the level its dry signal
  has at the centre). The reverb (pedalboard's Freeverb-style ``Reverb``) sums
  its input to mono before its comb filters anyway, so the return is centred
  and as wide as ``ReverbBus.width`` whatever the dry pan.
- A stem whose plan says ``channels = 1`` while its file is stereo is folded
  to mono ((L + R) / 2) first — the planner's call that it is "mono in a stereo
  file". Files with more than two channels are folded to mono too.
- pedalboard's compressor detects each channel separately (unlinked stereo).

Bypass (for A/B)
----------------
``bypass`` names stages of :data:`~workbench.mixing.plan.STAGES` to skip:
``"gain"`` (every stem at unity), ``"eq"``, ``"compression"`` (stem
compressors and their make-up), ``"panning"`` (pan 0, width 1 for all),
``"reverb"`` (no sends, no reverb bus), ``"master"`` (no glue compressor; the
loudness normalisation and the limiter always run, so every A/B version is at
the same loudness and safe). :data:`PLAIN_SUM` bypasses all of them: the stems
summed at unity, loudness-matched to the same target.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pedalboard as pb
import pyebur128 as ebu
import soundfile as sf

from ..analysis.loudness import TruePeakMeter
from ..audio_io import BLOCK_FRAMES, atomic_path, iter_blocks
from ..errors import WorkbenchError
from ..session import Session, Stem
from ..workers import DEFAULT_WORKERS
from . import dsp
from .plan import STAGES, Compressor, MixPlan, ReverbBus, StemPlan
from .reference_match import master_tone

#: Every stage bypassed: the stems summed at unity, then loudness-matched.
PLAIN_SUM = frozenset(STAGES)

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
#: Stems are always read in blocks of this size and re-cut to ``block_frames``.
READ_BLOCK_FRAMES = BLOCK_FRAMES
#: Seed of the dither generator: any fixed number; fixed so that a plan renders
#: byte-identical files (1770 after ITU-R BS.1770).
DITHER_SEED = 1770
#: Output sample formats by bit depth (32 = float, written without dither).
SUBTYPES = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}

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
    bypass: frozenset
    master_passes: int = 1
    notes: tuple[str, ...] = ()
    limiter_ceiling_db: float = 0.0
    limiter_peak_reduction_db: float = 0.0
    limiter_loudness_loss_lu: float = 0.0
    stem_files: tuple[Path, ...] = ()


# ------------------------------------------------------------ stem chain
class StemChain:
    """The processing of one stem, block by block: the plan's chain for it, with state.

    ``input gain → EQ bands → compressor (+ make-up) → [reverb send] → pan/width``.
    The exporter of processed stems can use this class (or :func:`render_stem_chain`)
    so that the chain exists once.

    Parameters
    ----------
    stem_plan : StemPlan
        The decisions for this stem.
    sample_rate : int
        Rate of the blocks (Hz).
    channels : int
        Channel count of the blocks that will be fed (the file's): 2 is
        processed as stereo, anything else is folded to mono.
    bypass : frozenset of str
        Stages to skip (see the module docstring).

    Examples
    --------
    >>> plan = StemPlan(file="x.wav", category=None, importance="medium", gain_db=-6.0,
    ...                 gain_reason="", pan=-1.0)
    >>> chain = StemChain(plan, 44100, channels=1)
    >>> dry, send = chain.process(np.ones((1, 4), dtype=np.float32))
    >>> dry.shape, send is None, round(float(dry[0, 0]), 3), float(dry[1, 0])
    ((2, 4), True, 0.501, 0.0)
    """

    def __init__(self, stem_plan: StemPlan, sample_rate: int, channels: int, *,
                 bypass: Iterable[str] = frozenset()) -> None:
        bypass = _check_bypass(bypass)
        self.sample_rate = int(sample_rate)
        self.in_channels = int(channels)
        self.mono = channels != 2 or stem_plan.channels == 1
        work_channels = 1 if self.mono else 2
        self._stages: list = []
        if "gain" not in bypass and stem_plan.gain_db != 0.0:
            self._stages.append(_Gain(stem_plan.gain_db))
        if "eq" not in bypass:
            self._stages += _eq_stages(stem_plan.eq, self.sample_rate, work_channels)
        comp = stem_plan.compressor
        if "compression" not in bypass and comp is not None and comp.active:
            self._stages.append(_Plugins(_compressor_plugins(comp), self.sample_rate))
        self.send_gain = (None if "reverb" in bypass or stem_plan.reverb_send_db is None
                          else dsp.db_to_amplitude(stem_plan.reverb_send_db))
        self.pan = 0.0 if "panning" in bypass else float(stem_plan.pan)
        self.width = 1.0 if "panning" in bypass else float(stem_plan.width)
        #: Everything :meth:`core` depends on (besides the input): a :class:`StemCache` key part.
        self.core_key = (
            self.in_channels, self.mono,
            None if "gain" in bypass else float(stem_plan.gain_db),
            None if "eq" in bypass else repr(stem_plan.eq),
            None if "compression" in bypass or comp is None or not comp.active else repr(comp),
        )

    @property
    def has_send(self) -> bool:
        """Whether this stem feeds the reverb bus."""
        return self.send_gain is not None

    def process(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Process the next ``(channels, n)`` block of the stem.

        Returns
        -------
        dry : np.ndarray
            ``(2, n)`` float32, panned, ready to sum into the mix bus.
        send : np.ndarray or None
            ``(2, n)`` float32 into the reverb bus (post-fader, pre-pan), or
            ``None`` when the stem has no send.
        """
        return self.place(self.core(block))

    def core(self, block: np.ndarray) -> np.ndarray:
        """Input gain → EQ → compressor of the next block: ``(1 or 2, n)`` float32, not yet placed."""
        x = np.ascontiguousarray(block, dtype=np.float32)
        if self.mono and x.shape[0] != 1:
            x = x.mean(axis=0, keepdims=True, dtype=np.float32)
        for stage in self._stages:
            x = stage.process(x)
        return x

    def place(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The reverb send and the pan/width of a block :meth:`core` returned (stateless)."""
        send = None
        if self.send_gain is not None:
            send = (dsp.pan_mono(x, 0.0) if self.mono else x) * np.float32(self.send_gain)
        if self.mono:
            dry = dsp.pan_mono(x, self.pan)
        else:
            dry = dsp.balance_stereo(dsp.set_width(x, self.width), self.pan)
        return dry, send


def render_stem_chain(stem_plan: StemPlan, audio: np.ndarray, sample_rate: int, *,
                      bypass: Iterable[str] = frozenset(),
                      block_frames: int = BLOCK_FRAMES) -> tuple[np.ndarray, np.ndarray | None]:
    """Run one stem's whole audio through its chain (for processed-stem export).

    Parameters
    ----------
    stem_plan : StemPlan
    audio : np.ndarray
        ``(channels, n)`` (or 1-D mono) float audio at ``sample_rate``.
    sample_rate : int
    bypass : iterable of str
        Stages to skip.
    block_frames : int
        Processing block size (the result does not depend on it).

    Returns
    -------
    dry : np.ndarray
        ``(2, n)`` float32: the stem as it enters the mix bus.
    send : np.ndarray or None
        ``(2, n)`` float32: what it sends to the reverb bus, or ``None``.
    """
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    chain = StemChain(stem_plan, sample_rate, audio.shape[0], bypass=bypass)
    dry, send = [], []
    for i in range(0, audio.shape[1], block_frames):
        d, s = chain.process(audio[:, i:i + block_frames])
        dry.append(d)
        send.append(s)
    if not dry:
        return np.zeros((2, 0), np.float32), (np.zeros((2, 0), np.float32) if chain.has_send else None)
    return np.concatenate(dry, axis=1), (np.concatenate(send, axis=1) if chain.has_send else None)


class _Gain:
    def __init__(self, gain_db: float) -> None:
        self.amplitude = np.float32(dsp.db_to_amplitude(gain_db))

    def process(self, x: np.ndarray) -> np.ndarray:
        return x * self.amplitude


class _Plugins:
    """pedalboard plugins run as a stream (``reset=False`` carries their state).

    pedalboard re-prepares — and so resets — a plugin whenever it is given a
    larger block than before (up to its 8192-frame internal buffer), so a block
    larger than the first is fed in pieces of the first block's size; the
    plugins used here give the same samples however the stream is cut.
    """

    #: pedalboard's default internal buffer size (``process(..., buffer_size=8192)``).
    BUFFER_FRAMES = 8192

    def __init__(self, plugins: list, sample_rate: int) -> None:
        self.board = pb.Pedalboard(plugins)
        self.sample_rate = sample_rate
        self._largest: int | None = None

    def process(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        if self._largest is None:
            self._largest = min(max(n, 1), self.BUFFER_FRAMES)
        if n <= self._largest or self._largest >= self.BUFFER_FRAMES:
            return self.board(np.ascontiguousarray(x), self.sample_rate, reset=False)
        step = self._largest
        return np.concatenate([self.board(np.ascontiguousarray(x[:, i:i + step]), self.sample_rate, reset=False)
                               for i in range(0, n, step)], axis=1)


def _eq_stages(bands, sample_rate: int, channels: int) -> list:
    """The plan's EQ bands, in order, as one cascade of second-order sections.

    High- and low-pass are Butterworth (:func:`~workbench.mixing.dsp.butterworth_sos`);
    bells and shelves are the RBJ cookbook biquads
    (:func:`~workbench.mixing.dsp.rbj_biquad_sos`) — the same designs as
    pedalboard's ``PeakFilter``/``LowShelfFilter``/``HighShelfFilter`` and as the
    planner's predicted responses (:mod:`workbench.mixing.response`), run here in
    float64 by ``scipy.signal.sosfilt``. pedalboard's own filters are not used
    because JUCE's IIR filter snaps its state to zero at the end of every block
    it processes, which makes its output depend on the block size where the
    signal decays into silence (measured: differences from the 9th kilo-sample of
    a drum stem at 1000-frame blocks).
    """
    sections = []
    for band in bands:
        if band.kind in ("highpass", "lowpass"):
            sections.append(dsp.butterworth_sos(band.kind, band.freq_hz, band.slope_db_per_oct, sample_rate))
        elif band.gain_db != 0.0:
            sections.append(dsp.rbj_biquad_sos(band.kind, band.freq_hz, band.gain_db, band.q, sample_rate))
    return [dsp.SosFilter(np.concatenate(sections), channels)] if sections else []


def _compressor_plugins(comp: Compressor) -> list:
    plugins = [pb.Compressor(threshold_db=comp.threshold_db, ratio=comp.ratio,
                             attack_ms=comp.attack_ms, release_ms=comp.release_ms)]
    if comp.makeup_db != 0.0:
        plugins.append(pb.Gain(gain_db=comp.makeup_db))
    return plugins


# ------------------------------------------------------------- reverb bus
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
        self._reverb = _Plugins([pb.Reverb(room_size=bus.room_size, damping=bus.damping, wet_level=1.0,
                                           dry_level=0.0, width=bus.width, freeze_mode=0.0)], sample_rate)
        self._return = np.float32(dsp.db_to_amplitude(bus.return_db))

    def process(self, send: np.ndarray) -> np.ndarray:
        """The return for one ``(2, n)`` block of the summed sends."""
        x = self._delay.process(np.ascontiguousarray(send, dtype=np.float32))
        for f in self._filters:
            x = f.process(x)
        return self._reverb.process(x) * self._return


# ------------------------------------------------------------- stem cache
class StemCache:
    """Processed stems of recent section renders, kept in memory for the next render.

    See "Regenerating a preview" in the module doc. Least recently used
    entries are dropped once the cache holds more than ``max_bytes``; a stem
    larger than that on its own is not kept. Full-length renders never use it
    (their memory must not grow with the song). Safe to share between threads.

    Parameters
    ----------
    max_bytes : int
        Memory budget (default 512 MiB: 16 stereo stems of a 30 s preview with
        its pre-roll take about 190 MiB).
    """

    def __init__(self, max_bytes: int = 512 * 2 ** 20) -> None:
        self.max_bytes = int(max_bytes)
        self._entries: collections.OrderedDict = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(stem: Stem, sample_rate: int, start: int, frames: int, core_key: tuple) -> tuple:
        """The entry of one stem's processed section (file identity, rate, section, chain)."""
        st = os.stat(stem.path)
        return (str(Path(stem.path).resolve()), st.st_size, st.st_mtime_ns, int(sample_rate),
                int(start), int(frames), core_key)

    def get(self, key: tuple) -> np.ndarray | None:
        """The cached audio for ``key`` (read-only), or ``None``."""
        with self._lock:
            audio = self._entries.get(key)
            if audio is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return audio

    def put(self, key: tuple, audio: np.ndarray) -> None:
        """Keep ``audio`` under ``key``, dropping the least recently used beyond the budget."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if audio.nbytes > self.max_bytes:
            return
        audio.flags.writeable = False          # shared by later renders: never modified
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[key] = audio
            self._bytes += audio.nbytes
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of audio held."""
        return self._bytes


# ------------------------------------------------------------------ render
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
    bypass = _check_bypass(bypass)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if block_frames < 1:
        raise ValueError(f"block_frames must be >= 1, got {block_frames}")
    bits = plan.master.bit_depth if bit_depth is None else int(bit_depth)
    if bits not in SUBTYPES:
        raise ValueError(f"bit_depth must be one of {sorted(SUBTYPES)}, got {bits}")
    if stems_bit_depth not in SUBTYPES:
        raise ValueError(f"stems_bit_depth must be one of {sorted(SUBTYPES)}, got {stems_bit_depth}")
    sr = int(plan.sample_rate)
    if plan.master.sample_rate != sr:
        raise WorkbenchError(
            "bad_plan", f"The plan mixes at {sr} Hz but its master asks for {plan.master.sample_rate} Hz.",
            "Set master.sample_rate equal to sample_rate in the plan.")
    stems = _match_stems(plan, session)
    total = plan.frames or int(round(session.frames * sr / session.sample_rate))
    if section is None:
        start, n_frames, pre = 0, total, 0
    else:
        start, n_frames = int(section[0]), int(section[1])
        if start < 0 or n_frames < 1:
            raise ValueError(f"section must be (start >= 0, n_frames >= 1), got {section}")
        pre = min(max(int(preroll_frames), 0), start)
    if n_frames < 1:
        raise WorkbenchError("nothing_to_render", "The session has no audio to render (zero frames).",
                             "Check that the stems hold audio.")

    out = Path(out_path)
    inputs = tuple(s.path for s in session.stems)
    with atomic_path(out, inputs=inputs) as tmp_out:
        fd, bus_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".bus.wav", dir=out.parent)
        os.close(fd)
        bus_path = Path(bus_name)
        try:
            with contextlib.ExitStack() as stem_files:
                taps = (_stem_taps(stem_files, Path(stems_dir), stems, inputs, sr, bypass=bypass,
                                   bits=stems_bit_depth)
                        if stems_dir is not None else None)
                bus = _mix_to_bus(plan, stems, bus_path, sr=sr, start=start - pre, frames=pre + n_frames,
                                  preroll=pre, bypass=bypass, workers=workers, block_frames=block_frames,
                                  progress=progress, taps=taps, cache=cache if section is not None else None)
                if taps is not None:
                    for f in taps.files:
                        f.close()
                master = _master(plan, bus, bus_path, tmp_out, sr=sr, preroll=pre, frames=n_frames,
                                 bits=bits, progress=progress)
        finally:
            bus_path.unlink(missing_ok=True)
    return RenderResult(path=out, integrated_lufs=master.lufs, true_peak_dbtp=master.true_peak_dbtp,
                        sample_peak_dbfs=master.sample_peak_dbfs, master_gain_db=master.gain_db,
                        frames=n_frames, seconds=time.perf_counter() - started, bypass=bypass,
                        master_passes=master.passes, notes=tuple(master.notes),
                        limiter_ceiling_db=master.ceiling_db,
                        limiter_peak_reduction_db=_peak_reduction(bus, master),
                        limiter_loudness_loss_lu=_loudness_loss(bus, master),
                        stem_files=tuple(taps.paths) if taps is not None else ())


def _peak_reduction(bus: "_Bus", master: "_Pass") -> float:
    """The limiter's largest gain reduction: the bus peak after the master gain, over its ceiling (dB)."""
    if bus.sample_peak <= 0 or not math.isfinite(master.gain_db):
        return 0.0
    return round(max(0.0, 20 * math.log10(bus.sample_peak) + master.gain_db - master.ceiling_db), 2)


def _loudness_loss(bus: "_Bus", master: "_Pass") -> float:
    """Loudness the limiter took away (LU): bus loudness + master gain − output loudness."""
    if not (math.isfinite(bus.lufs) and math.isfinite(master.lufs)):
        return 0.0
    return round(max(0.0, bus.lufs + master.gain_db - master.lufs), 2)


@dataclass
class _Taps:
    """Open writers for the processed stems (one per stem, then the reverb return)."""

    files: list
    paths: list[Path]
    #: Per file: True when it holds one channel (a mono stem at the centre).
    mono: list[bool] | None = None

    def write(self, i: int, block: np.ndarray) -> None:
        """Write a ``(2, n)`` block to file ``i`` (its left side only when that file is mono)."""
        part = block[:1] if self.mono is not None and self.mono[i] else block
        self.files[i].write(np.ascontiguousarray(part.T))


#: Name of the processed reverb return among the processed stems.
REVERB_RETURN_NAME = "Reverb return"


def _stem_taps(stack: contextlib.ExitStack, folder: Path, stems, inputs, sr: int, *,
               bypass: frozenset = frozenset(), bits: int = 24) -> _Taps:
    from ..export.names import unique_file_names

    folder.mkdir(parents=True, exist_ok=True)
    names = unique_file_names([name for name, _, _ in stems] + [REVERB_RETURN_NAME], ".wav")
    # A mono stem at the centre keeps one channel: both sides of the pan law are
    # the same float32 factor (cos π/4 == sin π/4 in float32), so nothing is lost.
    mono = [(stem.channels != 2 or sp.channels == 1) and ("panning" in bypass or sp.pan == 0.0)
            for _, sp, stem in stems] + [False]
    files, paths = [], []
    for name, one in zip(names, mono):
        tmp = stack.enter_context(atomic_path(folder / name, inputs=inputs))
        files.append(stack.enter_context(sf.SoundFile(str(tmp), "w", sr, 1 if one else 2, SUBTYPES[bits],
                                                      format="WAV")))
        paths.append(folder / name)
    return _Taps(files, paths, mono)


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
    glue = plan.master.glue
    glue = _Plugins(_compressor_plugins(glue), sr) if glue is not None and glue.active else None
    tone = master_tone(plan.master, sr)
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
            result = _master_pass(bus_path, tmp_out, sr=sr, preroll=0, frames=frames, gain_db=master_gain_db,
                                  ceiling_db=limiter_ceiling_db, bits=bits, dither=plan.master.dither,
                                  progress=None)
        finally:
            bus_path.unlink(missing_ok=True)
    return RenderResult(path=out, integrated_lufs=result.lufs, true_peak_dbtp=result.true_peak_dbtp,
                        sample_peak_dbfs=result.sample_peak_dbfs, master_gain_db=master_gain_db,
                        frames=frames, seconds=time.perf_counter() - started, bypass=frozenset(),
                        limiter_ceiling_db=limiter_ceiling_db)


def _check_bypass(bypass: Iterable[str]) -> frozenset:
    if isinstance(bypass, str):
        bypass = {bypass}
    bypass = frozenset(bypass)
    unknown = bypass - PLAIN_SUM
    if unknown:
        raise ValueError(f"bypass must be a subset of {STAGES}, got unknown {sorted(unknown)}")
    return bypass


def _match_stems(plan: MixPlan, session: Session) -> list[tuple[str, StemPlan, Stem]]:
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


class _StemReader:
    """Exactly ``n`` frames per call from a stem, resampled if needed, silence past its end."""

    def __init__(self, stem: Stem, sample_rate: int, start: int, frames: int) -> None:
        self.channels = int(stem.channels)
        self._chunks: list[np.ndarray] = []
        self._buffered = 0
        length = int(round(stem.frames * sample_rate / stem.sample_rate))
        self._blocks = (iter_blocks(stem.path, block_frames=READ_BLOCK_FRAMES, start=start, frames=frames,
                                    sample_rate=sample_rate) if start < length else None)

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
        if self._blocks is not None:
            self._blocks.close()


@dataclass
class _Bus:
    """What the mix stage measured of the pre-limiter bus (after the pre-roll)."""

    lufs: float
    sample_peak: float


def _mix_to_bus(plan: MixPlan, stems, bus_path: Path, *, sr: int, start: int, frames: int, preroll: int,
                bypass: frozenset, workers: int, block_frames: int, progress: Progress | None,
                taps: _Taps | None = None, cache: StemCache | None = None) -> _Bus:
    """Stage 1: every stem through its chain, summed with the reverb return and glued, to ``bus_path``."""
    chains = [StemChain(sp, sr, stem.channels, bypass=bypass) for _, sp, stem in stems]
    # Processed stems from the cache; the others are read, processed and (when
    # they fit) collected for it.
    cached: list[np.ndarray | None] = [None] * len(stems)
    collect: list[tuple[tuple, list] | None] = [None] * len(stems)
    if cache is not None:
        keys = [cache.key(stem, sr, start, frames, chains[i].core_key) for i, (_, _, stem) in enumerate(stems)]
        cached = [cache.get(key) for key in keys]
        # Collect no more than the budget can keep beside this render's hits
        # (what is collected is held until the end of the stage).
        budget = cache.max_bytes - sum(a.nbytes for a in cached if a is not None)
        for i, key in enumerate(keys):
            size = frames * (1 if chains[i].mono else 2) * 4
            if cached[i] is None and size <= budget:
                collect[i] = (key, [])
                budget -= size
    readers = [None if cached[i] is not None else _StemReader(stem, sr, start, frames)
               for i, (_, _, stem) in enumerate(stems)]
    reverb = (ReverbReturn(plan.reverb, sr)
              if "reverb" not in bypass and any(c.has_send for c in chains) else None)
    glue = plan.master.glue
    glue = (_Plugins(_compressor_plugins(glue), sr)
            if "master" not in bypass and glue is not None and glue.active else None)
    tone = master_tone(plan.master, sr) if "master" not in bypass else None   # master EQ and width
    meter = ebu.R128State(2, sr, ebu.MeasurementMode.MODE_I)
    peak = 0.0
    sizes = [min(block_frames, frames - i) for i in range(0, frames, block_frames)]
    offsets = list(range(0, frames, block_frames))

    def one_stem(i: int, b: int):
        if cached[i] is not None:
            return chains[i].place(cached[i][:, offsets[b]:offsets[b] + sizes[b]])
        x = chains[i].core(readers[i].read(sizes[b]))
        if collect[i] is not None:
            collect[i][1].append(x)
        return chains[i].place(x)

    def finish(mix: np.ndarray, sends: np.ndarray | None, first: int) -> None:
        """Reverb return → glue → bus file and meter, for one block (in block order)."""
        nonlocal peak
        n = mix.shape[1]
        returned = reverb.process(sends.astype(np.float32)) if reverb is not None else None
        if returned is not None:
            mix += returned
        if taps is not None and first < n:
            taps.files[-1].write(np.ascontiguousarray(
                (returned[:, first:] if returned is not None else np.zeros((2, n - first), np.float32)).T))
        bus = mix.astype(np.float32)
        if glue is not None:
            bus = glue.process(bus)
        if tone is not None:
            bus = tone(bus)
        bus_file.write(bus.T)
        if first < n:                         # measure the section only, not the pre-roll
            part = np.ascontiguousarray(bus[:, first:].T)
            meter.add_frames(part.reshape(-1), n - first)
            peak = max(peak, float(np.abs(part).max()))

    # Three overlapping stages: the pool processes the stems of block b + 1
    # while this thread sums block b and one more thread runs the reverb, glue,
    # file and meter of block b - 1 (pedalboard and numpy release the GIL).
    # Each stage takes its blocks in order, so the bus is the same as in series.
    try:
        with sf.SoundFile(str(bus_path), "w", sr, 2, "FLOAT", format="WAV") as bus_file, \
                ThreadPoolExecutor(max_workers=workers) as pool, ThreadPoolExecutor(max_workers=1) as bus_stage:
            pending = [pool.submit(one_stem, i, 0) for i in range(len(chains))] if sizes else []
            finishing = None
            done = 0
            for b, n in enumerate(sizes):
                results = [f.result() for f in pending]
                # Start the next block's stems while this block's bus is processed.
                pending = ([pool.submit(one_stem, i, b + 1) for i in range(len(chains))]
                           if b + 1 < len(sizes) else [])
                mix = np.zeros((2, n))
                sends = np.zeros((2, n)) if reverb is not None else None
                first = max(0, preroll - done)        # the section starts here in this block
                for i, (dry, send) in enumerate(results):   # plan order: deterministic sums
                    mix += dry
                    if send is not None and sends is not None:
                        sends += send
                    if taps is not None and first < n:
                        taps.write(i, dry[:, first:])
                if finishing is not None:
                    finishing.result()
                    if progress:
                        progress(done, frames, "mix")
                finishing = bus_stage.submit(finish, mix, sends, first)
                done += n
            if finishing is not None:
                finishing.result()
                if progress:
                    progress(done, frames, "mix")
    finally:
        for r in readers:
            if r is not None:
                r.close()
    for entry in collect:
        if entry is not None and cache is not None:
            key, blocks = entry
            cache.put(key, np.concatenate(blocks, axis=1) if blocks else np.zeros((1, 0), np.float32))
    return _Bus(lufs=float(ebu.get_loudness_global(meter)), sample_peak=peak)


@dataclass
class _Pass:
    gain_db: float
    ceiling_db: float
    lufs: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    probes: list[tuple[float, float]]
    passes: int = 1
    notes: list[str] | None = None


def _master(plan: MixPlan, bus: _Bus, bus_path: Path, out_path: Path, *, sr: int, preroll: int, frames: int,
            bits: int, progress: Progress | None) -> _Pass:
    """Stage 2: loudness gain → limiter → dither → file, re-run until on target (at most 3 times)."""
    target, ceiling = plan.master.target_lufs, plan.master.ceiling_dbtp
    gain = target - bus.lufs if math.isfinite(bus.lufs) else 0.0
    limit = ceiling - LIMITER_MARGIN_DB
    # Probe gains (loudness only) before the first pass only when the limiter will work at all.
    busy = bus.sample_peak > 0 and 20 * math.log10(bus.sample_peak) + gain > limit - 3.0
    probes = (_probe_loudness(bus_path, sr=sr, preroll=preroll, ceiling_db=limit,
                              gains=[gain] + [gain + p for p in PROBE_GAINS_DB]) if busy else [])
    predicted = (_gain_for_target(probes, target)
                 if probes and all(math.isfinite(lu) for _, lu in probes) else None)
    if predicted is not None:
        gain = predicted
    curve: list[tuple[float, float]] = []        # measured (gain, loudness) points
    notes: list[str] = []
    saturated = False
    n_pass = 0
    while True:
        n_pass += 1
        result = _master_pass(bus_path, out_path, sr=sr, preroll=preroll, frames=frames, gain_db=gain,
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
            next_gain = _gain_for_target(curve, target)
            saturated = next_gain is None        # more gain would only add noise and distortion
            if saturated and peak_ok:
                break
            gain = gain if saturated else next_gain
    if math.isfinite(result.lufs) and abs(result.lufs - target) > LOUDNESS_TOLERANCE_LU:
        notes.append(f"The loudness target {target:g} LUFS is out of reach for this mix: the limiter is "
                     f"saturated at {result.lufs:.1f} LUFS with a {ceiling:g} dBTP ceiling."
                     if saturated else
                     f"The loudness is {result.lufs:.1f} LUFS after {n_pass} master passes "
                     f"(target {target:g} LUFS).")
    return result


def _gain_for_target(curve: list[tuple[float, float]], target: float) -> float | None:
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


def _probe_loudness(bus_path: Path, *, sr: int, preroll: int, ceiling_db: float,
                    gains: list[float]) -> list[tuple[float, float]]:
    """The loudness (section only) of gain → sample-peak limiter at each gain: ``[(gain_db, lufs)]``.

    Probes only estimate loudness: sample-peak detection is close enough and a
    third of the cost of the real limiter; nothing is dithered or written.
    """
    limiters = [dsp.LookaheadLimiter(ceiling_db, sr, 2, lookahead_ms=LIMITER_LOOKAHEAD_MS,
                                     release_ms=LIMITER_RELEASE_MS, true_peak=False) for _ in gains]
    meters = [ebu.R128State(2, sr, ebu.MeasurementMode.MODE_I) for _ in gains]
    amps = [np.float32(dsp.db_to_amplitude(g)) for g in gains]
    seen = [0] * len(gains)

    def measure(i: int, y: np.ndarray) -> None:
        first = max(0, preroll - seen[i])
        seen[i] += y.shape[1]
        part = np.ascontiguousarray(y[:, first:].T)
        if part.shape[0]:
            meters[i].add_frames(part.reshape(-1), part.shape[0])

    def limit(block: np.ndarray | None) -> list[np.ndarray]:
        return [lim.flush() if block is None else lim.process(block * amps[i]) for i, lim in enumerate(limiters)]

    # The limiters of block b + 1 run in a second thread while this one meters block b.
    blocks = itertools.chain(iter_blocks(bus_path, block_frames=MASTER_BLOCK_FRAMES), [None])
    for outputs in _one_ahead(limit, blocks):
        for i, y in enumerate(outputs):
            measure(i, y)
    return [(g, float(ebu.get_loudness_global(m))) for g, m in zip(gains, meters)]


def _master_pass(bus_path: Path, out_path: Path, *, sr: int, preroll: int, frames: int, gain_db: float,
                 ceiling_db: float, bits: int, dither: bool,
                 progress: Progress | None, stage: str = "master") -> _Pass:
    """One master pass: gain → limiter → dither → ``out_path``, measured while written."""
    limiter = dsp.LookaheadLimiter(ceiling_db, sr, 2, lookahead_ms=LIMITER_LOOKAHEAD_MS,
                                   release_ms=LIMITER_RELEASE_MS)
    mode = ebu.MeasurementMode
    meter = ebu.R128State(2, sr, mode.MODE_I)
    # libebur128's own true peak, vectorised (a third of MODE_TRUE_PEAK's cost).
    tp_meter = TruePeakMeter(2, sr)
    sample_peak = 0.0
    rng = np.random.default_rng(DITHER_SEED) if dither and bits < 32 else None
    scale = float(2 ** (bits - 1))
    amp = np.float32(dsp.db_to_amplitude(gain_db))
    position = [0, 0]            # output frames seen (pre-roll included), frames written

    def emit(out, y: np.ndarray, meters=None) -> None:
        nonlocal sample_peak
        first = max(0, preroll - position[0])
        position[0] += y.shape[1]
        y = y[:, first:]
        if not y.shape[1]:
            return
        if bits == 32:
            written = np.ascontiguousarray(y.T)
            out.write(written)
        else:
            q = dsp.tpdf_quantize(y, bits, rng)
            out.write(np.ascontiguousarray((q << 8).T if bits == 24 else q.T.astype(np.int16)))
            written = np.ascontiguousarray(q.T, dtype=np.float32) / np.float32(scale)
        meter.add_frames(written.reshape(-1), written.shape[0])
        tp_meter.push(written.T)
        sample_peak = max(sample_peak, float(np.abs(written).max()))
        position[1] += written.shape[0]
        if progress:
            progress(position[1], frames, stage)

    # The limiter of block b + 1 runs in a second thread (its FIR detector
    # releases the GIL) while this one dithers, writes and meters block b.
    def limit(block: np.ndarray | None) -> np.ndarray:
        return limiter.flush() if block is None else limiter.process(block * amp)

    with sf.SoundFile(str(out_path), "w", sr, 2, SUBTYPES[bits], format="WAV") as out:
        blocks = itertools.chain(iter_blocks(bus_path, block_frames=MASTER_BLOCK_FRAMES), [None])
        for y in _one_ahead(limit, blocks):
            emit(out, y)
    if position[1] != frames:   # the limiter returns exactly what it was given
        raise RuntimeError(f"master stage wrote {position[1]} frames instead of {frames}")
    true_peak = tp_meter.peak
    lufs = float(ebu.get_loudness_global(meter))
    return _Pass(gain_db=gain_db, ceiling_db=ceiling_db, lufs=lufs,
                 true_peak_dbtp=_db(true_peak), sample_peak_dbfs=_db(sample_peak), probes=[])


def _one_ahead(fn: Callable, items: Iterable) -> Iterable:
    """``fn(item)`` for every item, in order, the next one computed in a second thread meanwhile.

    ``fn`` runs in that one thread, item after item, so a stateful ``fn``
    gives what it gives in series.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for item in items:
            ahead = pool.submit(fn, item)
            if pending is not None:
                yield pending.result()
            pending = ahead
        if pending is not None:
            yield pending.result()


def _db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf
