"""The stem chain: input gain → EQ → compressor → reverb send → pan/width, block by block.

One :class:`StemChain` per stem carries its processors' state from block to
block, so the output is the same whatever the block size. The plugins of the
glue compressor (:mod:`.master`) are built here too (:func:`compressor_plugins`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pedalboard as pb

from ...audio_io import BLOCK_FRAMES
from ...errors import ParameterError
from .. import dsp
from ..plan import STAGES, Compressor, EQBand, StemPlan

#: Every stage bypassed: the stems summed at unity, then loudness-matched.
PLAIN_SUM = frozenset(STAGES)
#: The stages inside :meth:`StemChain.core` (what :class:`~.cache.StemCache` keeps):
#: bypassing any other stage leaves a stem's :attr:`StemChain.core_key` unchanged.
CORE_STAGES = frozenset({"gain", "eq", "compression"})


def check_bypass(bypass: Iterable[str]) -> frozenset[str]:
    """``bypass`` as a frozenset of stage names; ``ValueError`` for a name not in ``STAGES``."""
    if isinstance(bypass, str):
        bypass = {bypass}
    bypass = frozenset(bypass)
    unknown = bypass - PLAIN_SUM
    if unknown:
        raise ParameterError(f"bypass must be a subset of {STAGES}, got unknown {sorted(unknown)}")
    return bypass


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
        bypass = check_bypass(bypass)
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
            self._stages.append(Plugins(compressor_plugins(comp), self.sample_rate))
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
    sends = [s for s in send if s is not None]       # every block's, or none
    return np.concatenate(dry, axis=1), (np.concatenate(sends, axis=1) if chain.has_send else None)


class _Gain:
    def __init__(self, gain_db: float) -> None:
        self.amplitude = np.float32(dsp.db_to_amplitude(gain_db))

    def process(self, x: np.ndarray) -> np.ndarray:
        return x * self.amplitude


class Plugins:
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


def _eq_stages(bands: Iterable[EQBand], sample_rate: int, channels: int) -> list:
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


def compressor_plugins(comp: Compressor) -> list[pb.Plugin]:
    """pedalboard's compressor for ``comp``, then its make-up gain (when not 0 dB)."""
    plugins: list[pb.Plugin] = [pb.Compressor(threshold_db=comp.threshold_db, ratio=comp.ratio,
                             attack_ms=comp.attack_ms, release_ms=comp.release_ms)]
    if comp.makeup_db != 0.0:
        plugins.append(pb.Gain(gain_db=comp.makeup_db))
    return plugins

