"""Level arithmetic shared by the exporters: pan law, mono stems, the master gain.

The renderer and a DAW do not place a mono stem the same way:

- the renderer pans a mono stem with the sine/cosine constant-power law with a
  **−3 dB centre** (``L = cos θ``, ``R = sin θ``, ``θ = (pan + 1)·π/4``;
  :func:`workbench.mixing.dsp.pan_mono`), and a stereo stem with the same law
  normalised to unity at the centre (a balance control,
  :func:`workbench.mixing.dsp.balance_stereo`);
- a DAW with a **0 dB centre** plays a mono clip on both sides of a stereo
  channel at unity and pans it with its balance control: in the model we write
  for, ``L = √2·cos θ``, ``R = √2·sin θ`` — "0 dB center, sin/cos taper,
  constant power" (the name and definition in Cakewalk SONAR's manual, the
  default pan law there; Cubase offers it as the "0 dB" equal-power
  stereo-pan-law setting of Project Setup).

Both laws have the same shape; they differ by exactly ``√2`` (+3.01 dB) for a
mono source at every pan position and not at all for a stereo one. So the rule
written into both projects is:

**Rule (DAWproject and .als alike):** the fader of a track whose clip is mono
is lowered by :data:`MONO_CENTRE_DB` (−3.01 dB = ``20·log10(cos π/4)``); the
fader of a stereo clip is the plan's gain. Played in a 0 dB-centre DAW, every
stem then sits at the same level relative to the others as in ``mix.wav``, at
every pan position. (In a DAW whose pan law has a −3 dB centre for mono
sources — e.g. Cubase set to "−3 dB" — mono stems play 3.01 dB lower than in
the mix, relative to stereo ones: set the DAW's pan law to 0 dB.) Ableton Live
plays mono files as dual mono through its pan control, the model above.

A stem the plan folds to mono (``StemPlan.channels == 1`` while the file is
stereo, or a file with more than two channels) is folded by the renderer as
``(L + R) / 2``: the exporters write that fold as a mono file beside the
original's copy, and the track plays it, so the plan, the render and the
projects hear the same mono signal.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import ParameterError

#: Fader offset (dB) of a mono clip in a 0 dB-centre DAW: ``20·log10(cos(π/4))``.
MONO_CENTRE_DB = 20.0 * math.log10(math.cos(math.pi / 4.0))


def plays_mono(file_channels: int, plan_channels: int) -> bool:
    """Whether the renderer treats a stem as mono (a mono file, a fold, or more than two channels)."""
    return int(file_channels) != 2 or int(plan_channels) == 1


def needs_fold(file_channels: int, plan_channels: int) -> bool:
    """Whether the file must be folded to a mono copy for the projects (it has more than one channel)."""
    return plays_mono(file_channels, plan_channels) and int(file_channels) > 1


def pan_law_offset_db(mono: bool) -> float:
    """The fader offset of the pan-law rule: :data:`MONO_CENTRE_DB` for a mono clip, 0 for stereo."""
    return MONO_CENTRE_DB if mono else 0.0


def daw_pan_gains(pan: float) -> tuple[float, float]:
    """Left and right gains of the modelled 0 dB-centre DAW pan ("0 dB centre, sin/cos taper").

    ``(√2·cos θ, √2·sin θ)`` with ``θ = (pan + 1)·π/4``: unity at the centre,
    one side at +3.01 dB and the other silent at ±1.

    Examples
    --------
    >>> [round(g, 4) for g in daw_pan_gains(0.0)]
    [1.0, 1.0]
    >>> [round(g, 4) for g in daw_pan_gains(1.0)]
    [0.0, 1.4142]
    """
    if not -1.0 <= pan <= 1.0:
        raise ParameterError(f"pan must be within -1..1, got {pan}")
    if pan == 0.0:
        return 1.0, 1.0          # exactly unity at the centre (√2·cos(π/4) rounds to 1 + 2e-16)
    theta = (float(pan) + 1.0) * math.pi / 4.0
    left = 0.0 if pan == 1.0 else math.cos(theta)
    right = 0.0 if pan == -1.0 else math.sin(theta)
    return math.sqrt(2.0) * left, math.sqrt(2.0) * right


def daw_channel(audio: np.ndarray, *, fader: float, pan: float) -> np.ndarray:
    """A clip through the modelled DAW channel: dual mono if mono → fader (linear) → pan. ``(2, n)`` float64."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.shape[0] == 1:
        x = np.vstack([x, x])
    left, right = daw_pan_gains(pan)
    return np.stack([x[0] * (fader * left), x[1] * (fader * right)])


def fold_to_mono(source: Path, dest: Path) -> Path:
    """Write ``(L + R) / 2`` (the mean of all channels, as the renderer folds) of ``source`` to ``dest``.

    Same rate and sample format as the source (float when the mean needs more
    precision than the source's PCM: a 16-bit stem folds to 24-bit, which holds
    every mean of 16-bit samples exactly). Written atomically.
    """
    import soundfile as sf

    from ..audio_io import atomic_path

    info = sf.info(str(source))
    subtype = {"PCM_16": "PCM_24", "PCM_U8": "PCM_16"}.get(info.subtype, "FLOAT")
    with atomic_path(dest) as tmp, sf.SoundFile(str(tmp), "w", info.samplerate, 1, subtype, format="WAV") as out:
        with sf.SoundFile(str(source)) as f:
            while True:
                block = f.read(65536, dtype="float64", always_2d=True)
                if not len(block):
                    break
                out.write(block.mean(axis=1))
    return dest
