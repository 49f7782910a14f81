"""Export a mix plan as a DAWproject file (``.dawproject``), the open exchange format.

A ``.dawproject`` is a zip of ``project.xml``, ``metadata.xml`` and the audio
(DAWproject 1.0, Bitwig, MIT; schemas vendored in ``tests/data/dawproject-xsd``).
Bitwig Studio, Studio One, Cubase 14, Cubasis, VST Live and n-Track import it;
Ableton Live does not (see :mod:`workbench.export.als`).

What the project holds, all read from the :class:`~workbench.mixing.plan.MixPlan`:

- one audio track per stem, named as the stem, with one clip at 0:00 over the
  stem's whole length (arrangement in seconds, so the tempo moves nothing);
- per track a mixer channel: fader, pan, mute, the built-in Equalizer with the
  plan's bands in order, the built-in Compressor, a post-fader send to the reverb;
- a return track "Reverb" (an Equalizer with the plan's return filters; insert a
  reverb before it — DAWproject has no built-in reverb) routed to the master;
- the master track with the glue Compressor (when planned) and a Limiter;
- every decision's reason as the ``comment`` of its track or device.

Unit mappings (the plan's units → DAWproject's)
-----------------------------------------------
Fader (``Volume``, unit ``linear``, 1.0 = 0 dB)
    The stem's ``gain_db`` is the fader: ``10 ** (gain_db / 20)``. The plan
    applies the gain first (before EQ and compressor) while a DAW's fader comes
    after the inserts, so two things keep the sound identical: the compressor's
    threshold is lowered by the fader gain (``threshold_db − fader_db``: a
    compressor's gain reduction depends only on level above threshold, so
    compressing ``x`` at ``T − g`` and then adding ``g`` equals adding ``g`` and
    compressing at ``T``), and any gain above :data:`FADER_MAX_DB` (+6 dB, the top
    of the faders of Bitwig, Cubase and Live) goes to the Equalizer's
    ``InputGain`` — before the EQ, exactly where the plan applies it — so that no
    importer clamps it away. Fader dB + EQ input gain dB = ``gain_db``.
Pan (unit ``normalized``, 0.5 = centre)
    ``(pan + 1) / 2``: −1 (hard left) → 0, 0 → 0.5, +1 (hard right) → 1. The pan
    law is the importing DAW's.
Equalizer bands
    ``highpass``/``lowpass`` → ``highPass``/``lowPass`` with ``order`` = slope / 6
    (Butterworth order: 6 → 1, 12 → 2, 24 → 4; the plan's filters are
    Butterworth, see :mod:`workbench.mixing.response`) and ``Q``; ``bell`` →
    ``bell``, ``low_shelf`` → ``lowShelf``, ``high_shelf`` → ``highShelf`` with
    ``Freq`` (hertz), ``Gain`` (decibel) and ``Q`` (linear). The current
    reference Javadoc describes ``order`` as "the index of the band"; we read it
    as the filter order (the field's name, and the only reading that carries the
    slope) and write it on pass filters only.
Compressor
    ``Threshold`` (decibel, shifted as above), ``Attack``/``Release`` in seconds
    (the reference documents seconds; plan ms / 1000), ``InputGain`` 0 dB,
    ``OutputGain`` = make-up dB, ``AutoMakeup`` false. ``Ratio``: the reference
    documents it as "percent (0-100)" without saying what a percentage of a ratio
    is. We store ``100 · (1 − 1/ratio)`` with unit ``percent``: the share of the
    level above threshold that is removed, 0 % = 1:1 (no compression), 50 % = 2:1,
    75 % = 4:1, 100 % = ∞:1 (limiting). It is the one reading under which 0–100
    spans every ratio from 1:1 to ∞:1, it is exactly invertible
    (``ratio = 1 / (1 − p/100)``), and an importer that reads the value as a
    percentage gets a value in its documented range. The plain ratio ("4:1") is
    repeated in the parameter's ``comment``. A compressor with ratio ≤ 1 (the
    plan's "no compression") is not written.
Sends (``Volume``, unit ``linear``)
    ``10 ** (reverb_send_db / 20)``, type ``post`` (the plan takes the send after
    gain, EQ and compression). ``reverb_send_db`` None → no send.
Reverb return fader
    ``10 ** (return_db / 20)``; its Equalizer holds the plan's ``highpass_hz`` and
    ``lowpass_hz`` without an ``order`` (the plan does not state their slope).
Master
    Fader 1.0 (0 dB); glue compressor as above (threshold unshifted: the master
    fader is 0 dB); ``Limiter`` with ``Threshold`` = ``ceiling_dbtp``.

What it does not carry
----------------------
The reverb itself (no built-in reverb: the return's comment lists the plan's
room size, damping, width and pre-delay), each stem's stereo ``width`` (no such
parameter; noted in the track comment when below 1), the master's loudness
normalisation to ``target_lufs`` (a gain the renderer measures; the Limiter's
comment says what to do), dither and the output format, and the pan law. The
tempo is unknown: 120 bpm, 4/4 are written (the timeline is in seconds, so it
changes nothing but the DAW's grid).

Audio
-----
By default the stems are embedded under ``audio/`` in the zip, under safe,
unique names (:mod:`workbench.export.names`). With ``embed_audio=False`` they
are copied next to the project into ``<project>_audio/`` and referenced by paths
relative to the project (``external="true"``). The user's files are only read.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from ..audio_io import atomic_path
from ..errors import ParameterError, WorkbenchError
from ..tempo import clip_offset_s
from .levels import pan_law_offset_db
from .names import (ExportStem, check_not_input, copy_stems, decision_notes, plan_stems, prepare_sources,
                    unique_file_names, xml_text)
from ..units import amp_to_db, db_to_amp

#: DAWproject format version written.
FORMAT_VERSION = "1.0"
#: Written when the plan has no tempo grid. The arrangement is in seconds, so
#: the tempo only sets the DAW's bar grid.
DEFAULT_TEMPO_BPM = 120.0
TIME_SIGNATURE = (4, 4)
#: The highest fader setting written; more gain goes to the EQ's input gain.
#: +6 dB is the top of the faders of Bitwig (2.0 linear), Cubase and Live.
FADER_MAX_DB = 6.0
APPLICATION_NAME = "Mixing Workbench"
PROJECT_XML = "project.xml"
METADATA_XML = "metadata.xml"
#: Folder of the embedded audio inside the zip.
AUDIO_FOLDER = "audio"
RETURN_NAME = "Reverb"
#: The track that carries the rendered reverb return (when the export is given it).
RENDERED_RETURN_NAME = "Reverb (rendered)"
MASTER_NAME = "Master"
#: Zip member timestamp (the zip format's earliest date): the same plan and
#: stems give a byte-identical archive.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
#: Zip member permissions: an ordinary file, rw-r--r--.
ZIP_FILE_MODE = 0o100644
#: Q of the two second-order sections of a 4th-order Butterworth filter
#: (``1 / (2·sin((2k − 1)·π/8))``, k = 1, 2; Butterworth pole angles, e.g.
#: Zölzer, *Digital Audio Signal Processing*, 2nd ed., §5.2). A 12 dB/oct band is one
#: section with Q = 1/√2.
BUTTERWORTH_SECTION_Q = {12: (1.0 / math.sqrt(2.0),),
                         24: (1.0 / (2.0 * math.sin(math.pi / 8.0)), 1.0 / (2.0 * math.sin(3.0 * math.pi / 8.0)))}
PLAN_POINTER = "Decisions and reasons: plan.json / report.md"

#: Plan EQ kinds → DAWproject ``eqBandType``.
EQ_BAND_TYPES = {"highpass": "highPass", "lowpass": "lowPass", "bell": "bell",
                 "low_shelf": "lowShelf", "high_shelf": "highShelf"}


# --------------------------------------------------------------------------- unit mappings
def db_to_linear(db: float) -> float:
    """Amplitude factor of a level in dB (0 dB → 1.0)."""
    return db_to_amp(float(db))


def linear_to_db(x: float) -> float:
    """Level in dB of an amplitude factor (1.0 → 0 dB; 0 → −inf)."""
    return amp_to_db(x)


def pan_to_normalized(pan: float) -> float:
    """Plan pan −1..1 → DAWproject normalized pan 0..1 (0.5 = centre)."""
    return (float(pan) + 1.0) / 2.0


def normalized_to_pan(value: float) -> float:
    return 2.0 * float(value) - 1.0


def ratio_to_percent(ratio: float) -> float:
    """Compression ratio → ``100·(1 − 1/ratio)`` percent (1:1 → 0, 2:1 → 50, ∞:1 → 100)."""
    if not ratio >= 1.0:
        raise ParameterError(f"compression ratio must be at least 1, got {ratio}")
    return 100.0 * (1.0 - 1.0 / float(ratio))


def percent_to_ratio(percent: float) -> float:
    """Inverse of :func:`ratio_to_percent` (100 % → inf)."""
    return math.inf if percent >= 100.0 else 1.0 / (1.0 - float(percent) / 100.0)


def split_gain(gain_db: float) -> tuple[float, float]:
    """A stem's gain as ``(fader_db, eq_input_gain_db)``.

    The fader takes it up to :data:`FADER_MAX_DB`; the rest goes before the EQ.
    """
    fader = min(float(gain_db), FADER_MAX_DB)
    return fader, float(gain_db) - fader


def filter_order(slope_db_per_oct: int) -> int:
    """Butterworth order of a pass filter from its slope (12 dB/oct → 2, 24 → 4)."""
    return int(slope_db_per_oct) // 6


# --------------------------------------------------------------------------- export
def write_dawproject(plan, session, path: str | os.PathLike, *, embed_audio: bool = True,
                     reverb_return: str | os.PathLike | None = None) -> Path:
    """Write the plan as a ``.dawproject`` file.

    Parameters
    ----------
    plan : MixPlan
        The decisions (every value exported comes from here).
    session : Session
        The session the plan was made from (for the stem files and their headers).
    path : path-like
        The project file; ``.dawproject`` is appended when the name lacks it.
    embed_audio : bool
        Embed the stems in the zip (default), or copy them into
        ``<project>_audio/`` beside it and reference them by relative path.
    reverb_return : path-like, optional
        The rendered reverb return (``Reverb return.wav`` of the processed
        stems). When given, it plays on a track of its own and the sends are
        switched off, so the project plays like the mix; when not, the return
        track is muted (it has no reverb) and says so.

    Returns
    -------
    Path
        The written project file.

    Raises
    ------
    WorkbenchError
        ``overwrite_input`` when ``path`` is one of the stems; ``unknown_stem``
        when the plan names a file the session does not hold.

    Notes
    -----
    Written atomically: the zip is built in a temporary file beside ``path`` and
    renamed, so a failure leaves no partial project (and removes the audio
    copies this call made).
    """
    path = _with_suffix(Path(path), ".dawproject")
    inputs = tuple(Path(s.path) for s in session.stems)
    check_not_input(path, inputs)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=path.parent if path.parent.exists() else None))
    copies = None
    try:
        # 1. The audio each track plays: the stem, or its mono fold when the plan folds it.
        stems = prepare_sources(plan_stems(plan, session), scratch)
        returned = _rendered_return(reverb_return, plan) if reverb_return is not None else None
        sources = [s.path for s in stems] + ([returned.path] if returned else [])
        titles = [s.name for s in stems] + ([RENDERED_RETURN_NAME] if returned else [])

        # 2. Where it lives: inside the zip, or copied beside the project.
        if embed_audio:
            names = unique_file_names(titles, [p.suffix for p in sources])
            refs = [(f"{AUDIO_FOLDER}/{n}", False) for n in names]
        else:
            folder = path.parent / f"{path.stem}_audio"
            copies = copy_stems(sources, titles, folder)
            refs = [(f"{folder.name}/{p.name}", True) for p in copies.paths]

        # 3. The two XML documents.
        project = _project_xml(plan, stems, refs, returned)
        metadata = _metadata_xml(plan, session)

        # 4. The zip (fixed dates, rw-r--r--), written to a temporary file and renamed.
        with atomic_path(path, inputs=inputs) as tmp:
            with zipfile.ZipFile(tmp, "w") as z:
                _zip_write(z, METADATA_XML, metadata, zipfile.ZIP_DEFLATED)
                _zip_write(z, PROJECT_XML, project, zipfile.ZIP_DEFLATED)
                if embed_audio:
                    for source, (arc, _) in zip(sources, refs):
                        # Audio barely deflates; stored entries are quicker and read by every unzipper.
                        _zip_write(z, arc, Path(source), zipfile.ZIP_STORED)
    except BaseException:
        if copies is not None:
            copies.undo()
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return path


def _zip_write(z: zipfile.ZipFile, name: str, data: bytes | Path, compress_type: int) -> None:
    """One member with a fixed date and ordinary permissions (reproducible, unpacks as 0644)."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.external_attr = ZIP_FILE_MODE << 16
    info.compress_type = compress_type
    if isinstance(data, Path):
        info.file_size = data.stat().st_size
        with open(data, "rb") as src, z.open(info, "w", force_zip64=True) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    else:
        z.writestr(info, data)


