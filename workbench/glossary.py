"""The words of mixing, in plain language: one definition per term, with its source.

Where a standard or a paper defines a term, its entry names it (``source``);
where the word is studio usage that no standard defines ("glue", "send"), the
entry says so by leaving ``source`` empty, and the definition says how *this*
workbench uses it. ``docs/glossary.md`` is generated from :data:`GLOSSARY`
(``python -m workbench.glossary docs/glossary.md``; a test checks they agree),
and the dashboard's labels that use a term show its definition as a tooltip
(:func:`workbench.ui.style.term`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Term", "GLOSSARY", "define", "anchor", "glossary_markdown"]


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Parameters
    ----------
    name : str
        The term as it appears in labels ("LUFS").
    long_name : str
        What the abbreviation stands for ("Loudness Units relative to Full Scale"); may be empty.
    definition : str
        One or two plain-language sentences.
    source : str
        The standard or paper that defines it; empty for studio usage no standard defines.
    """

    name: str
    long_name: str
    definition: str
    source: str = ""


_TERMS = (
    Term("LUFS", "Loudness Units relative to Full Scale",
         "How loud a sound is, measured the way the ear weighs frequencies (K-weighting) and gated so silence "
         "does not count. −14 LUFS is louder than −23 LUFS. The workbench's master target is −14 LUFS integrated.",
         "ITU-R BS.1770-4 (the measurement, there called LKFS); EBU R 128 (the unit name LUFS)"),
    Term("LU", "Loudness Unit",
         "A difference of loudness: 1 LU is a step of 1 dB on the loudness scale, so a stem at −20 LUFS is 6 LU "
         "quieter than one at −14 LUFS.",
         "EBU R 128; ITU-R BS.1770-4"),
    Term("integrated loudness", "",
         "The loudness of a whole file in LUFS, averaged over its duration with quiet passages gated out.",
         "ITU-R BS.1770-4 (gating); EBU R 128"),
    Term("loudness range", "LRA",
         "How much the loudness changes over a piece, in LU: the spread between its quieter and louder "
         "passages (10th to 95th percentile of short-term loudness). Small for a dense pop master, large for "
         "classical music.",
         "EBU Tech 3342"),
    Term("true peak", "",
         "The highest level the waveform reaches between samples, once it is turned back into a continuous "
         "signal. It can be higher than the highest sample: measured by oversampling (4× here).",
         "ITU-R BS.1770-4, Annex 2"),
    Term("dBTP", "decibels true peak",
         "A true-peak level in dB relative to full scale. The master's ceiling is −1 dBTP so that players and "
         "lossy encoders do not clip.",
         "ITU-R BS.1770-4, Annex 2; EBU R 128 (the −1 dBTP ceiling for broadcast)"),
    Term("dBFS", "decibels relative to full scale",
         "A digital level in dB where 0 dBFS is the largest value the file can hold; everything else is below "
         "0 (−6 dBFS is half the full-scale amplitude).",
         "AES17 (definition of full scale)"),
    Term("crest factor", "",
         "How much higher a signal's peaks are than its average (RMS) level, in dB. Drums have a high crest "
         "factor; a heavily limited stem has a low one.",
         ""),
    Term("PLR", "peak-to-loudness ratio",
         "The true peak (dBTP) minus the integrated loudness (LUFS), in dB: a loudness-based crest factor of a "
         "whole mix. A small PLR means a squashed master.",
         ""),
    Term("ERB", "equivalent rectangular bandwidth",
         "The width of the ear's frequency filter at a given frequency: ERB(f) = 24.7 · (4.37 · f / 1000 + 1) Hz. "
         "The workbench measures masking in bands one ERB wide.",
         "B. R. Glasberg & B. C. J. Moore, \"Derivation of auditory filter shapes from notched-noise data\", "
         "Hearing Research 47 (1990)"),
    Term("Bark", "",
         "A scale of 24 critical bands covering the range of hearing; sounds inside one band mask each other "
         "far more than sounds in different bands.",
         "E. Zwicker, \"Subdivision of the audible frequency range into critical bands\", JASA 33(2) (1961)"),
    Term("critical band", "",
         "The range of frequencies around a tone within which another sound interferes with hearing it. ERB "
         "and Bark are two ways of measuring it.",
         "E. Zwicker (1961); B. R. Glasberg & B. C. J. Moore (1990)"),
    Term("masking", "",
         "When one sound makes another harder (or impossible) to hear — the threshold of hearing for the "
         "second is raised by the presence of the first. In a mix: the bass hiding the kick, the keys hiding "
         "the vocal.",
         "ANSI/ASA S1.1, Acoustical Terminology (\"masking\")"),
    Term("Q", "quality factor",
         "How narrow an EQ band is: its centre frequency divided by its bandwidth. Q 0.7 is broad and gentle, "
         "Q 4 is narrow and surgical.",
         "R. Bristow-Johnson, \"Cookbook formulae for audio EQ biquad filter coefficients\" (Audio EQ Cookbook)"),
    Term("high-pass filter", "HPF",
         "A filter that lets frequencies above its cutoff through and removes those below (rumble, mic "
         "handling, low end a part does not need). Its slope is in dB per octave.",
         ""),
    Term("centroid", "spectral centroid",
         "The 'centre of gravity' of a sound's spectrum, in Hz: low for a bass, high for a hi-hat. A quick "
         "measure of how bright a stem is.",
         "G. Peeters, \"A large set of audio features for sound description\", CUIDADO project report (2004)"),
    Term("compression ratio", "",
         "How much a compressor turns down what goes over its threshold: at 4:1, a signal 8 dB over the "
         "threshold comes out 2 dB over.",
         ""),
    Term("glue", "",
         "Studio slang for gentle compression on the whole mix (the master bus) so that the parts move "
         "together; here a low-ratio compressor before the limiter.",
         ""),
    Term("limiter", "",
         "A compressor with a very high ratio and fast reaction that keeps peaks under a ceiling; the last "
         "step of the master.",
         ""),
    Term("TPDF dither", "triangular probability density function dither",
         "A tiny noise (two random numbers added, so its values follow a triangle) added before reducing a mix "
         "to 16 bits, so that the rounding error becomes a steady, inaudible hiss instead of distortion.",
         "S. P. Lipshitz, R. A. Wannamaker & J. Vanderkooy, \"Quantization and dither: a theoretical survey\", "
         "JAES 40(5) (1992)"),
    Term("pan law", "",
         "How a mono part's level is shared between left and right as it is panned. The workbench uses the "
         "constant-power (sine/cosine) law: −3 dB per side at the centre, so a part sounds equally loud "
         "anywhere across the stereo field.",
         "R. B. Dannenberg, \"Loudness Concepts & Pan Laws\" (CMU Introduction to Computer Music notes)"),
    Term("send/return", "",
         "A send copies part of a stem's signal to a shared effect (here one reverb); the return brings the "
         "effect's output back into the mix. More send = wetter stem.",
         ""),
    Term("headroom", "",
         "The distance in dB between a signal's peaks and full scale (0 dBFS): room left before clipping.",
         ""),
)

