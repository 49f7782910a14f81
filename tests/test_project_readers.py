"""The exported projects, read by parsers we did not write, play like ``mix.wav``.

The sample stems are mixed with ``project="all"``; the two projects are then
moved to another folder (as to another machine) and read:

- the ``.dawproject`` by openDAW's parser (npm ``@opendaw/lib-dawproject``,
  run by ``tests/js/read_dawproject.mjs``), which must see the same tracks,
  faders, pans, mutes, sends and clips as the file holds, every clip's audio
  present in the zip;
- the ``.als`` by abletoolz (every sample reference resolved from the project
  folder) and pyableton 0.0.15 (which parses sets Live saved).

Then each project's mixer settings are played back through our own chain
(:mod:`workbench.export.levels`: fader, the 0 dB-centre pan law, sends, the
master gain) and compared with ``mix.wav``. Tolerances (documented in the README):

- DAWproject: the clips, the EQ input gain, the compressor as written
  (threshold shifted by the fader, ratio from its percent), fader, pan,
  rendered reverb track, glue, the Limiter's input gain and threshold: the
  16-bit result equals ``mix.wav`` within **2 LSB** (dither is re-drawn with the
  same seed; the compressor sees its input at another gain, float rounding).
- .als (no devices in the set): the plan's EQ and compressor run at unity gain,
  every level comes from the set (fader, pan, master fader): within **2 LSB** too.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from workbench.export.dawproject import linear_to_db, normalized_to_pan, percent_to_ratio
from workbench.export.levels import MONO_CENTRE_DB, daw_channel
from workbench.mixing.plan import Compressor
from workbench.mixing.render import StemChain, master_stems
from workbench.pipeline import mix_session

from .conftest import SAMPLE_STEMS

TESTS = Path(__file__).parent
#: Largest difference (16-bit LSB) between a project played back and mix.wav.
TOLERANCE_LSB = 2


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The sample stems mixed with both projects, the projects then moved elsewhere."""
    out = tmp_path_factory.mktemp("mix")
    result = mix_session(SAMPLE_STEMS, out, project="all")
    moved = tmp_path_factory.mktemp("elsewhere")
    dawproject = Path(shutil.move(str(result.outputs["dawproject"]), moved))
    als_folder = Path(shutil.move(str(result.outputs["als"].parent), moved))
    return result, dawproject, als_folder / result.outputs["als"].name


