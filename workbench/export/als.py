"""Export a mix plan as an Ableton Live Set (``.als``) — EXPERIMENTAL.

Ableton Live does not import DAWproject, so this writes Live's own format: a
gzipped XML document with no published schema. It targets the Live 11 set
format (``MajorVersion="5"``, ``MinorVersion="11.0_433"``), which Live 11 opens
and Live 12 opens and converts. The structure was learned from public
descriptions of Live 11 sets; it has been checked for structure and invariants
(well-formed XML, unique ids, ``NextPointeeId`` above every pointee id, clip
files present) but not opened in a real Live by our tests — treat it as
experimental and keep the ``.dawproject`` and ``plan.json`` as the reference.

What the set carries
--------------------
- one audio track per stem, named as the stem, with one arrangement clip at
  0:00 over the stem's whole length. The clip is **unwarped**, so Live plays the
  file at its own rate whatever the tempo (120 bpm is written; the plan has no
  tempo). Its warp markers map seconds to beats at 120 bpm, so switching warp on
  at that tempo keeps it in time.
- the fader: Live's ``Volume`` is a linear amplitude (1.0 = 0 dB) from
  −70 dB (0.000316) to +6 dB (1.99526). The plan's ``gain_db`` is written as
  ``10 ** (gain_db / 20)`` clamped to that range; a clamped stem says so, with
  the missing dB, in its info text (add a Utility device with that gain).
- the pan: Live's ``Pan`` is −1..1 like the plan's (Live's pan law applies).
- mute (Live's track activator).
- a return track "Reverb" (post-fader sends: ``SendsPre`` false) with the
  plan's ``return_db`` on its fader, and each stem's send at the plan's
  ``reverb_send_db``: Live's send is a linear amplitude like the fader, at most
  1.0 (0 dB); no send (None) is written as the minimum (−inf in Live).
- the master at 0 dB, tempo 120 bpm, 4/4.
- every decision's reason in the tracks' info text (``Annotation``).

What it does not carry
----------------------
No devices. The plan's EQ, compressors, reverb, glue compressor, limiter and
loudness normalisation are **not** in the set: Live's stock EQ Eight offers
only 12 and 48 dB/oct cuts (the plan uses 24 dB/oct Butterworth high-passes),
and the parameter encodings of EQ Eight, Compressor and Reverb in a set file are
undocumented, so writing them could not be done faithfully. Each track's info
text lists its EQ bands and compressor settings, and the decisions are in
``plan.json`` / ``report.md``. Stereo width is not carried either.

Audio
-----
The stems are copied (never moved or modified) into ``Samples/Imported/``
beside the ``.als``, as Live's "Collect All and Save" does, under safe unique
names; a file already there with identical bytes is reused, any other file is
left alone. Each clip's ``FileRef`` holds the absolute path and the path
relative to the set's folder. For a tidy Live project, write the set into a
folder named ``"<Song> Project"``.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from ..audio_io import atomic_path
from ..errors import ParameterError
from ..tempo import clip_offset_s
from .dawproject import RENDERED_RETURN_NAME, RETURN_NAME, _rendered_return, db_to_linear
from .levels import pan_law_offset_db
from .names import ExportStem, check_not_input, copy_stems, decision_notes, plan_stems, prepare_sources, xml_text

#: The Live 11 set format (Live 12 opens and converts it).
LIVE_MAJOR_VERSION = "5"
LIVE_MINOR_VERSION = "11.0_433"
LIVE_CREATOR = "Ableton Live 11.0"
#: Live's fader range as linear amplitude: −70 dB (shown as −inf below) to +6 dB.
VOLUME_MIN = 0.0003162277660168379
VOLUME_MAX = 1.9952623149688795
#: Live's send range: −70 dB to 0 dB.
SEND_MIN = VOLUME_MIN
SEND_MAX = 1.0
#: Where the stems are copied, relative to the set's folder (as "Collect All and Save").
SAMPLES_FOLDER = Path("Samples") / "Imported"
#: The folder that makes a folder a Live Project: Live resolves project-relative
#: sample paths (``RelativePathType`` 3) from the folder that holds it.
PROJECT_INFO_FOLDER = "Ableton Project Info"
#: Written when the plan has no tempo grid.
TEMPO_BPM = 120.0
#: 4/4 in Live's time-signature encoding.
TIME_SIGNATURE_ID = 201
SCENES = 8
#: Live's FileRef RelativePathType for "relative to the current project".
RELATIVE_TO_PROJECT = 3
#: Automation events Live keeps before the song start for the master's tempo
#: and time signature.
EARLIEST_TIME = -63072000
#: Live's tempo range (bpm), the master ``Tempo`` parameter's range.
TEMPO_RANGE = (20.0, 999.0)


def write_als(plan, session, path: str | os.PathLike, *, reverb_return: str | os.PathLike | None = None) -> Path:
    """Write the plan as an Ableton Live Set (experimental; see the module notes).

    Parameters
    ----------
    plan : MixPlan
    session : Session
        The session the plan was made from.
    path : path-like
        The ``.als`` file (the suffix is appended when missing). Its folder
        becomes a Live Project: an ``Ableton Project Info`` folder is made in it
        and the stems are copied into ``Samples/Imported/``, referenced by
        project-relative paths only, so the folder can move to any machine.
    reverb_return : path-like, optional
        The rendered reverb return: played on an audio track of its own, the
        sends switched off (see the module notes).

    Returns
    -------
    Path
        The written set.

    Raises
    ------
    WorkbenchError
        ``overwrite_input`` when ``path`` is one of the stems; ``unknown_stem``
        when the plan names a file the session does not hold.
    """
    path = Path(path)
    if path.suffix.lower() != ".als":
        path = path.with_name(path.name + ".als")
    inputs = tuple(Path(s.path) for s in session.stems)
    check_not_input(path, inputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    info_folder = path.parent / PROJECT_INFO_FOLDER
    made_info = not info_folder.exists()
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=path.parent))
    copies = None
    try:
        # 1. The audio each track plays (a stem, or its mono fold), beside the set as
        #    Live's "Collect All and Save" lays it out, in a folder Live knows as a Project.
        stems = prepare_sources(plan_stems(plan, session), scratch)
        returned = _rendered_return(reverb_return, plan) if reverb_return is not None else None
        clips = stems + ([returned] if returned is not None else [])
        info_folder.mkdir(exist_ok=True)
        copies = copy_stems([s.path for s in clips], [s.name for s in clips], path.parent / SAMPLES_FOLDER)
        # 2. The set's XML, gzipped (no file name and no date in the gzip header:
        #    the same plan gives the same bytes), written to a temporary file and renamed.
        xml = _LiveSet(plan, stems, copies.paths, path.parent, returned=returned).build()
        with atomic_path(path, inputs=inputs) as tmp:
            with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(xml)
    except BaseException:
        if copies is not None:
            copies.undo()
        if made_info:
            shutil.rmtree(info_folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return path


def clamp_volume(gain_db: float) -> float:
    """A gain in dB as Live's fader value (linear amplitude within −70..+6 dB)."""
    return min(max(db_to_linear(gain_db), VOLUME_MIN), VOLUME_MAX)


