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

Rooms
-----
- :mod:`.chain` — :class:`StemChain` (one stem's processing) and :func:`render_stem_chain`;
- :mod:`.cache` — :class:`StemCache`;
- :mod:`.bus` — reading the stems and the mix stage (:func:`~.bus.mix_to_bus`), the :class:`ReverbReturn`;
- :mod:`.master` — the multi-pass master, the limiter, the gain for the target, :func:`master_stems`;
- :mod:`.renderer` — :func:`render`, which runs them; :mod:`.result` — :class:`RenderResult`.

The overlapping steps run on :func:`workbench.stages.pipelined`; the processed
stems are written by :mod:`workbench.export.stems`; the A/B versions and their
cache policy are in :mod:`workbench.mixing.variants`.
"""

from __future__ import annotations

from ...export.stems import REVERB_RETURN_NAME
from ..plan import STAGES
from .bus import READ_BLOCK_FRAMES, ReverbReturn
from .cache import StemCache
from .chain import CORE_STAGES, PLAIN_SUM, StemChain, render_stem_chain
from .master import (
    DITHER_SEED,
    LIMITER_LOOKAHEAD_MS,
    LIMITER_MARGIN_DB,
    LIMITER_RELEASE_MS,
    LOUDNESS_TOLERANCE_LU,
    MASTER_BLOCK_FRAMES,
    MAX_GAIN_STEP_DB,
    MAX_MASTER_PASSES,
    PROBE_GAINS_DB,
    SATURATION_SLOPE,
    SUBTYPES,
    TRUE_PEAK_STEP_DB,
    master_stems,
)
from .renderer import render
from .result import Progress, RenderResult

__all__ = [
    "CORE_STAGES", "DITHER_SEED", "LIMITER_LOOKAHEAD_MS", "LIMITER_MARGIN_DB", "LIMITER_RELEASE_MS",
    "LOUDNESS_TOLERANCE_LU",
    "MASTER_BLOCK_FRAMES", "MAX_GAIN_STEP_DB", "MAX_MASTER_PASSES", "PLAIN_SUM", "PROBE_GAINS_DB",
    "READ_BLOCK_FRAMES", "REVERB_RETURN_NAME", "SATURATION_SLOPE", "STAGES", "SUBTYPES", "TRUE_PEAK_STEP_DB",
    "Progress", "RenderResult", "ReverbReturn", "StemCache", "StemChain", "master_stems", "render",
    "render_stem_chain",
]
