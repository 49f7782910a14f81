#!/usr/bin/env python3
"""Build the evaluation corpus: multitrack sessions whose musician's balance is known.

Usage::

    python scripts/make_eval_corpus.py OUTDIR [--sessions NAME,NAME] [--tiny] [--keep-midi]

Why it exists
-------------
To measure an automatic mixer we need stems *and* the balance a musician meant
them to have. Real multitracks come with a finished mix at best, never with the
faders written down. Here the arrangement is composed by this script as MIDI
(one track per stem, seeded, so every run writes the same bytes), and the
arranger's balance is written into the MIDI the way arrangers write it: a
volume (CC7) and a pan (CC10) per track. Each stem is rendered **dry** through
FluidSynth at a fixed reference level — CC7 127, CC11 127, pan centre, reverb
and chorus sends 0 — so the balance is not baked into the audio but known
exactly, and stored beside it. Then, as real stems arrive bounced at whatever
level the person exporting them had, every file is moved by a random (seeded)
offset between 0 and −12 dB. A mixer that balances by what each stem is and
how loud it sounds should recover the musician's balance whatever the offsets.

What it writes (OUTDIR/<session>/)
----------------------------------
``stems/NN Name.wav``
    16-bit PCM, 44.1 kHz, every stem of a session exactly the same length and
    starting at 0:00 (late entries are silence in the file, as in a real session).
``balance.json``
    Per stem: category and importance (what a user would pick), the GM program,
    the arranger's loudness aim ``level_lu``, ``cc7`` and ``cc10``, the intended gain
    ``intended_gain_db = 40·log10(cc7/127)`` (the General MIDI Level 2 volume
    curve: GM2 specification, MMA RP-024/RP-036 — the same "concave" curve the
    SoundFont 2.01 default CC7 modulator implements), the intended pan
    ``intended_pan = (cc10 − 64)/63`` clipped to −1…+1 (GM: 0 hard left,
    64 centre, 127 hard right), the random file ``offset_db``, and the measured
    integrated loudness (ITU-R BS.1770-4, libebur128) of the reference render
    (``reference_lufs``, at the session's common scale, before the offset) and
    of the file (``file_lufs``; ``file_lufs − reference_lufs`` is the offset up
    to 16-bit rounding). Also the stem the benchmark raises from medium to
    high importance (``focus``).
``musicians_mix.wav``
    The reference "musician's mix" for listening: every stem at its intended
    gain and pan (constant-power sine/cosine law for mono stems, the same law
    normalised to unity at the centre for stereo stems), summed, no other
    processing, loudness-normalised to −14 LUFS. Written as 32-bit float so
    that nothing is clipped or limited; its true peak is recorded (it may be
    above −1 dBTP: nobody mastered it).
``midi/`` (with ``--keep-midi``)
    The per-stem MIDI files as rendered (CC7 127, centre) — load them in any
    DAW with a GM synth and set CC7/CC10 from ``balance.json`` to hear the
    arrangement as written.

The sessions (seven, 20–40 s, 5–16 stems)
-----------------------------------------
garage_band (band with drums, Hydrogen acoustic kit), night_drive (electronic,
TR-808 kit), chamber_suite (orchestral/acoustic), slow_light (ballad, brushes),
pocket_funk (funk), late_bloom (sparse, parts entering late), full_house
(16-stem pop arrangement). ``--tiny`` builds one 9-second, 3-stem session
(``tiny``) for the tests.

How the arranger's CC7 is chosen
--------------------------------
An arranger sets each track's volume by ear, against the soundfont's patches
as they are (FluidR3's patches differ by 20 dB in loudness at the same CC7).
The script models that: each part has a wanted loudness relative to the
session's loudest part (``level_lu`` below, written by hand per song and
style — the kick leads in the electronic track, the slap bass sits almost
level with the sax in the funk, the piano nearly with the voice in the ballad),
and its CC7 is the integer that brings the reference render there
(:func:`arranger_cc7`). The stored balance is that of the integer CC7s.

These aims are one arranger's (the author of this script), chosen per style,
not measured from human mixes; they were written after reading the
workbench's own loudness table (``workbench/mixing/rules/gain.py``), so they
are not blind to it, but they deliberately differ where the styles differ.
Treat the balance error as "distance from a plausible, documented balance",
not from the one right answer.

Sources, licences
-----------------
Everything is rendered from Debian-packaged material, exactly as
``scripts/make_sample_stems.py`` does (whose helpers this script imports:
``Kit``, ``place``, ``Part``, ``Human``, ``render_fluidsynth``,
``write_wav_atomic``, ``package_versions``):

* Pitched instruments and the General MIDI drum kits (channel 10: Standard,
  TR-808, Brush): FluidR3_GM.sf2, Debian package ``fluid-soundfont-gm``, MIT
  licence (c) 2000-2002, 2008 Frank Wen, 2008 Toby Smithe. Rendered with
  FluidSynth (LGPL-2.1+, run as a program only) with reverb and chorus off.
* The acoustic kit of ``garage_band``: *ColomboAcousticDrumkit* by Marcos
  Guglielmetti (2006), Debian package ``hydrogen-drumkits``, GPL-2.0-or-later
  with a composition exception (a composition that mixes the samples in is not
  by itself covered by the GPL).
* Compositions, MIDI parts and this script: Mixing Workbench contributors,
  GPL-3.0-or-later.

The corpus is generated on demand and not committed. No singing voice ships
in the registries: "vocals" are GM "Voice Oohs"/"Choir Aahs"/"Synth Voice"
stand-ins.

Determinism: all randomness (timing ±5 ms, velocities, melodies, file offsets)
comes from generators seeded with :data:`SEED`, the session index and the stem
index; FluidSynth renders to float; the conversion to 16-bit rounds without
dither. The same package versions give the same bytes.

Requirements: ``apt-get install fluidsynth fluid-soundfont-gm hydrogen-drumkits``,
``pip install mido numpy soundfile pyebur128``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_sample_stems as mss  # noqa: E402  (the sample-stems script's helpers)

try:
    import mido
except ImportError:  # pragma: no cover - make_sample_stems already exits without mido
    sys.exit("make_eval_corpus: the 'mido' package is missing: pip install mido")

SR = mss.SR
TPB = mss.TPB
SEED = 20250801
SOUNDFONT = mss.SOUNDFONT
DRUMKIT = mss.DRUMKIT
#: Peak (dBFS) of the hottest file of a session after the offsets: the common
#: scale of a session is set so that its hottest stem peaks here.
HOTTEST_PEAK_DBFS = -1.0
#: The range of the random per-file offsets (dB), as the brief of issue 8 sets it.
OFFSET_RANGE_DB = (-12.0, 0.0)
#: Loudness of the musician's reference mix (LUFS, ITU-R BS.1770-4): the
#: workbench's default target (our engineering choice: the level the large
#: streaming services normalise music to on playback).
REFERENCE_MIX_LUFS = -14.0
FADE_S = 0.30
#: Mono stems: a FluidR3 stereo render whose channels correlate less than this
#: is a stereo *recording* (spaced channels; summing them comb-filters): keep
#: the left channel like one microphone, as make_sample_stems.py does.
MONO_FOLD_MIN_CORRELATION = 0.9
CORPUS_VERSION = 1
#: Defects found while building (a stem with a DC offset or silent): reported, exit status 1.
PROBLEMS: list[str] = []

# ------------------------------------------------------------------ harmony
NOTE_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
QUALITY = {"": (0, 4, 7), "m": (0, 3, 7), "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10),
           "maj7": (0, 4, 7, 11), "sus4": (0, 5, 7), "dim": (0, 3, 6), "9": (0, 4, 7, 10, 14)}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),
          "dorian": (0, 2, 3, 5, 7, 9, 10), "mixolydian": (0, 2, 4, 5, 7, 9, 10)}


def parse_chord(symbol: str) -> tuple[int, tuple[int, ...]]:
    """``"F#m7"`` → (root pitch class, intervals)."""
    root = NOTE_PC[symbol[0]]
    rest = symbol[1:]
    if rest[:1] in ("#", "b"):
        root += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    if rest not in QUALITY:
        raise ValueError(f"unknown chord quality in {symbol!r}")
    return root % 12, QUALITY[rest]


# ------------------------------------------------------------------ specs
@dataclass(frozen=True)
class StemSpec:
    """One track of an arrangement and how the arranger balanced it.

    ``level_lu`` is how loud the arranger wants the part relative to the
    session's loudest part (LU, <= 0): the CC7 the arranger writes is the one
    that gets it there (:func:`arranger_cc7`). ``cc10`` is the pan as written.
    ``kind`` names the part generator (see :data:`GENERATORS`); ``program`` is
    the 0-based GM program (``None`` for drums); ``kit`` the GM drum kit on
    channel 10, or ``"hydrogen"`` for the Colombo kit; ``hits`` the drum
    pattern as (GM note, 16-step pattern, which bars) tuples.
    """

    file: str
    category: str
    kind: str
    level_lu: float
    cc10: int = 64
    program: int | None = None
    kit: int | str | None = None
    hits: tuple = ()
    channels: int = 1
    start_bar: int = 1
    end_bar: int | None = None
    importance: str | None = None
    register: tuple[int, int] = (48, 72)
    voices: int = 4
    pattern: str = ""
    final: bool = True


@dataclass(frozen=True)
class SessionSpec:
    name: str
    title: str
    style: str
    bpm: float
    bars: int
    key: str
    mode: str
    progression: tuple[str, ...]
    stems: tuple[StemSpec, ...]
    focus: str
    lift_bar: int = 99
    tail_s: float = 2.0


def _cat_default_importance(category: str) -> str:
    """The guide's default importance (lead vocal high, FX/Other low, the rest medium)."""
    return "high" if category == "Lead Vocal" else "low" if category in ("FX", "Other") else "medium"