@pytest.fixture(scope="module")
def opendaw(exported):
    """What openDAW's parser reads from the moved .dawproject."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the openDAW DAWproject reader runs on Node (see .ci/run)")
    if not (TESTS / "node_modules" / "@opendaw" / "lib-dawproject").exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the openDAW reader (tests/package.json)"
        subprocess.run([npm, "install", "--prefix", str(TESTS), "--no-audit", "--no-fund"], check=True,
                       capture_output=True, timeout=600)
    res = subprocess.run([node, "--import", "./js/register.mjs", "js/read_dawproject.mjs", str(exported[1])],
                         cwd=TESTS, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def _ours(dawproject: Path) -> ET.Element:
    with zipfile.ZipFile(dawproject) as z:
        return ET.fromstring(z.read("project.xml"))


# --------------------------------------------------------------------------- DAWproject, openDAW
def test_opendaw_reads_the_same_tracks_levels_sends_and_clips(exported, opendaw):
    result, dawproject, _ = exported
    root = _ours(dawproject)
    ours = root.find("Structure").findall("Track")
    assert [t["name"] for t in opendaw["tracks"]] == [t.get("name") for t in ours]
    for theirs, track in zip(opendaw["tracks"], ours):
        ch, tc = track.find("Channel"), theirs["channel"]
        assert tc["role"] == ch.get("role") and tc["id"] == ch.get("id")
        assert tc["volume"]["value"] == pytest.approx(float(ch.find("Volume").get("value")), abs=1e-12)
        assert tc["pan"]["value"] == pytest.approx(float(ch.find("Pan").get("value")), abs=1e-12)
        assert tc["mute"] == (ch.find("Mute").get("value") == "true")
        sends = ch.findall("Sends/Send")
        assert [(s["destination"], s["enable"], pytest.approx(s["volume"]["value"], abs=1e-12))
                for s in tc["sends"]] == [(s.get("destination"), s.find("Enable").get("value") == "true",
                                           float(s.find("Volume").get("value"))) for s in sends]
        # EQ bands: the order attribute is the band's index.
        for device in tc["devices"]:
            if device["bands"]:
                assert [b["order"] for b in device["bands"]] == list(range(len(device["bands"])))
    # One clip per stem and one for the rendered reverb, each file present in the zip.
    assert len(opendaw["clips"]) == len(result.plan.stems) + 1
    assert all(c["inZip"] for c in opendaw["clips"])
    # The mix's reverb plays from its rendered track: every send is off, the return is muted.
    stems = [t for t in opendaw["tracks"] if t["name"] in result.plan.stems]
    assert any(t["channel"]["sends"] for t in stems)
    assert all(not s["enable"] for t in stems for s in t["channel"]["sends"])
    (ret,) = [t for t in opendaw["tracks"] if t["channel"]["role"] == "effect"]
    assert ret["channel"]["mute"] is True
    # The tempo measured from the audio (the sample song is at 108 bpm).
    assert opendaw["tempo"]["value"] == pytest.approx(108.0, abs=0.5)
    assert result.plan.grid is not None and result.plan.grid.confident


def test_dawproject_plays_like_the_mix(exported, opendaw, tmp_path):
    """openDAW's reading of the project, through our chain and the 0 dB-centre pan law, gives mix.wav."""
    result, dawproject, _ = exported
    plan, sr = result.plan, result.plan.sample_rate
    root = _ours(dawproject)
    with zipfile.ZipFile(dawproject) as z:
        z.extractall(tmp_path / "unzipped")
    clips = {c["track"]: c for c in opendaw["clips"]}
    tracks = {t.get("name"): t for t in root.find("Structure").findall("Track")}
    bus = None
    for theirs in opendaw["tracks"]:
        ch = theirs["channel"]
        if ch["role"] not in ("regular",) or ch["mute"]:
            continue
        clip = clips[theirs["id"]]
        audio = sf.read(str(tmp_path / "unzipped" / clip["file"]), dtype="float32", always_2d=True)[0].T
        assert audio.shape[0] == clip["channels"]
        y = audio
        sp = plan.stems.get(theirs["name"])
        if sp is not None:
            # Devices as written: EQ input gain and bands (the plan's, mapped in test_export_dawproject),
            # compressor with the project's threshold, ratio, times and make-up.
            device = tracks[theirs["name"]].find("Channel/Devices")
            eq, comp = device.find("Equalizer"), device.find("Compressor")
            pre_db = float(eq.find("InputGain").get("value")) if eq is not None else 0.0
            compressor = None
            if comp is not None:
                def v(tag):
                    return float(comp.find(tag).get("value"))
                compressor = Compressor(threshold_db=v("Threshold"), ratio=percent_to_ratio(v("Ratio")),
                                        attack_ms=v("Attack") * 1000, release_ms=v("Release") * 1000,
                                        makeup_db=v("OutputGain"))
            chain = StemChain(replace(sp, gain_db=pre_db, compressor=compressor, pan=0.0, reverb_send_db=None,
                                      channels=audio.shape[0]), sr, audio.shape[0])
            y = chain.core(audio)
        # Sends are off (the rendered return plays the reverb); fader and pan law of the DAW.
        assert all(not s["enable"] for s in ch["sends"])
        played = daw_channel(y, fader=ch["volume"]["value"], pan=normalized_to_pan(ch["pan"]["value"]))
        start = int(round(clip["time"] * sr))
        if bus is None:
            bus = np.zeros((2, start + played.shape[1]))
        bus[:, start:start + played.shape[1]] += played
    # Back to the stems' time line (the clips start at the grid offset), then the master.
    offset = int(round(min(c["time"] for c in opendaw["clips"]) * sr))
    bus = bus[:, offset:]
    sf.write(str(tmp_path / "bus.wav"), bus.T.astype(np.float32), sr, subtype="FLOAT")
    limiter = root.find("Structure/Track[@name='Master']/Channel/Devices/Limiter")
    again = master_stems(plan, [tmp_path / "bus.wav"], tmp_path / "again.wav",
                         master_gain_db=float(limiter.find("InputGain").get("value")),
                         limiter_ceiling_db=float(limiter.find("Threshold").get("value")))
    _assert_same_as_mix(result.audio_path, again.path)


