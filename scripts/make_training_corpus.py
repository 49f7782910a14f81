#!/usr/bin/env python3
"""Build a training corpus of real authored mixes: per-track stems plus the author's level and pan.

Usage::

    python scripts/make_training_corpus.py [--out /work/corpus] [--only lmms|hydrogen|midi]
                                           [--jobs 2] [--table-dir benchmarks/data]

Why it exists
-------------
A balance model needs songs whose *authors* set the balance themselves. Debian
ships such songs as project files: LMMS demo projects (``lmms-common``),
Hydrogen demo songs (``hydrogen-data``) and MIDI music in game-data packages
(``freedink-data``, ``freedoom``) whose composers wrote CC7 volume, CC10 pan and
velocities. This script renders every track of those songs **alone** and
**centred**, at the level the author gave it, and writes the author's pan
beside it. The author's in-mix level of a stem is then simply the BS.1770
loudness of its file. It makes no mixing decision and assigns no category.

What it writes
--------------
``OUT/<family>/<song_id>/``, family ``lmms``, ``hydrogen`` or ``midi``:

``<stem_id>.wav``
    One float32 44.1 kHz WAV per stem, mono or stereo as rendered, exactly as
    long as ``mix.wav`` (a stem is padded with silence or cut to that length).
``mix.wav``
    The author's full mix (LMMS: the project rendered as authored; Hydrogen:
    the stems summed with the authored pans; MIDI: the whole file rendered).
``song.json``
    ``song``, ``family``, ``source``, ``package`` (Debian package and version),
    ``licence``, ``duration_s``, ``bpm`` and ``stems``: per stem ``file``,
    ``name``, ``author_gain_db`` (the author's gain on the track relative to
    unity: 20·log10 of the product of the gains listed below per family),
    ``author_pan`` (−1 left … +1 right), ``automated``, ``plugin``,
    ``program`` (GM program or null), ``notes`` and family-specific hints
    (sample file, FX channel, drum-note group, …), plus ``stem_lufs``
    (ITU-R BS.1770-4 integrated loudness, libebur128) and ``active_share``.
    ``check`` compares the mix with the stems summed at the authored pans.
    A song is complete when its ``song.json`` exists: a re-run skips it.
``status.json``
    Instead of ``song.json`` when the song could not be rendered, with the reason.

And two tables (``--table-dir``, default ``benchmarks/data`` of this repo),
rebuilt from everything under ``OUT`` on every run:
``training_corpus.csv`` (one row per stem) and ``training_corpus_songs.csv``
(one row per song, with its licence and status).

Families
--------
**lmms** — ``/usr/share/lmms/projects/{demos,shorties}``. The full song is
rendered once as authored (``mix.wav``); then each instrument or sample track,
including the instrument tracks inside the Beat/Bassline container, is rendered
in a fresh ``lmms render`` with every other instrument and sample track (in the
song and in the container) removed (the same audio as muting them, and much
faster). Beat/Bassline tracks and automation tracks
stay as authored, so a container instrument is triggered as in the song and
automation keeps acting. The rendered track keeps its volume, FX channel,
effects, sends and the master volume and master effects; only its own pan is
set to 0 (and any automation or controller of that pan is disconnected), so the
stem arrives centred. The tracks that feed a peak controller (LMMS's sidechain)
keep playing into an FX channel with no output, so a ducked track is ducked as
in the mix. Effects on the master channel are listed (``master_effects``): a
master limiter acts on each solo render alone, so such stems sum louder than
the mix (``check``).
``author_gain_db`` = 20·log10(track volume/100 × FX path × master volume/100),
where the FX path is the channel volume times the send amounts down to the
master channel (channel 0), whose volume is included. ``author_pan`` =
track pan/100 (LMMS pans by a linear balance: pan p > 0 multiplies the left
channel by 1 − p). LMMS ends a render where its last unmuted clip ends, so
each solo project gets a silent, empty one-bar clip on an extra zero-volume
track at the song's last bar. Tracks that render silent (below −70 LUFS) are
dropped. Tracks whose volume or pan (or FX path) is automated or driven by a
controller are flagged (``automated``, ``automation``, ``controllers``); a
volume driven by a *peak controller* is a sidechain: the solo render does not
have the signal that ducks it, so its level is above the one in the mix
(``notes`` says so).

**hydrogen** — ``/usr/share/hydrogen/data/demo_songs/*.h2song`` (Hydrogen 1.2
format). Rendered in Python from the kit's samples: the pattern sequence
(groups of patterns, each group as long as its longest pattern, 48 ticks per
quarter note), each note's sample layer chosen by velocity, amplitude = note
velocity × layer gain × instrument-component gain × instrument gain ×
instrument volume × drumkit-component volume × song volume, mute groups (hi-hat
chokes) honoured, sample length notes and pitch offsets by resampling.
``author_gain_db`` = 20·log10(instrument volume × instrument gain ×
component gain × component volume × song volume) (velocities and layer gains
are the performance and the kit, and are in the audio). Stems are mono (a
stereo sample keeps its two channels) and centred; ``author_pan`` is the
instrument's pan. The mix applies Hydrogen 1.2's default pan law
(``RATIO_STRAIGHT_POLYGONAL``: the louder side at unity, the other at
(1 − |p|)/(1 + |p|)) with the instrument pan and each note's pan. Humanize
(random timing and velocity), swing and probabilities below 1 are not
reproduced (random by design); the values are recorded.

**midi** — MIDI files from Debian packages (``freedink-data``, ``freedoom``).
Each MIDI channel is written to its own file with ``mido`` (all of that
channel's events, tempo and time signature, CC10 forced to 64 so the stem is
centred) and rendered with FluidSynth and FluidR3_GM (reverb and chorus off,
float output). Channel 10 is split by note number into kick / snare /
hats+cymbals / toms / other-percussion stems when those notes are present.
``author_gain_db`` = 40·log10(CC7/127) (the GM volume curve, which FluidSynth
follows within 0.05 dB), CC7 the channel's first value, or its time-weighted
value over the channel's notes if it changes (then ``automated``).
``author_pan`` = (CC10 − 64)/64 (first, or time-weighted). CC11 expression and
velocities are left in the stem (they are the performance).

Reserved material
-----------------
Some songs and packages are held out for the project's acceptance checks: they
are never rendered, read or included (see :data:`RESERVED_LMMS`,
:data:`RESERVED_HYDROGEN`, :data:`RESERVED_PACKAGES`).

Requirements: ``apt-get install lmms lmms-common hydrogen-data fluidsynth
fluid-soundfont-gm``; the ``freedink-data`` and ``freedoom`` packages are
fetched with ``apt-get download`` and unpacked with ``dpkg -x`` into
``OUT/_packages`` (not installed). Python: numpy, soundfile, mido, pyebur128
and this repository's ``workbench`` package.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from workbench.evaluate import integrated_lufs  # noqa: E402 (after the sys.path set-up)

SR = 44100
#: Stems quieter than this (integrated, LUFS) are treated as silent and dropped
#: (the BS.1770 absolute gate).
SILENT_LUFS = -70.0
#: ``active_share``: the fraction of 100 ms frames within this many dB of the
#: stem's loudest 100 ms frame (mean square over all channels, no weighting).
ACTIVE_RANGE_DB = 40.0

LMMS_PROJECTS = Path("/usr/share/lmms/projects")
LMMS_COPYRIGHT = Path("/usr/share/doc/lmms-common/copyright")
HYDROGEN_SONGS = Path("/usr/share/hydrogen/data/demo_songs")
HYDROGEN_KITS = (Path("/usr/share/hydrogen/data/drumkits"), Path("/usr/share/hydrogen/drumkits"))
HYDROGEN_COPYRIGHT = Path("/usr/share/doc/hydrogen-data/copyright")
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

# Held out for the project's acceptance checks (named in the issue that asked
# for this corpus): a model must never be fitted on them, so they are never
# rendered, read or included here. Matching is by name, before any file is opened.
RESERVED_LMMS = frozenset({
    "CapDan-ReggaeTry",
    "Thomasso-AxeFromThe80s",
    "CapDan-TwilightArea-OriginalByAlf42red",
    "Skiessi-C64",
})
RESERVED_HYDROGEN = frozenset({"tutorial_georgyporgy"})
RESERVED_PACKAGES = frozenset({"openttd-openmsx", "planetblupi-music-midi"})

FAMILIES = ("lmms", "hydrogen", "midi")


# =====================================================================
# Common helpers
# =====================================================================
def slug(text: str, max_len: int = 40) -> str:
    """A file-name-safe form of ``text`` (ASCII letters, digits, ``-`` and ``_``).

    Examples
    --------
    >>> slug("it's like that snare.ds")
    'it_s_like_that_snare_ds'
    """
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")
    return (s or "track")[:max_len]


def package_version(package: str) -> str:
    """Installed version of a Debian package, or ``"unknown"``."""
    try:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                             capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return res.stdout.strip() or "unknown"


def dep5_licence(copyright_file: Path, rel_path: str) -> str:
    """Licence of ``rel_path`` per a machine-readable (DEP-5) ``debian/copyright``.

    The last ``Files:`` stanza whose pattern matches wins, as DEP-5 specifies
    (``*`` matches any characters, ``/`` included).

    Parameters
    ----------
    copyright_file
        The package's ``/usr/share/doc/PKG/copyright``.
    rel_path
        The file's path in the source tree (e.g. ``data/projects/demos/X.mmpz``).

    Returns
    -------
    str
        The short licence name, or ``"unknown"``.
    """
    try:
        text = copyright_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown"
    found = "unknown"
    for stanza in re.split(r"\n\s*\n", text):
        m = re.search(r"^Files:(.*?)(?=^\S|\Z)", stanza, flags=re.MULTILINE | re.DOTALL)
        lic = re.search(r"^License:\s*(\S.*)$", stanza, flags=re.MULTILINE)
        if not m or not lic:
            continue
        if any(fnmatch.fnmatchcase(rel_path, pat) for pat in m.group(1).split()):
            found = lic.group(1).strip()
    return found


def read_audio(path: Path) -> np.ndarray:
    """Read a sound file as float32 ``(channels, frames)``."""
    x, _ = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(x.T)


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Pad ``(channels, frames)`` audio with silence, or cut it, to ``n`` frames."""
    if x.shape[1] >= n:
        return x[:, :n]
    return np.pad(x, ((0, 0), (0, n - x.shape[1])))