# Drum patterns: 16 steps per bar; X 120, x 104, o 86, g 38 (ghost), . rest.
# Bar selectors: "all", "main" (not a fill bar), "fill" (last bar of each
# 4-bar phrase), "phrase" (first bar of each phrase).
ROCK_KICK = ((36, "x.....o.x.o.....", "main"), (36, "x.....o.x.......", "fill"))
ROCK_SNARE = ((38, "....x.......x...", "main"), (38, "....x.......xoxx", "fill"))
ROCK_HATS = ((42, "x.o.x.o.x.o.x.o.", "main"), (42, "x.o.x.o.x.o.....", "fill"))
ROCK_TOMS = ((50, "............xo..", "fill"), (47, "..............xo", "fill"))
ROCK_CRASH = ((49, "x...............", "phrase"),)

GARAGE_BAND = SessionSpec(
    name="garage_band", title="Garage Band", style="band with drums (rock, acoustic kit)",
    bpm=112, bars=14, key="G", mode="major", progression=("G", "D", "Em", "C"), lift_bar=9,
    focus="09 Organ.wav",
    stems=(
        StemSpec("01 Kick.wav", "Kick", "drums", -3, kit="hydrogen", hits=ROCK_KICK),
        StemSpec("02 Snare.wav", "Snare", "drums", -2, kit="hydrogen", hits=ROCK_SNARE),
        StemSpec("03 Hi-Hat.wav", "Cymbals", "drums", -12, 78, kit="hydrogen", hits=ROCK_HATS),
        StemSpec("04 Toms.wav", "Percussion", "drums", -5, 58, kit="hydrogen", hits=ROCK_TOMS),
        StemSpec("05 Crash.wav", "Cymbals", "drums", -11, 44, kit="hydrogen", hits=ROCK_CRASH),
        StemSpec("06 Bass.wav", "Bass", "bass", -4, program=33, pattern="R.R.R.R.R.R.R.OA"),
        StemSpec("07 Guitar L.wav", "Guitar", "comp", -6, 18, program=29, register=(40, 64), voices=3,
                 pattern="x.x.x.x.x.x.x.x."),
        StemSpec("08 Guitar R.wav", "Guitar", "comp", -6, 110, program=29, register=(45, 69), voices=3,
                 pattern="x..x..x...x..x..", start_bar=5),
        StemSpec("09 Organ.wav", "Keys", "pad", -10, 82, program=18, register=(52, 76), voices=4,
                 start_bar=5),
        StemSpec("10 Lead Vocal.wav", "Lead Vocal", "melody", 0, program=53, register=(62, 76),
                 start_bar=3, pattern="vocal"),
        StemSpec("11 Backing Vocals.wav", "Backing Vocal", "pad", -8, 50, program=52, register=(57, 72),
                 voices=3, start_bar=9),
    ),
)

EDM_KICK = ((36, "x...x...x...x...", "all"),)
EDM_CLAP = ((39, "....x.......x...", "main"), (39, "....x.......x.xx", "fill"))
EDM_HATS = ((42, "x.x.x.x.x.x.x.x.", "all"), (46, "..o...o...o...o.", "main"))

NIGHT_DRIVE = SessionSpec(
    name="night_drive", title="Night Drive", style="electronic (TR-808 kit, synths)",
    bpm=124, bars=16, key="A", mode="minor", progression=("Am", "F", "C", "G"), lift_bar=9,
    focus="07 Arp.wav",
    stems=(
        StemSpec("01 Kick.wav", "Kick", "drums", 0, kit=25, hits=EDM_KICK),
        StemSpec("02 Clap.wav", "Snare", "drums", -4, kit=25, hits=EDM_CLAP, start_bar=5),
        StemSpec("03 Hats.wav", "Cymbals", "drums", -11, 76, kit=25, hits=EDM_HATS, start_bar=3),
        StemSpec("04 Sub Bass.wav", "Bass", "bass", -2, program=38, pattern="..R...R...R...R."),
        StemSpec("05 Lead Synth.wav", "Synth", "melody", -1, program=81, register=(64, 81),
                 start_bar=9, pattern="busy", importance="high"),
        StemSpec("06 Pad.wav", "Pads", "pad", -9, program=90, channels=2, register=(55, 76), voices=4),
        StemSpec("07 Arp.wav", "Synth", "arp", -8, 40, program=80, register=(60, 84), start_bar=5),
        StemSpec("08 Pluck.wav", "Synth", "comp", -10, 92, program=98, register=(67, 88), voices=3,
                 pattern="..x..x....x..x..", start_bar=5),
        StemSpec("09 Echo FX.wav", "FX", "fx", -14, program=102, register=(57, 81), channels=2, final=False),
    ),
)