def _rendered_return(path, plan) -> ExportStem:
    """The rendered reverb return as a stem of the export (stereo, from 0:00)."""
    import soundfile as sf

    info = sf.info(str(path))
    return ExportStem(name=RENDERED_RETURN_NAME, plan=None, path=Path(path), sample_rate=info.samplerate,
                      channels=info.channels, frames=info.frames)


# --------------------------------------------------------------------------- project.xml
class _Ids:
    """Unique ``xs:ID`` values ``id0``, ``id1``… for one document."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"id{self.n - 1}"


def _project_xml(plan, stems: list[ExportStem], refs: list[tuple[str, bool]],
                 returned: ExportStem | None = None) -> bytes:
    from .. import __version__

    ids = _Ids()
    root = ET.Element("Project", version=FORMAT_VERSION)
    ET.SubElement(root, "Application", name=APPLICATION_NAME, version=__version__)
    transport = ET.SubElement(root, "Transport")
    grid = plan.grid
    offset = clip_offset_s(grid)
    if grid is None:
        _real(transport, "Tempo", DEFAULT_TEMPO_BPM, "bpm", ids, name="Tempo",
              comment="not measured: 120 bpm assumed (the arrangement is in seconds)")
    else:
        _real(transport, "Tempo", grid.bpm, "bpm", ids, name="Tempo", comment=(
            f"{'measured from the mix' if grid.source == 'audio' else 'set by the user'}"
            f"{'' if grid.confident else ' (UNSURE: check it)'}; the clips start at {offset:.4f} s so that "
            f"the downbeat at {grid.downbeat_s:.3f} s of the stems falls on a bar line"))
    ET.SubElement(transport, "TimeSignature", denominator=str(TIME_SIGNATURE[1]),
                  numerator=str(grid.beats_per_bar if grid else TIME_SIGNATURE[0]), id=ids())

    # Channel ids first: stem channels route to the master and send to the return.
    track_ids = [ids() for _ in stems]
    returned_track_id = ids() if returned is not None else None
    return_track_id, master_track_id = ids(), ids()
    return_channel_id, master_channel_id = ids(), ids()

    structure = ET.SubElement(root, "Structure")
    for s, tid in zip(stems, track_ids):
        _stem_track(structure, s, tid, master_channel_id, return_channel_id, ids, decision_notes(plan, s.name),
                    sends_on=returned is None)
    if returned is not None:
        _rendered_return_track(structure, plan.reverb, returned, returned_track_id, master_channel_id, ids)
    _return_track(structure, plan.reverb, return_track_id, return_channel_id, master_channel_id, ids,
                  rendered=returned is not None)
    _master_track(structure, plan.master, master_track_id, master_channel_id, ids)

    arrangement = ET.SubElement(root, "Arrangement", id=ids())
    lanes = ET.SubElement(arrangement, "Lanes", timeUnit="seconds", id=ids())
    clip_tracks = list(zip(stems, track_ids)) + ([(returned, returned_track_id)] if returned is not None else [])
    for (s, tid), (file_path, external) in zip(clip_tracks, refs):
        track_lanes = ET.SubElement(lanes, "Lanes", track=tid, id=ids())
        clips = ET.SubElement(track_lanes, "Clips", id=ids())
        duration = _num(s.duration_s)
        clip = ET.SubElement(clips, "Clip", time=_num(offset), duration=duration, contentTimeUnit="seconds",
                             playStart="0.0", playStop=duration, name=xml_text(s.name))
        audio = ET.SubElement(clip, "Audio", channels=str(s.channels), duration=duration,
                              sampleRate=str(s.sample_rate), timeUnit="seconds", id=ids())
        file_ref = ET.SubElement(audio, "File", path=file_path)
        if external:
            file_ref.set("external", "true")
    ET.SubElement(root, "Scenes")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _stem_track(structure, s: ExportStem, track_id, master_channel_id, return_channel_id, ids, notes, *,
                sends_on: bool = True):
    sp = s.plan
    # Pan-law rule (workbench.export.levels): a mono clip's fader is 3.01 dB lower in a 0 dB-centre DAW.
    law_db = pan_law_offset_db(s.channels == 1)
    fader_db, pre_db = split_gain(sp.gain_db + law_db)
    gain_fader_db = fader_db - law_db          # the part of the plan's gain that moved after the compressor
    if pre_db > 0:
        notes.append(f"gain above +{FADER_MAX_DB:g} dB: {pre_db:.2f} dB is the Equalizer's input gain")
    if law_db:
        notes.append(f"mono clip: fader {law_db:+.2f} dB for a 0 dB-centre pan law (the mix pans mono stems "
                     f"with a -3 dB centre)")
    if sp.width < 1.0:
        notes.append(f"stereo width {sp.width:.0%} is not carried by DAWproject: set it in the DAW")
    track = ET.SubElement(structure, "Track", contentType="audio", loaded="true", id=track_id,
                          name=xml_text(s.name), comment=xml_text("; ".join(notes)))
    channel = ET.SubElement(track, "Channel", audioChannels="2", destination=master_channel_id,
                            role="regular", solo="false", id=ids(), name=xml_text(s.name))
    devices = ET.SubElement(channel, "Devices")
    if sp.eq or pre_db > 0:
        eq = _device(devices, "Equalizer", "EQ", ids, comment=(
            "the plan's EQ bands, in order (a band's order attribute is its index; a 24 dB/oct "
            "Butterworth pass filter is written as two 12 dB/oct bands at the same frequency): "
            + "; ".join(describe_band(b) for b in sp.eq)))
        order = 0
        for band in sp.eq:
            order = _band(eq, band, ids, order)
        _real(eq, "InputGain", pre_db, "decibel", ids, name="Input Gain")
        _real(eq, "OutputGain", 0.0, "decibel", ids, name="Output Gain")
    if sp.compressor is not None and sp.compressor.active:
        _compressor(devices, sp.compressor, gain_fader_db, ids)
    ET.SubElement(channel, "Mute", value=_bool(sp.mute), id=ids(), name="Mute")
    _real(channel, "Pan", pan_to_normalized(sp.pan), "normalized", ids, name="Pan", min=0.0, max=1.0)
    if sp.reverb_send_db is not None:
        sends = ET.SubElement(channel, "Sends")
        send = ET.SubElement(sends, "Send", destination=return_channel_id, type="post", id=ids(),
                             name=RETURN_NAME)
        ET.SubElement(send, "Enable", value=_bool(sends_on), id=ids(), name="Enable")
        _real(send, "Volume", db_to_linear(sp.reverb_send_db), "linear", ids, name="Send",
              comment=f"{sp.reverb_send_db:.1f} dB" + ("" if sends_on else
                      f"; off: the track '{RENDERED_RETURN_NAME}' plays the mix's reverb"))
    _real(channel, "Volume", db_to_linear(fader_db), "linear", ids, name="Volume", min=0.0,
          comment=f"{fader_db:+.2f} dB")


def _rendered_return_track(structure, reverb, returned: ExportStem, track_id, master_channel_id, ids):
    comment = (f"The mix's reverb return, rendered (pre-delay, {reverb.highpass_hz:g}–{reverb.lowpass_hz:g} Hz "
               f"filters, reverb and the {reverb.return_db:+.1f} dB return level included): it plays the reverb "
               f"exactly as in mix.wav. The sends to '{RETURN_NAME}' are off. {reverb.reason}")
    track = ET.SubElement(structure, "Track", contentType="audio", loaded="true", id=track_id,
                          name=RENDERED_RETURN_NAME, comment=xml_text(comment))
    channel = ET.SubElement(track, "Channel", audioChannels="2", destination=master_channel_id,
                            role="regular", solo="false", id=ids(), name=RENDERED_RETURN_NAME)
    ET.SubElement(channel, "Mute", value="false", id=ids(), name="Mute")
    _real(channel, "Pan", 0.5, "normalized", ids, name="Pan", min=0.0, max=1.0)
    _real(channel, "Volume", 1.0, "linear", ids, name="Volume", min=0.0, comment="+0.00 dB")


def _return_track(structure, reverb, track_id, channel_id, master_channel_id, ids, *, rendered: bool = False):
    how = (f"Muted, sends off: '{RENDERED_RETURN_NAME}' plays the mix's reverb. To use a reverb of your own: "
           f"insert it before the EQ, switch the sends on, unmute this track and mute '{RENDERED_RETURN_NAME}'."
           if rendered else
           "Muted: it has no reverb (DAWproject has no built-in reverb), so the sends would come back dry. "
           "Insert a reverb before the EQ and unmute it.")
    comment = (f"{how} The plan's reverb: room size "
               f"{reverb.room_size:g}, damping {reverb.damping:g}, width {reverb.width:g}, pre-delay "
               f"{reverb.predelay_ms:g} ms, 100% wet; return filtered {reverb.highpass_hz:g}–"
               f"{reverb.lowpass_hz:g} Hz (12 dB/oct). {reverb.reason}")
    track = ET.SubElement(structure, "Track", contentType="audio", loaded="true", id=track_id,
                          name=RETURN_NAME, comment=xml_text(comment))
    channel = ET.SubElement(track, "Channel", audioChannels="2", destination=master_channel_id,
                            role="effect", solo="false", id=channel_id, name=RETURN_NAME)
    devices = ET.SubElement(channel, "Devices")
    eq = _device(devices, "Equalizer", "Return EQ", ids,
                 comment="the plan's return filters: 12 dB/oct Butterworth (the renderer's)")
    for order, (kind, freq) in enumerate((("highPass", reverb.highpass_hz), ("lowPass", reverb.lowpass_hz))):
        band = ET.SubElement(eq, "Band", type=kind, order=str(order))
        _real(band, "Freq", freq, "hertz", ids, name="Frequency", comment="12 dB/oct Butterworth")
        _real(band, "Q", BUTTERWORTH_SECTION_Q[12][0], "linear", ids, name="Q")
        ET.SubElement(band, "Enabled", value="true", id=ids())
    ET.SubElement(channel, "Mute", value="true", id=ids(), name="Mute")
    _real(channel, "Pan", 0.5, "normalized", ids, name="Pan", min=0.0, max=1.0)
    _real(channel, "Volume", db_to_linear(reverb.return_db), "linear", ids, name="Volume", min=0.0,
          comment=f"{reverb.return_db:+.2f} dB")


def _master_track(structure, master, track_id, channel_id, ids):
    track = ET.SubElement(structure, "Track", contentType="audio", loaded="true", id=track_id,
                          name=MASTER_NAME, comment=xml_text(master.reason))
    channel = ET.SubElement(track, "Channel", audioChannels="2", role="master", solo="false", id=channel_id,
                            name=MASTER_NAME)
    devices = ET.SubElement(channel, "Devices")
    if master.glue is not None and master.glue.active:
        _compressor(devices, master.glue, 0.0, ids, name="Glue Compressor")
    gain = master.rendered_gain_db
    threshold = (master.rendered_limiter_ceiling_db if master.rendered_limiter_ceiling_db is not None
                 else master.ceiling_dbtp)
    limiter = _device(devices, "Limiter", "Limiter", ids, comment=(
        f"input gain {gain:+.2f} dB: the gain the render applied after the glue compressor to reach "
        f"{master.target_lufs:g} LUFS integrated; threshold {threshold:.2f} dB: the ceiling its limiter ran at "
        f"({master.ceiling_dbtp:g} dBTP less a safety margin for true peaks)." if gain is not None else
        f"ceiling {master.ceiling_dbtp:g} dBTP. This plan records no render: raise this limiter's input gain "
        f"until the mix meters {master.target_lufs:g} LUFS integrated."))
    _real(limiter, "InputGain", gain if gain is not None else 0.0, "decibel", ids, name="Input Gain")
    _real(limiter, "OutputGain", 0.0, "decibel", ids, name="Output Gain")
    _real(limiter, "Threshold", threshold, "decibel", ids, name="Threshold")
    ET.SubElement(channel, "Mute", value="false", id=ids(), name="Mute")
    _real(channel, "Pan", 0.5, "normalized", ids, name="Pan", min=0.0, max=1.0)
    _real(channel, "Volume", 1.0, "linear", ids, name="Volume", min=0.0, comment="+0.00 dB")


def _device(devices, tag: str, name: str, ids, *, comment: str = ""):
    """A built-in device; the base type's children (``Enabled``) come before the device's own."""
    el = ET.SubElement(devices, tag, deviceName=tag, deviceRole="audioFX", loaded="true", id=ids(),
                       name=name)
    if comment:
        el.set("comment", xml_text(comment))
    ET.SubElement(el, "Enabled", value="true", id=ids(), name="On/Off")
    return el


def describe_band(band) -> str:
    """The plan's band in words, with its slope ("high-pass 24 dB/oct at 80 Hz")."""
    from ..mixing.plan import describe_eq

    return describe_eq(band)


