"""Reverb: one shared return, sends by category and importance.

One shared reverb return, fed by sends, is the standard console layout; it puts
the parts in one space (Izhaki, *Mixing Audio*, the chapter on reverbs). The return is
high-passed and low-passed so the reverb adds space without mud in the low end
or splash in the top — the widely taught "Abbey Road" return EQ (high-pass
~300–600 Hz, low-pass ~8–10 kHz; Senior, *Mixing Secrets*, on reverb). A
pre-delay keeps the direct sound and consonants clear of the reverb onset
(Izhaki, the chapter on reverbs); the 20 ms is our choice.

Sends by role: low-frequency anchors (kick, bass) dry, so the low end stays
tight; sustained and vocal parts wetter; cymbals little (they carry their own
room). Importance: important parts drier and so closer, background parts wetter
and further back — the depth cue of the direct-to-reverberant ratio (Chourdakis
& Reiss 2017, "A machine-learning approach to application of intelligent
artificial reverberation", JAES 65(1/2); DESIGN §5).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...sources import cite
from ..plan import ReverbBus
from .reason import Reason
from .roles import category_key

#: The sources of the rule (keys of :data:`workbench.sources.SOURCES`).
SEND_SOURCES = cite("chourdakis_reiss_2017", "izhaki_mixing_audio", "workbench_choice")
DRY_SOURCES = cite("senior_mixing_secrets", "workbench_choice")
RETURN_SOURCES = cite("izhaki_mixing_audio", "senior_mixing_secrets", "workbench_choice")

#: Send level (dB, relative to the stem post-fader) by category; None = no send.
CATEGORY_SEND_DB = {
    "Kick": None, "Bass": None,
    "Snare": -16.0, "Drums": -20.0, "Percussion": -16.0, "Cymbals": -22.0,
    "Guitar": -17.0, "Keys": -16.0, "Synth": -17.0, "Pads": -14.0, "Strings": -13.0,
    "Brass": -16.0, "Lead Vocal": -15.0, "Backing Vocal": -12.0, "FX": -18.0, "Other": -17.0,
}
#: Importance: high 4 dB drier (closer), low 3 dB wetter (further back).
IMPORTANCE_SEND_DB = {"high": -4.0, "medium": 0.0, "low": 3.0}


@dataclass(frozen=True)
class SendDecision:
    """A stem's reverb send and why.

    Attributes
    ----------
    send_db : float or None
        Send level relative to the stem post-fader (dB); ``None``: no send.
    reason : Reason
    """

    send_db: float | None
    reason: Reason


@dataclass(frozen=True)
class ReverbDecision:
    """The shared reverb return and why (fields as in :class:`~workbench.mixing.plan.ReverbBus`)."""

    room_size: float
    damping: float
    width: float
    predelay_ms: float
    highpass_hz: float
    lowpass_hz: float
    return_db: float
    reason: Reason

    def to_plan(self) -> ReverbBus:
        """The plan's reverb bus, with the reason in words."""
        return ReverbBus(room_size=self.room_size, damping=self.damping, width=self.width,
                         predelay_ms=self.predelay_ms, highpass_hz=self.highpass_hz, lowpass_hz=self.lowpass_hz,
                         return_db=self.return_db, reason=self.reason.text)


def send(category: str | None, importance: str) -> SendDecision:
    """Reverb send level and its reason."""
    cat = category_key(category)
    base = CATEGORY_SEND_DB[cat]
    if base is None:
        return SendDecision(None, Reason("space.dry", {"category": cat}, DRY_SOURCES,
                                         "no reverb: {category} stays dry to keep the low end tight"))
    level = base + IMPORTANCE_SEND_DB[importance]
    how = {"high": "drier and closer: importance high", "low": "wetter, further back: importance low",
           "medium": "the usual amount for {category}"}[importance]
    return SendDecision(level, Reason("space.send", {"send_db": level, "category": cat, "importance": importance},
                                      SEND_SOURCES, "reverb send {send_db:.0f} dB: " + how))


def reverb_bus() -> ReverbDecision:
    """The shared reverb return: a medium room with a clean, filtered return."""
    measured = {"predelay_ms": 20.0, "highpass_hz": 400.0, "lowpass_khz": 9.0}
    return ReverbDecision(
        room_size=0.45, damping=0.5, width=1.0, predelay_ms=20.0,
        highpass_hz=400.0, lowpass_hz=9000.0, return_db=0.0,
        reason=Reason("space.return", measured, RETURN_SOURCES,
                      "one shared medium room; {predelay_ms:.0f} ms pre-delay keeps the attack clear; return "
                      "filtered {highpass_hz:.0f} Hz–{lowpass_khz:g} kHz so the reverb adds space, "
                      "not mud or hiss"))