# --------------------------------------------------------------------------- .als, abletoolz and pyableton
def test_abletoolz_finds_every_sample_of_the_moved_set(exported):
    from abletoolz.ableton_set import AbletonSet

    result, _, als = exported
    assert (als.parent / "Ableton Project Info").is_dir()
    st = AbletonSet(als)
    with gzip.open(als) as f:   # AbletonSet.parse reads a macOS/Windows-only file date first
        st.root = ET.fromstring(f.read())
    st.load_version()
    assert st.find_project_root_folder() == als.parent
    refs = list(st._iterate_samples())
    assert len(refs) == len(result.plan.stems) + 1
    assert all(r.relative_exists for r in refs)
    assert all(r.absolute is None for r in refs)          # no absolute path, no user folder names
    st.load_tracks()
    assert [t.name for t in st.tracks][:len(result.plan.stems)] == list(result.plan.stems)
    assert st.get_bpm() == pytest.approx(108.0, abs=0.5)


def test_pyableton_parses_the_set(exported, tmp_path, monkeypatch):
    from pyableton import Ableton

    result, _, als = exported
    monkeypatch.chdir(tmp_path)                 # it writes a temp.xml into the working folder
    live = Ableton(str(als)).live_set
    assert len(live.tracks) == len(result.plan.stems) + 2   # stems, rendered reverb, the return
    assert live.master_track.device_chain.mixer.tempo.manual == round(result.plan.grid.bpm)
    # Integer fields as integers, and the sections Live writes.
    text = gzip.open(als).read().decode("utf-8")
    assert 'Value="120.0"' not in text and 'Time="-63072000.0"' not in text
    root = ET.fromstring(text)
    assert root.find("LiveSet/SongMasterValues") is not None and len(root.find("LiveSet")) >= 55
    assert "/" not in "".join(e.get("Value") for e in root.iter("Path"))


def test_als_plays_like_the_mix(exported, tmp_path):
    """The set's faders, pans and master fader, with the plan's EQ and compressor at unity gain, give mix.wav."""
    result, _, als = exported
    plan, sr = result.plan, result.plan.sample_rate
    root = ET.fromstring(gzip.open(als).read())
    tempo = float(root.find("LiveSet/MasterTrack/DeviceChain/Mixer/Tempo/Manual").get("Value"))
    bus, offset = None, None
    for track in root.find("LiveSet/Tracks").findall("AudioTrack"):
        name = track.find("Name/EffectiveName").get("Value")
        mixer = track.find("DeviceChain/Mixer")
        if mixer.find("Speaker/Manual").get("Value") != "true":
            continue
        clip = track.find("DeviceChain/MainSequencer/Sample/ArrangerAutomation/Events/AudioClip")
        rel = clip.find("SampleRef/FileRef/RelativePath").get("Value")
        audio = sf.read(str(als.parent / rel), dtype="float32", always_2d=True)[0].T
        sp = plan.stems.get(name)
        y = audio
        if sp is not None:
            chain = StemChain(replace(sp, pan=0.0, reverb_send_db=None, channels=audio.shape[0]), sr,
                              audio.shape[0])
            y = chain.core(audio) / np.float32(10 ** (sp.gain_db / 20))   # the level comes from the fader
            send = float(mixer.find("Sends/TrackSendHolder/Send/Manual").get("Value"))
            assert send <= 10 ** (-70 / 20) + 1e-12                        # sends off
        played = daw_channel(y, fader=float(mixer.find("Volume/Manual").get("Value")),
                             pan=float(mixer.find("Pan/Manual").get("Value")))
        start = int(round(float(clip.get("Time")) * 60.0 / tempo * sr))
        offset = start if offset is None else min(offset, start)
        if bus is None:
            bus = np.zeros((2, start + played.shape[1]))
        bus[:, start:start + played.shape[1]] += played
    bus = bus[:, offset:]
    sf.write(str(tmp_path / "bus.wav"), bus.T.astype(np.float32), sr, subtype="FLOAT")
    master = float(root.find("LiveSet/MasterTrack/DeviceChain/Mixer/Volume/Manual").get("Value"))
    again = master_stems(plan, [tmp_path / "bus.wav"], tmp_path / "again.wav",
                         master_gain_db=linear_to_db(master),
                         limiter_ceiling_db=plan.master.rendered_limiter_ceiling_db)
    _assert_same_as_mix(result.audio_path, again.path)