def send_value(send_db: float | None) -> float:
    """A send level in dB (None = no send) as Live's send value (linear amplitude within −70..0 dB)."""
    if send_db is None:
        return SEND_MIN
    return min(max(db_to_linear(send_db), SEND_MIN), SEND_MAX)


# --------------------------------------------------------------------------- XML helpers
def _el(parent, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: _num(v) for k, v in attrs.items()})


def _num(value) -> str:
    """A number as Live writes it: whole numbers without a fraction (``120``, not ``120.0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"a set cannot hold {value}")
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _v(parent, tag: str, value) -> ET.Element:
    """Live's ``<Tag Value="..."/>``."""
    return _el(parent, tag, Value=_num(value))


class _LiveSet:
    """Builds one set; owns the pointee-id counter (one id space for the whole document)."""

    def __init__(self, plan, stems: list[ExportStem], files: list[Path], folder: Path, *,
                 returned: ExportStem | None = None) -> None:
        self.plan, self.stems, self.files, self.folder = plan, stems, files, Path(folder)
        self.returned = returned
        grid = plan.grid
        # Whole-number tempi as integers (Live writes "120"; pyableton reads the field as an integer).
        self.tempo = float(grid.bpm) if grid is not None else TEMPO_BPM
        self.tempo = min(max(self.tempo, TEMPO_RANGE[0]), TEMPO_RANGE[1])
        self.offset_s = clip_offset_s(grid)
        self.next_id = 1

    def pointee(self) -> int:
        i = self.next_id
        self.next_id += 1
        return i

    # ---------------------------------------------------------------- document
    def build(self) -> bytes:
        from .. import __version__

        root = ET.Element("Ableton", MajorVersion=LIVE_MAJOR_VERSION, MinorVersion=LIVE_MINOR_VERSION,
                          SchemaChangeCount="3", Creator=LIVE_CREATOR, Revision="")
        live = _el(root, "LiveSet")
        # The LiveSet's children in the order a set saved by Live 11 has them (learned
        # from sets Live saved, as listed in public .als readers' notes; see the module notes).
        next_pointee = _v(live, "NextPointeeId", 0)  # set at the end, above every id written
        _v(live, "OverwriteProtectionNumber", 2816)
        _v(live, "LomId", 0)
        _v(live, "LomIdView", 0)
        tracks = _el(live, "Tracks")
        n_tracks = 0
        for s, f in zip(self.stems, self.files):
            n_tracks += 1
            self.audio_track(tracks, n_tracks, s, f, decision_notes(self.plan, s.name))
        if self.returned is not None:
            n_tracks += 1
            self.rendered_return_track(tracks, n_tracks, self.returned, self.files[len(self.stems)])
        self.return_track(tracks, n_tracks + 1)
        self.master_track(live)
        self.prehear_track(live)
        sends_pre = _el(live, "SendsPre")
        _el(sends_pre, "SendPreBool", Id=0, Value="false")  # the reverb send is post-fader
        scenes = _el(live, "Scenes")
        for n in range(SCENES):
            self.scene(_el(scenes, "Scene", Id=n))
        transport = _el(live, "Transport")
        for tag, value in (("PhaseNudgeTempo", 10), ("LoopOn", False), ("LoopStart", 0), ("LoopLength", 16),
                           ("LoopIsSongStart", False), ("CurrentTime", 0), ("PunchIn", False),
                           ("PunchOut", False), ("MetronomeTickDuration", 0), ("DrawMode", False)):
            _v(transport, tag, value)
        _el(_el(live, "SongMasterValues"), "SessionScrollerPos", X=0, Y=0)
        _el(live, "SignalModulations")
        _v(live, "GlobalQuantisation", 4)
        _v(live, "AutoQuantisation", 0)
        self.grid(live, "Grid")
        scale = _el(live, "ScaleInformation")
        _v(scale, "RootNote", 0)
        _v(scale, "Name", "Major")
        _v(live, "InKey", False)
        _v(live, "SmpteFormat", 0)
        selection = _el(live, "TimeSelection")
        _v(selection, "AnchorTime", 0)
        _v(selection, "OtherTime", 0)
        navigator = _el(live, "SequencerNavigator")
        _v(_el(navigator, "BeatTimeHelper"), "CurrentZoom", 0.1)
        _el(navigator, "ScrollerPos", X=0, Y=0)
        _el(navigator, "ClientSize", X=1000, Y=500)
        _v(live, "IsContentSplitterOpen", True)
        _v(live, "IsExpressionSplitterOpen", True)
        for tag, types in (("ExpressionLanes", (0, 1, 2, 3)), ("ContentLanes", (4, 5))):
            lanes = _el(live, tag)
            for n, kind in enumerate(types):
                lane = _el(lanes, "ExpressionLane", Id=n)
                _v(lane, "Type", kind)
                _v(lane, "Size", 41)
                _v(lane, "IsMinimized", n > 0)
        _v(live, "ViewStateFxSlotCount", 4)
        _v(live, "ViewStateSessionMixerHeight", 120)
        _el(live, "Locators").append(ET.Element("Locators"))
        _el(live, "DetailClipKeyMidis")
        for tag in ("TracksListWrapper", "VisibleTracksListWrapper", "ReturnTracksListWrapper",
                    "ScenesListWrapper", "CuePointsListWrapper"):
            _el(live, tag, LomId=0)
        _v(live, "ChooserBar", 0)
        _v(live, "Annotation", xml_text(
            f"Exported by Mixing Workbench {__version__} (experimental .als). Decisions and reasons: "
            "plan.json / report.md; each track's info text repeats its own. The EQ, compressors and master "
            "limiter are not in this set (each track's info text lists them); the master fader holds the "
            "render's loudness gain."))
        _v(live, "SoloOrPflSavedValue", True)
        _v(live, "SoloInPlace", True)
        _v(live, "CrossfadeCurve", 2)
        _v(live, "LatencyCompensation", 2)
        _v(live, "HighlightedTrackIndex", 0)
        groove_pool = _el(live, "GroovePool")
        _v(groove_pool, "LomId", 0)
        _el(groove_pool, "Grooves")
        _v(live, "AutomationMode", False)
        _v(live, "SnapAutomationToGrid", True)
        _v(live, "ArrangementOverdub", False)
        _v(live, "ColorSequenceIndex", 0)
        _v(_el(live, "AutoColorPickerForPlayerAndGroupTracks"), "NextColorIndex", n_tracks % 70)
        _v(_el(live, "AutoColorPickerForReturnAndMasterTracks"), "NextColorIndex", 1)
        _v(live, "ViewData", "{}")
        for tag, value in (("ResetNonautomatedMidiControllersOnClipStarts", False), ("MidiFoldIn", False),
                           ("MidiFoldMode", 0), ("MultiClipFocusMode", False), ("MultiClipLoopBarHeight", 0),
                           ("MidiPrelisten", False)):
            _v(live, tag, value)
        _el(live, "LinkedTrackGroups")
        _v(live, "AccidentalSpellingPreference", 3)
        _v(live, "PreferFlatRootNote", False)
        _v(live, "UseWarperLegacyHiQMode", False)
        _el(live, "VideoWindowRect", Top=-2147483648, Left=-2147483648, Bottom=-2147483648, Right=-2147483648)
        _v(live, "ShowVideoWindow", True)
        _v(live, "TrackHeaderWidth", 93)
        _v(live, "ViewStateArrangerHasDetail", True)
        _v(live, "ViewStateSessionHasDetail", True)
        _v(live, "ViewStateDetailIsSample", True)
        views = _el(live, "ViewStates")
        for tag, value in (("SessionIO", 1), ("SessionSends", 1), ("SessionReturns", 1), ("SessionMixer", 1),
                           ("SessionTrackDelay", 0), ("SessionCrossFade", 0), ("SessionShowOverView", 0),
                           ("ArrangerIO", 1), ("ArrangerReturns", 1), ("ArrangerMixer", 1),
                           ("ArrangerTrackDelay", 0), ("ArrangerShowOverView", 1)):
            _v(views, tag, value)
        next_pointee.set("Value", str(self.next_id))
        ET.indent(root, space="\t")
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    # ---------------------------------------------------------------- tracks
    def track_header(self, track, name: str, annotation: str, color: int) -> None:
        _v(track, "LomId", 0)
        _v(track, "LomIdView", 0)
        _v(track, "IsContentSelectedInDocument", False)
        _v(track, "PreferredContentViewMode", 0)
        delay = _el(track, "TrackDelay")
        _v(delay, "Value", 0)
        _v(delay, "IsValueSampleBased", False)
        names = _el(track, "Name")
        _v(names, "EffectiveName", xml_text(name))
        _v(names, "UserName", xml_text(name))
        _v(names, "Annotation", xml_text(annotation))
        _v(names, "MemorizedFirstClipName", "")
        _v(track, "Color", color)

    def track_common(self, track, *, unfolded: bool) -> None:
        _v(track, "TrackGroupId", -1)
        _v(track, "TrackUnfolded", unfolded)
        _el(track, "DevicesListWrapper", LomId=0)
        _el(track, "ClipSlotsListWrapper", LomId=0)
        _v(track, "ViewData", "{}")
        take_lanes = _el(track, "TakeLanes")
        _el(take_lanes, "TakeLanes")
        _v(take_lanes, "AreTakeLanesFolded", True)
        _v(track, "LinkedTrackGroupId", -1)

    def audio_track(self, tracks, track_id: int, s: ExportStem, file: Path, notes: list[str]) -> None:
        sp = s.plan
        # Pan-law rule (workbench.export.levels): a mono clip's fader is 3.01 dB lower (Live's centre is 0 dB).
        law_db = pan_law_offset_db(s.channels == 1)
        volume = clamp_volume(sp.gain_db + law_db)
        missing_db = sp.gain_db + law_db - 20 * math.log10(volume)
        if abs(missing_db) > 1e-9:
            notes.insert(0, f"fader clamped to Live's range: add {missing_db:+.2f} dB with a Utility device "
                            f"for the plan's {sp.gain_db:+.2f} dB")
        if law_db:
            notes.append(f"mono clip: fader {law_db:+.2f} dB below the plan's gain for Live's 0 dB-centre pan "
                         f"(the mix pans mono stems with a -3 dB centre)")
        if self.returned is not None and sp.reverb_send_db is not None:
            notes.append(f"send to '{RETURN_NAME}' off (the plan's {sp.reverb_send_db:.1f} dB): the track "
                         f"'{RENDERED_RETURN_NAME}' plays the mix's reverb")
        notes.append("Not in this set: the EQ and compressor above (see plan.json / report.md)")
        track = _el(tracks, "AudioTrack", Id=track_id)
        self.track_header(track, s.name, "\n".join(notes), color=(track_id * 3) % 70)
        _el(track, "AutomationEnvelopes").append(ET.Element("Envelopes"))
        self.track_common(track, unfolded=False)
        _v(track, "SavedPlayingSlot", -1)
        _v(track, "SavedPlayingOffset", 0)
        _v(track, "Freeze", False)
        _v(track, "VelocityDetail", 0)
        _v(track, "NeedArrangerRefreeze", True)
        _v(track, "PostProcessFreezeClips", 0)
        chain = _el(track, "DeviceChain")
        self.chain_head(chain, output=("AudioOut/Master", "Master", ""),
                        input=("AudioIn/External/S0", "Ext. In", "1/2"))
        send = SEND_MIN if self.returned is not None else send_value(sp.reverb_send_db)
        self.mixer(chain, volume=volume, pan=sp.pan, on=not sp.mute, sends=[(send, True)])
        main = _el(chain, "MainSequencer")
        self.sequencer(main, clip=(s, file))
        self.sequencer(_el(chain, "FreezeSequencer"), clip=None)
        self.devices(chain)

    def rendered_return_track(self, tracks, track_id: int, s: ExportStem, file: Path) -> None:
        """The rendered reverb return on an audio track (a Live return track cannot hold clips)."""
        r = self.plan.reverb
        annotation = (f"The mix's reverb return, rendered (pre-delay, {r.highpass_hz:g}–{r.lowpass_hz:g} Hz "
                      f"filters, reverb and the {r.return_db:+.1f} dB return level included): it plays the "
                      f"reverb exactly as in mix.wav. The sends to '{RETURN_NAME}' are off. {r.reason}")
        track = _el(tracks, "AudioTrack", Id=track_id)
        self.track_header(track, s.name, annotation, color=21)
        _el(track, "AutomationEnvelopes").append(ET.Element("Envelopes"))
        self.track_common(track, unfolded=False)
        _v(track, "SavedPlayingSlot", -1)
        _v(track, "SavedPlayingOffset", 0)
        _v(track, "Freeze", False)
        _v(track, "VelocityDetail", 0)
        _v(track, "NeedArrangerRefreeze", True)
        _v(track, "PostProcessFreezeClips", 0)
        chain = _el(track, "DeviceChain")
        self.chain_head(chain, output=("AudioOut/Master", "Master", ""),
                        input=("AudioIn/External/S0", "Ext. In", "1/2"))
        self.mixer(chain, volume=1.0, pan=0.0, on=True, sends=[(SEND_MIN, True)])
        self.sequencer(_el(chain, "MainSequencer"), clip=(s, file))
        self.sequencer(_el(chain, "FreezeSequencer"), clip=None)
        self.devices(chain)

    def return_track(self, tracks, track_id: int) -> None:
        r = self.plan.reverb
        how = (f"Off (muted, sends at -inf): '{RENDERED_RETURN_NAME}' plays the mix's reverb. To use Live's "
               f"Reverb instead: insert it here, raise the sends to the levels in the tracks' info, switch this "
               f"track on and mute '{RENDERED_RETURN_NAME}'." if self.returned is not None else
               "Off (muted): it has no reverb yet, so the sends would come back dry. Insert a Reverb and "
               "switch the track on.")
        annotation = (f"{how} The plan's reverb (100% wet): room size {r.room_size:g}, damping "
                      f"{r.damping:g}, width {r.width:g}, pre-delay {r.predelay_ms:g} ms, return filtered "
                      f"{r.highpass_hz:g}–{r.lowpass_hz:g} Hz (12 dB/oct). {r.reason}")
        track = _el(tracks, "ReturnTrack", Id=track_id)
        self.track_header(track, RETURN_NAME, annotation, color=21)
        _el(track, "AutomationEnvelopes").append(ET.Element("Envelopes"))
        self.track_common(track, unfolded=False)
        chain = _el(track, "DeviceChain")
        self.chain_head(chain, output=("AudioOut/Master", "Master", ""), input=("AudioIn/None", "No Input", ""))
        # A return's send to itself exists in Live's model but is inactive.
        self.mixer(chain, volume=clamp_volume(r.return_db), pan=0.0, on=False, sends=[(SEND_MIN, False)])
        self.sequencer(_el(chain, "FreezeSequencer"), clip=None, slots=0)
        self.devices(chain)

    def master_track(self, live) -> None:
        m = self.plan.master
        glue = (f"glue {m.glue.ratio:g}:1 at {m.glue.threshold_db:.1f} dB, {m.glue.attack_ms:g}/"
                f"{m.glue.release_ms:g} ms; " if m.glue is not None else "")
        gain = m.rendered_gain_db
        self.master_volume = clamp_volume(gain) if gain is not None else 1.0
        if gain is not None:
            ceiling = m.rendered_limiter_ceiling_db
            short = gain - 20 * math.log10(self.master_volume)
            clamp = (f" (clamped to Live's range: add {short:+.2f} dB with a Utility)" if abs(short) > 1e-9 else "")
            annotation = (f"Fader {gain:+.2f} dB: the gain the render applied after the glue compressor to reach "
                          f"{m.target_lufs:g} LUFS{clamp}. Not in this set: {glue}the limiter at {ceiling:.2f} "
                          f"dB ({m.ceiling_dbtp:g} dBTP less a safety margin). To master as the mix: fader at "
                          f"0 dB, then a Utility at {gain:+.2f} dB and a limiter at {ceiling:.2f} dB. {m.reason}")
        else:
            annotation = (f"Not in this set: {glue}limiter at {m.ceiling_dbtp:g} dBTP after normalising to "
                          f"{m.target_lufs:g} LUFS. {m.reason}")
        track = _el(live, "MasterTrack")
        self.track_header(track, "Master", annotation, color=13)
        envelopes = _el(_el(track, "AutomationEnvelopes"), "Envelopes")
        self.track_common(track, unfolded=False)
        chain = _el(track, "DeviceChain")
        self.chain_head(chain, output=("AudioOut/External/S0", "Ext. Out", "1/2"),
                        input=("AudioIn/External/S0", "Ext. In", "1/2"))
        targets = self.mixer(chain, volume=self.master_volume, pan=0.0, on=True, sends=[], master=True)
        freeze = _el(chain, "FreezeSequencer")
        self.sequencer(_el(freeze, "AudioSequencer", Id=0), clip=None, slots=0)
        self.devices(chain)
        # Live keeps the song tempo and time signature as automation that starts before the song.
        for n, (pointee, kind, value) in enumerate(((targets["TimeSignature"], "EnumEvent", TIME_SIGNATURE_ID),
                                                    (targets["Tempo"], "FloatEvent", self.tempo))):
            env = _el(envelopes, "AutomationEnvelope", Id=n)
            _v(_el(env, "EnvelopeTarget"), "PointeeId", pointee)
            auto = _el(env, "Automation")
            _el(_el(auto, "Events"), kind, Id=0, Time=EARLIEST_TIME, Value=value)
            view = _el(auto, "AutomationTransformViewState")
            _v(view, "IsTransformPending", False)
            _el(view, "TimeAndValueTransforms")

    def prehear_track(self, live) -> None:
        track = _el(live, "PreHearTrack")
        self.track_header(track, "Master", "", color=-1)
        _el(track, "AutomationEnvelopes").append(ET.Element("Envelopes"))
        self.track_common(track, unfolded=False)
        chain = _el(track, "DeviceChain")
        self.chain_head(chain, output=("AudioOut/External/S0", "Ext. Out", "1/2"),
                        input=("AudioIn/External/S0", "Ext. In", "1/2"))
        self.mixer(chain, volume=1.0, pan=0.0, on=True, sends=[])
        freeze = _el(chain, "FreezeSequencer")
        self.sequencer(_el(freeze, "AudioSequencer", Id=0), clip=None, slots=0)
        self.devices(chain)

    # ---------------------------------------------------------------- device chain parts
    def chain_head(self, chain, *, output, input) -> None:
        lanes = _el(chain, "AutomationLanes")
        lane = _el(_el(lanes, "AutomationLanes"), "AutomationLane", Id=0)
        _v(lane, "SelectedDevice", 0)
        _v(lane, "SelectedEnvelope", 0)
        _v(lane, "IsContentSelectedInDocument", False)
        _v(lane, "LaneHeight", 68)
        _v(lanes, "AreAdditionalAutomationLanesFolded", False)
        chooser = _el(chain, "ClipEnvelopeChooserViewState")
        _v(chooser, "SelectedDevice", 0)
        _v(chooser, "SelectedEnvelope", 0)
        _v(chooser, "PreferModulationVisible", False)
        for tag, (target, upper, lower) in (("AudioInputRouting", input),
                                            ("MidiInputRouting", ("MidiIn/External.All/-1", "Ext: All Ins", "")),
                                            ("AudioOutputRouting", output),
                                            ("MidiOutputRouting", ("MidiOut/None", "None", ""))):
            routing = _el(chain, tag)
            _v(routing, "Target", target)
            _v(routing, "UpperDisplayString", upper)
            _v(routing, "LowerDisplayString", lower)

    def devices(self, chain) -> None:
        inner = _el(chain, "DeviceChain")
        _el(inner, "Devices")
        _el(inner, "SignalModulations")

    def param(self, parent, tag: str, manual, *, rng: tuple[float, float] | None = None,
              modulation: bool = True) -> int:
        """A Live parameter; returns its AutomationTarget id."""
        el = _el(parent, tag)
        _v(el, "LomId", 0)
        _v(el, "Manual", manual)
        if rng is not None:
            r = _el(el, "MidiControllerRange")
            _v(r, "Min", float(rng[0]))
            _v(r, "Max", float(rng[1]))
        target = self.pointee()
        _v(_el(el, "AutomationTarget", Id=target), "LockEnvelope", 0)
        if isinstance(manual, bool):
            thresholds = _el(el, "MidiCCOnOffThresholds")
            _v(thresholds, "Min", 64)
            _v(thresholds, "Max", 127)
        elif modulation:
            _v(_el(el, "ModulationTarget", Id=self.pointee()), "LockEnvelope", 0)
        return target

    def device_head(self, el) -> None:
        """The fields every Live device (the mixer and sequencers are devices) starts with."""
        _v(el, "LomId", 0)
        _v(el, "LomIdView", 0)
        _v(el, "IsExpanded", True)
        self.param(el, "On", True)
        _v(el, "ModulationSourceCount", 0)
        _el(el, "ParametersListWrapper", LomId=0)
        _el(el, "Pointee", Id=self.pointee())
        _v(el, "LastSelectedTimeableIndex", 0)
        _v(el, "LastSelectedClipEnvelopeIndex", 0)
        _el(_el(el, "LastPresetRef"), "Value")
        _el(el, "LockedScripts")
        _v(el, "IsFolded", False)
        _v(el, "ShouldShowPresetName", False)
        _v(el, "UserName", "")
        _v(el, "Annotation", "")
        _el(_el(el, "SourceContext"), "Value")

    def mixer(self, chain, *, volume: float, pan: float, on: bool, sends: list[tuple[float, bool]],
              master: bool = False) -> dict[str, int]:
        mixer = _el(chain, "Mixer")
        self.device_head(mixer)
        holders = _el(mixer, "Sends")
        for n, (value, active) in enumerate(sends):
            holder = _el(holders, "TrackSendHolder", Id=n)
            self.param(holder, "Send", float(value), rng=(SEND_MIN, SEND_MAX))
            _v(holder, "Active", active)
        targets = {"Speaker": self.param(mixer, "Speaker", bool(on))}
        _v(mixer, "SoloSink", False)
        _v(mixer, "PanMode", 0)
        targets["Pan"] = self.param(mixer, "Pan", float(pan), rng=(-1.0, 1.0))
        self.param(mixer, "SplitStereoPanL", -1.0, rng=(-1.0, 1.0))
        self.param(mixer, "SplitStereoPanR", 1.0, rng=(-1.0, 1.0))
        targets["Volume"] = self.param(mixer, "Volume", float(volume), rng=(VOLUME_MIN, VOLUME_MAX))
        _v(mixer, "ViewStateSesstionTrackWidth", 93)
        self.param(mixer, "CrossFadeState", 1, modulation=False)
        _el(mixer, "SendsListWrapper", LomId=0)
        if master:
            targets["Tempo"] = self.param(mixer, "Tempo", self.tempo, rng=(60.0, 200.0))
            targets["TimeSignature"] = self.param(mixer, "TimeSignature", TIME_SIGNATURE_ID, modulation=False)
            self.param(mixer, "GlobalGrooveAmount", 100.0, rng=(0.0, 131.25))
            self.param(mixer, "CrossFade", 0.0, rng=(-1.0, 1.0))
            _v(mixer, "TempoAutomationViewBottom", 60)
            _v(mixer, "TempoAutomationViewTop", 200)
        return targets

    def sequencer(self, seq, *, clip: tuple[ExportStem, Path] | None, slots: int = SCENES) -> None:
        self.device_head(seq)
        slot_list = _el(seq, "ClipSlotList")
        for n in range(slots):
            slot = _el(slot_list, "ClipSlot", Id=n)
            _v(slot, "LomId", 0)
            _el(_el(slot, "ClipSlot"), "Value")
            _v(slot, "HasStop", True)
            _v(slot, "NeedRefreeze", True)
        _v(seq, "MonitoringEnum", 1)
        arranger = _el(_el(seq, "Sample"), "ArrangerAutomation")
        events = _el(arranger, "Events")
        if clip is not None:
            self.audio_clip(events, *clip)
        view = _el(arranger, "AutomationTransformViewState")
        _v(view, "IsTransformPending", False)
        _el(view, "TimeAndValueTransforms")
        for tag in ("VolumeModulationTarget", "TranspositionModulationTarget", "GrainSizeModulationTarget",
                    "FluxModulationTarget", "SampleOffsetModulationTarget"):
            _v(_el(seq, tag, Id=self.pointee()), "LockEnvelope", 0)
        _v(seq, "PitchViewScrollPosition", -1073741824)
        _v(seq, "SampleOffsetModulationScrollPosition", -1073741824)
        recorder = _el(seq, "Recorder")
        _v(recorder, "IsArmed", False)
        _v(recorder, "TakeCounter", 1)

    # ---------------------------------------------------------------- clip
    def audio_clip(self, events, s: ExportStem, file: Path) -> None:
        seconds = s.duration_s
        beats = seconds * self.tempo / 60.0
        # Every clip starts where the grid puts the song's downbeat on a bar line (workbench.tempo).
        start = self.offset_s * self.tempo / 60.0
        clip = _el(events, "AudioClip", Id=0, Time=start)
        _v(clip, "LomId", 0)
        _v(clip, "LomIdView", 0)
        # Arrangement position in beats; for an unwarped clip the loop and markers are in seconds.
        _v(clip, "CurrentStart", start)
        _v(clip, "CurrentEnd", start + beats)
        loop = _el(clip, "Loop")
        for tag, value in (("LoopStart", 0.0), ("LoopEnd", seconds), ("StartRelative", 0.0), ("LoopOn", False),
                           ("OutMarker", seconds), ("HiddenLoopStart", 0.0), ("HiddenLoopEnd", seconds)):
            _v(loop, tag, value)
        _v(clip, "Name", xml_text(s.name))
        _v(clip, "Annotation", "")
        _v(clip, "Color", 0)
        _v(clip, "LaunchMode", 0)
        _v(clip, "LaunchQuantisation", 0)
        signature = _el(_el(_el(clip, "TimeSignature"), "TimeSignatures"), "RemoteableTimeSignature", Id=0)
        _v(signature, "Numerator", 4)
        _v(signature, "Denominator", 4)
        _v(signature, "Time", 0)
        _el(_el(clip, "Envelopes"), "Envelopes")
        scroller = _el(clip, "ScrollerTimePreserver")
        _v(scroller, "LeftTime", 0.0)
        _v(scroller, "RightTime", beats)
        selection = _el(clip, "TimeSelection")
        _v(selection, "AnchorTime", 0.0)
        _v(selection, "OtherTime", 0.0)
        _v(clip, "Legato", False)
        _v(clip, "Ram", False)
        _v(_el(clip, "GrooveSettings"), "GrooveId", -1)
        _v(clip, "Disabled", False)
        _v(clip, "VelocityAmount", 0)
        self.grid(clip, "Grid")
        _v(clip, "FreezeStart", 0)
        _v(clip, "FreezeEnd", 0)
        _v(clip, "IsWarped", False)
        _v(clip, "TakeId", 1)
        self.sample_ref(clip, s, file)
        onsets = _el(clip, "Onsets")
        _el(onsets, "UserOnsets")
        _v(onsets, "HasUserOnsets", False)
        for tag, value in (("WarpMode", 0), ("GranularityTones", 30.0), ("GranularityTexture", 65.0),
                           ("FluctuationTexture", 25.0), ("TransientResolution", 6), ("TransientLoopMode", 2),
                           ("TransientEnvelope", 100), ("ComplexProFormants", 100.0),
                           ("ComplexProEnvelope", 128), ("Sync", True), ("HiQ", True), ("Fade", False)):
            _v(clip, tag, value)
        fades = _el(clip, "Fades")
        for tag, value in (("FadeInLength", 0.0), ("FadeOutLength", 0.0), ("ClipFadesAreInitialized", True),
                           ("CrossfadeInState", 0), ("FadeInCurveSkew", 0.0), ("FadeInCurveSlope", 0.0),
                           ("FadeOutCurveSkew", 0.0), ("FadeOutCurveSlope", 0.0), ("IsDefaultFadeIn", False),
                           ("IsDefaultFadeOut", False)):
            _v(fades, tag, value)
        _v(clip, "PitchCoarse", 0.0)
        _v(clip, "PitchFine", 0.0)
        _v(clip, "SampleVolume", 1.0)  # clip gain 0 dB: the gain is on the fader
        _v(clip, "MarkerDensity", 2)
        _v(clip, "AutoWarpTolerance", 4)
        markers = _el(clip, "WarpMarkers")
        _el(markers, "WarpMarker", Id=0, SecTime="0", BeatTime="0")
        _el(markers, "WarpMarker", Id=1, SecTime=seconds, BeatTime=beats)
        _el(clip, "SavedWarpMarkersForStretched")
        _v(clip, "MarkersGenerated", False)
        _v(clip, "IsSongTempoMaster", False)

    def sample_ref(self, clip, s: ExportStem, file: Path) -> None:
        ref = _el(clip, "SampleRef")
        file_ref = _el(ref, "FileRef")
        # Project-relative only: no absolute path (it would break on another machine and
        # would tell the user's folder names); Live resolves it from "Ableton Project Info".
        _v(file_ref, "RelativePathType", RELATIVE_TO_PROJECT)
        _v(file_ref, "RelativePath", xml_text(file.resolve().relative_to(self.folder.resolve()).as_posix()))
        _v(file_ref, "Path", "")
        _v(file_ref, "Type", 1)
        _v(file_ref, "LivePackName", "")
        _v(file_ref, "LivePackId", "")
        _v(file_ref, "OriginalFileSize", file.stat().st_size)
        _v(file_ref, "OriginalCrc", 0)
        _v(ref, "LastModDate", int(file.stat().st_mtime))
        _el(ref, "SourceContext")
        _v(ref, "SampleUsageHint", 0)
        _v(ref, "DefaultDuration", s.frames)
        _v(ref, "DefaultSampleRate", s.sample_rate)

    # ---------------------------------------------------------------- small parts
    def grid(self, parent, tag: str) -> None:
        grid = _el(parent, tag)
        for name, value in (("FixedNumerator", 1), ("FixedDenominator", 16), ("GridIntervalPixel", 20),
                            ("Ntoles", 2), ("SnapToGrid", True), ("Fixed", False)):
            _v(grid, name, value)

    def scene(self, scene) -> None:
        follow = _el(scene, "FollowAction")
        for tag, value in (("FollowTime", 4.0), ("IsLinked", True), ("LoopIterations", 1),
                           ("FollowActionA", 4), ("FollowActionB", 0), ("FollowChanceA", 100),
                           ("FollowChanceB", 0), ("JumpIndexA", 0), ("JumpIndexB", 0),
                           ("FollowActionEnabled", False)):
            _v(follow, tag, value)
        _v(scene, "Name", "")
        _v(scene, "Annotation", "")
        _v(scene, "Color", -1)
        _v(scene, "Tempo", self.tempo)
        _v(scene, "IsTempoEnabled", False)
        _v(scene, "TimeSignatureId", TIME_SIGNATURE_ID)
        _v(scene, "IsTimeSignatureEnabled", False)
        _v(scene, "LomId", 0)
        _el(scene, "ClipSlotsListWrapper", LomId=0)