CHAMBER_SUITE = SessionSpec(
    name="chamber_suite", title="Chamber Suite", style="acoustic / orchestral",
    bpm=84, bars=10, key="D", mode="major", progression=("D", "A", "Bm", "G", "D", "Em", "A7", "D"),
    focus="06 Clarinet.wav", tail_s=2.5,
    stems=(
        StemSpec("01 Violins.wav", "Strings", "pad", -1, 40, program=48, channels=2, register=(62, 86), voices=3),
        StemSpec("02 Violas.wav", "Strings", "pad", -6, 74, program=41, register=(55, 69), voices=2),
        StemSpec("03 Cellos.wav", "Strings", "counter", -4, 90, program=42, register=(43, 62)),
        StemSpec("04 Contrabass.wav", "Bass", "bass", -6, 100, program=43, pattern="R.......F......."),
        StemSpec("05 Flute.wav", "Brass", "melody", 0, 56, program=73, register=(72, 91), pattern="vocal",
                 importance="high", start_bar=3),
        StemSpec("06 Clarinet.wav", "Brass", "counter", -4, 76, program=71, register=(55, 74), start_bar=3),
        StemSpec("07 French Horns.wav", "Brass", "pad", -7, 30, program=60, register=(53, 70), voices=2,
                 start_bar=5),
        StemSpec("08 Harp.wav", "Strings", "arp", -7, 20, program=46, register=(48, 79), pattern="eighths"),
        StemSpec("09 Timpani.wav", "Percussion", "timpani", -8, 64, program=47, register=(38, 50)),
        StemSpec("10 Glockenspiel.wav", "Cymbals", "bells", -13, 98, program=9, register=(79, 96), start_bar=7),
    ),
)

BALLAD_KICK = ((36, "x.......x.......", "all"),)
BALLAD_BRUSH = ((38, "........x.......", "main"), (40, "x.......x...o...", "fill"))

SLOW_LIGHT = SessionSpec(
    name="slow_light", title="Slow Light", style="ballad (piano, brushes, strings)",
    bpm=70, bars=8, key="C", mode="major", progression=("C", "Am", "F", "G", "C", "Em", "F", "G"),
    lift_bar=5, focus="05 Nylon Guitar.wav", tail_s=2.6,
    stems=(
        StemSpec("01 Kick.wav", "Kick", "drums", -9, kit=40, hits=BALLAD_KICK, start_bar=3),
        StemSpec("02 Brush Snare.wav", "Snare", "drums", -11, kit=40, hits=BALLAD_BRUSH, start_bar=3),
        StemSpec("03 Piano.wav", "Keys", "piano", -2, program=0, channels=2, register=(55, 76), voices=3),
        StemSpec("04 Bass.wav", "Bass", "bass", -6, program=35, pattern="R.......F.......", start_bar=3),
        StemSpec("05 Nylon Guitar.wav", "Guitar", "arp", -7, 92, program=24, register=(48, 72),
                 pattern="eighths"),
        StemSpec("06 Strings.wav", "Strings", "pad", -7, program=49, channels=2, register=(55, 79), voices=4,
                 start_bar=3),
        StemSpec("07 Lead Vocal.wav", "Lead Vocal", "melody", 0, program=53, register=(60, 74),
                 pattern="slow", start_bar=2),
        StemSpec("08 Backing Vocals.wav", "Backing Vocal", "pad", -8, 44, program=52, register=(57, 72),
                 voices=3, start_bar=5),
    ),
)

FUNK_KICK = ((36, "x.....x...x..x..", "all"),)
FUNK_SNARE = ((38, "....x..g.g..x..g", "main"), (38, "....x..g.g..xoxx", "fill"))
FUNK_HATS = ((42, "xoxoxoxoxoxoxo.o", "all"), (46, "..............x.", "all"))
FUNK_CONGAS = ((63, "..x...x...x.x...", "all"), (62, "x...x.....o...o.", "all"), (64, ".......x.......x", "all"))
FUNK_TAMB = ((54, "....x.......x...", "all"),)

POCKET_FUNK = SessionSpec(
    name="pocket_funk", title="Pocket Funk", style="funk",
    bpm=100, bars=14, key="E", mode="dorian", progression=("Em7", "Em7", "A7", "A7", "Em7", "Em7", "Cmaj7", "B7"),
    lift_bar=7, focus="08 Rhodes.wav", tail_s=1.9,
    stems=(
        StemSpec("01 Kick.wav", "Kick", "drums", -2, kit=0, hits=FUNK_KICK),
        StemSpec("02 Snare.wav", "Snare", "drums", -2, kit=0, hits=FUNK_SNARE),
        StemSpec("03 Hi-Hat.wav", "Cymbals", "drums", -10, 84, kit=0, hits=FUNK_HATS),
        StemSpec("04 Congas.wav", "Percussion", "drums", -9, 30, kit=0, hits=FUNK_CONGAS, start_bar=3),
        StemSpec("05 Slap Bass.wav", "Bass", "bass", -1, program=36, pattern="R..O..R.g.R.O.RA"),
        StemSpec("06 Clavinet.wav", "Keys", "comp", -6, 40, program=7, register=(55, 72), voices=3,
                 pattern=".x.x..x..x.x..x."),
        StemSpec("07 Muted Guitar.wav", "Guitar", "comp", -7, 96, program=28, register=(52, 67), voices=2,
                 pattern="x.xxx.xxx.xxx.xx"),
        StemSpec("08 Rhodes.wav", "Keys", "pad", -8, 56, program=4, register=(52, 72), voices=4),
        StemSpec("09 Brass Section.wav", "Brass", "comp", -4, 70, program=61, register=(60, 79), voices=3,
                 pattern="......x.....x...", start_bar=5),
        StemSpec("10 Alto Sax.wav", "Brass", "melody", 0, 60, program=65, register=(64, 81), pattern="busy",
                 importance="high", start_bar=7),
        StemSpec("11 Tambourine.wav", "Percussion", "drums", -13, 100, kit=0, hits=FUNK_TAMB, start_bar=7),
    ),
)

SHAKER = ((70, "x.o.x.o.x.o.x.o.", "all"),)

LATE_BLOOM = SessionSpec(
    name="late_bloom", title="Late Bloom", style="sparse arrangement with late entries",
    bpm=90, bars=12, key="A", mode="major", progression=("A", "E", "F#m", "D"),
    focus="03 Cello.wav",
    stems=(
        StemSpec("01 Acoustic Guitar.wav", "Guitar", "strum", -3, 56, program=25, register=(40, 67), voices=5,
                 pattern="x.x.x.xxx.x.x.xx"),
        StemSpec("02 Lead Vocal.wav", "Lead Vocal", "melody", 0, program=53, register=(61, 76),
                 pattern="vocal", start_bar=3),
        StemSpec("03 Cello.wav", "Strings", "counter", -6, 84, program=42, register=(45, 64), start_bar=7),
        StemSpec("04 Shaker.wav", "Percussion", "drums", -12, 100, kit=0, hits=SHAKER, start_bar=9, importance="low"),
        StemSpec("05 Glockenspiel.wav", "Cymbals", "bells", -12, 36, program=9, register=(81, 96), start_bar=11),
    ),
)

POP_KICK = ((36, "x.......x.x.....", "main"), (36, "x.......x.......", "fill"))
POP_SNARE = ((38, "....x.......x...", "main"), (38, "....x.......x.xx", "fill"))
POP_HATS = ((42, "x.x.x.x.x.x.x.x.", "main"), (42, "x.x.x.x.x.......", "fill"))
POP_TOMS = ((48, "............x...", "fill"), (45, ".............x..", "fill"), (41, "..............xx", "fill"))

