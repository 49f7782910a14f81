"""The preparation checks: what is wrong with each stem, and how to fix it.

The rules follow the stem-preparation guide of the product we measure against
(``shared/reference/stem-preparation-guide.txt``: WAV only, 16-bit / 44.1 kHz,
no clipping, nothing barely audible, no heavy limiting on stems, every stem
from 0:00 to the same end, descriptive names) and DESIGN §3. Each problem is a
:class:`Finding` with a stable ``code``; the codes are part of the public
interface (the CLI's JSON, the dashboard's badges).

Checks run in two phases per stem: header checks from ``soundfile.info`` (about
30 µs a file) and one streamed pass over the audio in blocks, which keeps only a
few numbers per 100 ms window. A damaged file never raises: whatever goes wrong
becomes an ``unreadable`` finding for that stem.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf

from . import categories, workers
from .audio_io import iter_blocks
from .units import amp_to_db, db_to_amp, db_to_power, power_to_db

Severity = Literal["error", "warning", "note"]

#: Formats accepted as WAV by content (libsndfile's major formats). RF64 and W64
#: are WAV's large-file variants. Anything else — MP3, FLAC, OGG, AIFF — is not a WAV.
WAV_FORMATS = ("WAV", "WAVEX", "RF64", "W64")

#: Output spec of the product (DESIGN §6, and the guide: "16-bit, 44.1 kHz").
TARGET_SAMPLE_RATE = 44100
TARGET_BIT_DEPTH = 16

#: A clip is a run of at least this many consecutive samples at full scale. Three
#: consecutive full-scale samples is the usual threshold of clip detectors in
#: mastering meters (e.g. the "3 consecutive samples" over counters of
#: RME DIGICheck and Sonic Visualiser's clipping plug-ins); one full-scale sample
#: can be a legitimately normalised peak.
CLIP_RUN_SAMPLES = 3
#: Full scale for 16-bit PCM is 32767/32768; a hair below 1.0 catches it.
CLIP_LEVEL = 32766 / 32768

#: A stem whose loudest sample is below this is "barely registering" (guide:
#: "if a track is so quiet that it is barely registering, fix that too").
#: −40 dBFS peak leaves the loudest moment 40 dB below full scale: below the
#: noise floor of a 16-bit mix after a normal fader move, and quieter than any
#: intentional bounce. A stem with no sample above −90 dBFS (below 16-bit
#: dither, 20·log10(1/32768) ≈ −90.3 dB) is silent.
TOO_QUIET_PEAK_DBFS = -40.0
SILENT_PEAK_DBFS = -90.0

#: DC offset: a mean of 1% of full scale (−40 dBFS) or more on any channel.
#: Real converters and plug-ins stay far below this (< −60 dBFS); above it the
#: offset eats headroom and makes clicks at edits, so it is worth fixing.
DC_OFFSET_LEVEL = 0.01

#: Heavy limiting on a stem (guide: "avoid heavy limiting or mastering-style
#: processing on individual stems"). All three must hold over the active part:
#: a low crest factor (peak to RMS; unprocessed instruments measure 12–20 dB,
#: limited masters 6–9 dB — Katz, *Mastering Audio*, 3rd ed., ch. 5 and the
#: crest-factor figures of Vickers 2010, "The loudness war", AES 129),
#: a flat level (short-term level spread, p90 − p10 of 3 s windows, below 3 dB;
#: EBU Tech 3342 loudness range of heavily compressed material is a few LU),
#: and peaks pinned at one ceiling (many windows reach within 0.5 dB of the top)
#: while the level underneath still moves from one 100 ms window to the next
#: (p90 − p10 ≥ 2 dB): a limiter flattens the peaks of music that has beats and
#: notes, whereas a steady drone or synth tone is flat everywhere and not limited.
LIMITING_CREST_DB = 8.0
LIMITING_SPREAD_DB = 3.0
LIMITING_PINNED_SHARE = 0.3
LIMITING_MIN_SHORT_SPREAD_DB = 2.0

#: Lengths closer than this are the same length (one 10 ms audio buffer).
LENGTH_TOLERANCE_S = 0.01
#: A shorter stem whose sound begins within this of its first sample looks like
#: it was bounced from its first region rather than from 0:00.
LATE_START_ONSET_S = 0.05

WINDOW_S = 0.1  # level-statistics window for the streamed pass


@dataclass(frozen=True)
class Finding:
    """One problem (or remark) about a stem or the whole session.

    Attributes
    ----------
    stem : str or None
        The stem's file name, or ``None`` for a session-wide finding.
    severity : {"error", "warning", "note"}
        ``error``: cannot mix; ``warning``: will mix, the result may suffer;
        ``note``: for information.
    code : str
        Stable machine-readable code (see module docstring).
    value : float, int, str or None
        What was measured (seconds, dB, a count, a sample rate...).
    message : str
        What was found, in a musician's words.
    fix : str
        What to do about it.
    """

    stem: str | None
    severity: Severity
    code: str
    value: float | int | str | None
    message: str
    fix: str

    def to_dict(self) -> dict:
        d = asdict(self)
        if isinstance(self.value, float) and not math.isfinite(self.value):
            d["value"] = None
        return d


@dataclass
class _AudioStats:
    """What the streamed pass keeps of one stem: a few numbers per 100 ms window."""

    nonfinite: int
    peak: float
    clip_runs: int
    first_clip_s: float | None
    dc: np.ndarray  # per-channel mean
    first_active_s: float | None
    window_peak: np.ndarray
    window_power: np.ndarray
    #: 250 ms tile powers for the category model's excerpt (classify.TilePower).
    tile_power: np.ndarray | None = None


# --------------------------------------------------------------------------- entry


def run_checks(session, *, check_audio: bool = True, stats_out: dict | None = None) -> list[Finding]:
    """Run every check on a session, filling in each stem's header fields.

    Parameters
    ----------
    session : Session
        Stems with ``path`` set; header fields are filled in here.
    check_audio : bool
        Also run the checks that read the audio.
    stats_out : dict or None
        When given, receives what the streamed pass measured of each stem it
        read (``{file: stats}``), for the category model's excerpt.

    Returns
    -------
    list of Finding
        Session-wide findings first, then each stem's in stem order.
    """
    findings: list[Finding] = []
    if len(session.stems) > session.max_stems:
        findings.append(Finding(
            None, "error", "too_many_stems", len(session.stems),
            f"The session has {len(session.stems)} stems; the limit is {session.max_stems}.",
            f"Combine related parts (e.g. double-tracked guitars) so that at most "
            f"{session.max_stems} stems remain, or raise the limit in the settings."))

    per_stem: dict[str, list[Finding]] = {s.file: [] for s in session.stems}
    audio: dict[str, list[Finding]] = {s.file: [] for s in session.stems}
    stats: dict[str, _AudioStats] = {}
    to_read = []
    for stem in session.stems:
        per_stem[stem.file].extend(_safe(stem, lambda: _header_checks(stem)))
        if stem.readable and check_audio and not any(f.severity == "error" for f in per_stem[stem.file]):
            to_read.append(stem)
    # The streamed passes run side by side (workers.py); the checks on what
    # they measured run here.
    jobs = [(stem.path, stem.sample_rate) for stem in to_read]
    seconds = sum(stem.duration_s or 0.0 for stem in to_read)
    for k, fut in workers.run_each(_read_stats, jobs, seconds=seconds):
        stem = to_read[k]

        def audio_pass(stem=stem, fut=fut):
            st = fut.result()
            stats[stem.file] = st
            return _audio_checks(stem, st)
        audio[stem.file] = _safe(stem, audio_pass)
    for stem in session.stems:
        per_stem[stem.file].extend(audio[stem.file])
        per_stem[stem.file].extend(_name_checks(stem))

    findings.extend(_session_checks(session, stats, per_stem))
    if stats_out is not None:
        stats_out.update(stats)
    for stem in session.stems:
        findings.extend(per_stem[stem.file])
    return findings


def _safe(stem, fn) -> list[Finding]:
    """Run a check; any exception becomes an ``unreadable`` finding, never a traceback."""
    try:
        return fn()
    except Exception as exc:  # a damaged file must not stop the other stems' checks
        return [Finding(stem.file, "error", "unreadable", type(exc).__name__,
                        f"{stem.file} could not be read to the end ({_short(exc)}).",
                        "Export the stem again as a WAV file from your DAW.")]


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# --------------------------------------------------------------------------- header


def sniff_format(path: Path) -> str:
    """Name the container a file's first bytes say it is (``"WAV"``, ``"MP3"``...).

    Returns ``"unknown"`` when the bytes match no common audio format.
    """
    with open(path, "rb") as f:
        head = f.read(16)
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"riff":  # Sony Wave64 GUID starts with 'riff'
        return "W64"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:4] == b"FORM":
        return "AIFF"
    if head[4:8] == b"ftyp":
        return "MP4/AAC"
    return "unknown"


def _header_checks(stem) -> list[Finding]:
    path, name = stem.path, stem.file
    size = path.stat().st_size
    if size == 0:
        return [Finding(name, "error", "empty", 0, f"{name} is an empty file (0 bytes).",
                        "Bounce the stem again; the export probably failed.")]
    sniffed = sniff_format(path)
    if sniffed not in ("WAV", "W64"):
        what = "not an audio format we recognise" if sniffed == "unknown" else f"an {sniffed} file"
        return [Finding(name, "error", "not_wav", sniffed,
                        f"{name} is {what}, not a WAV (judged by its content, not its name).",
                        "Export the stem from your DAW as WAV (16-bit, 44.1 kHz); converting an "
                        "MP3 or other compressed file to WAV does not bring back the lost quality.")]
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        shown = os.fsencode(name).decode("utf-8", "replace")
        return [Finding(name, "error", "bad_file_name", shown,
                        f"The file name {shown!r} is not valid UTF-8 (it was written in another system's "
                        "encoding), so the audio libraries cannot open the file; the audio itself may be fine.",
                        "Rename the file using plain letters, digits and spaces (or convert the names with "
                        "`convmv -f latin1 -t utf8 --notest FILE`), then check again.")]
    try:
        info = sf.info(str(path))
    except Exception as exc:
        return [Finding(name, "error", "unreadable", sniffed,
                        f"{name} starts like a WAV but its header is damaged or cut short "
                        f"({_short(exc)}).",
                        "Export the stem again; if it was copied or downloaded, copy it again.")]
    if info.format not in WAV_FORMATS:
        return [Finding(name, "error", "not_wav", info.format,
                        f"{name} is a {info.format} file, not a WAV.",
                        "Export the stem from your DAW as WAV (16-bit, 44.1 kHz).")]
    stem.sample_rate, stem.channels, stem.frames = info.samplerate, info.channels, info.frames
    stem.subtype, stem.format = info.subtype, info.format

    findings: list[Finding] = []
    if info.frames == 0:
        stem.frames = None
        return [Finding(name, "error", "empty", 0, f"{name} holds no audio (0 samples).",
                        "Bounce the stem again from 0:00 to the end of the song.")]
    truncated = _truncated_seconds(path, info)
    if truncated:
        findings.append(Finding(
            name, "error", "unreadable", round(truncated, 3),
            f"{name} is cut short: its header promises {truncated:.2f} s more audio than the file holds.",
            "The file was not fully written or copied. Export or copy it again."))
    if info.channels > 2:
        findings.append(Finding(
            name, "error", "channels", info.channels,
            f"{name} has {info.channels} channels; stems must be mono or stereo.",
            "Export the stem as mono or stereo (split surround stems into separate files)."))
    if info.samplerate != TARGET_SAMPLE_RATE:
        low = info.samplerate < TARGET_SAMPLE_RATE
        findings.append(Finding(
            name, "warning" if low else "note", "sample_rate", info.samplerate,
            f"{name} is at {info.samplerate / 1000:g} kHz"
            + (", below CD quality; high frequencies above "
               f"{info.samplerate / 2000:g} kHz are missing." if low else
               "; the mix is made at 44.1 kHz, so it will be resampled."),
            "Export at 44.1 kHz, the rate of the finished mix."))
    bits = stem.bit_depth
    if info.subtype in ("FLOAT", "DOUBLE"):
        findings.append(Finding(
            name, "note", "bit_depth", f"{bits}-bit float",
            f"{name} is {bits}-bit float; that gives no benefit here and only makes the file larger.",
            "Export at 16-bit (or 24-bit)."))
    elif bits is not None and bits < TARGET_BIT_DEPTH:
        findings.append(Finding(
            name, "warning", "bit_depth", bits,
            f"{name} is {bits}-bit: audible noise and distortion at quiet levels.",
            "Export at 16-bit or 24-bit."))
    elif bits is None:
        findings.append(Finding(
            name, "note", "bit_depth", info.subtype,
            f"{name} uses the {info.subtype} sample format.", "Export as 16-bit PCM WAV."))
    elif bits > TARGET_BIT_DEPTH:
        findings.append(Finding(
            name, "note", "bit_depth", bits,
            f"{name} is {bits}-bit; fine — the mix is delivered at 16-bit with dither.",
            "Nothing to do (16-bit stems are smaller)."))
    return findings


def _truncated_seconds(path: Path, info) -> float:
    """Seconds of audio a RIFF/WAVE header promises beyond the end of the file (0 if none).

    Streaming writers leave the data size as 0 or 0xFFFFFFFF; those are not truncation.
    """
    if info.format not in ("WAV", "WAVEX"):
        return 0.0
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF":
            return 0.0
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            hdr = f.read(8)
            if len(hdr) < 8:
                return 0.0
            cid, csize = hdr[:4], int.from_bytes(hdr[4:], "little")
            if cid == b"data":
                if csize in (0, 0xFFFFFFFF):
                    return 0.0
                missing = pos + 8 + csize - size
                frame_bytes = max(1, info.channels * (_BYTES.get(info.subtype, 2)))
                return missing / frame_bytes / info.samplerate if missing > frame_bytes else 0.0
            pos += 8 + csize + (csize & 1)
    return 0.0


_BYTES = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


# --------------------------------------------------------------------------- audio


def _read_stats(path: Path, sample_rate: int) -> _AudioStats:
    """One streamed pass: non-finite count, peak, clip runs, DC, onset, per-window levels."""
    from .analysis.classify import TilePower

    win = max(1, int(round(WINDOW_S * sample_rate)))
    tiles = TilePower(sample_rate)
    nonfinite = 0
    peak = 0.0
    clip_runs = 0
    first_clip: int | None = None
    carry_run: np.ndarray | None = None  # per-channel length of the clip run at the block end
    dc_sum: np.ndarray | None = None
    pos = 0
    first_active: int | None = None
    win_peak: list[np.ndarray] = []
    win_pow: list[np.ndarray] = []
    tail = None  # samples not yet forming a full window

    # Blocks are a multiple of the window so windows never straddle blocks.
    for block in iter_blocks(path, block_frames=win * 16):
        ch, n = block.shape
        bad = ~np.isfinite(block)
        if bad.any():
            nonfinite += int(bad.sum())
            block = np.where(bad, 0.0, block).astype(np.float32)
        a = np.abs(block)
        mono_abs = a.max(axis=0)
        peak = max(peak, float(mono_abs.max(initial=0.0)))
        sq = block.astype(np.float64) ** 2                      # (ch, n) powers, for levels
        tiles.push_power(sq.sum(axis=0) / ch)
        dc_sum = block.sum(axis=1, dtype=np.float64) + (0 if dc_sum is None else dc_sum)

        # clip runs, per channel, carried across blocks
        if carry_run is None:
            carry_run = np.zeros(ch, dtype=np.int64)
        hot = a >= CLIP_LEVEL
        for c in range(ch):
            idx = np.flatnonzero(hot[c])
            if idx.size == 0 or idx[0] != 0:
                # a run carried from the previous block ended at the block boundary
                if carry_run[c] >= CLIP_RUN_SAMPLES:
                    clip_runs += 1
                carry_run[c] = 0
            if idx.size == 0:
                continue
            breaks = np.flatnonzero(np.diff(idx) != 1)
            starts = np.concatenate(([idx[0]], idx[breaks + 1]))
            ends = np.concatenate((idx[breaks], [idx[-1]]))
            lengths = ends - starts + 1
            if starts[0] == 0:
                lengths[0] += carry_run[c]
            if ends[-1] == n - 1:  # the last run continues into the next block
                carry_run[c] = lengths[-1]
                lengths, starts = lengths[:-1], starts[:-1]
            else:
                carry_run[c] = 0
            long_runs = np.flatnonzero(lengths >= CLIP_RUN_SAMPLES)
            if long_runs.size:
                clip_runs += int(long_runs.size)
                at = pos + int(starts[long_runs[0]])
                first_clip = at if first_clip is None else min(first_clip, at)

        # first audible sample: above −60 dBFS (well above dither, well below any real part)
        if first_active is None:
            loud = np.flatnonzero(mono_abs > 1e-3)
            if loud.size:
                first_active = pos + int(loud[0])

        # per-window peak and mean power
        full = (n // win) * win
        if full:
            w = a[:, :full].reshape(ch, -1, win)
            win_peak.append(w.max(axis=(0, 2)))
            win_pow.append(sq[:, :full].reshape(ch, -1, win).mean(axis=(0, 2)))
        if n > full:
            tail = block[:, full:]
            win_peak.append(np.array([np.abs(tail).max()]))
            win_pow.append(np.array([float(sq[:, full:].mean())]))
        pos += n

    if carry_run is not None:
        k = int((carry_run >= CLIP_RUN_SAMPLES).sum())
        clip_runs += k
    frames = max(pos, 1)
    return _AudioStats(
        nonfinite=nonfinite,
        peak=peak,
        clip_runs=clip_runs,
        first_clip_s=None if first_clip is None else first_clip / sample_rate,
        dc=(dc_sum if dc_sum is not None else np.zeros(1)) / frames,
        first_active_s=None if first_active is None else first_active / sample_rate,
        window_peak=np.concatenate(win_peak) if win_peak else np.zeros(0),
        window_power=np.concatenate(win_pow) if win_pow else np.zeros(0),
        tile_power=tiles.result(),
    )


def _db(x: float) -> float:
    return amp_to_db(float(x))


def _audio_checks(stem, st: _AudioStats) -> list[Finding]:
    name = stem.file
    out: list[Finding] = []
    if st.nonfinite:
        out.append(Finding(
            name, "error", "nan_samples", st.nonfinite,
            f"{name} contains {st.nonfinite} invalid samples (NaN or infinity) — a plug-in "
            "or the export produced broken audio.",
            "Find the plug-in that misbehaves (often a denormal or unstable filter), "
            "then export again."))
        return out
    peak_db = _db(st.peak)
    if peak_db < SILENT_PEAK_DBFS:
        out.append(Finding(
            name, "warning", "silent", None if peak_db == float("-inf") else round(peak_db, 1),
            f"{name} is silent (no sample above {SILENT_PEAK_DBFS:g} dBFS).",
            "Check that the right track was exported, or leave this stem out."))
        return out
    if peak_db < TOO_QUIET_PEAK_DBFS:
        out.append(Finding(
            name, "warning", "too_quiet", round(peak_db, 1),
            f"{name} is barely audible: its loudest moment peaks at {peak_db:.1f} dBFS.",
            "Raise the track's level (clip gain or fader) before exporting, so that its "
            "peaks reach roughly −12 to −6 dBFS."))
    if st.clip_runs:
        at = f" (first at {_clock(st.first_clip_s)})" if st.first_clip_s is not None else ""
        out.append(Finding(
            name, "warning", "clipping", st.clip_runs,
            f"{name} clips: {st.clip_runs} run{'s' if st.clip_runs != 1 else ''} of "
            f"{CLIP_RUN_SAMPLES} or more samples at full scale{at}.",
            "Lower the track's level or the plug-in output before the export and bounce it "
            "again; clipping baked into a stem cannot be undone by mixing."))
    dc = float(np.max(np.abs(st.dc)))
    if dc >= DC_OFFSET_LEVEL:
        out.append(Finding(
            name, "warning", "dc_offset", round(_db(dc), 1),
            f"{name} has a DC offset of {_db(dc):.1f} dBFS ({dc * 100:.1f}% of full scale): "
            "the waveform sits off centre.",
            "Apply your DAW's 'remove DC offset' (or a high-pass at ~20 Hz) and export again."))
    limiting = _limiting(st)
    if limiting is not None:
        crest, spread = limiting
        out.append(Finding(
            name, "warning", "heavy_limiting", round(crest, 1),
            f"{name} looks heavily limited: crest factor {crest:.1f} dB, level varying only "
            f"{spread:.1f} dB, with its peaks pressed against one ceiling.",
            "Export the stem without the limiter or mastering chain on it; the mix needs "
            "the natural dynamics."))
    return out


def _limiting(st: _AudioStats) -> tuple[float, float] | None:
    """(crest dB, level spread dB) when the stem looks heavily limited, else None."""
    if st.window_power.size < 30 or st.peak <= 0:  # need ~3 s of audio
        return None
    p = st.window_power
    loud = p.max()
    active = p > loud * db_to_power(-40.0)  # within 40 dB of the loudest window
    if active.sum() < 30:
        return None
    crest = _db(st.peak) - power_to_db(float(p[active].mean()))
    # 3 s windows (30 × 100 ms) over the active part: spread of their level
    pa = p[active]
    k = 30
    if pa.size < k:
        return None
    three = np.convolve(pa, np.ones(k) / k, mode="valid")
    levels = power_to_db(three, floor=True)
    spread = float(np.percentile(levels, 90) - np.percentile(levels, 10))
    pinned = float((st.window_peak[active] >= st.peak * db_to_amp(-0.5)).mean())
    short = power_to_db(pa, floor=True)
    moving = float(np.percentile(short, 90) - np.percentile(short, 10)) >= LIMITING_MIN_SHORT_SPREAD_DB
    if crest < LIMITING_CREST_DB and spread < LIMITING_SPREAD_DB and pinned >= LIMITING_PINNED_SHARE and moving:
        return crest, spread
    return None


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:05.2f}"


# --------------------------------------------------------------------------- names


def _name_checks(stem) -> list[Finding]:
    out = []
    if categories.is_generic_name(stem.file):
        out.append(Finding(
            stem.file, "warning", "generic_name", stem.name,
            f"“{stem.name}” does not say what the stem is, so its category cannot be "
            "suggested from the name and is easy to get wrong.",
            "Rename the file after the instrument (e.g. “Kick”, “Lead Vocal”, “Acoustic "
            "Guitar”), or pick its category by hand."))
    note = categories.group_note(categories.suggest_from_name(stem.file))
    if note:
        out.append(Finding(stem.file, "note", "grouped_stem", stem.name, note,
                           "If you have the separate parts, export them as separate stems."))
    return out


# --------------------------------------------------------------------------- session


def _session_checks(session, stats: dict[str, _AudioStats],
                    per_stem: dict[str, list[Finding]]) -> list[Finding]:
    out: list[Finding] = []
    readable = [s for s in session.stems if s.readable
                and not any(f.severity == "error" for f in per_stem[s.file])]

    # duplicate display names (two files that will look the same in a DAW and the plan)
    base = {s.file: categories.display_name(s.file) for s in session.stems}
    counts = Counter(b.casefold() for b in base.values())
    for s in session.stems:
        if counts[base[s.file].casefold()] > 1:
            per_stem[s.file].append(Finding(
                s.file, "warning", "duplicate_name", base[s.file],
                f"Several stems are called “{base[s.file]}”; they are hard to tell apart in the "
                "mix report and in your DAW.",
                "Give each stem its own name (e.g. “Guitar L” and “Guitar R”)."))

    rates = Counter(s.sample_rate for s in readable)
    if len(rates) > 1:
        target = session.sample_rate
        others = ", ".join(f"{r / 1000:g} kHz ({n})" for r, n in sorted(rates.items()) if r != target)
        out.append(Finding(
            None, "note", "mixed_sample_rates", ", ".join(str(r) for r in sorted(rates)),
            f"The stems use different sample rates: {others} besides {target / 1000:g} kHz. "
            f"They will be resampled to {target / 1000:g} kHz when mixed.",
            "Export every stem at the same rate (44.1 kHz) to avoid resampling."))

    # lengths: the reference is the most common length (within 10 ms)
    if len(readable) >= 2:
        durs = {s.file: s.frames / s.sample_rate for s in readable}
        ref = _modal_length(list(durs.values()))
        for s in readable:
            d = durs[s.file] - ref
            if abs(d) <= LENGTH_TOLERANCE_S:
                continue
            st = stats.get(s.file)
            starts_at_once = (st is not None and st.first_active_s is not None
                              and st.first_active_s <= LATE_START_ONSET_S)
            if d < 0 and starts_at_once:
                per_stem[s.file].append(Finding(
                    s.file, "warning", "late_start", round(-d, 3),
                    f"{s.file} is {-d:.2f} s shorter than the other stems and its sound starts "
                    "right at its first sample: it looks bounced from where the part comes in, "
                    f"with {-d:.2f} s missing from the front. It would play out of time.",
                    "Export it again from 0:00 of the song, keeping the silence before the "
                    "part comes in."))
            else:
                what = "shorter" if d < 0 else "longer"
                per_stem[s.file].append(Finding(
                    s.file, "warning", "length_mismatch", round(d, 3),
                    f"{s.file} is {abs(d):.2f} s {what} than most stems "
                    f"({durs[s.file]:.2f} s against {ref:.2f} s).",
                    "Export every stem over the same range, from 0:00 to the end of the song. "
                    "Shorter stems are padded with silence at the end."))
    return out


def _modal_length(durations: list[float]) -> float:
    """The length most stems share (within the tolerance); ties go to the longest."""
    best, best_n = max(durations), 0
    for d in sorted(durations, reverse=True):
        n = sum(abs(x - d) <= LENGTH_TOLERANCE_S for x in durations)
        if n > best_n:
            best, best_n = d, n
    return best


def summarise(findings: list[Finding]) -> dict[str, int]:
    """Count findings by severity."""
    c = Counter(f.severity for f in findings)
    return {k: c.get(k, 0) for k in ("error", "warning", "note")}
