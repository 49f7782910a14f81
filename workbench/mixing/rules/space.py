"""Reverb: one shared return, sends by category and importance.

One shared reverb return, fed by sends, is the standard console layout; it puts
the parts in one space (Izhaki, *Mixing Audio*, the chapter on reverbs). The return is
high-passed and low-passed so the reverb adds space without mud in the low end
or splash in the top — the widely taught "Abbey Road" return EQ (high-pass
~300–600 Hz, low-pass ~8–10 kHz; Senior, *Mixing Secrets*, on reverb). A 20 ms
pre-delay keeps the direct sound and consonants clear of the reverb onset
(Izhaki, the chapter on reverbs; Griesinger's work on early reflections and clarity).

Sends by role: low-frequency anchors (kick, bass) dry, so the low end stays
tight; sustained and vocal parts wetter; cymbals little (they carry their own
room). Importance: important parts drier and so closer, background parts wetter
and further back — the depth cue of the direct-to-reverberant ratio (Chourdakis
& Reiss 2017, "A machine-learning approach to application of intelligent
artificial reverberation", JAES 65(1/2); DESIGN §5).
"""

from __future__ import annotations

from ..plan import ReverbBus
from .roles import category_key

#: Send level (dB, relative to the stem post-fader) by category; None = no send.
CATEGORY_SEND_DB = {
    "Kick": None, "Bass": None,
    "Snare": -16.0, "Drums": -20.0, "Percussion": -16.0, "Cymbals": -22.0,
    "Guitar": -17.0, "Keys": -16.0, "Synth": -17.0, "Pads": -14.0, "Strings": -13.0,
    "Brass": -16.0, "Lead Vocal": -15.0, "Backing Vocal": -12.0, "FX": -18.0, "Other": -17.0,
}
#: Importance: high 4 dB drier (closer), low 3 dB wetter (further back).
IMPORTANCE_SEND_DB = {"high": -4.0, "medium": 0.0, "low": 3.0}


def send(category: str | None, importance: str) -> tuple[float | None, str]:
    """Reverb send level and its reason."""
    cat = category_key(category)
    base = CATEGORY_SEND_DB[cat]
    if base is None:
        return None, f"no reverb: {cat} stays dry to keep the low end tight"
    level = base + IMPORTANCE_SEND_DB[importance]
    how = {"high": "drier and closer: importance high", "low": "wetter, further back: importance low",
           "medium": f"the usual amount for {cat}"}[importance]
    return level, f"reverb send {level:.0f} dB: {how}"


def reverb_bus() -> ReverbBus:
    """The shared reverb return: a medium room with a clean, filtered return."""
    return ReverbBus(
        room_size=0.45, damping=0.5, width=1.0, predelay_ms=20.0,
        highpass_hz=400.0, lowpass_hz=9000.0, return_db=0.0,
        reason="one shared medium room; 20 ms pre-delay keeps the attack clear; return "
               "filtered 400 Hz–9 kHz so the reverb adds space, not mud or hiss")