def _band(eq, band, ids, order: int) -> int:
    """Write the plan's band as one or more ``Band`` elements from index ``order``; returns the next index.

    ``order`` is the band's index (the reference Javadoc's meaning). A pass filter
    is a Butterworth of its slope: 12 dB/oct → one band with Q 1/√2, 24 dB/oct →
    two bands at the same frequency with the section Qs of
    :data:`BUTTERWORTH_SECTION_Q` (their cascade *is* the 4th-order Butterworth),
    6 dB/oct → one band whose comment gives the slope (no Q reproduces a first-order filter).
    Each band's ``Freq`` comment states the slope and what the band is.
    """
    kind = EQ_BAND_TYPES[band.kind]
    what = describe_band(band)
    if band.kind in ("highpass", "lowpass"):
        qs = BUTTERWORTH_SECTION_Q.get(band.slope_db_per_oct)
        sections = qs if qs is not None else (None,)
        for k, q in enumerate(sections):
            el = ET.SubElement(eq, "Band", type=kind, order=str(order))
            part = (f"section {k + 1} of {len(sections)} of " if len(sections) > 1 else "")
            note = (f"{part}{what} (Butterworth, slope {band.slope_db_per_oct} dB/oct)" if q is not None else
                    f"{what}: first order, 6 dB/oct — set the band's slope to 6 dB/oct")
            _real(el, "Freq", band.freq_hz, "hertz", ids, name="Frequency", comment=note)
            if q is not None:
                _real(el, "Q", q, "linear", ids, name="Q")
            ET.SubElement(el, "Enabled", value="true", id=ids())
            order += 1
        return order
    el = ET.SubElement(eq, "Band", type=kind, order=str(order))
    _real(el, "Freq", band.freq_hz, "hertz", ids, name="Frequency", comment=what)
    _real(el, "Gain", band.gain_db, "decibel", ids, name="Gain")
    _real(el, "Q", band.q, "linear", ids, name="Q")
    ET.SubElement(el, "Enabled", value="true", id=ids())
    return order + 1