#: Every term by its name (case as shown in labels).
GLOSSARY: dict[str, Term] = {t.name: t for t in _TERMS}


def define(name: str) -> Term:
    """The entry for ``name`` (case-insensitive).

    Raises
    ------
    KeyError
        If the glossary has no such term (the message lists the terms it has).
    """
    for key, term in GLOSSARY.items():
        if key.casefold() == str(name).casefold():
            return term
    raise KeyError(f"No glossary entry for {name!r}; the glossary has: {', '.join(GLOSSARY)}")


def anchor(name: str) -> str:
    """The Markdown heading anchor of a term in ``docs/glossary.md`` (GitHub style)."""
    text = define(name).name.lower()
    return re.sub(r"[^a-z0-9 -]", "", text).replace(" ", "-")


def glossary_markdown() -> str:
    """``docs/glossary.md``: every term in alphabetical order with its definition and source."""
    lines = ["# Glossary", "",
             "Plain-language definitions of the words the workbench uses. Generated from "
             "`workbench/glossary.py` by `python -m workbench.glossary docs/glossary.md`: edit the module, "
             "not this page. A source is given where a standard or paper defines the term; terms without one "
             "are studio usage, defined here as the workbench uses them.", ""]
    for term in sorted(_TERMS, key=lambda t: t.name.casefold()):
        lines.append(f"## {term.name}")
        lines.append("")
        if term.long_name:
            lines.append(f"*{term.long_name}*")
            lines.append("")
        lines.append(term.definition)
        lines.append("")
        lines.append(f"Source: {term.source}." if term.source else "Source: studio usage; no standard defines it.")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":                      # python -m workbench.glossary [docs/glossary.md]
    text = glossary_markdown()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