FULL_HOUSE = SessionSpec(
    name="full_house", title="Full House", style="16-stem pop arrangement",
    bpm=118, bars=16, key="F", mode="major", progression=("F", "C", "Dm", "Bb"), lift_bar=9,
    focus="10 Piano.wav",
    stems=(
        StemSpec("01 Kick.wav", "Kick", "drums", -3, kit=0, hits=POP_KICK),
        StemSpec("02 Snare.wav", "Snare", "drums", -3, kit=0, hits=POP_SNARE),
        StemSpec("03 Hi-Hat.wav", "Cymbals", "drums", -12, 80, kit=0, hits=POP_HATS),
        StemSpec("04 Toms.wav", "Percussion", "drums", -7, 60, kit=0, hits=POP_TOMS),
        StemSpec("05 Crash.wav", "Cymbals", "drums", -12, 40, kit=0, hits=ROCK_CRASH),
        StemSpec("06 Shaker.wav", "Percussion", "drums", -14, 96, kit=0, hits=SHAKER, start_bar=9, importance="low"),
        StemSpec("07 Bass.wav", "Bass", "bass", -4, program=34, pattern="R.R.R.R.R.R.R.RA"),
        StemSpec("08 Clean Guitar.wav", "Guitar", "comp", -8, 24, program=27, register=(52, 72), voices=3,
                 pattern="..x...x...x...x."),
        StemSpec("09 Acoustic Guitar.wav", "Guitar", "strum", -8, 104, program=25, register=(40, 67),
                 voices=5, pattern="x.x.x.xxx.x.x.xx"),
        StemSpec("10 Piano.wav", "Keys", "piano", -7, 60, program=0, register=(55, 76), voices=3),
        StemSpec("11 Organ.wav", "Keys", "pad", -12, 76, program=16, register=(53, 74), voices=3, start_bar=9),
        StemSpec("12 Pad.wav", "Pads", "pad", -12, program=94, channels=2, register=(55, 76), voices=4),
        StemSpec("13 Strings.wav", "Strings", "pad", -9, program=48, channels=2, register=(60, 84), voices=3,
                 start_bar=9),
        StemSpec("14 Lead Vocal.wav", "Lead Vocal", "melody", 0, program=53, register=(60, 77),
                 pattern="vocal", start_bar=3),
        StemSpec("15 Backing Vocal 1.wav", "Backing Vocal", "pad", -8, 36, program=52, register=(60, 74),
                 voices=2, start_bar=9),
        StemSpec("16 Backing Vocal 2.wav", "Backing Vocal", "pad", -9, 92, program=54, register=(55, 69),
                 voices=2, start_bar=9),
    ),
)

TINY = SessionSpec(
    name="tiny", title="Tiny", style="test session (3 stems)",
    bpm=120, bars=4, key="C", mode="major", progression=("C", "F", "G", "C"), focus="02 Bass.wav",
    tail_s=1.0,
    stems=(
        StemSpec("01 Kick.wav", "Kick", "drums", -2, kit=0, hits=((36, "x...x...x...x...", "all"),)),
        StemSpec("02 Bass.wav", "Bass", "bass", -3, program=33, pattern="R.R.R.R.R.R.R.R."),
        StemSpec("03 Lead Vocal.wav", "Lead Vocal", "melody", 0, 40, program=53, register=(60, 74),
                 pattern="vocal"),
    ),
)

SESSIONS = (GARAGE_BAND, NIGHT_DRIVE, CHAMBER_SUITE, SLOW_LIGHT, POCKET_FUNK, LATE_BLOOM, FULL_HOUSE)
ALL_SESSIONS = {s.name: s for s in (*SESSIONS, TINY)}

HYDROGEN = {36: "BassDrum", 38: "Snare1", 42: "Closed HH", 46: "Open HH", 44: "Pedal HH",
            50: "Tom Hi", 48: "Tom Hi", 47: "Tom Mid", 45: "Tom Mid", 43: "Tom Low", 41: "Tom Low",
            49: "crash16inch"}
VELOCITY = {"X": 120, "x": 104, "o": 86, "g": 38}


# ------------------------------------------------------------------ the song grid
class Song:
    """Time grid, chords and scale of one session."""

    def __init__(self, spec: SessionSpec, session_index: int):
        self.spec = spec
        self.index = session_index
        self.beat_s = 60.0 / spec.bpm
        self.final_beat = spec.bars * 4.0
        self.seconds = self.final_beat * self.beat_s + spec.tail_s
        self.frames = int(round(self.seconds * SR))
        self.chords = []  # (start_beat, beats, root_pc, intervals)
        for bar in range(spec.bars):
            symbols = spec.progression[bar % len(spec.progression)].split()
            for k, sym in enumerate(symbols):
                length = 4.0 / len(symbols)
                self.chords.append((bar * 4.0 + k * length, length, *parse_chord(sym)))
        tonic = parse_chord(spec.key + ("m" if spec.mode in ("minor", "dorian") else ""))
        self.tonic = tonic
        self.chords.append((self.final_beat, spec.tail_s / self.beat_s, *tonic))
        key_pc = parse_chord(spec.key)[0]
        self.scale_pcs = {(key_pc + i) % 12 for i in SCALES[spec.mode]}

    def t(self, beat: float) -> float:
        return beat * self.beat_s

    def chord_at(self, beat: float):
        current = self.chords[0]
        for c in self.chords:
            if c[0] <= beat + 1e-9:
                current = c
        return current

    def lift(self, bar: int) -> int:
        """Velocity lift from the chorus/second half on (bar is 0-based)."""
        return 8 if bar + 1 >= self.spec.lift_bar else 0

    def bars_of(self, stem: StemSpec) -> range:
        end = stem.end_bar if stem.end_bar is not None else self.spec.bars
        return range(stem.start_bar - 1, end)


def chord_pitches(root_pc: int, intervals, lo: int, hi: int) -> list[int]:
    pcs = {(root_pc + i) % 12 for i in intervals}
    return [p for p in range(lo, hi + 1) if p % 12 in pcs]


def voicing(root_pc: int, intervals, lo: int, hi: int, n: int, prev: list[int] | None) -> list[int]:
    """A close voicing of ``n`` chord tones in [lo, hi], led smoothly from ``prev``."""
    cands = chord_pitches(root_pc, intervals, lo, hi)
    pcs = {(root_pc + i) % 12 for i in intervals}
    n = min(n, len(cands))
    best, best_score = cands[:n], math.inf
    centre = (lo + hi) / 2
    for i in range(len(cands) - n + 1):
        w = cands[i:i + n]
        missing = len(pcs) - len({p % 12 for p in w}) if n >= min(3, len(pcs)) else 0
        motion = (sum(abs(a - b) for a, b in zip(w, prev)) if prev and len(prev) == n
                  else abs(sum(w) / n - centre))
        score = missing * 100 + motion
        if score < best_score:
            best, best_score = w, score
    return best


def bass_pitch(root_pc: int) -> int:
    """The root in the bass register E1 (28) … D#2 (39)."""
    return 28 + (root_pc - 4) % 12


class Human(mss.Human):
    """make_sample_stems' humaniser (±5 ms, small velocity spread), seeded per session and stem."""

    def __init__(self, session_index: int, stem_index: int):
        self.rng = np.random.default_rng([SEED, session_index, stem_index])


# ------------------------------------------------------------------ part generators
def _steps(pattern: str):
    for k, ch in enumerate(pattern):
        if ch != ".":
            yield k, ch


def gen_drums(song: Song, stem: StemSpec, h: Human):
    """Drum hits: (time_s, GM note, velocity)."""
    hits = []
    for bar in song.bars_of(stem):
        fill_bar = bar % 4 == 3 and bar != song.spec.bars - 1 or bar == song.spec.bars - 1
        for note, pattern, which in stem.hits:
            use = (which == "all" or (which == "main" and not fill_bar) or (which == "fill" and fill_bar)
                   or (which == "phrase" and bar % 4 == 0))
            if not use:
                continue
            for k, ch in _steps(pattern):
                beat = bar * 4 + k * 0.25
                vel = VELOCITY[ch] + (song.lift(bar) if ch != "g" else 0)
                hits.append((h.t(song.t(beat)), note, h.v(vel, 6 if ch != "g" else 3)))
    # the final hit: kick and crash (if the stem plays them) on the last downbeat
    if stem.final:
        notes = {n for n, _, _ in stem.hits}
        for n in notes & {36, 49, 41, 43}:
            hits.append((h.t(song.t(song.final_beat)), n, h.v(116, 4)))
    return hits