def write_wav(path: Path, x: np.ndarray, sr: int = SR) -> None:
    """Write ``(channels, frames)`` audio as a float32 WAV, atomically."""
    tmp = path.with_name(path.name + ".part")
    sf.write(str(tmp), np.ascontiguousarray(x.T, dtype=np.float32), sr,
             subtype="FLOAT", format="WAV")
    os.replace(tmp, path)


def active_share(x: np.ndarray, sr: int = SR) -> float:
    """Fraction of 100 ms frames within :data:`ACTIVE_RANGE_DB` of the loudest frame.

    Parameters
    ----------
    x
        ``(channels, frames)`` audio.
    sr
        Sample rate (Hz).

    Returns
    -------
    float
        0 for silence, else a fraction in (0, 1].
    """
    hop = sr // 10
    n = x.shape[1] // hop
    if n == 0:
        return 0.0
    e = np.square(x[:, : n * hop].astype(np.float64)).reshape(x.shape[0], n, hop).mean(axis=2).sum(axis=0)
    top = float(e.max())
    if top <= 0.0:
        return 0.0
    return float(np.mean(e >= top * 10.0 ** (-ACTIVE_RANGE_DB / 10.0)))


#: A sample this far above full scale (linear, +36 dBFS) standing alone is a render glitch.
SPIKE_LIMIT = 64.0