def _compressor(devices, c, fader_db: float, ids, *, name: str = "Compressor") -> None:
    shift = (f"; the plan's threshold {c.threshold_db:.1f} dB is lowered by the fader's {fader_db:+.2f} dB "
             f"because the fader comes after this compressor") if fader_db else ""
    comp = _device(devices, "Compressor", name, ids,
                   comment=f"{c.ratio:g}:1, {c.attack_ms:g}/{c.release_ms:g} ms{shift}. {c.reason}")
    # Children in schema order (alphabetical): Attack, AutoMakeup, InputGain, OutputGain, Ratio, Release, Threshold.
    _real(comp, "Attack", c.attack_ms / 1000.0, "seconds", ids, name="Attack")
    ET.SubElement(comp, "AutoMakeup", value="false", id=ids(), name="Auto Makeup")
    _real(comp, "InputGain", 0.0, "decibel", ids, name="Input Gain")
    _real(comp, "OutputGain", c.makeup_db, "decibel", ids, name="Output Gain")
    _real(comp, "Ratio", ratio_to_percent(c.ratio), "percent", ids, name="Ratio", min=0.0, max=100.0,
          comment=f"{c.ratio:g}:1 stored as 100·(1 − 1/ratio) percent")
    _real(comp, "Release", c.release_ms / 1000.0, "seconds", ids, name="Release")
    _real(comp, "Threshold", c.threshold_db - fader_db, "decibel", ids, name="Threshold")


