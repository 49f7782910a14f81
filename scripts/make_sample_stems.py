#!/usr/bin/env python3
"""Render the bundled demo song ("Sunday Porch", C major, 108 bpm) into stems.

Usage::

    python scripts/make_sample_stems.py sample_stems [--midi-dir DIR] [--spectrogram PNG]

Writes ten WAV stems (16-bit PCM, 44.1 kHz, all exactly the same frame count,
all starting at 0:00) plus ``README.md`` into the output folder, prints a
level report, and exits non-zero if a stem breaks the preparation rules
(clipping, different lengths, near-silence, total size over 25 MB).

The stems are deliberately *unmixed*: recorded at very different levels
(kick peaking at -1 dBFS, pad at -13 dBFS), nothing panned, pad/piano/guitar
sitting in the lead vocal's register and bass on top of the kick, so that
the workbench has real balancing and unmasking work to do.

Sources and licences (read from each Debian package's copyright file)
--------------------------------------------------------------------
* Pitched instruments (bass, guitar, piano, pad, and the "vocals"):
  FluidR3_GM.sf2 from the Debian package ``fluid-soundfont-gm`` (3.1),
  Copyright (c) 2000-2002, 2008 Frank Wen, 2008 Toby Smithe; released under
  the MIT licence (/usr/share/doc/fluid-soundfont-gm/copyright).
  Rendered with FluidSynth (``fluidsynth`` package, LGPL-2.1+; only run as
  a program, nothing of it is shipped) with reverb and chorus off.
  No recorded voice is available from the registries, so the vocal stems are
  stand-ins: GM "Voice Oohs" (lead melody) and "Choir Aahs" (backing
  harmonies).
* Drums (kick, snare, hi-hat, toms): "ColomboAcousticDrumkit" from the
  Debian package ``hydrogen-drumkits`` (2017.09.19), recorded by Marcos
  Guglielmetti, (c) 2006; licence GPL-2+ *with a composition exception*
  (/usr/share/doc/hydrogen-drumkits/copyright and the kit's README): a
  composition that mixes these samples in is not by itself covered by the
  GPL. GPL-2+ is also compatible with this project's GPL-3.0-or-later.
  Chosen over the CC0 (Audiophob, electronic dubstep sounds) and CC-BY
  (rumpf_kit, analog/electronic one-shots) kits because it is the only
  acoustic kit in the package whose licence puts no conditions on a song
  made with it; BJA_Pacific is acoustic too but CC-BY-SA-3.0-US.
* The composition, MIDI parts and this script: Mixing Workbench
  contributors, GPL-3.0-or-later like the rest of the project.

Determinism: the song is written in code, the humanisation (+-5 ms timing,
small velocity changes) comes from a fixed seed, FluidSynth renders to
32-bit float (its own 16-bit output dithers), and the conversion to 16-bit
is done here without dither. Same package versions give the same bytes.

Requirements: ``apt-get install fluidsynth fluid-soundfont-gm hydrogen-drumkits``
and ``pip install mido numpy soundfile`` (scipy is used for the true-peak
estimate in the report, matplotlib only for ``--spectrogram``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

try:
    import mido
except ImportError:  # pragma: no cover - exercised by hand
    sys.exit("make_sample_stems: the 'mido' package is missing: pip install mido")

# --------------------------------------------------------------------------
# Fixed settings
# --------------------------------------------------------------------------
SR = 44100
BPM = 108.0
BEAT = 60.0 / BPM  # seconds per beat
TPB = 960  # MIDI ticks per beat
SEED = 20240607
N_BARS = 10  # bars 1..10 play; bar 11 beat 1 is the final hit
TAIL_S = 1.9  # ring-out after the final hit, before the end of the file
FADE_S = 0.30  # short fade only at the very end of the song
HUMAN_T = 0.005  # timing humanisation limit, seconds (+-5 ms)
MAX_TOTAL_BYTES = 25_000_000

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
DRUMKIT = Path("/usr/share/hydrogen/data/drumkits/ColomboAcousticDrumkit")

FINAL = N_BARS * 4.0  # absolute beat of the final hit (bar 11, beat 1)
SONG_S = FINAL * BEAT + TAIL_S
N_FRAMES = int(round(SONG_S * SR))

# --------------------------------------------------------------------------
# The song
# --------------------------------------------------------------------------
# Intro (bars 1-2): C | G    Verse (3-6): Am | F | C | G
# Chorus (7-10): F | G | Am | F G    Final hit (bar 11): C
PROGRESSION = [  # (bar, beat in bar, length in beats, chord)
    (1, 0, 4, "C"), (2, 0, 4, "G"),
    (3, 0, 4, "Am"), (4, 0, 4, "F"), (5, 0, 4, "C"), (6, 0, 4, "G"),
    (7, 0, 4, "F"), (8, 0, 4, "G"), (9, 0, 4, "Am"), (10, 0, 2, "F"), (10, 2, 2, "G"),
    (11, 0, TAIL_S / BEAT, "C"),
]
CHORD_PCS = {"C": (0, 4, 7), "G": (7, 11, 2), "Am": (9, 0, 4), "F": (5, 9, 0)}
BASS_ROOT = {"C": 36, "G": 31, "Am": 33, "F": 29}  # C2, G1, A1, F1
GUITAR_SHAPE = {  # open-position guitar voicings, low string first
    "C": [48, 52, 55, 60, 64],
    "G": [43, 47, 50, 55, 59, 67],
    "Am": [45, 52, 57, 60, 64],
    "F": [41, 48, 53, 57, 60, 65],
}
PIANO_RH = {"C": [60, 64, 67], "G": [59, 62, 67], "Am": [60, 64, 69], "F": [60, 65, 69]}
PIANO_LH = {"C": [48, 55], "G": [43, 50], "Am": [45, 52], "F": [41, 48]}
PAD_VOICING = {"C": [48, 55, 60, 64], "G": [43, 55, 59, 62], "Am": [45, 57, 60, 64],
               "F": [41, 57, 60, 65]}

E4, F4, G4, A4, B4, C5, D5, E5, D4 = 64, 65, 67, 69, 71, 72, 74, 76, 62
LEAD_MELODY = [  # (bar, beat, beats, pitch, velocity)
    (2, 3.0, 0.5, E4, 82), (2, 3.5, 0.5, G4, 86),
    (3, 0, 1.5, A4, 96), (3, 1.5, 0.5, G4, 84), (3, 2, 0.5, A4, 88), (3, 2.5, 1, C5, 94),
    (4, 0, 0.5, C5, 92), (4, 0.5, 1, A4, 88), (4, 1.5, 0.5, G4, 82), (4, 2, 1.5, F4, 86),
    (4, 3.5, 0.5, E4, 80),
    (5, 0, 1.5, G4, 94), (5, 1.5, 0.5, E4, 82), (5, 2, 0.5, G4, 88), (5, 2.5, 1, C5, 96),
    (6, 0, 0.5, B4, 90), (6, 0.5, 0.5, A4, 84), (6, 1, 1, G4, 88), (6, 2, 1.5, D4, 82),
    (6, 3.5, 0.5, A4, 90),
    (7, 0, 1.5, C5, 108), (7, 1.5, 0.5, A4, 96), (7, 2, 1, C5, 102), (7, 3, 1, D5, 106),
    (8, 0, 1.5, D5, 110), (8, 1.5, 0.5, B4, 96), (8, 2, 1.5, G4, 98), (8, 3.5, 0.5, D5, 100),
    (9, 0, 1, E5, 112), (9, 1, 0.5, D5, 100), (9, 1.5, 1.5, C5, 104), (9, 3, 1, A4, 96),
    (10, 0, 1, A4, 100), (10, 1, 1, C5, 104), (10, 2, 1, B4, 102), (10, 3, 1, D5, 108),
    (11, 0, 1.55 / BEAT, C5, 104),
]

# Levels as if bounced by different people on different days (sample peak,
# dBFS). The spread is the point: the mixer must not trust arrival levels.
STEMS = [  # (file name, channels, target peak dBFS)
    ("01 Kick.wav", 1, -1.0),
    ("02 Snare.wav", 1, -3.5),
    ("03 Hi-Hat.wav", 1, -12.0),
    ("04 Toms.wav", 1, -5.0),
    ("05 Bass.wav", 1, -2.0),
    ("06 Rhythm Guitar.wav", 1, -7.5),
    ("07 Piano.wav", 1, -10.0),
    ("08 Pad.wav", 2, -13.0),
    ("09 Lead Vocal.wav", 1, -4.0),
    ("10 Backing Vocals.wav", 1, -9.0),
]
# How a stereo FluidSynth render becomes a mono stem. FluidR3's piano and choir
# are stereo recordings whose channels are decorrelated (the piano's are ~3.6 ms
# apart, so L+R comb-filters): keep one channel, like a single microphone.
# The other presets are (near) mono already, so their channels are averaged.
MONO_FROM_LEFT = {"07 Piano.wav", "10 Backing Vocals.wav"}

GM_PROGRAM = {  # 0-based GM program: (number, FluidR3 preset name, GM name)
    "05 Bass.wav": (33, "Fingered Bass", "Electric Bass (finger)"),
    "06 Rhythm Guitar.wav": (25, "Steel String Guitar", "Acoustic Guitar (steel)"),
    "07 Piano.wav": (0, "Yamaha Grand Piano", "Acoustic Grand Piano"),
    # not GM 89 "Pad 2 (warm)": FluidR3's "Warm Pad" samples carry a DC offset of
    # ~80% of their RMS. "Halo Pad" is stereo, DC-free and sits in the vocal range.
    "08 Pad.wav": (94, "Halo Pad", "Pad 7 (halo)"),
    "09 Lead Vocal.wav": (53, "Ohh Voices", "Voice Oohs"),
    "10 Backing Vocals.wav": (52, "Ahh Choir", "Choir Aahs"),
}
DRUM_SOURCES = {
    "01 Kick.wav": "BassDrum",
    "02 Snare.wav": "Snare1 (rimshot and normal shots)",
    "03 Hi-Hat.wav": "Closed HH, Open HH",
    "04 Toms.wav": "Tom Hi, Tom Mid, Tom Low",
}


def t_of(bar: int, beat: float) -> float:
    """Seconds from the start of the song to (bar, beat); both start at bar 1, beat 0."""
    return ((bar - 1) * 4 + beat) * BEAT


def abs_beat(bar: int, beat: float) -> float:
    return (bar - 1) * 4 + beat


def chord_at(beat_abs: float) -> str:
    name = PROGRESSION[0][3]
    for bar, beat, _, chord in PROGRESSION:
        if abs_beat(bar, beat) <= beat_abs + 1e-9:
            name = chord
    return name


def chord_segments():
    for bar, beat, length, chord in PROGRESSION:
        yield abs_beat(bar, beat), length, chord


# --------------------------------------------------------------------------
# Humanisation
# --------------------------------------------------------------------------
class Human:
    """Seeded timing/velocity jitter; one independent stream per stem."""

    def __init__(self, stem_index: int):
        self.rng = np.random.default_rng([SEED, stem_index])

    def t(self, seconds: float) -> float:
        dt = float(np.clip(self.rng.normal(0.0, HUMAN_T / 2), -HUMAN_T, HUMAN_T))
        return max(0.0, seconds + dt)

    def v(self, velocity: float, spread: int = 6) -> int:
        return int(np.clip(round(velocity + self.rng.integers(-spread, spread + 1)), 1, 127))


@dataclass
class Part:
    notes: list = field(default_factory=list)  # (on_s, off_s, pitch, velocity)
    ccs: list = field(default_factory=list)  # (t_s, controller, value)

    def note(self, on: float, off: float, pitch: int, vel: int) -> None:
        self.notes.append((on, max(off, on + 0.02), int(pitch), int(vel)))


# --------------------------------------------------------------------------
# Pitched parts (MIDI)
# --------------------------------------------------------------------------
def part_bass(h: Human) -> Part:
    p = Part()
    pattern = [(0, 0.9, "R", 102), (1.5, 0.4, "R", 84), (2, 0.4, "O", 78),
               (2.5, 0.9, "R", 96), (3.5, 0.45, "A", 84)]
    for bar in range(1, N_BARS + 1):
        for beat, length, kind, vel in pattern:
            b = abs_beat(bar, beat)
            root = BASS_ROOT[chord_at(b)]
            if kind == "R":
                pitch = root
            elif kind == "O":
                pitch = root + 12
            else:  # chromatic approach to the next chord's root, or the fifth
                nxt = BASS_ROOT[chord_at(b + 0.5)]
                pitch = nxt - 1 if nxt != root else root + 7
            on = h.t(b * BEAT)
            p.note(on, on + length * BEAT, pitch, h.v(vel))
    on = h.t(FINAL * BEAT)
    p.note(on, on + 1.5, BASS_ROOT["C"], h.v(104))
    return p


def part_guitar(h: Human) -> Part:
    """Strummed steel-string guitar: D D U U D U per bar, strings 11 ms apart."""
    p = Part()
    slots = [(0, "D", 96), (1, "D", 82), (1.5, "U", 70), (2.5, "U", 74), (3, "D", 90), (3.5, "U", 72)]
    strums = []
    for bar in range(1, N_BARS + 1):
        lift = 8 if bar >= 7 else 0
        for beat, direction, vel in slots:
            strums.append((abs_beat(bar, beat), direction, vel + lift))
    strums.append((FINAL, "D", 104))
    for i, (b, direction, vel) in enumerate(strums):
        shape = GUITAR_SHAPE[chord_at(b)]
        strings = shape if direction == "D" else shape[::-1][:4]
        start = h.t(b * BEAT)
        end_b = strums[i + 1][0] if i + 1 < len(strums) else None
        end = end_b * BEAT - 0.015 if end_b is not None else FINAL * BEAT + 1.6
        v0 = h.v(vel)
        for k, pitch in enumerate(strings):
            on = start + k * (0.011 if direction == "D" else 0.008)
            # a downstroke hits the bass strings hardest, an upstroke the top ones
            vel_k = int(np.clip(v0 - 3 * k if direction == "D" else v0 - 2 * k, 1, 127))
            p.note(on, end, pitch, vel_k)
    return p


def part_piano(h: Human) -> Part:
    """Piano enters with the verse (bar 3), pedal changed on every chord."""
    p = Part()
    verse = [(0, 1.5, True, 72), (1.5, 1.0, False, 62), (3, 1.0, False, 66)]
    chorus = [(0, 1.0, True, 86), (1, 1.0, False, 72), (2, 1.0, True, 80), (3, 0.5, False, 74),
              (3.5, 0.5, False, 68)]
    hits = []
    for bar in range(3, N_BARS + 1):
        for beat, length, lh, vel in (chorus if bar >= 7 else verse):
            hits.append((abs_beat(bar, beat), length, lh, vel))
    hits.append((FINAL, 1.55 / BEAT, True, 84))
    for b, length, lh, vel in hits:
        chord = chord_at(b)
        t0 = h.t(b * BEAT)
        v0 = h.v(vel)
        for pitch in PIANO_RH[chord]:
            on = t0 + float(h.rng.uniform(0, 0.004))
            p.note(on, on + length * BEAT * 0.95, pitch, h.v(v0, 4))
        if lh:
            for pitch in PIANO_LH[chord]:
                on = t0 + float(h.rng.uniform(0, 0.004))
                p.note(on, on + length * BEAT * 0.95, pitch, h.v(v0 - 8, 4))
    # sustain pedal: up just before each chord change, down just after it
    for start, length, _chord in chord_segments():
        if start < abs_beat(3, 0):
            continue
        p.ccs.append((start * BEAT - 0.02, 64, 0))
        p.ccs.append((start * BEAT + 0.06, 64, 127))
    p.ccs.append((FINAL * BEAT + 1.55, 64, 0))
    return p


def part_pad(h: Human) -> Part:
    p = Part()
    for start, length, chord in chord_segments():
        end = (start + length) * BEAT if start < FINAL else FINAL * BEAT + 1.3
        on = h.t(start * BEAT)
        vel = 78 if start < abs_beat(7, 0) else 88
        for pitch in PAD_VOICING[chord]:
            p.note(on, end + 0.03, pitch, h.v(vel, 4))
    # slow swell over the first bar, a lift for the chorus
    for k in range(0, 21):
        p.ccs.append((k * 4 * BEAT / 20, 11, int(45 + (110 - 45) * k / 20)))
    p.ccs.append((t_of(7, 0) - 0.05, 11, 124))
    return p


def _lead_events():
    for bar, beat, length, pitch, vel in LEAD_MELODY:
        yield abs_beat(bar, beat), length, pitch, vel


def part_lead(h: Human) -> Part:
    """Lead melody ("Voice Oohs"), enters with a pickup at the end of bar 2."""
    p = Part()
    for b, length, pitch, vel in _lead_events():
        on = h.t(b * BEAT)
        off = on + length * BEAT - 0.035
        p.note(on, off, pitch, h.v(vel, 5))
        if length >= 1.0:  # a touch of vibrato on held notes (mod wheel)
            p.ccs.append((on + 0.30, 1, 18))
            p.ccs.append((on + 0.55, 1, 34))
            p.ccs.append((off, 1, 0))
    return p


def _harmony_below(pitch: int, chord: str) -> int:
    """Highest chord tone at least a minor third below the melody note."""
    for cand in range(pitch - 3, pitch - 12, -1):
        if cand % 12 in CHORD_PCS[chord]:
            return cand
    return pitch - 5


def part_backing(h: Human) -> Part:
    """Backing vocals ("Choir Aahs") from the chorus (bar 7): harmony under the
    lead on its longer notes, plus a held low "ooh" on each chord."""
    p = Part()
    chorus = abs_beat(7, 0)
    events = [e for e in _lead_events() if e[0] >= chorus]
    # voice 1: harmony line following the lead's longer notes
    merged = []
    for b, length, pitch, vel in events:
        if length < 0.75 and merged:
            pb, pl, pp, pv = merged[-1]
            merged[-1] = (pb, pl + length, pp, pv)
        else:
            merged.append((b, length, pitch, vel))
    for b, length, pitch, vel in merged:
        on = h.t(b * BEAT + 0.01)
        p.note(on, on + length * BEAT - 0.04, _harmony_below(pitch, chord_at(b)), h.v(vel - 22, 5))
    # voice 2: held chord tone nearest to C4 for each chord
    for start, length, chord in chord_segments():
        if start < chorus:
            continue
        target = 60
        cands = [n for n in range(52, 68) if n % 12 in CHORD_PCS[chord]]
        pitch = min(cands, key=lambda n: (abs(n - target), n))
        end = (start + length) * BEAT if start < FINAL else FINAL * BEAT + 1.5
        on = h.t(start * BEAT + 0.02)
        p.note(on, end - 0.03, pitch, h.v(72, 4))
    return p


def write_midi(path: Path, part: Part, program: int, end_s: float) -> None:
    """One track, channel 1, centred (CC10=64), fixed tempo."""

    def tick(sec: float) -> int:
        return int(round(sec / BEAT * TPB))

    # same pitch never overlaps itself: cut the earlier note at the next onset
    notes = sorted(part.notes)
    by_pitch: dict[int, list] = {}
    for n in notes:
        by_pitch.setdefault(n[2], []).append(list(n))
    events = []
    for pitch, lst in by_pitch.items():
        for i, (on, off, _p, vel) in enumerate(lst):
            t_on = tick(on)
            t_off = tick(off)
            if i + 1 < len(lst):
                t_off = min(t_off, tick(lst[i + 1][0]))
            t_off = max(t_off, t_on + 1)
            events.append((t_on, 2, pitch, mido.Message("note_on", note=pitch, velocity=vel)))
            events.append((t_off, 1, pitch, mido.Message("note_off", note=pitch, velocity=0)))
    for t, ctl, val in part.ccs:
        events.append((tick(max(0.0, t)), 0, ctl,
                       mido.Message("control_change", control=ctl, value=int(val))))
    events.sort(key=lambda e: (e[0], e[1], e[2]))

    mid = mido.MidiFile(type=0, ticks_per_beat=TPB)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM), time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    for ctl, val in ((7, 100), (10, 64), (11, 127), (64, 0), (1, 0), (91, 0), (93, 0)):
        track.append(mido.Message("control_change", control=ctl, value=val, time=0))
    now = 0
    for t, _order, _k, msg in events:
        track.append(msg.copy(time=t - now))
        now = t
    track.append(mido.MetaMessage("end_of_track", time=max(0, tick(end_s) - now)))
    mid.save(path)


def render_fluidsynth(mid_path: Path, wav_path: Path, soundfont: Path) -> np.ndarray:
    cmd = ["fluidsynth", "-ni", "-q", "-g", "1.0", "-R", "0", "-C", "0", "-O", "float",
           "-F", str(wav_path), "-r", str(SR), str(soundfont), str(mid_path)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 or not wav_path.exists():
        sys.exit(f"make_sample_stems: fluidsynth failed on {mid_path.name}:\n{res.stderr}")
    audio, sr = sf.read(wav_path, dtype="float64", always_2d=True)
    if sr != SR:
        sys.exit(f"make_sample_stems: fluidsynth rendered {sr} Hz, expected {SR}")
    return audio


# --------------------------------------------------------------------------
# Drums (hydrogen kit samples placed in numpy)
# --------------------------------------------------------------------------
class Kit:
    """Reads a Hydrogen drumkit.xml (layers with velocity ranges) and its samples."""

    def __init__(self, root: Path):
        self.root = root
        tree = ET.parse(root / "drumkit.xml").getroot()
        self.instruments: dict[str, tuple[float, list]] = {}
        for ins in tree.iter("instrument"):
            layers = []
            for layer in ins.iter("layer"):
                layers.append((float(layer.findtext("min")), float(layer.findtext("max")),
                               float(layer.findtext("gain", "1")), layer.findtext("filename")))
            if layers:
                volume = float(ins.findtext("volume", "1"))
                self.instruments[ins.findtext("name")] = (volume, sorted(layers))
        self._cache: dict[str, np.ndarray] = {}

    def sample(self, filename: str) -> np.ndarray:
        if filename not in self._cache:
            x, sr = sf.read(self.root / filename, dtype="float64", always_2d=True)
            if sr != SR:
                sys.exit(f"make_sample_stems: {filename} is {sr} Hz; expected {SR}")
            self._cache[filename] = x.mean(axis=1)  # fold to mono (kit mics are ~centred)
        return self._cache[filename]

    def hit(self, instrument: str, velocity: int) -> np.ndarray:
        """Pick the velocity layer as Hydrogen does; gain = velocity x layer gain x volume."""
        volume, layers = self.instruments[instrument]
        v = velocity / 127.0
        chosen = layers[-1]
        for lo, hi, gain, fn in layers:
            if lo <= v <= hi:
                chosen = (lo, hi, gain, fn)
                break
        _lo, _hi, gain, fn = chosen
        return self.sample(fn) * (v * gain * volume)


def place(buf: np.ndarray, x: np.ndarray, t: float, choke: bool = False) -> None:
    i = int(round(t * SR))
    if i >= len(buf):
        return
    if choke:  # a new hi-hat stroke stops the ring of the previous (open) one
        n = min(int(0.025 * SR), len(buf) - i)
        buf[i:i + n] *= np.linspace(1.0, 0.0, n)
        buf[i + n:] = 0.0
    n = min(len(x), len(buf) - i)
    buf[i:i + n] += x[:n]


FILLS = {  # bar -> [(beat, drum, velocity)]; "S" snare, "H"/"M"/"L" toms
    2: [(3.5, "H", 96), (3.75, "M", 100)],
    6: [(2, "S", 104), (2.5, "H", 92), (2.75, "H", 98), (3, "M", 100), (3.25, "M", 104),
        (3.5, "L", 110), (3.75, "L", 116)],
    10: [(3, "S", 108), (3.25, "H", 100), (3.5, "M", 106), (3.75, "L", 114)],
}
TOM = {"H": "Tom Hi", "M": "Tom Mid", "L": "Tom Low"}


def render_drums(kit: Kit) -> dict[str, np.ndarray]:
    h = {name: Human(i) for i, name in enumerate(["kick", "snare", "hat", "toms"])}
    n = N_FRAMES + SR * 4
    kick, snare, hat, toms = (np.zeros(n) for _ in range(4))
    hat_events = []
    for bar in range(1, N_BARS + 1):
        chorus = bar >= 7
        fill = FILLS.get(bar, [])
        fill_from = min((b for b, _, _ in fill), default=4.0)
        # kick: 1, &2, &3 (+ a soft "a" of 4 in the chorus)
        kicks = [(0, 114), (1.5, 88), (2.5, 100)] + ([(3.75, 72)] if chorus and bar != 10 else [])
        for beat, vel in kicks:
            if beat < fill_from or beat == 0:
                place(kick, kit.hit("BassDrum", h["kick"].v(vel, 7)), h["kick"].t(t_of(bar, beat)))
        # snare: backbeat on 2 and 4, ghost notes
        snares = [(1, 110 if chorus else 104), (3, 114 if chorus else 106), (1.75, 30), (3.25, 26)]
        if bar == 1:
            snares = [s for s in snares if s[1] > 40]
        for beat, vel in snares:
            if beat < fill_from:
                place(snare, kit.hit("Snare1", h["snare"].v(vel, 5 if vel > 60 else 3)),
                      h["snare"].t(t_of(bar, beat)))
        # hi-hat: eighths, accented on the beat, open on the "&" of 4 in the chorus
        for k in range(8):
            beat = k * 0.5
            if beat >= fill_from:
                break
            if chorus and beat == 3.5 and bar != 10:
                hat_events.append((t_of(bar, beat), "Open HH", 92))
            else:
                hat_events.append((t_of(bar, beat), "Closed HH", (100 if k % 2 == 0 else 68) + (6 if chorus else 0)))
        for beat, drum, vel in fill:
            t = h["toms"].t(t_of(bar, beat)) if drum != "S" else h["snare"].t(t_of(bar, beat))
            if drum == "S":
                place(snare, kit.hit("Snare1", h["snare"].v(vel, 4)), t)
            else:
                place(toms, kit.hit(TOM[drum], h["toms"].v(vel, 5)), t)
    # final hit: kick, floor tom and an open hi-hat left to ring
    t_end = FINAL * BEAT
    place(kick, kit.hit("BassDrum", 120), h["kick"].t(t_end))
    place(toms, kit.hit("Tom Low", 112), h["toms"].t(t_end))
    hat_events.append((t_end, "Open HH", 118))
    hh = h["hat"]
    for t, instrument, vel in hat_events:
        place(hat, kit.hit(instrument, hh.v(vel, 8)), hh.t(t), choke=True)
    return {"01 Kick.wav": kick, "02 Snare.wav": snare, "03 Hi-Hat.wav": hat, "04 Toms.wav": toms}


# --------------------------------------------------------------------------
# Finishing, measuring, writing
# --------------------------------------------------------------------------
def finish(audio: np.ndarray, channels: int, peak_db: float, left_only: bool = False) -> np.ndarray:
    """Fit to N_FRAMES, fold/expand channels, fade the very end, set the peak, to int16."""
    if audio.ndim == 1:
        audio = audio[:, None]
    out = np.zeros((N_FRAMES, audio.shape[1]))
    n = min(N_FRAMES, len(audio))
    out[:n] = audio[:n]
    if channels == 1 and out.shape[1] > 1:
        out = out[:, :1] if left_only else out.mean(axis=1, keepdims=True)
    elif channels == 2 and out.shape[1] == 1:
        out = np.repeat(out, 2, axis=1)
    elif channels == 2:
        # centre the image: equal RMS in both channels (nothing is panned)
        rms = np.sqrt(np.mean(out ** 2, axis=0))
        out *= np.sqrt(rms[0] * rms[1]) / np.maximum(rms, 1e-12)
    nf = int(FADE_S * SR)
    out[-nf:] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, nf)))[:, None]
    peak = np.abs(out).max()
    if peak <= 0:
        sys.exit("make_sample_stems: a stem rendered silent")
    out *= 10 ** (peak_db / 20) / peak
    return np.round(out * 32767).astype(np.int16)


def write_wav_atomic(path: Path, data: np.ndarray) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.wav")
    sf.write(tmp, data, SR, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)


def db(x: float) -> float:
    return 20 * np.log10(max(x, 1e-12))


def measure(x: np.ndarray) -> dict:
    """x: float in [-1, 1], frames x channels."""
    mono = np.abs(x).max(axis=1)
    peak = mono.max()
    rms = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    # first audible sample: first 10 ms window whose RMS exceeds -60 dBFS
    win = int(0.010 * SR)
    nwin = len(x) // win
    frames = (x[: nwin * win] ** 2).mean(axis=1).reshape(nwin, win).mean(axis=1)
    loud = np.nonzero(frames > 10 ** (-60 / 10))[0]
    if len(loud):
        w = loud[0]
        seg = mono[w * win:(w + 1) * win]
        first = w * win + int(np.argmax(seg > 10 ** (-60 / 20)))
    else:
        first = None
    active = frames > 10 ** (-50 / 10)
    rms_active = np.sqrt(frames[active].mean()) if active.any() else 0.0
    try:
        from scipy.signal import resample_poly
        tp = max(np.abs(resample_poly(x[:, c], 4, 1)).max() for c in range(x.shape[1]))
    except ImportError:  # pragma: no cover
        tp = float("nan")
    return {"peak": peak, "rms": rms, "rms_active": rms_active, "first": first, "tp": tp,
            "full_scale": int((np.abs(x) >= 32767 / 32768).sum())}


def package_versions() -> dict[str, str]:
    out = {}
    for pkg in ("fluidsynth", "fluid-soundfont-gm", "hydrogen-drumkits"):
        try:
            res = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                                 capture_output=True, text=True)
            out[pkg] = res.stdout.strip() or "unknown"
        except OSError:
            out[pkg] = "unknown"
    return out


def readme_text(rows: list[dict], versions: dict[str, str]) -> str:
    lines = [
        "# Sample stems: \"Sunday Porch\" (demo song)",
        "",
        f"Ten stems of one short song in C major at {BPM:g} bpm, {SONG_S:.2f} s, "
        "WAV 16-bit PCM 44.1 kHz. Every stem starts at 0:00 and has exactly "
        f"{N_FRAMES} frames. Intro C | G, verse Am F C G, chorus F G Am F-G, "
        "final hit on C left to ring, then a short fade at the very end.",
        "",
        "They are **unmixed on purpose**: bounced at very different levels, nothing "
        "panned, the pad, piano and guitar in the lead vocal's register, the bass on top "
        "of the kick. Parts enter late as in a real session (the lead vocal on a pickup at "
        "the end of bar 2, the piano at bar 3, the backing vocals at the chorus, bar 7); "
        "the silence before an entry is part of the file. Summed at unity gain the stems "
        "go over full scale, as unmixed stems usually do: gain-stage before bouncing a "
        "plain sum.",
        "",
        "| File | Ch | Source | Enters | Peak dBFS | RMS dBFS |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| `{r['name']}` | {r['ch']} | {r['source']} | {r['first_s']:.2f} s | "
                     f"{r['peak_db']:.1f} | {r['rms_db']:.1f} |")
    lines += [
        "",
        "The vocal stems are stand-ins: no recorded singing installs from the package "
        "registries, so the lead melody is played on the General MIDI \"Voice Oohs\" patch "
        "and the backing harmonies on \"Choir Aahs\".",
        "",
        "## Sources and licences",
        "",
        "- **Drums** (`01`-`04`): *ColomboAcousticDrumkit* by Marcos Guglielmetti (2006), "
        "from the Debian package `hydrogen-drumkits` "
        f"({versions.get('hydrogen-drumkits', 'unknown')}). Licence: GPL-2.0-or-later with a "
        "composition exception: a composition that mixes these samples in is not by itself "
        "covered by the GPL (see `/usr/share/doc/hydrogen-drumkits/copyright` and the kit's "
        "README). Samples folded to mono and placed at humanised times; layers picked by "
        "velocity as Hydrogen does.",
        "- **Bass, guitar, piano, pad, vocals** (`05`-`10`): *FluidR3_GM* SoundFont by Frank "
        "Wen and contributors (c) 2000-2002, 2008, from the Debian package "
        f"`fluid-soundfont-gm` ({versions.get('fluid-soundfont-gm', 'unknown')}), MIT licence "
        "(`/usr/share/doc/fluid-soundfont-gm/copyright`). Rendered with FluidSynth "
        f"({versions.get('fluidsynth', 'unknown')}) with its reverb and chorus off, one MIDI "
        "file per stem.",
        "- **Composition, MIDI parts and the script**: Mixing Workbench contributors, "
        "GPL-3.0-or-later.",
        "",
        "FluidR3_GM licence notice (MIT), as the licence asks:",
        "",
        "> Copyright (c) 2000-2002, 2008 Frank Wen, (c) 2008 Toby Smithe.",
        "> Permission is hereby granted, free of charge, to any person obtaining a copy of "
        "this software and associated documentation files (the \"Software\"), to deal in the "
        "Software without restriction, including without limitation the rights to use, copy, "
        "modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, "
        "and to permit persons to whom the Software is furnished to do so, subject to the "
        "following conditions: The above copyright notice and this permission notice shall "
        "be included in all copies or substantial portions of the Software. THE SOFTWARE IS "
        "PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT "
        "NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND "
        "NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY "
        "CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, "
        "ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN "
        "THE SOFTWARE.",
        "",
        "## Regenerate",
        "",
        "```sh",
        "sudo apt-get install fluidsynth fluid-soundfont-gm hydrogen-drumkits",
        "pip install mido",
        "python scripts/make_sample_stems.py sample_stems   # or: make sample-stems",
        "```",
        "",
        "The script is deterministic (fixed random seed for the +-5 ms timing and "
        "velocity humanisation, float rendering, no dither): the same package versions "
        "give the same bytes. It prints each stem's peak, RMS and entry time, and fails "
        "if a stem clips, differs in length, is near-silent, or the folder grows past 25 MB.",
        "",
    ]
    return "\n".join(lines)


def check_requirements(args) -> None:
    problems = []
    if shutil.which("fluidsynth") is None:
        problems.append("fluidsynth is not installed (apt-get install fluidsynth)")
    if not args.soundfont.is_file():
        problems.append(f"SoundFont not found at {args.soundfont} "
                        "(apt-get install fluid-soundfont-gm, or pass --soundfont)")
    if not (args.drumkit / "drumkit.xml").is_file():
        problems.append(f"Hydrogen kit not found at {args.drumkit} "
                        "(apt-get install hydrogen-drumkits, or pass --drumkit)")
    if problems:
        sys.exit("make_sample_stems: cannot render the sample stems:\n  - " + "\n  - ".join(problems))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path, help="folder to write the stems into (e.g. sample_stems)")
    ap.add_argument("--soundfont", type=Path, default=SOUNDFONT)
    ap.add_argument("--drumkit", type=Path, default=DRUMKIT)
    ap.add_argument("--midi-dir", type=Path, help="also keep the per-stem MIDI files here")
    ap.add_argument("--spectrogram", type=Path, help="write a spectrogram PNG of the plain sum")
    args = ap.parse_args(argv)
    check_requirements(args)

    outdir: Path = args.outdir
    outdir.mkdir(parents=True, exist_ok=True)
    builders = {
        "05 Bass.wav": part_bass, "06 Rhythm Guitar.wav": part_guitar, "07 Piano.wav": part_piano,
        "08 Pad.wav": part_pad, "09 Lead Vocal.wav": part_lead, "10 Backing Vocals.wav": part_backing,
    }
    raw: dict[str, np.ndarray] = {}
    print(f"Rendering drums from {args.drumkit.name} ...", flush=True)
    raw.update(render_drums(Kit(args.drumkit)))
    with tempfile.TemporaryDirectory(prefix="mw_stems_") as tmp:
        tmpdir = Path(tmp)
        for index, (name, build) in enumerate(builders.items(), start=10):
            program, preset, _gm = GM_PROGRAM[name]
            print(f"Rendering {name} (FluidR3 '{preset}') ...", flush=True)
            part = build(Human(index))
            mid = tmpdir / (Path(name).stem + ".mid")
            write_midi(mid, part, program, SONG_S + 0.5)
            if args.midi_dir:
                args.midi_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(mid, args.midi_dir / mid.name)
            raw[name] = render_fluidsynth(mid, tmpdir / (Path(name).stem + ".f32.wav"), args.soundfont)

    rows, total_bytes, errors = [], 0, []
    mix = np.zeros((N_FRAMES, 2))
    print()
    print(f"{'stem':24s} ch  peak dBFS  ~TP dBTP  RMS dBFS  active RMS  enters    sha256")
    for name, channels, peak_db in STEMS:
        data = finish(raw[name], channels, peak_db, left_only=name in MONO_FROM_LEFT)
        path = outdir / name
        write_wav_atomic(path, data)
        x = data.astype(np.float64) / 32768.0
        m = measure(x)
        mix += x if channels == 2 else np.repeat(x, 2, axis=1)
        size = path.stat().st_size
        total_bytes += size
        first_s = m["first"] / SR if m["first"] is not None else float("nan")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        bar = first_s / BEAT / 4 + 1
        print(f"{name:24s} {channels}  {db(m['peak']):9.2f} {db(m['tp']):9.2f} {db(m['rms']):9.2f}"
              f"  {db(m['rms_active']):9.2f}  {first_s:5.2f}s (bar {bar:4.1f})  {digest}")
        source = (f"FluidR3_GM \"{GM_PROGRAM[name][1]}\" (GM {GM_PROGRAM[name][0] + 1} "
                  f"{GM_PROGRAM[name][2]})" if name in GM_PROGRAM
                  else f"ColomboAcousticDrumkit: {DRUM_SOURCES[name]}")
        rows.append({"name": name, "ch": channels, "source": source, "first_s": first_s,
                     "peak_db": db(m["peak"]), "rms_db": db(m["rms"])})
        info = sf.info(str(path))
        if (info.samplerate, info.frames, info.subtype, info.channels) != (SR, N_FRAMES, "PCM_16", channels):
            errors.append(f"{name}: wrong format {info}")
        if m["full_scale"] or m["peak"] >= 10 ** (-0.5 / 20):
            errors.append(f"{name}: clips or peaks too close to full scale ({db(m['peak']):.2f} dBFS)")
        if m["tp"] >= 1.0:
            errors.append(f"{name}: inter-sample peak over 0 dBTP ({db(m['tp']):.2f})")
        if db(m["rms"]) < -45 or db(m["peak"]) < -20:
            errors.append(f"{name}: near-silent (RMS {db(m['rms']):.1f} dBFS)")
        dc = float(np.abs(x.mean(axis=0)).max())
        if dc >= 10 ** (-50 / 20):
            errors.append(f"{name}: DC offset {db(dc):.1f} dBFS")
        if m["first"] is None:
            errors.append(f"{name}: never becomes audible")
        if channels == 2:
            lr = db(np.sqrt(np.mean(x[:, 0] ** 2)) / max(np.sqrt(np.mean(x[:, 1] ** 2)), 1e-12))
            if abs(lr) > 0.5:
                errors.append(f"{name}: not centred (L/R RMS differ by {lr:+.2f} dB)")

    (outdir / "README.md").write_text(readme_text(rows, package_versions()), encoding="utf-8")
    stray = sorted(p.name for p in outdir.glob("*.wav") if p.name not in {s[0] for s in STEMS})
    if stray:
        print(f"\nWARNING: other WAV files in {outdir} (not written by this script): {stray}")

    sum_peak = np.abs(mix).max()
    over = int((np.abs(mix) >= 1.0).any(axis=1).sum())
    print(f"\n{len(STEMS)} stems, {N_FRAMES} frames each ({N_FRAMES / SR:.3f} s), "
          f"total {total_bytes / 1e6:.2f} MB")
    print(f"Plain sum (unity gain, float): peak {db(sum_peak):+.2f} dBFS, RMS "
          f"{db(np.sqrt(np.mean(mix ** 2))):.2f} dBFS, {over} frames at/over full scale")
    if over:
        print(f"  -> a fixed-point bounce of the plain sum would clip; it needs "
              f"{db(sum_peak) + 1:.1f} dB of gain reduction to peak at -1 dBFS")
    else:
        print(f"  -> no overs; headroom {-db(sum_peak):.1f} dB")
    if total_bytes > MAX_TOTAL_BYTES:
        errors.append(f"total size {total_bytes / 1e6:.2f} MB exceeds {MAX_TOTAL_BYTES / 1e6:.0f} MB")

    if args.spectrogram:
        _spectrogram(mix.mean(axis=1), args.spectrogram)
        print(f"Spectrogram of the plain sum: {args.spectrogram}")
    if errors:
        print("\nFAILED:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    return 0


def _spectrogram(x: np.ndarray, png: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(14, 6))
    ax.specgram(x, NFFT=4096, Fs=SR, noverlap=3072, cmap="magma", vmin=-120)
    ax.set_yscale("symlog", linthresh=100)
    ax.set_ylim(30, 16000)
    for bar in range(1, N_BARS + 2):
        ax.axvline(t_of(bar, 0), color="w", lw=0.5, alpha=0.5)
    ax.set_xlabel("time (s); white lines = bar lines")
    ax.set_ylabel("Hz")
    ax.set_title("Plain sum of the sample stems")
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