def repair_spikes(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Replace isolated single-sample spikes (render glitches) by the mean of their neighbours.

    LMMS 1.2 wrote, once in this corpus (a full-song render), lone samples of
    about 1170 (+61 dBFS) between ordinary ones. A sample counts as a spike
    when it exceeds :data:`SPIKE_LIMIT` and both neighbours are under an
    eighth of it.

    Returns
    -------
    tuple
        (the repaired audio, the number of samples replaced).
    """
    a = np.abs(x)
    hits = np.argwhere(a[:, 1:-1] > SPIKE_LIMIT)
    fixed = 0
    for ch, i in hits:
        j = i + 1
        if a[ch, j - 1] < a[ch, j] / 8 and a[ch, j + 1] < a[ch, j] / 8:
            x[ch, j] = 0.5 * (x[ch, j - 1] + x[ch, j + 1])
            fixed += 1
    return x, fixed


def db_or_none(value: float) -> float | None:
    """Round a level to 0.01 dB; ``None`` (JSON null) when it is not finite."""
    return round(value, 2) if math.isfinite(value) else None


def gain_db(linear: float) -> float | None:
    """20·log10 of a linear gain, ``None`` for a gain of 0."""
    return db_or_none(20.0 * math.log10(linear)) if linear > 0 else None


def mix_check(mix: np.ndarray, stems: Sequence[np.ndarray], pans: Sequence[Callable[[np.ndarray], np.ndarray]]) -> dict:
    """Compare the author's mix with the stems re-panned and summed.

    Parameters
    ----------
    mix
        ``(2, frames)`` author's mix.
    stems
        ``(channels, frames)`` centred stems.
    pans
        Per stem, a function turning the stem into its ``(2, frames)`` panned form.

    Returns
    -------
    dict
        ``mix_lufs``, ``stems_sum_lufs`` and ``residual_db`` (energy of mix minus
        sum relative to the mix's energy; −inf would mean identical).
    """
    total = np.zeros((2, mix.shape[1]), dtype=np.float64)
    for x, pan in zip(stems, pans):
        total += pan(x)
    m = mix if mix.shape[0] == 2 else np.repeat(mix[:1], 2, axis=0)
    e_mix = float(np.sum(np.square(m, dtype=np.float64)))
    e_res = float(np.sum(np.square(m - total)))
    return {
        "mix_lufs": db_or_none(integrated_lufs(m, SR)),
        "stems_sum_lufs": db_or_none(integrated_lufs(total, SR)),
        "residual_db": db_or_none(10 * math.log10(e_res / e_mix)) if e_mix > 0 and e_res > 0 else None,
    }


def stereo(x: np.ndarray) -> np.ndarray:
    """``(1 or 2, n)`` → ``(2, n)``."""
    return x if x.shape[0] == 2 else np.repeat(x[:1], 2, axis=0)


def linear_balance(pan: float) -> Callable[[np.ndarray], np.ndarray]:
    """LMMS's pan: a linear balance (p > 0 scales the left channel by 1 − p)."""
    gl, gr = (1.0 - pan, 1.0) if pan > 0 else (1.0, 1.0 + pan)
    return lambda x: stereo(x) * np.array([[gl], [gr]])


def sine_pan(pan: float) -> Callable[[np.ndarray], np.ndarray]:
    """FluidSynth's channel pan for a mono voice: constant power, normalised to unity at the centre."""
    a = (pan + 1.0) * math.pi / 4.0
    gl, gr = math.cos(a) * math.sqrt(2.0), math.sin(a) * math.sqrt(2.0)
    return lambda x: stereo(x) * np.array([[gl], [gr]])


@dataclass
class Stem:
    """One rendered stem and what the author set on it (a row of ``song.json``)."""

    stem_id: str
    name: str
    author_gain_db: float | None
    author_pan: float
    automated: bool
    plugin: str
    program: int | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def record(self, audio: np.ndarray) -> dict:
        """The ``song.json`` entry of this stem, with its measured loudness and activity."""
        rec = {
            "file": f"{self.stem_id}.wav",
            "name": self.name,
            "author_gain_db": self.author_gain_db,
            "author_pan": round(self.author_pan, 4),
            "automated": self.automated,
            "plugin": self.plugin,
            "program": self.program,
            "notes": self.notes,
        }
        rec.update(self.extra)
        rec["channels"] = int(audio.shape[0])
        rec["stem_lufs"] = db_or_none(integrated_lufs(audio, SR))
        rec["active_share"] = round(active_share(audio), 4)
        return rec


def is_silent(x: np.ndarray) -> bool:
    """True for a stem that is all zero or below :data:`SILENT_LUFS` integrated."""
    if not np.any(x):
        return True
    return not integrated_lufs(x, SR) > SILENT_LUFS


def write_status(song_dir: Path, song: str, family: str, source: str, package: str,
                 licence: str, status: str, reason: str) -> None:
    """Record a song that was not rendered (``status.json``; the song stays incomplete)."""
    song_dir.mkdir(parents=True, exist_ok=True)
    (song_dir / "status.json").write_text(json.dumps({
        "song": song, "family": family, "source": source, "package": package,
        "licence": licence, "status": status, "reason": reason,
    }, indent=1) + "\n")


def write_song(song_dir: Path, meta: dict, mix: np.ndarray, stems: list[tuple[Stem, np.ndarray]],
               pans: list[Callable[[np.ndarray], np.ndarray]]) -> dict:
    """Write the stems, ``mix.wav`` and finally ``song.json`` (which marks the song complete).

    Parameters
    ----------
    song_dir
        ``OUT/<family>/<song_id>``.
    meta
        ``song``, ``family``, ``source``, ``package``, ``licence``, ``bpm`` and any
        family-specific keys.
    mix
        The author's mix, ``(channels, frames)``.
    stems
        (stem, audio) pairs, every audio exactly as long as ``mix``.
    pans
        Per stem, its authored pan as a function (for the mix check).

    Returns
    -------
    dict
        The ``song.json`` content.
    """
    song_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for stem, audio in stems:
        write_wav(song_dir / f"{stem.stem_id}.wav", audio)
        records.append(stem.record(audio))
    write_wav(song_dir / "mix.wav", mix)
    doc = dict(meta)
    doc["duration_s"] = round(mix.shape[1] / SR, 3)
    doc["stems"] = records
    doc["check"] = mix_check(mix, [a for _, a in stems], pans)
    (song_dir / "status.json").unlink(missing_ok=True)
    tmp = song_dir / "song.json.part"
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, song_dir / "song.json")
    return doc


def is_complete(song_dir: Path) -> bool:
    """A song is complete when its ``song.json`` exists."""
    return (song_dir / "song.json").is_file()


def log(msg: str) -> None:
    """Progress line on stderr with a timestamp."""
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


# =====================================================================
# LMMS
# =====================================================================
LMMS_INSTRUMENT, LMMS_BB, LMMS_SAMPLE, LMMS_AUTOMATION, LMMS_HIDDEN_AUTOMATION = "0", "1", "2", "5", "6"
CLIP_TAGS = ("pattern", "bbtco", "sampletco", "automationpattern")


def load_lmms_xml(path: Path) -> ET.Element:
    """Parse an ``.mmp`` (XML) or ``.mmpz`` (4-byte big-endian length + zlib-compressed XML)."""
    data = path.read_bytes()
    if path.suffix == ".mmpz":
        (length,) = struct.unpack(">I", data[:4])
        data = zlib.decompress(data[4:])
        if len(data) != length:
            raise ValueError(f"{path}: header says {length} bytes, got {len(data)}")
    return ET.fromstring(data)


def lmms_projects(root: Path = LMMS_PROJECTS) -> list[Path]:
    """The demo and shorties projects, reserved ones excluded by name (never opened)."""
    found = []
    for sub in ("demos", "shorties"):
        for p in sorted((root / sub).rglob("*")):
            if p.suffix in (".mmp", ".mmpz") and p.stem not in RESERVED_LMMS:
                found.append(p)
    return found


def model(elem: ET.Element | None, name: str, default: float = 0.0) -> tuple[float, str | None, str | None]:
    """An LMMS automatable value: (static value, model id or None, controller index or None).

    LMMS writes a plain value as an attribute and an automated or
    controller-linked one as a child element ``<name value=.. id=..>``; a
    controller link is ``<connection><name id=controller_index/></connection>``.
    """
    if elem is None:
        return default, None, None
    child = elem.find(name)
    if elem.get(name) is not None:
        value, mid = float(elem.get(name)), None
    elif child is not None and child.get("value") is not None:
        value, mid = float(child.get("value")), child.get("id")
    else:
        value, mid = default, None
    conn = elem.find(f"connection/{name}")
    return value, mid, (conn.get("id") if conn is not None else None)


@dataclass
class LmmsProject:
    """What the renderer needs to know about one LMMS project."""

    root: ET.Element
    song_tracks: list[ET.Element]
    bb_tracks: list[ET.Element]
    automated_ids: set[str]
    controllers: list[ET.Element]
    fx: dict[int, ET.Element]
    master_pct: float
    master_flags: list[str]
    ticks_per_bar: int
    end_tick: int
    bpm: float
    #: Where the peak-controller effects (sidechain detectors) sit:
    #: ``("fx", channel)`` or ``("track", "song"|"bb", index)``.
    peak_sources: list[tuple] = field(default_factory=list)

    @classmethod
    def parse(cls, root: ET.Element) -> LmmsProject:
        """Read tracks, FX mixer, automation targets, controllers and the song's end."""
        head = root.find("head")
        song_tc = root.find("song/trackcontainer")
        song_tracks = song_tc.findall("track")
        bb_tracks: list[ET.Element] = []
        for t in song_tracks:
            inner = t.find("bbtrack/trackcontainer")
            if inner is not None:
                bb_tracks.extend(inner.findall("track"))
        automated = {o.get("id") for o in root.iter("object") if o.get("id")}
        ctl_root = root.find("song/controllers")
        controllers = list(ctl_root) if ctl_root is not None else []
        fx = {int(c.get("num")): c for c in root.iter("fxchannel")}
        master, master_id, master_ctl = model(head, "mastervol", 100.0)
        flags = (["master volume automated"] if master_id in automated else []) + \
                (["master volume on a controller"] if master_ctl is not None else [])
        num = int(float(head.get("timesig_numerator", model(head, "timesig_numerator", 4)[0])))
        den = int(float(head.get("timesig_denominator", model(head, "timesig_denominator", 4)[0])))
        end = 0
        for t in song_tracks:
            if t.get("muted", "0") == "1":
                continue
            for tag in CLIP_TAGS:
                for c in t.findall(tag):
                    end = max(end, int(float(c.get("pos", 0))) + int(float(c.get("len", 0))))
        peaks: list[tuple] = []
        for num_, c in fx.items():
            if c.find(".//peakcontrollereffectcontrols") is not None:
                peaks.append(("fx", num_))
        for where, tracks in (("song", song_tracks), ("bb", bb_tracks)):
            for i, t in enumerate(tracks):
                if t.find("instrumenttrack/fxchain//peakcontrollereffectcontrols") is not None:
                    peaks.append(("track", where, i))
        return cls(root, song_tracks, bb_tracks, automated, controllers, fx, master, flags,
                   max(1, 192 * num // max(1, den)), end, model(head, "bpm", 140.0)[0], peaks)

    def master_effects(self) -> list[str]:
        """The effects on the master FX channel (plugin or LADSPA label, "(off)" when bypassed).

        A limiter or compressor there acts on each solo render alone, so the
        stems then sum louder than the mix (see ``check`` in ``song.json``).
        """
        ch = self.fx.get(0)
        found = []
        for e in ch.findall("fxchain/effect") if ch is not None else []:
            label = [a.get("value") for a in e.findall("key/attribute") if a.get("name") == "plugin"]
            name = label[0] if label and label[0] else e.get("name", "?")
            found.append(name + ("" if e.get("on", "1") == "1" else " (off)"))
        return found

    def controller_kind(self, index: str | None) -> str | None:
        """``"peak"`` (sidechain), ``"lfo"`` or the controller's tag for a controller index."""
        if index is None:
            return None
        i = int(index)
        if not 0 <= i < len(self.controllers):
            return "controller"
        tag = self.controllers[i].tag.lower()
        return "peak" if "peak" in tag else ("lfo" if "lfo" in tag else tag)

    def path_channels(self, ch: int) -> set[int]:
        """Every FX channel that audio entering channel ``ch`` passes through."""
        seen: set[int] = set()
        todo = [ch]
        while todo:
            c = todo.pop()
            if c in seen or c not in self.fx:
                continue
            seen.add(c)
            todo.extend(int(s.get("channel")) for s in self.fx[c].findall("send"))
        return seen

    def fx_path(self, ch: int, seen: frozenset = frozenset()) -> tuple[float, list[str]]:
        """Gain from FX channel ``ch`` to the output (its volume × sends × … × master channel).

        Returns the linear gain and the automation/controller flags met on the way.
        """
        c = self.fx.get(ch)
        if c is None or ch in seen:
            return (1.0 if c is None and ch == 0 else 0.0), []
        if c.get("muted", "0") == "1":
            return 0.0, [f"FX {ch} muted"]
        vol, vid, vctl = model(c, "volume", 1.0)
        flags = []
        if vid in self.automated_ids:
            flags.append(f"FX {ch} volume automated")
        if vctl is not None:
            flags.append(f"FX {ch} volume on {self.controller_kind(vctl)} controller")
        if ch == 0:
            return vol, flags
        total = 0.0
        for s in c.findall("send"):
            amount, aid, actl = model(s, "amount", 1.0)
            if aid in self.automated_ids:
                flags.append(f"FX {ch} send automated")
            if actl is not None:
                flags.append(f"FX {ch} send on {self.controller_kind(actl)} controller")
            g, f = self.fx_path(int(s.get("channel")), seen | {ch})
            total += amount * g
            flags.extend(f)
        return vol * total, flags


@dataclass
class LmmsTrack:
    """A renderable instrument or sample track: where it is and what the author set."""

    where: str  # "song" or "bb"
    index: int
    stem: Stem


def track_has_content(t: ET.Element) -> bool:
    """True when an instrument track has a note or a sample track a sample clip."""
    if t.get("type") == LMMS_SAMPLE:
        return t.find("sampletco") is not None
    return t.find("pattern/note") is not None


def describe_lmms_track(p: LmmsProject, t: ET.Element, where: str, stem_id: str) -> Stem:
    """The author's settings of one track (volume, FX path, pan, plugin, sample, flags)."""
    holder = t.find("instrumenttrack") if t.get("type") == LMMS_INSTRUMENT else t.find("sampletrack")
    vol, vid, vctl = model(holder, "vol", 100.0)
    pan, pid, pctl = model(holder, "pan", 0.0)
    fxch = int(float(holder.get("fxch", 0))) if holder is not None else 0
    fx_gain, fx_flags = p.fx_path(fxch)
    automation, controllers = [], []
    if vid in p.automated_ids:
        automation.append("volume")
    if pid in p.automated_ids:
        automation.append("pan")
    automation += [f for f in fx_flags if f.endswith("automated")]
    for what, ctl in (("volume", vctl), ("pan", pctl)):
        if ctl is not None:
            controllers.append(f"track {what} on {p.controller_kind(ctl)} controller")
    controllers += [f for f in fx_flags if "controller" in f]
    inst = holder.find("instrument") if holder is not None else None
    plugin = inst.get("name") if inst is not None else "sampletrack"
    extra = {
        "track_volume_pct": vol,
        "fx_channel": fxch,
        "fx_volume": model(p.fx.get(fxch), "volume", 1.0)[0] if fxch in p.fx else None,
        "fx_path_gain": round(fx_gain, 6),
        "master_volume_pct": p.master_pct,
        "container": "song" if where == "song" else "beat/bassline",
    }
    if inst is not None and len(inst):
        params = inst[0]
        if plugin == "audiofileprocessor":
            extra["sample"] = params.get("src")
            extra["sample_amp_pct"] = float(params.get("amp", 100))
        elif plugin == "sf2player":
            extra["sf2_file"] = params.get("src")
            extra["gm_bank"] = int(float(params.get("bank", 0)))
            extra["gm_patch"] = int(float(params.get("patch", 0)))
    if automation:
        extra["automation"] = automation
    if controllers:
        extra["controllers"] = controllers
    notes = []
    if any("peak" in c for c in controllers):
        notes.append("level or pan driven by a peak controller (sidechain); its source was kept playing "
                     "inaudibly in the solo render so the stem is ducked as in the mix")
    elif any("lfo" in c for c in controllers):
        notes.append("volume or pan modulated by an LFO controller (in the stem)")
    if automation:
        notes.append("automated " + ", ".join(automation) + "; author_gain_db/author_pan are the static values")
    if any("muted" in f for f in fx_flags):
        notes.append("routed through a muted FX channel")
    gain = vol / 100.0 * fx_gain * p.master_pct / 100.0
    return Stem(stem_id, t.get("name") or "", gain_db(gain), max(-1.0, min(1.0, pan / 100.0)),
                bool(automation or controllers), plugin,
                extra["gm_patch"] if plugin == "sf2player" else None, "; ".join(notes), extra)


def plan_lmms_tracks(p: LmmsProject) -> tuple[list[LmmsTrack], list[str]]:
    """The tracks to render alone, and the ones skipped with why."""
    plan, skipped = [], []
    n = 0
    for where, tracks in (("song", p.song_tracks), ("bb", p.bb_tracks)):
        for i, t in enumerate(tracks):
            if t.get("type") not in (LMMS_INSTRUMENT, LMMS_SAMPLE):
                continue
            name = t.get("name") or ""
            if t.get("muted", "0") == "1":
                skipped.append(f"{name}: muted by the author")
                continue
            if not track_has_content(t):
                skipped.append(f"{name}: no notes or clips")
                continue
            n += 1
            stem_id = f"{n:02d}_{slug(name)}"
            tr = LmmsTrack(where, i, describe_lmms_track(p, t, where, stem_id))
            if any("peak" in c for c in tr.stem.extra.get("controllers", [])) and not sidechain_reproduced(p, tr):
                tr.stem.notes = ("level driven by a peak controller (sidechain) fed from its own FX path: "
                                 "other tracks feeding the detector are muted, so the stem is not ducked "
                                 "as in the mix (louder)")
            plan.append(tr)
    return plan, skipped


def centre_pan(p: LmmsProject, t: ET.Element) -> None:
    """Set a track's own pan to 0 and disconnect its automation and controller."""
    holder = t.find("instrumenttrack")
    if holder is None:
        holder = t.find("sampletrack")
    if holder is None:
        return
    child = holder.find("pan")
    if child is not None:
        pid = child.get("id")
        holder.remove(child)
        if pid:
            for pat in p.root.iter("automationpattern"):
                for o in pat.findall("object"):
                    if o.get("id") == pid:
                        pat.remove(o)
    holder.set("pan", "0")
    conn = holder.find("connection")
    if conn is not None:
        for c in conn.findall("pan"):
            conn.remove(c)


def length_keeper(p: LmmsProject) -> ET.Element:
    """A silent zero-volume track with an empty one-bar clip at the song's last bar.

    LMMS stops a render where the last unmuted clip ends; this keeps every
    solo render as long as the authored song.
    """
    last_bar = max(0, (p.end_tick - 1) // p.ticks_per_bar) * p.ticks_per_bar
    t = ET.Element("track", {"type": LMMS_INSTRUMENT, "name": "length keeper", "muted": "0", "solo": "0"})
    it = ET.SubElement(t, "instrumenttrack", {"vol": "0", "pan": "0", "fxch": "0", "pitch": "0",
                                              "basenote": "57", "pitchrange": "1", "usemasterpitch": "1"})
    ET.SubElement(ET.SubElement(it, "instrument", {"name": "tripleoscillator"}), "tripleoscillator")
    ET.SubElement(t, "pattern", {"pos": str(last_bar), "len": str(p.ticks_per_bar), "steps": "16",
                                 "muted": "0", "type": "1", "name": ""})
    return t


def track_fxch(t: ET.Element) -> int:
    """The FX channel a track feeds (0, the master, when it names none)."""
    holder = t.find("instrumenttrack")
    if holder is None:
        holder = t.find("sampletrack")
    return int(float(holder.get("fxch", 0))) if holder is not None else 0


def dead_end_channel(p: LmmsProject) -> int:
    """Add an FX channel with no sends (its audio reaches no output); returns its number."""
    num = max(p.fx, default=0) + 1
    mixer = p.root.find("song/fxmixer")
    ch = ET.SubElement(mixer, "fxchannel", {"num": str(num), "name": "sidechain only", "volume": "1",
                                            "muted": "0", "soloed": "0"})
    ET.SubElement(ch, "fxchain", {"enabled": "0", "numofeffects": "0"})
    p.fx[num] = ch
    return num


def keep_sidechains(p: LmmsProject, target_path: set[int],
                    is_target: Callable[[str, int], bool]) -> set[tuple[str, int]]:
    """Keep the signals that feed peak controllers playing, but inaudible.

    A peak controller (LMMS's sidechain) reads the audio at its effect: an FX
    channel or an instrument track's own effect chain. So that the soloed
    track is ducked as in the mix, the tracks feeding that effect keep
    playing: a track holding the effect is routed to a dead-end FX channel;
    for an effect on FX channel ``k`` the tracks routed straight to ``k`` play
    and ``k``'s sends are removed. Skipped when the soloed track's own path
    passes through ``k`` (then its stem would lose itself).

    Returns
    -------
    set of (where, index)
        The tracks to leave unmuted.
    """
    keep: set[tuple[str, int]] = set()
    for src in p.peak_sources:
        if src[0] == "track":
            where, i = src[1], src[2]
            if is_target(where, i):
                continue
            t = (p.song_tracks if where == "song" else p.bb_tracks)[i]
            if t.get("muted", "0") == "1":
                continue
            holder = t.find("instrumenttrack")
            holder.set("fxch", str(dead_end_channel(p)))
            keep.add((where, i))
        else:
            k = src[1]
            if k == 0 or k in target_path:
                continue
            for where, tracks in (("song", p.song_tracks), ("bb", p.bb_tracks)):
                for i, t in enumerate(tracks):
                    if (t.get("type") in (LMMS_INSTRUMENT, LMMS_SAMPLE) and t.get("muted", "0") != "1"
                            and track_fxch(t) == k):
                        keep.add((where, i))
            for send in p.fx[k].findall("send"):
                p.fx[k].remove(send)
    return keep


def solo_project(source: ET.Element, target: LmmsTrack) -> ET.Element:
    """A copy of the project in which only ``target`` is heard (centred), automation kept.

    Every other instrument and sample track, in the song and in the
    Beat/Bassline container, is removed: muting them would give the same
    audio (bit-identical for deterministic instruments), but LMMS still loads
    and runs every muted ZynAddSubFX, which made solo renders 3–6× slower.
    Beat/Bassline tracks and automation tracks stay as authored (a
    Beat/Bassline track plays only the instruments left in it; automation of
    a removed track's controls is dropped by LMMS). Sidechain sources keep
    playing inaudibly (:func:`keep_sidechains`). A length keeper closes the
    song at its authored end.
    """
    root = ET.fromstring(ET.tostring(source))
    p = LmmsProject.parse(root)
    tracks_of = {"song": p.song_tracks, "bb": p.bb_tracks}
    target_track = tracks_of[target.where][target.index]

    def is_target(where: str, i: int) -> bool:
        return where == target.where and i == target.index

    keep = keep_sidechains(p, p.path_channels(track_fxch(target_track)), is_target)
    drop = set()
    for where, tracks in tracks_of.items():
        for i, t in enumerate(tracks):
            t.set("solo", "0")
            if t.get("type") in (LMMS_INSTRUMENT, LMMS_SAMPLE) and not is_target(where, i) \
                    and (where, i) not in keep:
                drop.add(id(t))
    for container in root.iter("trackcontainer"):
        for t in container.findall("track"):
            if id(t) in drop:
                container.remove(t)
    centre_pan(p, target_track)
    root.find("song/trackcontainer").append(length_keeper(p))
    return root


def sidechain_reproduced(p: LmmsProject, tr: LmmsTrack) -> bool:
    """Whether :func:`keep_sidechains` can reproduce every peak controller on ``tr``'s path."""
    path = p.path_channels(track_fxch((p.song_tracks if tr.where == "song" else p.bb_tracks)[tr.index]))
    return not any(src[0] == "fx" and src[1] in path for src in p.peak_sources)


def run_lmms(project_xml: ET.Element, workdir: Path, name: str, timeout_s: float = 900.0) -> Path:
    """Render a project with ``lmms render`` to a float WAV; returns the WAV's path.

    Raises
    ------
    RuntimeError
        When LMMS fails or writes no file.
    """
    mmp = workdir / f"{name}.mmp"
    wav = workdir / f"{name}.wav"
    mmp.write_bytes(b'<?xml version="1.0"?>\n<!DOCTYPE lmms-project>\n' + ET.tostring(project_xml))
    home = workdir / f"home_{name}"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home))
    errors = []
    for _attempt in range(3):  # LMMS 1.2 sometimes crashes (SIGSEGV) on exit: try again
        wav.unlink(missing_ok=True)
        res = subprocess.run(["lmms", "--allowroot", "render", str(mmp), "-f", "wav", "-a", "-o", str(wav)],
                             capture_output=True, text=True, env=env, timeout=timeout_s, check=False)
        if res.returncode == 0 and wav.is_file():
            return wav
        errors.append(str(res.returncode))
    raise RuntimeError(f"lmms failed 3 times (exit {', '.join(errors)})")


def build_lmms_song(path: Path, out: Path, pool: ThreadPoolExecutor) -> str:
    """Render one LMMS project (mix + solo stems) into ``out/lmms/<song>``; returns a status line."""
    song = path.stem
    song_dir = out / "lmms" / slug(song, 80)
    rel = "data/projects/" + str(path.relative_to(LMMS_PROJECTS))
    package = f"lmms-common {package_version('lmms-common')} (rendered with lmms {package_version('lmms')})"
    licence = dep5_licence(LMMS_COPYRIGHT, rel)
    source = load_lmms_xml(path)
    p = LmmsProject.parse(source)
    plan, skipped = plan_lmms_tracks(p)
    if not plan:
        write_status(song_dir, song, "lmms", str(path), package, licence, "skipped", "no renderable track")
        return f"{song}: skipped (no renderable track)"
    work = Path(tempfile.mkdtemp(prefix=f"lmms_{slug(song)}_", dir=out))
    try:
        jobs: dict[str, Future] = {"mix": pool.submit(run_lmms, source, work, "mix")}
        for tr in plan:
            jobs[tr.stem.stem_id] = pool.submit(run_lmms, solo_project(source, tr), work, tr.stem.stem_id)
        mix, spikes = repair_spikes(read_audio(jobs["mix"].result()))
        repaired = {"mix.wav": spikes} if spikes else {}
        n = mix.shape[1]
        stems, pans, dropped = [], [], []
        for tr in plan:
            try:
                audio, spikes = repair_spikes(read_audio(jobs[tr.stem.stem_id].result()))
            except Exception as exc:  # noqa: BLE001 (one failed track should not lose the song)
                dropped.append(f"{tr.stem.name}: render failed ({exc})")
                continue
            if spikes:
                repaired[f"{tr.stem.stem_id}.wav"] = spikes
            raw = audio.shape[1]
            audio = fit_length(audio, n)
            if is_silent(audio):
                dropped.append(f"{tr.stem.name}: renders silent")
                continue
            if abs(raw - n) > SR // 10:
                tr.stem.extra["render_length_s"] = round(raw / SR, 3)
            stems.append((tr.stem, audio))
            pans.append(linear_balance(tr.stem.author_pan))
        if not stems:
            write_status(song_dir, song, "lmms", str(path), package, licence, "failed", "every track rendered silent")
            return f"{song}: failed (all silent)"
        meta = {"song": song, "family": "lmms", "source": str(path), "package": package,
                "licence": licence, "bpm": p.bpm, "pan_law": "LMMS linear balance (p>0 scales left by 1-p)",
                "song_notes": p.master_flags, "master_effects": p.master_effects(),
                "repaired_spikes": repaired, "skipped_tracks": skipped + dropped}
        doc = write_song(song_dir, meta, mix, stems, pans)
        return f"{song}: {len(doc['stems'])} stems, {doc['duration_s']:.0f} s"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_lmms(out: Path, pool: ThreadPoolExecutor, names: set[str] | None = None) -> None:
    """Render every (non-reserved) LMMS demo/shortie project not yet complete."""
    for path in lmms_projects():
        if names and path.stem not in names:
            continue
        song_dir = out / "lmms" / slug(path.stem, 80)
        if is_complete(song_dir):
            log(f"lmms {path.stem}: complete, skipped")
            continue
        t0 = time.time()
        try:
            msg = build_lmms_song(path, out, pool)
        except Exception as exc:  # noqa: BLE001 (record it and go on with the next song)
            write_status(song_dir, path.stem, "lmms", str(path), "lmms-common", "unknown", "failed", repr(exc)[:500])
            msg = f"{path.stem}: failed ({exc!r})"
        log(f"lmms {msg} [{time.time() - t0:.0f} s]")


# =====================================================================
# Hydrogen
# =====================================================================
#: Hydrogen's ticks per quarter note (192 per 4/4 bar, ``MAX_NOTES``).
H2_TICKS_PER_QUARTER = 48
#: Longest tail let ring after the song's last tick (s).
H2_MAX_TAIL_S = 5.0


def h2_text(elem: ET.Element, tag: str, default: str = "") -> str:
    """Text of a child element, or ``default``."""
    value = elem.findtext(tag)
    return default if value is None else value.strip()


def h2_float(elem: ET.Element, tag: str, default: float) -> float:
    """Float value of a child element, or ``default``."""
    try:
        return float(h2_text(elem, tag, str(default)))
    except ValueError:
        return default


def hydrogen_songs(root: Path = HYDROGEN_SONGS) -> list[Path]:
    """The demo songs, the reserved one excluded by name (never opened)."""
    return [p for p in sorted(root.glob("*.h2song")) if p.stem not in RESERVED_HYDROGEN]


def h2_pan(instrument: ET.Element) -> float:
    """An instrument's pan in −1…1: Hydrogen ≥1.2 ``<pan>``, older ``pan_L``/``pan_R`` (0…1 each)."""
    if instrument.find("pan") is not None:
        return h2_float(instrument, "pan", 0.0)
    left, right = h2_float(instrument, "pan_L", 0.5), h2_float(instrument, "pan_R", 0.5)
    # Old Hydrogen stored each side's gain as 1 - the other side's reach:
    # centre is (0.5, 0.5), hard left (0.5, 0), hard right (0, 0.5).
    return max(-1.0, min(1.0, (right - left) / 0.5)) if left + right > 0 else 0.0


def h2_pan_gains(pan: float) -> tuple[float, float]:
    """Hydrogen 1.2's default pan law ``RATIO_STRAIGHT_POLYGONAL``: louder side at unity."""
    def ratio(p: float) -> float:
        return 1.0 if p <= 0 else (1.0 - p) / (1.0 + p)

    return ratio(pan), ratio(-pan)


@dataclass
class H2Layer:
    """One velocity layer of an instrument: its velocity range, gain, pitch and sample."""

    vmin: float
    vmax: float
    gain: float
    pitch: float
    path: Path


@dataclass
class H2Instrument:
    """A Hydrogen instrument as the author set it."""

    iid: str
    name: str
    volume: float
    gain: float
    component_gain: float
    component_volume: float
    pan: float
    pitch_offset: float
    muted: bool
    mute_group: int
    layers: list[H2Layer]
    kit: str


def h2_kit_dir(kit: str) -> Path | None:
    """The folder of a system drum kit, or None."""
    for base in HYDROGEN_KITS:
        if (base / kit).is_dir():
            return base / kit
    return None


def parse_h2_instruments(song: ET.Element) -> list[H2Instrument]:
    """Instruments with their gains, pan and sample layers (first component)."""
    comp_volume = {h2_text(c, "id"): h2_float(c, "volume", 1.0) for c in song.iter("drumkitComponent")}
    out = []
    for ins in song.find("instrumentList"):
        kit = h2_text(ins, "drumkit")
        kit_dir = h2_kit_dir(kit)
        comp = ins.find("instrumentComponent")
        layer_elems = comp.findall("layer") if comp is not None else ins.findall("layer")
        layers = []
        for lay in layer_elems:
            fname = h2_text(lay, "filename")
            path = Path(fname) if Path(fname).is_absolute() else (kit_dir / fname if kit_dir else Path(fname))
            layers.append(H2Layer(h2_float(lay, "min", 0.0), h2_float(lay, "max", 1.0),
                                  h2_float(lay, "gain", 1.0), h2_float(lay, "pitch", 0.0), path))
        cid = h2_text(comp, "component_id", "0") if comp is not None else "0"
        out.append(H2Instrument(
            h2_text(ins, "id"), h2_text(ins, "name"), h2_float(ins, "volume", 1.0), h2_float(ins, "gain", 1.0),
            h2_float(comp, "gain", 1.0) if comp is not None else 1.0, comp_volume.get(cid, 1.0), h2_pan(ins),
            h2_float(ins, "pitchOffset", 0.0), h2_text(ins, "isMuted") == "true",
            int(h2_float(ins, "muteGroup", -1)), layers, kit))
    return out


@dataclass
class H2Note:
    """A note placed in the song: start frame, instrument, velocity, pan, pitch, length (frames or -1)."""

    frame: int
    iid: str
    velocity: float
    pan: float
    pitch: float
    length: int


def h2_timeline(song: ET.Element, sr: int = SR) -> tuple[list[H2Note], int, dict]:
    """Lay the pattern sequence out in frames.

    Each group of the sequence lasts as long as its longest pattern; a note
    plays at group start + position (+ lead/lag, + Hydrogen's 16th-note swing:
    off-beat 16ths are delayed by swing × 1/32 note).

    Returns
    -------
    tuple
        (notes, song length in frames, what was not reproduced).
    """
    bpm = h2_float(song, "bpm", 120.0)
    tick = sr * 60.0 / bpm / H2_TICKS_PER_QUARTER
    swing = h2_float(song, "swing_factor", 0.0)
    patterns = {h2_text(p, "name"): p for p in song.find("patternList")}
    notes: list[H2Note] = []
    ignored = {"humanize_time": h2_float(song, "humanize_time", 0.0),
               "humanize_velocity": h2_float(song, "humanize_velocity", 0.0),
               "probability_below_1": 0}
    start = 0
    for group in song.find("patternSequence"):
        pats = [patterns[i.text.strip()] for i in group.findall("patternID") if i.text and i.text.strip() in patterns]
        size = max((int(h2_float(p, "size", 192)) for p in pats), default=192)
        for p in pats:
            for n in p.iter("note"):
                pos = int(h2_float(n, "position", 0))
                offset = h2_float(n, "leadlag", 0.0) * 5 * tick
                if swing > 0 and pos % 12 == 0 and pos % 24 != 0:
                    offset += 6 * tick * swing
                if h2_float(n, "probability", 1.0) < 1.0:
                    ignored["probability_below_1"] += 1
                length = int(h2_float(n, "length", -1))
                notes.append(H2Note(round((start + pos) * tick + offset), h2_text(n, "instrument"),
                                    h2_float(n, "velocity", 0.8), h2_float(n, "pan", 0.0),
                                    h2_float(n, "pitch", 0.0), round(length * tick) if length > 0 else -1))
        start += size
    return notes, round(start * tick), ignored


def h2_pick_layer(layers: list[H2Layer], velocity: float) -> H2Layer | None:
    """Hydrogen's VELOCITY selection: the first layer whose range holds the velocity, else the nearest."""
    for lay in layers:
        if lay.vmin <= velocity <= lay.vmax:
            return lay
    if not layers:
        return None
    return min(layers, key=lambda lay: min(abs(velocity - lay.vmin), abs(velocity - lay.vmax)))


class SampleCache:
    """Samples read once, as float32 ``(channels, frames)`` at :data:`SR`, optionally pitched."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Path, float], np.ndarray] = {}

    def get(self, path: Path, semitones: float = 0.0) -> np.ndarray:
        """The sample, resampled for a pitch shift of ``semitones`` (and to :data:`SR`)."""
        key = (path, round(semitones, 4))
        if key not in self._cache:
            x, sr = sf.read(str(path), dtype="float32", always_2d=True)
            x = x.T
            ratio = sr / SR * 2.0 ** (semitones / 12.0)
            if abs(ratio - 1.0) > 1e-9:
                n = max(1, round(x.shape[1] / ratio))
                pos = np.arange(n) * ratio
                x = np.stack([np.interp(pos, np.arange(x.shape[1]), ch) for ch in x]).astype(np.float32)
            self._cache[key] = np.ascontiguousarray(x)
        return self._cache[key]


def render_h2_song(song: ET.Element) -> tuple[list[tuple[Stem, np.ndarray]], list[Callable], np.ndarray, dict]:
    """Render the stems (centred, at the author's level) and the mix (with authored pans).

    Returns
    -------
    tuple
        (stems, their pan functions, mix, notes about the song).
    """
    instruments = parse_h2_instruments(song)
    notes, song_frames, ignored = h2_timeline(song)
    song_volume = h2_float(song, "volume", 1.0)
    cache = SampleCache()
    by_iid: dict[str, list[H2Note]] = {}
    for n in notes:
        by_iid.setdefault(n.iid, []).append(n)
    total = song_frames + int(H2_MAX_TAIL_S * SR)
    stems, pans, skipped, mixes = [], [], [], []
    mute_groups = sorted({i.mute_group for i in instruments if i.mute_group >= 0 and i.iid in by_iid})
    for k, ins in enumerate(instruments, start=1):
        placed = by_iid.get(ins.iid, [])
        if ins.muted:
            skipped.append(f"{ins.name}: muted by the author")
            continue
        if not placed:
            skipped.append(f"{ins.name}: no notes")
            continue
        if not ins.layers:
            skipped.append(f"{ins.name}: no sample layers")
            continue
        missing = [str(lay.path) for lay in ins.layers if not lay.path.is_file()]
        if missing:
            skipped.append(f"{ins.name}: missing samples {missing[:2]}")
            continue
        fader = ins.volume * ins.gain * ins.component_gain * ins.component_volume * song_volume
        channels = max(cache.get(lay.path).shape[0] for lay in ins.layers)
        stem = np.zeros((channels, total), dtype=np.float64)
        mix = np.zeros((2, total), dtype=np.float64)
        used = set()
        for n in placed:
            lay = h2_pick_layer(ins.layers, n.velocity)
            if lay is None:
                continue
            used.add(lay.path.name)
            x = cache.get(lay.path, ins.pitch_offset + lay.pitch + n.pitch)
            if n.length > 0:
                x = x[:, : n.length]
            end = min(total, n.frame + x.shape[1])
            if end <= n.frame or n.frame < 0:
                continue
            seg = x[:, : end - n.frame] * (n.velocity * lay.gain * fader)
            stem[:, n.frame:end] += seg if seg.shape[0] == channels else np.repeat(seg, channels, axis=0)
            pan = max(-1.0, min(1.0, (1.0 - abs(ins.pan)) * n.pan + ins.pan))
            gl, gr = h2_pan_gains(pan)
            s2 = stereo(seg)
            mix[0, n.frame:end] += s2[0] * gl
            mix[1, n.frame:end] += s2[1] * gr
        audio = stem.astype(np.float32)
        if is_silent(audio):
            skipped.append(f"{ins.name}: renders silent")
            continue
        info = Stem(f"{k:02d}_{slug(ins.name)}", ins.name, gain_db(fader), ins.pan, False, "hydrogen-sampler",
                    extra={"kit": ins.kit, "samples": ", ".join(sorted(used)), "instrument_volume": ins.volume,
                           "instrument_gain": ins.gain, "song_volume": song_volume, "hits": len(placed)})
        if any(n.pan for n in placed):
            info.notes = "per-note pans in the mix (not in the stem)"
        gl, gr = h2_pan_gains(ins.pan)
        stems.append((info, audio))
        pans.append(lambda x, gl=gl, gr=gr: stereo(x) * np.array([[gl], [gr]]))
        mixes.append(mix)
    mix = np.sum(mixes, axis=0) if mixes else np.zeros((2, total))
    # Cut the tail where everything has rung out (all stems and the mix share one length).
    audible = np.flatnonzero(np.abs(mix).max(axis=0) > 1e-6)
    n = max(song_frames, int(audible[-1]) + 1 if audible.size else 0)
    stems = [(st, fit_length(a, n)) for st, a in stems]
    song_notes = {"skipped_tracks": skipped, "not_reproduced": ignored}
    if mute_groups:
        song_notes["not_reproduced"]["mute_groups"] = mute_groups
    return stems, pans, fit_length(mix.astype(np.float32), n), song_notes


def build_hydrogen(out: Path, pool: ThreadPoolExecutor, names: set[str] | None = None) -> None:
    """Render every (non-reserved) Hydrogen demo song not yet complete."""
    package = f"hydrogen-data {package_version('hydrogen-data')}"
    for path in hydrogen_songs():
        if names and path.stem not in names:
            continue
        song_dir = out / "hydrogen" / slug(path.stem, 80)
        if is_complete(song_dir):
            log(f"hydrogen {path.stem}: complete, skipped")
            continue
        licence = dep5_licence(HYDROGEN_COPYRIGHT, "data/demo_songs/" + path.name)
        t0 = time.time()
        try:
            song = ET.parse(path).getroot()
            stems, pans, mix, song_notes = render_h2_song(song)
            if not stems:
                write_status(song_dir, path.stem, "hydrogen", str(path), package, licence, "failed",
                             "no audible instrument")
                continue
            kits = sorted({st.extra["kit"] for st, _ in stems})
            meta = {"song": path.stem, "family": "hydrogen", "source": str(path), "package": package,
                    "licence": licence,
                    "licence_note": f"hydrogen-data's debian/copyright covers the song and the kits "
                                    f"({', '.join(kits)}); the song file says: {h2_text(song, 'license', 'nothing')!r}",
                    "bpm": h2_float(song, "bpm", 120.0), "author": h2_text(song, "author"),
                    "pan_law": "Hydrogen RATIO_STRAIGHT_POLYGONAL (louder side 1, other (1-|p|)/(1+|p|))",
                    "swing_factor": h2_float(song, "swing_factor", 0.0), **song_notes}
            doc = write_song(song_dir, meta, mix, stems, pans)
            log(f"hydrogen {path.stem}: {len(doc['stems'])} stems, {doc['duration_s']:.0f} s "
                f"[{time.time() - t0:.0f} s]")
        except Exception as exc:  # noqa: BLE001 (record it and go on)
            write_status(song_dir, path.stem, "hydrogen", str(path), package, licence, "failed", repr(exc)[:500])
            log(f"hydrogen {path.stem}: failed ({exc!r})")


# =====================================================================
# MIDI
# =====================================================================
GM_PROGRAMS = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet", "Celesta", "Glockenspiel", "Music Box",
    "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer", "Drawbar Organ", "Percussive Organ",
    "Rock Organ", "Church Organ", "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics", "Acoustic Bass",
    "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass", "Slap Bass 1", "Slap Bass 2",
    "Synth Bass 1", "Synth Bass 2", "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings",
    "Pizzicato Strings", "Orchestral Harp", "Timpani", "String Ensemble 1", "String Ensemble 2",
    "Synth Strings 1", "Synth Strings 2", "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit", "Trumpet",
    "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)",
    "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)", "Pad 1 (new age)", "Pad 2 (warm)",
    "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)", "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba",
    "Bagpipe", "Fiddle", "Shanai", "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum",
    "Melodic Tom", "Synth Drum", "Reverse Cymbal", "Guitar Fret Noise", "Breath Noise", "Seashore",
    "Bird Tweet", "Telephone Ring", "Helicopter", "Applause", "Gunshot",
)
#: GM drum-note groups (channel 10) for splitting a kit into stems; other notes go to "percussion".
DRUM_GROUPS = {
    "kick": (35, 36),
    "snare": (37, 38, 40),
    "hats_cymbals": (42, 44, 46, 49, 51, 52, 53, 55, 57, 59),
    "toms": (41, 43, 45, 47, 48, 50),
}
DRUM_CHANNEL = 9  # MIDI channel 10, 0-based
#: GM default channel volume (CC7) and pan (CC10) when the file sets none.
GM_DEFAULT_CC7, GM_DEFAULT_CC10 = 100, 64
#: A channel counts as active with at least this many notes; a song needs 4 active channels.
MIDI_MIN_NOTES, MIDI_MIN_ACTIVE = 8, 4
MIDI_MAX_SONG_S = 240.0
FREEDOOM_SONGS = 10


@dataclass
class MidiSource:
    """A MIDI song from a Debian package: its bytes, where it came from, its licence."""

    song_id: str
    package: str
    source: str
    licence: str
    data: bytes


# Per-file licences of freedink-data's music, from its debian/copyright ("Covered
# files", Seth A. Robinson's zlib-style licence) and README-REPLACEMENTS.txt.
FREEDINK_LICENCES = {
    "1003.mid": "Zlib (Dink Smallwood data, (C) Seth A. Robinson)",
    "2.mid": "Zlib (Dink Smallwood data, (C) Seth A. Robinson)",
    "dance.mid": "Zlib (Dink Smallwood data, (C) Seth A. Robinson)",
    "insper.mid": "Zlib (Dink Smallwood data, (C) Seth A. Robinson)",
    "lively.mid": "Zlib (Dink Smallwood data, (C) Seth A. Robinson)",
    "love.mid": "Zlib (Dink Smallwood data, (C) Seth A. Robinson)",
    "7.mid": "GPL-3+ ((C) 2011 Joshua O'Leary)",
    "12.mid": "GPL-3+ ((C) 2011 Joshua O'Leary)",
    "18.mid": "GPL-3+ ((C) 2011 Joshua O'Leary)",
    "13.mid": "public domain (MIDI by Ofir Mo)",
    "104.mid": "GPL-3+ or Art Libre or CC-BY-SA ((C) 2008 Sylvain Beucler)",
    "105.mid": "GPL-3+ or Art Libre or CC-BY-SA ((C) 2008 Sylvain Beucler)",
}


def fetch_package(package: str, dest: Path) -> tuple[Path, str]:
    """``apt-get download`` a package into ``dest`` and unpack it with ``dpkg -x`` (not installed).

    Returns
    -------
    tuple[Path, str]
        The unpacked root and the package version.
    """
    if package in RESERVED_PACKAGES:
        raise ValueError(f"{package} is reserved for acceptance checks")
    root = dest / package
    debs = sorted(dest.glob(f"{package}_*.deb"))
    if not debs:
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", package], cwd=dest, check=True, capture_output=True, timeout=600)
        debs = sorted(dest.glob(f"{package}_*.deb"))
    if not root.is_dir():
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(root)], check=True, capture_output=True)
    version = subprocess.run(["dpkg-deb", "-f", str(debs[-1]), "Version"], capture_output=True,
                             text=True, check=True).stdout.strip()
    return root, version


def wad_midi_lumps(path: Path) -> list[tuple[str, bytes]]:
    """The music lumps (``D_*``) of a Doom WAD that are standard MIDI files."""
    data = path.read_bytes()
    _, count, offset = struct.unpack("<4sii", data[:12])
    out = []
    for i in range(count):
        pos, size, raw = struct.unpack("<ii8s", data[offset + 16 * i: offset + 16 * i + 16])
        name = raw.rstrip(b"\0").decode("ascii", "replace")
        if name.startswith("D_") and data[pos:pos + 4] == b"MThd":
            out.append((name, data[pos:pos + size]))
    return out


def midi_profile(data: bytes) -> tuple[float, dict[int, int], dict[int, int]]:
    """(length s, notes per channel, first CC7 per channel) of a MIDI file."""
    import io

    import mido

    mid = mido.MidiFile(file=io.BytesIO(data))
    notes: dict[int, int] = {}
    cc7: dict[int, int] = {}
    for msg in mido.merge_tracks(mid.tracks):
        if msg.type == "note_on" and msg.velocity > 0:
            notes[msg.channel] = notes.get(msg.channel, 0) + 1
        elif msg.type == "control_change" and msg.control == 7:
            cc7.setdefault(msg.channel, msg.value)
    return mid.length, notes, cc7


def active_channels(notes: dict[int, int]) -> int:
    """Channels with at least :data:`MIDI_MIN_NOTES` notes."""
    return sum(n >= MIDI_MIN_NOTES for n in notes.values())


def midi_sources(out: Path) -> tuple[list[MidiSource], list[dict]]:
    """Pick the MIDI songs: freedink-data's with ≥4 active channels, and 10 of Freedoom's.

    Freedoom's are ranked by how much balance their composers wrote (number of
    distinct CC7 values among the active channels), then by active channels,
    among the songs of at most :data:`MIDI_MAX_SONG_S`.

    Returns
    -------
    tuple
        (the sources, songs-table rows for the ones not taken).
    """
    sources, skipped = [], []
    pkg_dir = out / "_packages"
    try:
        root, version = fetch_package("freedink-data", pkg_dir)
        for f in sorted((root / "usr/share/games/dink/dink/Sound").glob("*.mid")):
            data = f.read_bytes()
            _, notes, _ = midi_profile(data)
            src = MidiSource(f"freedink_{f.stem}", f"freedink-data {version}", str(f.relative_to(root)),
                             FREEDINK_LICENCES.get(f.name, "unknown"), data)
            if active_channels(notes) >= MIDI_MIN_ACTIVE:
                sources.append(src)
            else:
                skipped.append({"song": src.song_id, "family": "midi", "status": "skipped",
                                "reason": f"{active_channels(notes)} active channels (< {MIDI_MIN_ACTIVE})",
                                "licence": src.licence, "package": src.package, "source": src.source})
    except (subprocess.SubprocessError, OSError, IndexError) as exc:
        skipped.append({"song": "(package freedink-data)", "family": "midi", "status": "skipped",
                        "reason": f"could not fetch: {exc}"})
    try:
        root, version = fetch_package("freedoom", pkg_dir)
        ranked = []
        for wad in sorted((root / "usr/share/games/doom").glob("freedoom*.wad")):
            for name, data in wad_midi_lumps(wad):
                length, notes, cc7 = midi_profile(data)
                act = [c for c, n in notes.items() if n >= MIDI_MIN_NOTES]
                distinct = len({cc7.get(c, GM_DEFAULT_CC7) for c in act})
                src = MidiSource(f"{wad.stem}_{name}", f"freedoom {version}", f"{wad.relative_to(root)}:{name}",
                                 "BSD-3-clause (freedoom-license, (C) Contributors to the Freedoom project)", data)
                ranked.append((-distinct, -len(act), src.song_id, length, src))
        ranked.sort(key=lambda r: r[:3])
        taken = 0
        for neg_distinct, neg_act, _, length, src in ranked:
            if taken < FREEDOOM_SONGS and length <= MIDI_MAX_SONG_S and -neg_act >= MIDI_MIN_ACTIVE:
                sources.append(src)
                taken += 1
    except (subprocess.SubprocessError, OSError, IndexError) as exc:
        skipped.append({"song": "(package freedoom)", "family": "midi", "status": "skipped",
                        "reason": f"could not fetch: {exc}"})
    return sources, skipped


@dataclass
class MidiPart:
    """One stem of a MIDI song: a channel, or one drum-note group of channel 10."""

    stem_id: str
    channel: int
    drum_group: str | None
    notes: frozenset[int] | None  # drum notes kept, None = all


def plan_midi_parts(events: list, song_length: float) -> list[MidiPart]:
    """One part per channel with notes; channel 10 split into drum-note groups."""
    used: dict[int, set[int]] = {}
    for _, msg in events:
        if msg.type == "note_on" and msg.velocity > 0:
            used.setdefault(msg.channel, set()).add(msg.note)
    parts = []
    for ch in sorted(used):
        if ch != DRUM_CHANNEL:
            parts.append(MidiPart(f"ch{ch + 1:02d}", ch, None, None))
            continue
        rest = set(used[ch])
        for group, group_notes in DRUM_GROUPS.items():
            present = rest & set(group_notes)
            if present:
                parts.append(MidiPart(f"ch10_{group}", ch, group, frozenset(present)))
                rest -= present
        if rest:
            parts.append(MidiPart("ch10_percussion", ch, "percussion", frozenset(rest)))
    return parts


def absolute_events(mid) -> list:
    """All messages of a MIDI file as (absolute tick, message), in playing order."""
    import mido

    out, tick = [], 0
    for msg in mido.merge_tracks(mid.tracks):
        tick += msg.time
        out.append((tick, msg))
    return out


def write_part(mid, events: list, part: MidiPart, path: Path) -> None:
    """A type-0 MIDI file with the part's events (CC10 forced to 64) plus tempo, meta and sysex."""
    import mido

    track = mido.MidiTrack()
    last = 0
    end = events[-1][0] if events else 0
    track.append(mido.Message("control_change", channel=part.channel, control=10, value=64, time=0))
    for tick, msg in events:
        if msg.is_meta:
            if msg.type == "end_of_track":
                continue
        elif msg.type != "sysex":
            if msg.channel != part.channel:
                continue
            if part.notes is not None and msg.type in ("note_on", "note_off", "polytouch") \
                    and msg.note not in part.notes:
                continue
            if msg.type == "control_change" and msg.control == 10:
                msg = msg.copy(value=64)
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - last)))
    out = mido.MidiFile(type=0, ticks_per_beat=mid.ticks_per_beat)
    out.tracks.append(track)
    out.save(str(path))


