"""Every source the mixing rules cite, listed once.

A rule refers to a source by its key (:func:`cite`); the full reference lives
here only. A structured reason (:class:`workbench.mixing.rules.reason.Reason`)
carries the keys of the sources its rule follows, so a report or a notebook
can print the reference beside the decision. ``tests/test_sources.py`` checks
that every key cited in the package is listed and every listed source is cited.

Where a number is our own engineering choice, the rule cites
``"workbench_choice"`` and the constant's comment says why; fitted numbers cite
``"authored_corpus"``, the data they were fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ErrorCode, WorkbenchError


@dataclass(frozen=True)
class Source:
    """One cited work.

    Attributes
    ----------
    key : str
        Stable key the rules use.
    short : str
        How a reason names it ("Hafezi & Reiss 2015").
    reference : str
        The full reference.
    """

    key: str
    short: str
    reference: str


_LIST = (
    Source("perez_gonzalez_reiss_2009_gain", "Perez-Gonzalez & Reiss 2009",
           "E. Perez-Gonzalez and J. D. Reiss, \"Automatic gain and fader control for live mixing\", "
           "Proc. IEEE Workshop on Applications of Signal Processing to Audio and Acoustics (WASPAA), "
           "New Paltz, NY, 2009."),
    Source("perez_gonzalez_reiss_2009_eq", "Perez-Gonzalez & Reiss 2009",
           "E. Perez-Gonzalez and J. D. Reiss, \"Automatic equalization of multichannel audio using "
           "cross-adaptive methods\", Audio Engineering Society 127th Convention, New York, 2009."),
    Source("perez_gonzalez_reiss_2007_pan", "Perez-Gonzalez & Reiss 2007",
           "E. Perez-Gonzalez and J. D. Reiss, \"Automatic mixing: live downmixing stereo panner\", "
           "Proc. 10th Int. Conference on Digital Audio Effects (DAFx-07), Bordeaux, 2007."),
    Source("mansbridge_2012_fader", "Mansbridge, Finn & Reiss 2012",
           "S. Mansbridge, S. Finn and J. D. Reiss, \"Implementation and evaluation of autonomous "
           "multi-track fader control\", Audio Engineering Society 132nd Convention, Budapest, 2012."),
    Source("mansbridge_2012_pan", "Mansbridge, Finn & Reiss 2012",
           "S. Mansbridge, S. Finn and J. D. Reiss, \"An autonomous system for multitrack stereo pan "
           "positioning\", Audio Engineering Society 133rd Convention, San Francisco, 2012."),
    Source("wichern_2015", "Wichern et al. 2015",
           "G. Wichern, A. Wishnick, A. Lukin and H. Robertson, \"Comparison of loudness features for "
           "automatic level adjustment in mixing\", Audio Engineering Society 139th Convention, "
           "New York, 2015."),
    Source("de_man_2017", "De Man 2017",
           "B. De Man, *Towards a better understanding of mix engineering*, PhD thesis, Queen Mary "
           "University of London, 2017."),
    Source("de_man_reiss_2013", "De Man & Reiss 2013",
           "B. De Man and J. D. Reiss, \"A knowledge-engineered autonomous mixing system\", Audio "
           "Engineering Society 135th Convention, New York, 2013."),
    Source("hafezi_reiss_2015", "Hafezi & Reiss 2015",
           "S. Hafezi and J. D. Reiss, \"Autonomous multitrack equalization based on masking "
           "reduction\", J. Audio Eng. Soc. 63(5), 2015."),
    Source("wakefield_dewey_2015", "Wakefield & Dewey 2015",
           "J. Wakefield and C. Dewey, \"An investigation into the efficacy of methods commonly "
           "employed by mix engineers to reduce frequency masking in the mixing of multitrack musical "
           "recordings\", Audio Engineering Society 138th Convention, Warsaw, 2015."),
    Source("maddams_2012", "Maddams, Finn & Reiss 2012",
           "J. A. Maddams, S. Finn and J. D. Reiss, \"An autonomous method for multi-track dynamic "
           "range compression\", Proc. 15th Int. Conference on Digital Audio Effects (DAFx-12), York, 2012."),
    Source("giannoulis_2013", "Giannoulis, Massberg & Reiss 2013",
           "D. Giannoulis, M. Massberg and J. D. Reiss, \"Parameter automation in a dynamic range "
           "compressor\", J. Audio Eng. Soc. 61(10), 2013."),
    Source("chourdakis_reiss_2017", "Chourdakis & Reiss 2017",
           "E. T. Chourdakis and J. D. Reiss, \"A machine-learning approach to application of "
           "intelligent artificial reverberation\", J. Audio Eng. Soc. 65(1/2), 2017."),
    Source("owsinski_handbook", "Owsinski, The Mixing Engineer's Handbook",
           "B. Owsinski, *The Mixing Engineer's Handbook*, 4th ed., Bobby Owsinski Media Group, 2017 "
           "(its tables of instrument frequency ranges; the EQ and dynamics chapters)."),
    Source("izhaki_mixing_audio", "Izhaki, Mixing Audio",
           "R. Izhaki, *Mixing Audio: Concepts, Practices and Tools*, Focal Press (the chapters on "
           "filters, compressors and reverbs; chapter numbers differ between editions)."),
    Source("senior_mixing_secrets", "Senior, Mixing Secrets",
           "M. Senior, *Mixing Secrets for the Small Studio*, Focal Press, 2011 (the chapters on "
           "low-end management, compression, buss compression and reverb)."),
    Source("katz_mastering", "Katz, Mastering Audio",
           "B. Katz, *Mastering Audio: The Art and the Science*, 3rd ed., Focal Press, 2015 "
           "(on crest factor and bus compression)."),
    Source("zwicker_fastl", "Zwicker & Fastl, Psychoacoustics",
           "E. Zwicker and H. Fastl, *Psychoacoustics: Facts and Models*, 3rd ed., Springer, 2007 "
           "(ch. 7, \"Just-noticeable changes in sound\")."),
    Source("ssl_g_bus", "SSL G-series bus compressor",
           "Solid State Logic, SL 4000 G-series console bus compressor: the 2:1 ratio, 30 ms attack "
           "setting widely used as the starting point for bus 'glue'."),
    Source("itu_bs1770", "ITU-R BS.1770-4",
           "ITU-R Recommendation BS.1770-4, *Algorithms to measure audio programme loudness and "
           "true-peak audio level*, International Telecommunication Union, 2015."),
    Source("ebu_r128", "EBU R 128",
           "EBU Recommendation R 128, *Loudness normalisation and permitted maximum level of audio "
           "signals*, European Broadcasting Union (the −1 dBTP maximum true-peak level)."),
    Source("aes_td1008", "AES TD1008",
           "AES TD1008, *Recommendations for Loudness of Internet Audio Streaming and On-Demand "
           "Distribution*, Audio Engineering Society Technical Document, 2021 (−16 LUFS for "
           "track-normalised streaming)."),
    Source("authored_corpus", "the authored-mix corpus",
           "The workbench's training corpus of songs whose authors set the balance "
           "(scripts/make_training_corpus.py), and the balance model fitted on it "
           "(scripts/fit_balance_model.py → workbench/data/balance_model.json), checked song by "
           "song on songs the fit did not see (benchmarks/authored.py)."),
    Source("workbench_choice", "our engineering choice",
           "A number chosen by the workbench's authors; the comment beside the constant says why, "
           "and where it was calibrated, on what (benchmarks/)."),
)

#: Every source by key.
SOURCES: dict[str, Source] = {s.key: s for s in _LIST}


def cite(*keys: str) -> tuple[str, ...]:
    """The given source keys, checked to be listed in :data:`SOURCES`.

    Rule modules call it at import time, so a misspelt key fails at once.

    Raises
    ------
    WorkbenchError
        ``unknown_source`` for a key that is not listed.
    """
    for k in keys:
        if k not in SOURCES:
            raise WorkbenchError(ErrorCode.UNKNOWN_SOURCE, f"No source with the key {k!r}.",
                                 f"Use one of the keys listed in workbench/sources.py ({', '.join(SOURCES)}).")
    return tuple(keys)


def reference(key: str) -> str:
    """The full reference for a source key."""
    return SOURCES[cite(key)[0]].reference