def _real(parent, tag: str, value: float, unit: str, ids, *, name: str | None = None,
          min: float | None = None, max: float | None = None, comment: str | None = None):
    el = ET.SubElement(parent, tag, unit=unit, value=_num(value))
    if min is not None:
        el.set("min", _num(min))
    if max is not None:
        el.set("max", _num(max))
    el.set("id", ids())
    if name:
        el.set("name", name)
    if comment:
        el.set("comment", xml_text(comment))
    return el


def _num(x: float) -> str:
    x = float(x)
    if not math.isfinite(x):
        raise WorkbenchError("bad_plan", f"The plan holds a non-finite value ({x}).",
                             "Check the plan for missing or infinite numbers and make it again.")
    # 15 significant digits: exact for every value a plan holds, without float noise ("-32.480000000000004").
    return format(x, ".15g")


def _bool(b: bool) -> str:
    return "true" if b else "false"


# --------------------------------------------------------------------------- metadata.xml
def _metadata_xml(plan, session) -> bytes:
    from .. import __version__

    folder = Path(session.folder)
    title = folder.name or folder.resolve().name or "Mix"
    root = ET.Element("MetaData")
    ET.SubElement(root, "Title").text = xml_text(title)
    ET.SubElement(root, "Comment").text = (
        f"Mixed by {APPLICATION_NAME} {__version__} from the stems in {xml_text(folder.resolve().name)}. "
        f"{PLAN_POINTER}. Each track's comment repeats its decisions.")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _with_suffix(path: Path, suffix: str) -> Path:
    return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)