def controller_value(mid, channel: int, control: int, default: int) -> tuple[float, bool, int]:
    """The author's controller value on a channel, weighted by time over the channel's active span.

    The span runs from the channel's first note-on to its last note event
    (seconds, tempo map applied). CC7 is averaged in power (the mean of
    ``(cc/127)**4``, i.e. of the squared GM gain ``(cc/127)**2``), other
    controllers linearly.

    Returns
    -------
    tuple
        (value on the 0–127 scale, whether it changes within the span, the first value).
    """
    t, start, stop = 0.0, math.inf, 0.0
    changes: list[tuple[float, int]] = []
    for msg in mid:  # delta times in seconds
        t += msg.time
        if msg.is_meta or msg.type == "sysex" or msg.channel != channel:
            continue
        if msg.type == "control_change" and msg.control == control:
            changes.append((t, msg.value))
        elif msg.type == "note_on" and msg.velocity > 0:
            start = min(start, t)
        if msg.type in ("note_on", "note_off"):
            stop = max(stop, t)
    if not changes:
        return float(default), False, default
    if not start < stop:
        start, stop = 0.0, t
    segments, prev_t, current = [], 0.0, default
    for when, value in changes + [(math.inf, default)]:
        w = min(when, stop) - max(prev_t, start)
        if w > 0:
            segments.append((current, w))
        prev_t, current = when, value
    if not segments:  # every change after the last note: the value in force at the first note
        before = [v for when, v in changes if when <= start]
        v = before[-1] if before else default
        return float(v), False, changes[0][1]
    total = sum(w for _, w in segments)
    if control == 7:
        value = 127.0 * (sum(w * (v / 127.0) ** 4 for v, w in segments) / total) ** 0.25
    else:
        value = sum(w * v for v, w in segments) / total
    return value, len({v for v, _ in segments}) > 1, changes[0][1]