def test_the_mono_fader_rule_is_the_pan_law_difference():
    """A mono clip at fader −3.01 dB in the 0 dB-centre model equals the renderer's −3 dB-centre pan."""
    from workbench.mixing.dsp import pan_mono

    x = np.random.default_rng(3).standard_normal((1, 1000)).astype(np.float32)
    for pan in (-1.0, -0.41, 0.0, 0.33, 0.7, 1.0):
        ours = pan_mono(x, pan)
        daw = daw_channel(x, fader=10 ** (MONO_CENTRE_DB / 20), pan=pan)
        assert np.allclose(ours, daw, atol=1e-6), pan
    # A stereo clip: unchanged at the centre (the DAW's balance and ours agree).
    xs = np.random.default_rng(4).standard_normal((2, 100))
    assert np.array_equal(daw_channel(xs, fader=1.0, pan=0.0), xs)
    assert math.isclose(MONO_CENTRE_DB, -3.0103, abs_tol=1e-4)


def test_master_gain_and_ceiling_are_recorded(exported):
    result = exported[0]
    m = result.plan.master
    assert m.rendered_gain_db == pytest.approx(result.render.master_gain_db)
    assert m.rendered_limiter_ceiling_db == pytest.approx(result.render.limiter_ceiling_db)
    plan_json = json.loads(result.plan_path.read_text())
    assert plan_json["master"]["rendered_gain_db"] == pytest.approx(m.rendered_gain_db)
    assert plan_json["grid"]["bpm"] == pytest.approx(108.0, abs=0.5)
    report = result.report_path.read_text()
    assert f"gain {m.rendered_gain_db:+.2f} dB" in report and "Tempo: 108 bpm" in report


def test_archives_are_reproducible_and_unpack_as_ordinary_files(exported, tmp_path):
    result, dawproject, als = exported
    with zipfile.ZipFile(dawproject) as z:
        assert {(i.external_attr >> 16) & 0o777 for i in z.infolist()} == {0o644}
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    head = als.read_bytes()[:10]
    assert head[3] & 0x08 == 0 and head[4:8] == b"\0\0\0\0"   # no file name, no date in the gzip header
    from workbench import export

    again = export.dawproject(result.plan, result.session, tmp_path / "again.dawproject")
    assert again.read_bytes() == export.dawproject(result.plan, result.session,
                                                   tmp_path / "twice.dawproject").read_bytes()


def _assert_same_as_mix(mix: Path, again: Path) -> None:
    a = sf.read(str(mix), dtype="int16")[0].astype(int)
    b = sf.read(str(again), dtype="int16")[0].astype(int)
    assert a.shape == b.shape
    assert np.abs(a - b).max() <= TOLERANCE_LSB, np.abs(a - b).max()