def gen_bass(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Bass line from a 16-step pattern: R root, O octave, F fifth, A approach, g dead note."""
    p = mss.Part()
    steps = list(_steps(stem.pattern))
    for bar in song.bars_of(stem):
        for j, (k, ch) in enumerate(steps):
            beat = bar * 4 + k * 0.25
            nxt = steps[j + 1][0] if j + 1 < len(steps) else 16
            length = (nxt - k) * 0.25
            root = bass_pitch(song.chord_at(beat)[2])
            if ch == "R":
                pitch, vel = root, 100
            elif ch == "O":
                pitch, vel = root + 12, 88
            elif ch == "F":
                pitch, vel = root + 7, 88
            elif ch == "A":
                target = bass_pitch(song.chord_at(beat + length)[2])
                pitch, vel = (target - 1 if target != root else root + 7), 84
            else:  # dead note
                pitch, vel, length = root, 40, 0.12
            on = h.t(song.t(beat))
            p.note(on, on + song.t(length) * 0.9, pitch, h.v(vel + song.lift(bar), 6))
    if stem.final:
        on = h.t(song.t(song.final_beat))
        p.note(on, on + song.spec.tail_s * 0.8, bass_pitch(song.tonic[0]), h.v(104, 4))
    return p


def gen_comp(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Chord stabs on a 16-step pattern (each held to the next stab)."""
    p = mss.Part()
    steps = [k for k, _ in _steps(stem.pattern)]
    prev = None
    for bar in song.bars_of(stem):
        for j, k in enumerate(steps):
            beat = bar * 4 + k * 0.25
            nxt = steps[j + 1] if j + 1 < len(steps) else 16 + steps[0]
            _, _, root, iv = song.chord_at(beat)
            prev = voicing(root, iv, *stem.register, stem.voices, prev)
            on = h.t(song.t(beat))
            vel = h.v((96 if k % 4 == 0 else 84) + song.lift(bar), 6)
            for i, pitch in enumerate(prev):
                p.note(on + i * 0.004, on + song.t((nxt - k) * 0.25) * 0.85, pitch, vel)
    _final_chord(song, stem, h, p, prev)
    return p


def gen_strum(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Strummed guitar: root at the bottom, strings 11 ms apart, down on the beat, up between."""
    p = mss.Part()
    steps = [k for k, _ in _steps(stem.pattern)]
    lo, hi = stem.register
    for bar in song.bars_of(stem):
        for j, k in enumerate(steps):
            beat = bar * 4 + k * 0.25
            nxt = steps[j + 1] if j + 1 < len(steps) else 16 + steps[0]
            _, _, root, iv = song.chord_at(beat)
            bottom = lo + (root - lo) % 12
            shape = [bottom] + [x for x in chord_pitches(root, iv, bottom + 3, hi)][: stem.voices - 1]
            down = k % 2 == 0
            strings = shape if down else shape[::-1][:4]
            start = h.t(song.t(beat))
            v0 = h.v((94 if k % 4 == 0 else 80 if down else 70) + song.lift(bar), 6)
            end = start + song.t((nxt - k) * 0.25) - 0.015
            for i, pitch in enumerate(strings):
                p.note(start + i * (0.011 if down else 0.008), end, pitch, max(1, v0 - 3 * i))
    _final_chord(song, stem, h, p, None)
    return p


def gen_pad(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Sustained chords, one per chord change, voice-led."""
    p = mss.Part()
    prev = None
    bars = song.bars_of(stem)
    for start, length, root, iv in song.chords:
        bar = int(start // 4)
        if bar not in bars or start >= song.final_beat:
            continue
        prev = voicing(root, iv, *stem.register, stem.voices, prev)
        on = h.t(song.t(start))
        vel = h.v(80 + song.lift(bar), 4)
        for pitch in prev:
            p.note(on, song.t(start + length) + 0.02, pitch, vel)
    _final_chord(song, stem, h, p, prev)
    return p


def gen_piano(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Ballad piano: left-hand root and fifth on 1, right-hand chords on 1 and 3, arpeggio on 2 and 4."""
    p = mss.Part()
    prev = None
    for bar in song.bars_of(stem):
        for half in (0, 2):
            beat = bar * 4 + half
            _, _, root, iv = song.chord_at(beat)
            prev = voicing(root, iv, *stem.register, stem.voices, prev)
            on = h.t(song.t(beat))
            v = h.v(78 + song.lift(bar), 5)
            lh = 36 + (root - 0) % 12
            p.note(on, on + song.t(2) * 0.95, lh, max(1, v - 6))
            p.note(on, on + song.t(2) * 0.95, lh + 7, max(1, v - 12))
            for pitch in prev:
                p.note(on + float(h.rng.uniform(0, 0.004)), on + song.t(2) * 0.95, pitch, v)
            for k, pitch in enumerate(prev):
                t = h.t(song.t(beat + 1 + k * 0.33))
                p.note(t, t + song.t(0.6), pitch + 12, h.v(60 + song.lift(bar), 5))
        # sustain pedal changed on every bar
        p.ccs.append((song.t(bar * 4) - 0.02, 64, 0))
        p.ccs.append((song.t(bar * 4) + 0.06, 64, 127))
    p.ccs.append((song.t(song.final_beat) - 0.02, 64, 0))
    _final_chord(song, stem, h, p, prev)
    return p


def gen_arp(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Arpeggio over the chord tones (16ths, or 8ths with pattern 'eighths'), up then down."""
    p = mss.Part()
    step = 0.5 if stem.pattern == "eighths" else 0.25
    for bar in song.bars_of(stem):
        for k in range(int(4 / step)):
            beat = bar * 4 + k * step
            _, _, root, iv = song.chord_at(beat)
            tones = chord_pitches(root, iv, *stem.register)[:8] or [stem.register[0]]
            cycle = tones + tones[-2:0:-1]
            pitch = cycle[k % len(cycle)]
            on = h.t(song.t(beat))
            accent = 12 if k % int(1 / step) == 0 else 0
            p.note(on, on + song.t(step) * 0.8, pitch, h.v(72 + accent + song.lift(bar), 5))
    _final_chord(song, stem, h, p, None)
    return p


RHYTHMS = {  # 16-step bars: (start step, length in steps)
    "vocal": ([(0, 3), (4, 2), (6, 2), (8, 4), (12, 2), (14, 2)], [(0, 2), (2, 2), (4, 4), (10, 2), (12, 4)],
              [(2, 2), (4, 2), (6, 4), (10, 6)], [(0, 6), (6, 2), (8, 8)]),
    "busy": ([(0, 2), (2, 2), (4, 2), (6, 2), (8, 4), (12, 2), (14, 2)], [(0, 1), (1, 1), (2, 2), (4, 3), (7, 3),
                                                                          (10, 2), (12, 4)],
             [(0, 3), (3, 3), (6, 2), (8, 2), (10, 2), (12, 2), (14, 2)], [(2, 2), (4, 2), (6, 2), (8, 8)]),
    "slow": ([(0, 8), (8, 4), (12, 4)], [(0, 4), (4, 4), (8, 8)], [(0, 12), (12, 4)], [(0, 6), (6, 2), (8, 8)]),
    "counter": ([(0, 8), (8, 8)], [(0, 12), (12, 4)], [(0, 16)], [(0, 4), (4, 4), (8, 8)]),
}
CADENCE = [(0, 4), (4, 8)]


def gen_melody(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """A phrased melody: 4-bar phrases (motif, answer, motif, cadence + breath), chord tones on strong steps."""
    p = mss.Part()
    rng = h.rng
    lo, hi = stem.register
    centre = (lo + hi) / 2
    templates = RHYTHMS["counter" if stem.kind == "counter" else (stem.pattern or "vocal")]
    scale = [x for x in range(lo, hi + 1) if x % 12 in song.scale_pcs]
    pitch = None
    motif = answer = None
    bars = list(song.bars_of(stem))
    for n, bar in enumerate(bars):
        pos = n % 4
        if pos == 0:
            motif = templates[int(rng.integers(len(templates)))]
            answer = templates[int(rng.integers(len(templates)))]
        rhythm = motif if pos in (0, 2) else answer if pos == 1 else CADENCE
        for k, length in rhythm:
            beat = bar * 4 + k * 0.25
            _, _, root, iv = song.chord_at(beat)
            tones = chord_pitches(root, iv, lo, hi)
            strong = k % 8 == 0 or (pos == 3 and k == 4)
            if pitch is None:
                pitch = min(tones, key=lambda x: (abs(x - centre), x))
            else:
                drift = -2 if pitch > centre + 4 else 2 if pitch < centre - 4 else 0
                target = pitch + int(rng.choice([-4, -3, -2, -1, 1, 2, 3, 4])) + drift
                pool = tones if strong else scale
                pitch = min(pool, key=lambda x: (abs(x - target), x))
            on = h.t(song.t(beat))
            off = on + song.t(length * 0.25) - 0.03
            vel = 84 + (10 if strong else 0) + song.lift(bar) + (6 if pos == 2 else 0)
            p.note(on, off, pitch, h.v(vel, 5))
            if length >= 6 and stem.program in (52, 53, 54, 85):  # vibrato on held "sung" notes
                p.ccs.append((on + 0.3, 1, 20))
                p.ccs.append((off, 1, 0))
    if stem.final:
        on = h.t(song.t(song.final_beat))
        tones = chord_pitches(song.tonic[0], song.tonic[1], lo, hi)
        p.note(on, on + song.spec.tail_s * 0.8, min(tones, key=lambda x: abs(x - (pitch or centre))), h.v(92, 4))
    return p


def gen_timpani(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Timpani: root on each phrase's downbeat, a roll into the final chord."""
    p = mss.Part()
    lo, hi = stem.register
    for bar in song.bars_of(stem):
        _, _, root, _ = song.chord_at(bar * 4)
        pitch = lo + (root - lo) % 12
        if bar % 2 == 0:
            on = h.t(song.t(bar * 4))
            p.note(on, on + song.t(1.5), pitch, h.v(96 + song.lift(bar), 6))
        if bar == song.spec.bars - 1:
            for k in range(16):
                on = h.t(song.t(bar * 4 + 2 + k / 8))
                p.note(on, on + song.t(1 / 8), pitch, h.v(50 + 4 * k, 3))
    if stem.final:
        on = h.t(song.t(song.final_beat))
        p.note(on, on + 1.5, lo + (song.tonic[0] - lo) % 12, h.v(112, 4))
    return p


def gen_bells(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """Sparse high chord tones on beats 1 and 3 (glockenspiel, bells)."""
    p = mss.Part()
    for bar in song.bars_of(stem):
        for beat_in in (0, 2.5) if bar % 2 else (0, 2):
            beat = bar * 4 + beat_in
            _, _, root, iv = song.chord_at(beat)
            tones = chord_pitches(root, iv, *stem.register)
            pitch = tones[int(h.rng.integers(len(tones)))]
            on = h.t(song.t(beat))
            p.note(on, on + song.t(1.0), pitch, h.v(88 + song.lift(bar), 6))
    _final_chord(song, stem, h, p, None, voices=2)
    return p


def gen_fx(song: Song, stem: StemSpec, h: Human) -> mss.Part:
    """A sweep texture: root and fifth held over each 4-bar phrase."""
    p = mss.Part()
    lo, hi = stem.register
    for bar in song.bars_of(stem):
        if bar % 4:
            continue
        _, _, root, _ = song.chord_at(bar * 4)
        base = lo + (root - lo) % 12
        on = h.t(song.t(bar * 4))
        end = song.t(min(bar * 4 + 16, song.final_beat))
        for pitch in (base, base + 7):
            p.note(on, end, pitch, h.v(84, 4))
    return p


def _final_chord(song: Song, stem: StemSpec, h: Human, p: mss.Part, prev, voices: int | None = None) -> None:
    if not stem.final:
        return
    root, iv = song.tonic
    chord = voicing(root, iv, *stem.register, voices or stem.voices, prev)
    on = h.t(song.t(song.final_beat))
    for pitch in chord:
        p.note(on, on + song.spec.tail_s * 0.8, pitch, h.v(90, 4))


GENERATORS = {"bass": gen_bass, "comp": gen_comp, "strum": gen_strum, "pad": gen_pad, "piano": gen_piano,
              "arp": gen_arp, "melody": gen_melody, "counter": gen_melody, "timpani": gen_timpani,
              "bells": gen_bells, "fx": gen_fx}


# ------------------------------------------------------------------ MIDI and rendering
def write_midi(path: Path, song: Song, notes, ccs, *, program: int, channel: int) -> None:
    """One track at the reference level: CC7 127, CC11 127, pan centre (CC10 64), sends 0.

    Like make_sample_stems.write_midi (a same-pitch note is cut at its next
    onset), but on any channel (10 for drums), at the song's tempo, and at the
    reference volume instead of the sample song's CC7 100.
    """

    def tick(sec: float) -> int:
        return int(round(sec / song.beat_s * TPB))

    by_pitch: dict[int, list] = {}
    for n in sorted(notes):
        by_pitch.setdefault(n[2], []).append(n)
    events = []
    for pitch, lst in by_pitch.items():
        for i, (on, off, _p, vel) in enumerate(lst):
            t_on, t_off = tick(on), tick(off)
            if i + 1 < len(lst):
                t_off = min(t_off, tick(lst[i + 1][0]))
            t_off = max(t_off, t_on + 1)
            events.append((t_on, 2, pitch, mido.Message("note_on", channel=channel, note=pitch, velocity=vel)))
            events.append((t_off, 1, pitch, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    for t, ctl, val in ccs:
        events.append((tick(max(0.0, t)), 0, ctl,
                       mido.Message("control_change", channel=channel, control=ctl, value=int(val))))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    mid = mido.MidiFile(type=0, ticks_per_beat=TPB)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(song.spec.bpm), time=0))
    track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    for ctl, val in ((7, 127), (10, 64), (11, 127), (64, 0), (1, 0), (91, 0), (93, 0)):
        track.append(mido.Message("control_change", channel=channel, control=ctl, value=val, time=0))
    now = 0
    for t, _order, _k, msg in events:
        track.append(msg.copy(time=t - now))
        now = t
    track.append(mido.MetaMessage("end_of_track", time=max(0, tick(song.seconds + 0.5) - now)))
    mid.save(path)


def render_stem(song: Song, stem: StemSpec, index: int, tmpdir: Path, kit, midi_dir: Path | None,
                soundfont: Path) -> np.ndarray:
    """Render one stem dry at the reference level; returns float64 (frames, channels)."""
    h = Human(song.index, index)
    if stem.kind == "drums":
        hits = gen_drums(song, stem, h)
        if stem.kit == "hydrogen":
            buf = np.zeros(song.frames + SR * 4)
            for t, note, vel in sorted(hits):
                name = HYDROGEN[note]
                mss.place(buf, kit.hit(name, vel), t, choke=name in ("Closed HH", "Open HH", "Pedal HH"))
            return buf[:, None]
        notes = []
        for j, (t, note, vel) in enumerate(sorted(hits)):
            notes.append((t, t + 0.8, note, vel))
        notes_ccs = (notes, [])
        program, channel = int(stem.kit), 9
    else:
        part = GENERATORS[stem.kind](song, stem, h)
        notes_ccs = (part.notes, part.ccs)
        program, channel = int(stem.program), 0
    mid = tmpdir / (Path(stem.file).stem + ".mid")
    write_midi(mid, song, *notes_ccs, program=program, channel=channel)
    if midi_dir is not None:
        midi_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mid, midi_dir / mid.name)
    return mss.render_fluidsynth(mid, tmpdir / (Path(stem.file).stem + ".f32.wav"), soundfont)


def fit(audio: np.ndarray, frames: int, channels: int) -> np.ndarray:
    """Length to ``frames``, channels folded or centred, a short fade at the very end."""
    out = np.zeros((frames, audio.shape[1]))
    n = min(frames, len(audio))
    out[:n] = audio[:n]
    if channels == 1 and out.shape[1] > 1:
        l, r = out[:, 0], out[:, 1]
        corr = float(np.dot(l, r) / max(math.sqrt(np.dot(l, l) * np.dot(r, r)), 1e-30))
        out = out.mean(axis=1, keepdims=True) if corr >= MONO_FOLD_MIN_CORRELATION else out[:, :1]
    elif channels == 2 and out.shape[1] == 1:
        out = np.repeat(out, 2, axis=1)
    elif channels == 2:
        rms = np.sqrt(np.mean(out ** 2, axis=0))  # centred: equal RMS in both channels
        out *= np.sqrt(rms[0] * rms[1]) / np.maximum(rms, 1e-12)
    nf = int(FADE_S * SR)
    out[-nf:] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, nf)))[:, None]
    return out


def lufs(x: np.ndarray) -> float:
    """Integrated loudness (ITU-R BS.1770-4, libebur128) of (frames, channels) audio."""
    import pyebur128 as ebu

    st = ebu.R128State(x.shape[1], SR, ebu.MeasurementMode.MODE_I)
    st.add_frames(np.ascontiguousarray(x, dtype=np.float64).reshape(-1), x.shape[0])
    return float(ebu.get_loudness_global(st))


def true_peak_dbtp(x: np.ndarray) -> float:
    import pyebur128 as ebu

    st = ebu.R128State(x.shape[1], SR, ebu.MeasurementMode.MODE_TRUE_PEAK)
    st.add_frames(np.ascontiguousarray(x, dtype=np.float64).reshape(-1), x.shape[0])
    peak = max(ebu.get_true_peak(st, c) for c in range(x.shape[1]))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def pan_gains(pan: float, stereo: bool) -> tuple[float, float]:
    """Sine/cosine constant-power law (−3.01 dB per side at the centre) for mono;
    the same law normalised to unity at the centre (a balance control) for stereo."""
    theta = (pan + 1.0) * math.pi / 4.0
    gl, gr = math.cos(theta), math.sin(theta)
    return (gl * math.sqrt(2), gr * math.sqrt(2)) if stereo else (gl, gr)


def intended_gain_db(cc7: int) -> float:
    """GM Level 2 volume curve: ``40·log10(cc7/127)`` dB (0 dB at 127, −inf at 0)."""
    return 40.0 * math.log10(cc7 / 127.0) if cc7 > 0 else -math.inf


def intended_pan(cc10: int) -> float:
    """GM pan: 0 hard left, 64 centre, 127 hard right → −1…+1."""
    return max(-1.0, min(1.0, (cc10 - 64) / 63.0))


def arranger_cc7(native_lufs: list[float], level_lu: list[float]) -> list[int]:
    """The CC7 an arranger lands on by ear, modelled as: each part at its wanted loudness.

    An arranger moves each track's volume until the parts sit as wanted; we
    model "as wanted" as each stem's integrated loudness (BS.1770-4, alone)
    being ``level_lu`` relative to the others. The gain that does it is
    ``level_lu - native_lufs`` plus one common constant, chosen so that the
    loudest-needed track is at CC7 127 (gains can only go down from the
    reference render). CC7 is then the integer the GM Level 2 curve
    ``40·log10(cc7/127)`` maps closest to that gain (1…127). The rounding to an
    integer CC7 is part of the balance as written: the stored intended gain is
    the one of the integer CC7, not the unrounded aim.
    """
    wanted = [lv - nat for lv, nat in zip(level_lu, native_lufs)]
    top = max(wanted)
    return [int(min(127, max(1, round(127 * 10 ** ((w - top) / 40))))) for w in wanted]


def build_session(spec: SessionSpec, session_index: int, outdir: Path, *, soundfont: Path, kit,
                  keep_midi: bool, workers: int = 4, log=print) -> dict:
    """Render one session into ``outdir/<name>/``; returns its balance record."""
    song = Song(spec, session_index)
    root = outdir / spec.name
    stems_dir = root / "stems"
    stems_dir.mkdir(parents=True, exist_ok=True)
    for old in stems_dir.glob("*.wav"):
        if old.name not in {s.file for s in spec.stems}:
            old.unlink()
    midi_dir = root / "midi" if keep_midi else None
    log(f"{spec.name}: {len(spec.stems)} stems, {song.seconds:.1f} s ({spec.style})")
    # Render every stem dry at the reference level. FluidSynth's file renderer
    # spends most of its wall time waiting, so several run side by side; each
    # stem has its own seeded generators, so the order does not matter.
    with tempfile.TemporaryDirectory(prefix="mw_corpus_") as tmp, ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(render_stem, song, stem, i, Path(tmp), kit, midi_dir, soundfont)
                   for i, stem in enumerate(spec.stems)]
        refs = [fit(f.result(), song.frames, stem.channels) for f, stem in zip(futures, spec.stems)]
    # Offsets as stems arrive (seeded), and one common scale so the hottest file peaks at -1 dBFS.
    rng = np.random.default_rng([SEED, session_index, 99])
    offsets = [round(float(rng.uniform(*OFFSET_RANGE_DB)), 2) for _ in spec.stems]
    peaks = [20 * math.log10(max(np.abs(r).max(), 1e-12)) for r in refs]
    scale_db = round(HOTTEST_PEAK_DBFS - max(p + o for p, o in zip(peaks, offsets)), 2)
    at_scale = [r * 10 ** (scale_db / 20) for r in refs]
    native = [lufs(x) for x in at_scale]
    cc7s = arranger_cc7(native, [st.level_lu for st in spec.stems])
    records, mix = [], np.zeros((song.frames, 2))
    for stem, ref, off, cc7, nat in zip(spec.stems, at_scale, offsets, cc7s, native):
        data = np.round(np.clip(ref * 10 ** (off / 20), -1.0, 32767 / 32768) * 32768).astype(np.int16)
        path = stems_dir / stem.file
        mss.write_wav_atomic(path, data)
        x = data.astype(np.float64) / 32768.0
        g, pan = intended_gain_db(cc7), intended_pan(stem.cc10)
        gl, gr = pan_gains(pan, stem.channels == 2)
        y = x * 10 ** ((g - off) / 20)
        mix[:, 0] += y[:, 0] * gl
        mix[:, 1] += y[:, -1] * gr
        active = np.flatnonzero(np.abs(x).max(axis=1) > 10 ** (-60 / 20))
        dc = float(np.abs(x.mean(axis=0)).max())
        if dc >= 10 ** (-50 / 20):  # the preparation checks would flag it: pick another preset
            PROBLEMS.append(f"{spec.name}/{stem.file}: DC offset {20 * math.log10(dc):.1f} dBFS")
        if not active.size:
            PROBLEMS.append(f"{spec.name}/{stem.file}: silent")
        records.append({
            "file": stem.file, "name": Path(stem.file).stem.split(" ", 1)[1],
            "category": stem.category, "importance": stem.importance or _cat_default_importance(stem.category),
            "program": stem.program, "drum_kit": stem.kit,
            "source": _source(stem), "channels": stem.channels,
            "level_lu": stem.level_lu, "cc7": cc7, "cc10": stem.cc10,
            "intended_gain_db": round(g, 4), "intended_pan": round(pan, 4),
            "offset_db": off,
            "reference_lufs": round(nat, 3), "file_lufs": round(lufs(x), 3),
            "peak_dbfs": round(20 * math.log10(max(np.abs(x).max(), 1e-12)), 2),
            "enters_s": round(active[0] / SR, 3) if active.size else None,
        })
    # The musician's mix: intended gains and pans, normalised to -14 LUFS, float (never clipped).
    gain = REFERENCE_MIX_LUFS - lufs(mix)
    mix *= 10 ** (gain / 20)
    ref_path = root / "musicians_mix.wav"
    tmp_path = root / ".musicians_mix.tmp.wav"
    sf.write(tmp_path, mix.astype(np.float32), SR, subtype="FLOAT", format="WAV")
    os.replace(tmp_path, ref_path)
    balance = {
        "corpus_version": CORPUS_VERSION, "session": spec.name, "title": spec.title, "style": spec.style,
        "bpm": spec.bpm, "bars": spec.bars, "key": f"{spec.key} {spec.mode}", "seconds": round(song.seconds, 3),
        "frames": song.frames, "sample_rate": SR, "seed": [SEED, session_index],
        "session_scale_db": scale_db, "offset_range_db": list(OFFSET_RANGE_DB),
        "gain_curve": "intended_gain_db = 40*log10(cc7/127) (GM Level 2); intended_pan = (cc10-64)/63",
        "focus": spec.focus,
        "musicians_mix": {"file": ref_path.name, "integrated_lufs": round(lufs(mix), 3),
                          "true_peak_dbtp": round(true_peak_dbtp(mix), 3), "format": "32-bit float"},
        "stems": records,
    }
    if any(p.startswith(f"{spec.name}/") for p in PROBLEMS):
        # no balance.json for a defective session: a benchmark must not use it, and rebuilds it
        (root / "balance.json").unlink(missing_ok=True)
        return balance
    tmp_json = root / ".balance.tmp.json"
    tmp_json.write_text(json.dumps(balance, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_json, root / "balance.json")
    for r in records:
        log(f"  {r['file']:26s} aim {r['level_lu']:+4.0f} LU  cc7 {r['cc7']:3d} ({r['intended_gain_db']:+6.2f} dB)"
            f" pan {r['intended_pan']:+.2f}  offset {r['offset_db']:+6.2f} dB  ref {r['reference_lufs']:6.1f} LUFS"
            f"  file {r['file_lufs']:6.1f} LUFS  peak {r['peak_dbfs']:6.1f}")
    return balance


def _source(stem: StemSpec) -> str:
    if stem.kit == "hydrogen":
        return "ColomboAcousticDrumkit (hydrogen-drumkits)"
    if stem.kit is not None:
        return f"FluidR3_GM drum kit {stem.kit} (channel 10)"
    return f"FluidR3_GM program {stem.program}"


def readme(sessions: list[dict], versions: dict[str, str]) -> str:
    lines = ["# Evaluation corpus (generated — do not commit)", "",
             "Written by `scripts/make_eval_corpus.py`; see its docstring for what every file holds. "
             "Each session: `stems/` (the input), `balance.json` (the arranger's CC7/CC10 balance, the "
             "random file offsets, measured loudness), `musicians_mix.wav` (the stems at the intended "
             "balance, −14 LUFS, 32-bit float, for listening).", "",
             "| session | style | stems | seconds |", "|---|---|---|---|"]
    for b in sessions:
        lines.append(f"| {b['session']} | {b['style']} | {len(b['stems'])} | {b['seconds']:.1f} |")
    lines += ["", "## Sources and licences", "",
              f"- FluidR3_GM SoundFont (`fluid-soundfont-gm` {versions.get('fluid-soundfont-gm', '?')}), MIT, "
              "(c) 2000-2002, 2008 Frank Wen, 2008 Toby Smithe; rendered with FluidSynth "
              f"{versions.get('fluidsynth', '?')} (reverb and chorus off).",
              f"- ColomboAcousticDrumkit (`hydrogen-drumkits` {versions.get('hydrogen-drumkits', '?')}) by Marcos "
              "Guglielmetti, GPL-2.0-or-later with a composition exception (garage_band's drums).",
              "- Compositions and script: Mixing Workbench contributors, GPL-3.0-or-later.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--sessions", help="comma-separated session names (default: all seven)")
    ap.add_argument("--tiny", action="store_true", help="only the 3-stem, 9-second test session")
    ap.add_argument("--keep-midi", action="store_true", help="also write each stem's MIDI file")
    ap.add_argument("--soundfont", type=Path, default=SOUNDFONT)
    ap.add_argument("--drumkit", type=Path, default=DRUMKIT)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.tiny:
        names = ["tiny"]
    elif args.sessions:
        names = [n.strip() for n in args.sessions.split(",") if n.strip()]
    else:
        names = [s.name for s in SESSIONS]
    unknown = [n for n in names if n not in ALL_SESSIONS]
    if unknown:
        ap.error(f"unknown session(s) {unknown}; choose from {sorted(ALL_SESSIONS)}")
    specs = [ALL_SESSIONS[n] for n in names]
    need_kit = any(st.kit == "hydrogen" for s in specs for st in s.stems)
    problems = []
    if shutil.which("fluidsynth") is None:
        problems.append("fluidsynth is not installed (apt-get install fluidsynth)")
    if not args.soundfont.is_file():
        problems.append(f"SoundFont not found at {args.soundfont} (apt-get install fluid-soundfont-gm)")
    if need_kit and not (args.drumkit / "drumkit.xml").is_file():
        problems.append(f"Hydrogen kit not found at {args.drumkit} (apt-get install hydrogen-drumkits)")
    if problems:
        sys.exit("make_eval_corpus: cannot render the corpus:\n  - " + "\n  - ".join(problems))
    log = (lambda *a, **k: None) if args.quiet else (lambda *a, **k: print(*a, **k, flush=True))
    kit = mss.Kit(args.drumkit) if need_kit else None
    args.outdir.mkdir(parents=True, exist_ok=True)
    order = list(ALL_SESSIONS)
    built = [build_session(s, order.index(s.name), args.outdir, soundfont=args.soundfont, kit=kit,
                           keep_midi=args.keep_midi, log=log) for s in specs]
    index_path = args.outdir / "corpus.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    index.setdefault("sessions", {})
    for b in built:
        index["sessions"][b["session"]] = {"stems": len(b["stems"]), "seconds": b["seconds"]}
    index["corpus_version"] = CORPUS_VERSION
    index["script_sha256"] = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    index_path.write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    all_balances = [json.loads((args.outdir / n / "balance.json").read_text())
                    for n in index["sessions"] if (args.outdir / n / "balance.json").exists()]
    (args.outdir / "README.md").write_text(readme(all_balances, mss.package_versions()), encoding="utf-8")
    if PROBLEMS:
        print("make_eval_corpus: FAILED:\n  " + "\n  ".join(PROBLEMS), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