def channel_program(events: list, channel: int) -> int | None:
    """The channel's first program change (GM 0–127), or None (GM default 0 = piano)."""
    for _, msg in events:
        if msg.type == "program_change" and msg.channel == channel:
            return msg.program
    return None


def channel_track_name(mid, channel: int) -> str:
    """The name of the track holding the channel's first note, or ''."""
    for track in mid.tracks:
        name = next((m.name for m in track if m.type == "track_name"), "")
        if any(not m.is_meta and m.type == "note_on" and m.channel == channel for m in track):
            return name.strip()
    return ""


def run_fluidsynth(mid_path: Path, wav_path: Path, timeout_s: float = 600.0) -> Path:
    """Render a MIDI file with FluidSynth + FluidR3_GM: float WAV, 44.1 kHz, reverb and chorus off."""
    cmd = ["fluidsynth", "-ni", "-g", "1.0", "-R", "0", "-C", "0", "-O", "float", "-F", str(wav_path),
           "-r", str(SR), str(SOUNDFONT), str(mid_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if res.returncode != 0 or not wav_path.is_file():
        raise RuntimeError(f"fluidsynth failed ({res.returncode}): {res.stderr[-300:]}")
    return wav_path


def describe_midi_part(mid, events: list, part: MidiPart) -> Stem:
    """The author's CC7, CC10, program and a name for one part."""
    cc7, cc7_changes, cc7_first = controller_value(mid, part.channel, 7, GM_DEFAULT_CC7)
    cc10, cc10_changes, cc10_first = controller_value(mid, part.channel, 10, GM_DEFAULT_CC10)
    program = channel_program(events, part.channel)
    drums = part.channel == DRUM_CHANNEL
    plugin = "fluidsynth-FluidR3_GM" + (" drum kit" if drums else "")
    track_name = channel_track_name(mid, part.channel)
    gm_name = ("GM drums" if drums else GM_PROGRAMS[program or 0])
    name = " / ".join(x for x in (track_name, gm_name, part.drum_group) if x)
    notes = []
    if cc7_changes:
        notes.append(f"CC7 changes (first {cc7_first}); author_gain_db is the power-weighted CC7 {cc7:.1f}")
    if cc10_changes:
        notes.append(f"CC10 changes (first {cc10_first}); author_pan is the time-weighted pan")
    if not any(m.type == "control_change" and m.control == 7 and m.channel == part.channel
               for _, m in events if not m.is_meta and m.type != "sysex"):
        notes.append("no CC7 in the file: GM default 100")
    extra = {"midi_channel": part.channel + 1, "cc7": round(cc7, 2), "cc10": round(cc10, 2),
             "gm_name": gm_name, "track_name": track_name}
    if part.drum_group:
        extra["drum_group"] = part.drum_group
        extra["drum_notes"] = sorted(part.notes or ())
    pan = max(-1.0, min(1.0, (cc10 - 64.0) / 64.0))
    return Stem(part.stem_id, name, db_or_none(40.0 * math.log10(cc7 / 127.0)) if cc7 > 0 else None, pan,
                cc7_changes or cc10_changes, plugin, None if drums else (program or 0), "; ".join(notes), extra)


def build_midi_song(src: MidiSource, out: Path, pool: ThreadPoolExecutor) -> str:
    """Render one MIDI song: the whole file (mix) and one file per part (stems)."""
    import io

    import mido

    song_dir = out / "midi" / slug(src.song_id, 80)
    mid = mido.MidiFile(file=io.BytesIO(src.data))
    events = absolute_events(mid)
    parts = plan_midi_parts(events, mid.length)
    work = Path(tempfile.mkdtemp(prefix=f"midi_{slug(src.song_id)}_", dir=out))
    try:
        (work / "song.mid").write_bytes(src.data)
        jobs = {"mix": pool.submit(run_fluidsynth, work / "song.mid", work / "mix.wav")}
        stems_info = []
        for part in parts:
            write_part(mid, events, part, work / f"{part.stem_id}.mid")
            jobs[part.stem_id] = pool.submit(run_fluidsynth, work / f"{part.stem_id}.mid", work / f"{part.stem_id}.wav")
            stems_info.append(describe_midi_part(mid, events, part))
        mix = read_audio(jobs["mix"].result())
        n = mix.shape[1]
        stems, pans, dropped = [], [], []
        for info in stems_info:
            audio = fit_length(read_audio(jobs[info.stem_id].result()), n)
            if is_silent(audio):
                dropped.append(f"{info.name}: renders silent")
                continue
            stems.append((info, audio))
            pans.append(sine_pan(info.author_pan))
        tempo = next((m.tempo for _, m in events if m.type == "set_tempo"), 500000)
        meta = {"song": src.song_id, "family": "midi", "source": src.source, "package": src.package,
                "licence": src.licence, "bpm": round(mido.tempo2bpm(tempo), 2),
                "renderer": f"fluidsynth {package_version('fluidsynth')} + FluidR3_GM.sf2 "
                            f"(fluid-soundfont-gm {package_version('fluid-soundfont-gm')}, MIT), reverb/chorus off",
                "pan_law": "FluidSynth CC10: constant power (sine) for mono voices",
                "skipped_tracks": dropped}
        doc = write_song(song_dir, meta, mix, stems, pans)
        return f"{src.song_id}: {len(doc['stems'])} stems, {doc['duration_s']:.0f} s"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_midi(out: Path, pool: ThreadPoolExecutor, names: set[str] | None = None) -> None:
    """Fetch the MIDI packages, pick the songs and render those not yet complete."""
    sources, skipped = midi_sources(out)
    for row in skipped:
        if row["song"].startswith("("):
            log(f"midi {row['song']}: {row['reason']}")
            continue
        write_status(out / "midi" / slug(row["song"], 80), row["song"], "midi", row.get("source", ""),
                     row.get("package", ""), row.get("licence", ""), row["status"], row["reason"])
    for src in sources:
        if names and src.song_id not in names:
            continue
        song_dir = out / "midi" / slug(src.song_id, 80)
        if is_complete(song_dir):
            log(f"midi {src.song_id}: complete, skipped")
            continue
        t0 = time.time()
        try:
            msg = build_midi_song(src, out, pool)
        except Exception as exc:  # noqa: BLE001 (record it and go on)
            write_status(song_dir, src.song_id, "midi", src.source, src.package, src.licence, "failed", repr(exc)[:500])
            msg = f"{src.song_id}: failed ({exc!r})"
        log(f"midi {msg} [{time.time() - t0:.0f} s]")


# =====================================================================
# Table
# =====================================================================
STEM_COLUMNS = ["song", "family", "stem_file", "name", "plugin", "program", "sample", "drum_group",
                "author_gain_db", "author_pan", "automated", "stem_lufs", "active_share", "licence"]
SONG_COLUMNS = ["song", "family", "status", "reason", "stems", "duration_s", "licence", "package", "source"]


def reserved_rows() -> list[dict]:
    """Songs-table rows for the reserved material (named, never opened)."""
    rows = [{"song": s, "family": "lmms", "status": "skipped",
             "reason": "reserved: held out for the project's acceptance checks"} for s in sorted(RESERVED_LMMS)]
    rows += [{"song": s, "family": "hydrogen", "status": "skipped",
              "reason": "reserved: held out for the project's acceptance checks"} for s in sorted(RESERVED_HYDROGEN)]
    rows += [{"song": f"(package {p})", "family": "midi", "status": "skipped",
              "reason": "reserved package: held out for the project's acceptance checks"}
             for p in sorted(RESERVED_PACKAGES)]
    return rows


def write_tables(out: Path, table_dir: Path) -> tuple[int, int]:
    """Rebuild both CSV tables from every ``song.json`` / ``status.json`` under ``out``.

    Returns
    -------
    tuple[int, int]
        (songs rendered, stems).
    """
    stem_rows, song_rows = [], []
    for family in FAMILIES:
        base = out / family
        if not base.is_dir():
            continue
        for song_dir in sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("_")):
            if is_complete(song_dir):
                doc = json.loads((song_dir / "song.json").read_text())
                song_rows.append({"song": doc["song"], "family": family, "status": "rendered",
                                  "reason": "; ".join(doc.get("skipped_tracks", []))[:400],
                                  "stems": len(doc["stems"]), "duration_s": doc["duration_s"],
                                  "licence": doc["licence"], "package": doc["package"], "source": doc["source"]})
                for s in doc["stems"]:
                    stem_rows.append({
                        "song": doc["song"], "family": family, "stem_file": f"{song_dir.name}/{s['file']}",
                        "name": s["name"], "plugin": s["plugin"], "program": s.get("program"),
                        "sample": s.get("sample") or s.get("samples", ""), "drum_group": s.get("drum_group", ""),
                        "author_gain_db": s["author_gain_db"], "author_pan": s["author_pan"],
                        "automated": s["automated"], "stem_lufs": s["stem_lufs"],
                        "active_share": s["active_share"], "licence": doc["licence"]})
            elif (song_dir / "status.json").is_file():
                st = json.loads((song_dir / "status.json").read_text())
                song_rows.append({k: st.get(k, "") for k in SONG_COLUMNS} | {"stems": 0})
    song_rows += reserved_rows()
    table_dir.mkdir(parents=True, exist_ok=True)
    for name, cols, rows in (("training_corpus.csv", STEM_COLUMNS, stem_rows),
                             ("training_corpus_songs.csv", SONG_COLUMNS, song_rows)):
        with open(table_dir / name, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
    return sum(r["status"] == "rendered" for r in song_rows), len(stem_rows)


# =====================================================================
# CLI
# =====================================================================
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/work/corpus"), help="corpus folder (default /work/corpus)")
    ap.add_argument("--only", choices=FAMILIES, help="build one family only")
    ap.add_argument("--jobs", type=int, default=2, help="renders at a time (default 2)")
    ap.add_argument("--songs", default="", help="comma-separated song names to build (default: all)")
    ap.add_argument("--table-dir", type=Path, default=REPO / "benchmarks" / "data",
                    help="where the CSV tables go (default: this repo's benchmarks/data)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the requested families, then rebuild the tables."""
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    names = {s for s in args.songs.split(",") if s} or None
    builders: dict[str, Callable[[Path, ThreadPoolExecutor, set[str] | None], None]] = {
        "lmms": build_lmms, "hydrogen": build_hydrogen, "midi": build_midi,
    }
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for family in FAMILIES:
            if args.only and family != args.only:
                continue
            builder = builders.get(family)
            if builder is None:
                continue
            log(f"== {family}")
            builder(args.out, pool, names)
    songs, stems = write_tables(args.out, args.table_dir)
    log(f"tables: {songs} songs, {stems} stems -> {args.table_dir} [{time.time() - t0:.0f} s total]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
