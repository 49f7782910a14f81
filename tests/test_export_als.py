"""Ableton Live Set export (experimental): structure and invariants, and the plan read back.

Only a real Live can fully validate a set; these tests check what can be
checked without it: gzipped well-formed XML with an ``Ableton`` root, pointee
ids unique and below ``NextPointeeId``, every list's ids unique, every clip's
file present, and faders, pans and sends equal to the plan after the documented
mappings (Live's linear amplitude, clamped to its range).
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from workbench import WorkbenchError, export, load_session
from workbench.analysis import analyse
from workbench.export.als import SEND_MAX, SEND_MIN, VOLUME_MAX, VOLUME_MIN
from workbench.export.levels import MONO_CENTRE_DB, plays_mono
from workbench.export.names import xml_text
from workbench.mixing.planner import plan_mix

from .conftest import SAMPLE_STEMS

TOL = 1e-6
#: Elements whose ``Id`` lives in the set-wide pointee space.
POINTEE_TAGS = {"Pointee", "AutomationTarget", "ModulationTarget", "VolumeModulationTarget",
                "TranspositionModulationTarget", "GrainSizeModulationTarget", "FluxModulationTarget",
                "SampleOffsetModulationTarget"}

AWKWARD = [("Gtr_L.wav", "Gtr/L", 1), ("Gtr_colon.wav", "Gtr:L", 2), ("Vox.wav", "Vox..", 1),
           ("CON.wav", "CON", 1), ("Unicode.wav", "Ünïcødé", 2), ("Kick.wav", "Kick", 1),
           ("kick_b.wav", "kick", 1)]


@pytest.fixture(scope="module")
def sample():
    s = load_session(SAMPLE_STEMS)
    return s, plan_mix(s, analyse(s))


@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    folder = tmp_path_factory.mktemp("awkward stems")
    rng = np.random.default_rng(2)
    for file, _, channels in AWKWARD:
        x = 0.3 * np.sin(np.arange(44100) / 20) + 0.05 * rng.standard_normal(44100)
        sf.write(str(folder / file), np.tile(x, (channels, 1)).T.astype(np.float32), 44100, subtype="PCM_16")
    s = load_session(folder)
    names = {file: name for file, name, _ in AWKWARD}
    for stem in s.stems:
        stem.name = names[stem.file]
    return s, plan_mix(s, analyse(s))


@pytest.fixture(params=["sample", "awkward"])
def case(request):
    return request.getfixturevalue(request.param)


def _digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _export(case, tmp_path):
    session, plan = case
    before = {s.path: _digest(s.path) for s in session.stems}
    out = export.ableton(plan, session, tmp_path / "song Project" / "song.als")
    assert {s.path: _digest(s.path) for s in session.stems} == before, "the user's files were modified"
    with gzip.open(out) as f:
        return out, ET.fromstring(f.read())


def _manual(el, tag) -> float:
    return float(el.find(tag).find("Manual").get("Value"))


def _value(el, path) -> str:
    return el.find(path).get("Value")


# --------------------------------------------------------------------------- structure
def test_gunzips_to_an_ableton_live_11_set(sample, tmp_path):
    out, root = _export(sample, tmp_path)
    assert out.suffix == ".als"
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert root.tag == "Ableton"
    assert root.get("MajorVersion") == "5" and root.get("MinorVersion").startswith("11.")
    live = root.find("LiveSet")
    assert live is not None and live.find("Tracks") is not None and live.find("MasterTrack") is not None


def test_pointee_ids_are_unique_and_below_next_pointee_id(case, tmp_path):
    _, root = _export(case, tmp_path)
    ids = [int(el.get("Id")) for el in root.iter() if el.tag in POINTEE_TAGS]
    assert ids and len(ids) == len(set(ids))
    next_id = int(_value(root, "LiveSet/NextPointeeId"))
    assert max(ids) < next_id
    # Automation envelopes point at existing automation targets.
    targets = {int(el.get("Id")) for el in root.iter("AutomationTarget")}
    pointees = [int(el.get("Value")) for el in root.iter("PointeeId")]
    assert pointees and set(pointees) <= targets


def test_ids_are_unique_within_each_list(case, tmp_path):
    _, root = _export(case, tmp_path)
    tracks = root.find("LiveSet/Tracks")
    track_ids = [t.get("Id") for t in tracks]
    assert len(track_ids) == len(set(track_ids))
    for parent in root.iter():
        ids = Counter(child.get("Id") for child in parent if child.get("Id") is not None
                      and child.tag not in POINTEE_TAGS)
        assert all(n == 1 for n in ids.values()), f"repeated Id in {parent.tag}: {ids}"


def test_sends_match_the_return_tracks(sample, tmp_path):
    _, root = _export(sample, tmp_path)
    live = root.find("LiveSet")
    returns = live.findall("Tracks/ReturnTrack")
    assert len(returns) == 1 and len(live.findall("SendsPre/SendPreBool")) == 1
    assert live.find("SendsPre/SendPreBool").get("Value") == "false"
    for track in live.find("Tracks"):
        assert len(track.findall("DeviceChain/Mixer/Sends/TrackSendHolder")) == len(returns)


# --------------------------------------------------------------------------- clips and files
def test_every_clip_file_exists_beside_the_set(case, tmp_path):
    session, plan = case
    out, root = _export(case, tmp_path)
    stems = {s.file: s for s in session.stems}
    tracks = root.findall("LiveSet/Tracks/AudioTrack")
    assert len(tracks) == len(plan.stems)
    for track, sp in zip(tracks, plan.stems.values()):
        stem = stems[sp.file]
        clips = track.findall("DeviceChain/MainSequencer/Sample/ArrangerAutomation/Events/AudioClip")
        assert len(clips) == 1
        clip = clips[0]
        assert float(clip.get("Time")) == 0.0
        ref = clip.find("SampleRef/FileRef")
        # Project-relative only (Live resolves it from the folder holding "Ableton Project Info").
        assert _value(ref, "Path") == "" and _value(ref, "RelativePathType") == "3"
        assert (out.parent / "Ableton Project Info").is_dir()
        relative = out.parent / _value(ref, "RelativePath")
        assert not Path(_value(ref, "RelativePath")).is_absolute() and relative.exists()
        assert relative.parent.resolve() == (out.parent / "Samples" / "Imported").resolve()
        if stem.channels > 1 and plays_mono(stem.channels, sp.channels):   # the plan folds it: its fold
            assert np.array_equal(sf.read(str(relative))[0], sf.read(str(stem.path))[0].mean(axis=1))
        else:
            assert relative.read_bytes() == stem.path.read_bytes()
        assert int(_value(ref, "OriginalFileSize")) == relative.stat().st_size
        assert int(_value(clip, "SampleRef/DefaultSampleRate")) == stem.sample_rate
        assert int(_value(clip, "SampleRef/DefaultDuration")) == stem.frames
        # Unwarped, the whole stem: seconds in the loop, beats (120 bpm) on the arrangement.
        seconds = stem.frames / stem.sample_rate
        assert _value(clip, "IsWarped") == "false"
        assert float(_value(clip, "Loop/LoopEnd")) == pytest.approx(seconds, abs=TOL)
        assert float(_value(clip, "CurrentEnd")) == pytest.approx(seconds * 2, abs=TOL)


def test_awkward_names_are_kept_as_track_names_and_made_safe_as_files(awkward, tmp_path):
    session, plan = awkward
    out, root = _export(awkward, tmp_path)
    names = [_value(t, "Name/EffectiveName") for t in root.findall("LiveSet/Tracks/AudioTrack")]
    assert names == [xml_text(n) for n in plan.stems]
    files = [p.name for p in (out.parent / "Samples" / "Imported").iterdir()]
    assert len(files) == len(plan.stems) and len({f.casefold() for f in files}) == len(files)
    assert all("/" not in f and ":" not in f and not f.startswith(".") for f in files)
    assert "CON.wav" not in files and "Ünïcødé.wav" in files


# --------------------------------------------------------------------------- the plan, read back
def test_faders_pans_and_sends_round_trip(case, tmp_path):
    session, plan = case
    channels = {s.file: s.channels for s in session.stems}
    _, root = _export(case, tmp_path)
    live = root.find("LiveSet")
    for track, (name, sp) in zip(live.findall("Tracks/AudioTrack"), plan.stems.items()):
        mixer = track.find("DeviceChain/Mixer")
        assert _value(track, "Name/EffectiveName") == xml_text(name)
        volume = _manual(mixer, "Volume")
        # The pan-law rule: a mono clip's fader 3.01 dB below the plan's gain (Live's centre is 0 dB).
        law_db = MONO_CENTRE_DB if plays_mono(channels[sp.file], sp.channels) else 0.0
        expected = min(max(10 ** ((sp.gain_db + law_db) / 20), VOLUME_MIN), VOLUME_MAX)
        assert volume == pytest.approx(expected, abs=TOL)
        if VOLUME_MIN < expected < VOLUME_MAX:
            assert 20 * math.log10(volume) - law_db == pytest.approx(sp.gain_db, abs=TOL)
        assert _manual(mixer, "Pan") == pytest.approx(sp.pan, abs=TOL)
        assert mixer.find("Speaker/Manual").get("Value") == ("false" if sp.mute else "true")
        send = _manual(mixer.find("Sends/TrackSendHolder"), "Send")
        if sp.reverb_send_db is None:
            assert send == pytest.approx(SEND_MIN)
        else:
            assert 20 * math.log10(send) == pytest.approx(sp.reverb_send_db, abs=TOL)
        assert track.find("DeviceChain/AudioOutputRouting/Target").get("Value") == "AudioOut/Master"
        assert track.find("DeviceChain/DeviceChain/Devices") is not None  # no devices written
        assert len(track.find("DeviceChain/DeviceChain/Devices")) == 0
    (reverb,) = live.findall("Tracks/ReturnTrack")
    assert _value(reverb, "Name/EffectiveName") == "Reverb"
    assert 20 * math.log10(_manual(reverb.find("DeviceChain/Mixer"), "Volume")) == \
        pytest.approx(plan.reverb.return_db, abs=TOL)
    # Without the rendered return the return track has no reverb: it is off, and says so.
    assert reverb.find("DeviceChain/Mixer/Speaker/Manual").get("Value") == "false"
    assert "Off" in _value(reverb, "Name/Annotation")
    master = live.find("MasterTrack/DeviceChain/Mixer")
    assert _manual(master, "Volume") == 1.0
    assert _manual(master, "Tempo") == 120.0


def test_out_of_range_levels_are_clamped_and_said(sample, tmp_path):
    session, plan = sample
    plan = copy.deepcopy(plan)
    loud, wet = list(plan.stems)[:2]
    plan.stems[loud].gain_db = 12.0
    plan.stems[loud].mute = True
    plan.stems[wet].reverb_send_db = 3.0
    _, root = _export((session, plan), tmp_path)
    tracks = {_value(t, "Name/EffectiveName"): t for t in root.findall("LiveSet/Tracks/AudioTrack")}
    mixer = tracks[loud].find("DeviceChain/Mixer")
    assert _manual(mixer, "Volume") == pytest.approx(VOLUME_MAX)
    stem = next(s for s in session.stems if s.file == plan.stems[loud].file)
    missing = 12.0 + (MONO_CENTRE_DB if plays_mono(stem.channels, plan.stems[loud].channels) else 0.0) - 6.0
    assert f"{missing:+.2f} dB" in _value(tracks[loud], "Name/Annotation")
    assert mixer.find("Speaker/Manual").get("Value") == "false"
    send = _manual(tracks[wet].find("DeviceChain/Mixer/Sends/TrackSendHolder"), "Send")
    assert send == pytest.approx(SEND_MAX)


# --------------------------------------------------------------------------- safety
def test_refuses_to_write_over_an_input(tmp_path):
    stem = tmp_path / "Song.als"  # a WAV stem with an unlucky name
    sf.write(str(stem), (0.1 * np.sin(np.arange(22050) / 10)).astype(np.float32), 44100, format="WAV")
    session = load_session([stem])
    plan = plan_mix(session, analyse(session))
    before = _digest(stem)
    with pytest.raises(WorkbenchError) as err:
        export.als(plan, session, stem)
    assert err.value.code == "overwrite_input"
    assert _digest(stem) == before


def test_a_failed_write_leaves_nothing_behind(sample, tmp_path, monkeypatch):
    session, plan = sample
    out_dir = tmp_path / "song Project"
    out_dir.mkdir()
    old = out_dir / "song.als"
    old.write_bytes(b"the previous set")

    def failing_write(self, data):
        raise OSError("disk full")

    monkeypatch.setattr(gzip.GzipFile, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        export.ableton(plan, session, old)
    assert old.read_bytes() == b"the previous set"
    assert sorted(p.name for p in out_dir.iterdir()) == ["song.als"]  # no temp file, no Samples folder


def test_existing_samples_are_never_replaced(sample, tmp_path):
    session, plan = sample
    imported = tmp_path / "Samples" / "Imported"
    imported.mkdir(parents=True)
    first = next(iter(plan.stems))
    squatter = imported / f"{first}.wav"
    squatter.write_bytes(b"someone else's file")
    out = export.ableton(plan, session, tmp_path / "song.als")
    assert squatter.read_bytes() == b"someone else's file"
    with gzip.open(out) as f:
        root = ET.fromstring(f.read())
    ref = root.find("LiveSet/Tracks/AudioTrack/DeviceChain/MainSequencer/Sample/ArrangerAutomation/Events/"
                    "AudioClip/SampleRef/FileRef")
    assert _value(ref, "RelativePath") == f"Samples/Imported/{first} 2.wav"
    # A second export of the same stems reuses the identical copies instead of piling up new ones.
    count = len(list(imported.iterdir()))
    export.ableton(plan, session, tmp_path / "song again.als")
    assert len(list(imported.iterdir())) == count
