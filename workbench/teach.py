"""One move on one stem, optionally exaggerated, for the lessons' pictures and players.

Everything here renders with the workbench's own chain
(:func:`workbench.mixing.render.render_stem_chain`) and reverb bus
(:class:`workbench.mixing.render.ReverbReturn`); the only change is
``exaggerate``, which scales the move so it can be seen and heard. It is a
teaching switch, not a mixing rule: a lesson says when it is on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ParameterError
from .mixing.plan import EQBand, ReverbBus, StemPlan

#: EQ kinds whose move is a gain (scaled by ``exaggerate``); high- and low-pass filters are left as they are.
GAIN_KINDS = frozenset({"bell", "low_shelf", "high_shelf"})


def _factor(exaggerate: float) -> float:
    if not np.isfinite(exaggerate) or exaggerate <= 0:
        raise ParameterError(f"exaggerate must be a positive number, got {exaggerate!r}.",
                             "Use 1.0 for the plan as it is, or e.g. 3.0 to make the move three times larger.")
    return float(exaggerate)


def exaggerate_eq(bands: Sequence[EQBand], exaggerate: float) -> list[EQBand]:
    """The EQ with its moves scaled by ``exaggerate``.

    Bell and shelf gains (dB) are multiplied by it; a high-pass cutoff is moved up
    (and a low-pass cutoff down) by that factor, i.e. ``log2(exaggerate)`` octaves further
    into the sound. The result is validated like any plan band (out of range is refused).
    """
    k = _factor(exaggerate)
    out = []
    for b in bands:
        if b.kind in GAIN_KINDS:
            out.append(dataclasses.replace(b, gain_db=b.gain_db * k))
        elif b.kind == "highpass":
            out.append(dataclasses.replace(b, freq_hz=b.freq_hz * k))
        else:
            out.append(dataclasses.replace(b, freq_hz=b.freq_hz / k))
    return out


def eq_focus_hz(bands: Sequence[EQBand], *, margin_octaves: float = 2.0,
                fmin_hz: float = 20.0, fmax_hz: float = 20000.0) -> tuple[float, float]:
    """The frequency range worth looking at for an EQ: its bands (filters and non-zero gains),
    ``margin_octaves`` either side (the whole range when the EQ does nothing)."""
    freqs = [b.freq_hz for b in bands if b.kind not in GAIN_KINDS or b.gain_db != 0]
    if not freqs:
        return fmin_hz, fmax_hz
    k = 2.0 ** margin_octaves
    return max(fmin_hz, min(freqs) / k), min(fmax_hz, max(freqs) * k)


def eq_on_one_stem(stem: StemPlan, audio: np.ndarray, sample_rate: int, *,
                   exaggerate: float = 1.0) -> tuple[np.ndarray, np.ndarray, list[EQBand]]:
    """One stem without and with its EQ (scaled by ``exaggerate``), nothing else of its chain.

    Returns
    -------
    before, after : ndarray
        ``(2, n)`` float32: the stem through its chain with every stage bypassed, and with only the EQ.
    eq : list of EQBand
        The EQ that was applied (the plan's, exaggerated).
    """
    from .mixing.plan import STAGES
    from .mixing.render import render_stem_chain

    eq = exaggerate_eq(stem.eq, exaggerate)
    every = frozenset(STAGES)
    before, _ = render_stem_chain(stem, audio, sample_rate, bypass=every)
    after, _ = render_stem_chain(dataclasses.replace(stem, eq=eq), audio, sample_rate, bypass=every - {"eq"})
    return before, after, eq


def reverb_on_one_stem(stem: StemPlan, bus: ReverbBus, audio: np.ndarray, sample_rate: int, *,
                       exaggerate: float = 1.0, tail_s: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """One stem dry, and the same with its reverb return added, followed by ``tail_s`` of silence.

    The stem goes through its fader gain and its send only (EQ, compressor, pan bypassed), so the
    only difference between the two is the room. ``exaggerate`` multiplies the return's amplitude
    (3.0 = +9.5 dB). The silence after the stem stops shows the tail on its own.

    Returns
    -------
    dry, wet : ndarray
        ``(2, n + tail)`` float32.
    """
    from .mixing.plan import STAGES
    from .mixing.render import ReverbReturn, render_stem_chain

    k = _factor(exaggerate)
    if stem.reverb_send_db is None:
        raise ParameterError(f"The plan sends nothing from {stem.file!r} to the reverb.",
                             "Pick a stem whose reverb_send_db is set (see the reverb rows of the decisions).")
    a = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    padded = np.concatenate([a, np.zeros((a.shape[0], int(round(tail_s * sample_rate))), np.float32)], axis=1)
    dry, send = render_stem_chain(stem, padded, sample_rate, bypass=frozenset(STAGES) - {"gain", "reverb"})
    if send is None:  # cannot happen with a send level set; kept for the type checker
        raise ParameterError(f"No reverb send came out of {stem.file!r}.", "Check its reverb_send_db.")
    ret = ReverbReturn(bus, sample_rate).process(send) * np.float32(k)
    return dry, dry + ret


def lesson_reference(folder: str | os.PathLike, stems: str | os.PathLike, style: str = "lmms-electronic") -> Path:
    """A finished song to use as a reference in a lesson: ``stems`` mixed toward a shipped style.

    Nothing is downloaded: the session is mixed (whole song) toward the style's target at 100 %
    tone and width, which gives a mix that sounds clearly different from the plain automix, and
    written as ``reference.flac`` (16-bit) into ``folder``.
    """
    import soundfile as sf

    from .pipeline import mix_session

    out = Path(folder)
    res = mix_session(stems, out / "reference-mix", style=style, match="tone=100 width=100")
    audio, sr = sf.read(str(res.audio_path), dtype="float32")
    path = out / "reference.flac"
    sf.write(str(path), audio, sr, subtype="PCM_16")
    return path

