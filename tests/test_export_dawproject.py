"""DAWproject export: schema-valid, complete, faithful to the plan, safe with the user's files.

Every value is read back from ``project.xml`` and compared with the plan after
the documented mappings (module docstring of :mod:`workbench.export.dawproject`)
within 1e-6.
"""

from __future__ import annotations

import copy
import hashlib
import math
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import xmlschema

from workbench import WorkbenchError, export, load_session
from workbench.analysis import analyse
from workbench.export.dawproject import (BUTTERWORTH_SECTION_Q, FADER_MAX_DB, db_to_linear, filter_order,
                                         linear_to_db, normalized_to_pan, pan_to_normalized, percent_to_ratio,
                                         ratio_to_percent, split_gain)
from workbench.export.levels import MONO_CENTRE_DB, plays_mono
from workbench.export.names import safe_name, unique_file_names, xml_text
from workbench.mixing.planner import plan_mix

from .conftest import SAMPLE_STEMS

XSD = Path(__file__).parent / "data" / "dawproject-xsd"
TOL = 1e-6
EQ_TYPES = {"highpass": "highPass", "lowpass": "lowPass", "bell": "bell", "low_shelf": "lowShelf",
            "high_shelf": "highShelf"}

#: (file, stem name, channels, seconds, sample rate): names that are unsafe as
#: file names, collide once made safe, or differ only in case.
AWKWARD = [("Gtr_L.wav", "Gtr/L", 1, 1.0, 44100), ("Gtr_colon.wav", "Gtr:L", 2, 1.5, 44100),
           ("Vox.wav", "Vox..", 1, 1.0, 44100), ("CON.wav", "CON", 1, 1.2, 44100),
           ("Unicode.wav", "Ünïcødé", 2, 1.0, 48000), ("Kick.wav", "Kick", 1, 1.0, 44100),
           ("kick_b.wav", "kick", 1, 1.0, 44100), ("Bell.wav", "Bell\x07 ..\\nul", 1, 0.8, 44100)]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def xsd():
    return (xmlschema.XMLSchema(str(XSD / "Project.xsd")), xmlschema.XMLSchema(str(XSD / "MetaData.xsd")))


@pytest.fixture(scope="module")
def sample():
    """The sample stems and a real plan (analysis takes about a second)."""
    s = load_session(SAMPLE_STEMS)
    return s, plan_mix(s, analyse(s))


@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    """A small generated session whose stem names are hostile to file systems."""
    folder = tmp_path_factory.mktemp("awkward stems")
    rng = np.random.default_rng(1)
    for file, _, channels, seconds, sr in AWKWARD:
        t = np.arange(int(seconds * sr)) / sr
        x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)
        sf.write(str(folder / file), np.tile(x, (channels, 1)).T.astype(np.float32), sr, subtype="PCM_16")
    s = load_session(folder)
    names = {file: name for file, name, *_ in AWKWARD}
    for stem in s.stems:
        stem.name = names[stem.file]
    return s, plan_mix(s, analyse(s))


@pytest.fixture(params=["sample", "awkward"])
def case(request):
    return request.getfixturevalue(request.param)


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _export(case, tmp_path, **kw):
    session, plan = case
    before = {s.path: _digest(s.path) for s in session.stems}
    out = export.dawproject(plan, session, tmp_path / "out" / "song.dawproject", **kw)
    assert {s.path: _digest(s.path) for s in session.stems} == before, "the user's files were modified"
    with zipfile.ZipFile(out) as z:
        return out, z.read("project.xml"), z.read("metadata.xml"), set(z.namelist())


def _real(el, tag):
    child = el.find(tag)
    assert child is not None, f"{el.tag} has no {tag}"
    return float(child.get("value")), child.get("unit")


# --------------------------------------------------------------------------- schema
@pytest.mark.parametrize("embed", [True, False])
def test_project_and_metadata_validate_against_the_xsd(case, tmp_path, xsd, embed):
    _, project, metadata, _ = _export(case, tmp_path, embed_audio=embed)
    project_xsd, metadata_xsd = xsd
    project_xsd.validate(project.decode("utf-8"))  # raises on any violation, dangling IDREFs included
    metadata_xsd.validate(metadata.decode("utf-8"))


def test_ids_are_unique_and_every_reference_resolves(case, tmp_path):
    _, project, _, _ = _export(case, tmp_path)
    root = ET.fromstring(project)
    ids = [el.get("id") for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids))
    refs = [el.get(a) for el in root.iter() for a in ("destination", "track", "reference") if el.get(a)]
    assert refs and set(refs) <= set(ids)


def test_metadata_names_the_session_and_points_to_the_plan(sample, tmp_path):
    _, _, metadata, _ = _export(sample, tmp_path)
    root = ET.fromstring(metadata)
    assert root.findtext("Title") == SAMPLE_STEMS.name
    assert "plan.json / report.md" in root.findtext("Comment")


def test_application_tempo_and_time_signature(sample, tmp_path):
    _, project, _, _ = _export(sample, tmp_path)
    root = ET.fromstring(project)
    assert root.get("version") == "1.0"
    assert root.find("Application").get("name") == "Mixing Workbench"
    assert _real(root.find("Transport"), "Tempo") == (120.0, "bpm")
    sig = root.find("Transport/TimeSignature")
    assert (sig.get("numerator"), sig.get("denominator")) == ("4", "4")


# --------------------------------------------------------------------------- audio
@pytest.mark.parametrize("embed", [True, False])
def test_every_clip_file_exists_and_covers_the_whole_stem(case, tmp_path, embed):
    session, plan = case
    out, project, _, names = _export(case, tmp_path, embed_audio=embed)
    root = ET.fromstring(project)
    tracks = {t.get("id"): t.get("name") for t in root.iter("Track")}
    by_name = {xml_text(n): sp for n, sp in plan.stems.items()}
    stems = {s.file: s for s in session.stems}
    lanes = root.findall("Arrangement/Lanes/Lanes")
    assert len(lanes) == len(plan.stems)
    assert root.find("Arrangement/Lanes").get("timeUnit") == "seconds"
    for lane in lanes:
        sp = by_name[tracks[lane.get("track")]]
        stem = stems[sp.file]
        clip = lane.find("Clips/Clip")
        audio = clip.find("Audio")
        duration = stem.frames / stem.sample_rate
        assert float(clip.get("time")) == 0.0
        assert float(clip.get("duration")) == pytest.approx(duration, abs=TOL)
        assert float(audio.get("duration")) == pytest.approx(duration, abs=TOL)
        assert int(audio.get("sampleRate")) == stem.sample_rate
        # A stem the plan folds to mono plays its fold, (L + R) / 2, as the renderer does.
        folded = stem.channels > 1 and plays_mono(stem.channels, sp.channels)
        assert int(audio.get("channels")) == (1 if folded else stem.channels)
        ref = audio.find("File")
        if embed:
            assert ref.get("external") in (None, "false")
            assert ref.get("path") in names and ref.get("path").startswith("audio/")
            with zipfile.ZipFile(out) as z:
                data = z.read(ref.get("path"))
        else:
            assert ref.get("external") == "true"
            assert not Path(ref.get("path")).is_absolute()
            copied = out.parent / ref.get("path")
            assert copied.parent.name == "song_audio"
            data = copied.read_bytes()
        if folded:
            import io

            mono, sr = sf.read(io.BytesIO(data), always_2d=True)
            original = sf.read(str(stem.path), always_2d=True)[0]
            assert mono.shape == (stem.frames, 1) and sr == stem.sample_rate
            assert np.array_equal(mono[:, 0], original.mean(axis=1))
        else:
            assert data == stem.path.read_bytes()


def test_awkward_names_give_safe_unique_files(awkward, tmp_path):
    _, project, _, names = _export(awkward, tmp_path)
    audio = sorted(n for n in names if n.startswith("audio/"))
    assert len(audio) == len(AWKWARD)
    files = [n.split("/", 1)[1] for n in audio]
    assert len({f.casefold() for f in files}) == len(files)
    for f in files:
        stem = f.rsplit(".", 1)[0]
        assert "/" not in f and "\\" not in f and ":" not in f and not f.startswith(".")
        assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
        assert stem == stem.strip(" .")
    root = ET.fromstring(project)
    track_names = [t.get("name") for t in root.find("Structure").findall("Track")]
    assert track_names[:-2] == [xml_text(n) for n in awkward[1].stems]
    assert "Ünïcødé" in track_names


# --------------------------------------------------------------------------- the plan, read back
def _tracks(root):
    tracks = root.find("Structure").findall("Track")
    return tracks[:-2], tracks[-2], tracks[-1]


@pytest.mark.parametrize("embed", [True, False])
def test_every_value_round_trips_to_the_plan(case, tmp_path, embed):
    session, plan = case
    session_channels = {s.file: s.channels for s in session.stems}
    _, project, _, _ = _export(case, tmp_path, embed_audio=embed)
    root = ET.fromstring(project)
    stem_tracks, reverb, master = _tracks(root)
    reverb_ch, master_ch = reverb.find("Channel"), master.find("Channel")
    assert reverb.get("name") == "Reverb" and reverb_ch.get("role") == "effect"
    assert reverb.get("contentType") == "audio"
    assert reverb_ch.get("destination") == master_ch.get("id") and master_ch.get("role") == "master"
    assert len(stem_tracks) == len(plan.stems)

    for track, (name, sp) in zip(stem_tracks, plan.stems.items()):
        ch = track.find("Channel")
        assert track.get("name") == xml_text(name) and track.get("contentType") == "audio"
        assert ch.get("destination") == master_ch.get("id") and ch.get("role") == "regular"
        # Fader (+ the EQ input gain above +6 dB) = the stem's gain, a mono clip's fader 3.01 dB lower.
        volume, unit = _real(ch, "Volume")
        eq = ch.find("Devices/Equalizer")
        pre_db = _real(eq, "InputGain")[0] if eq is not None else 0.0
        assert unit == "linear"
        mono = plays_mono(session_channels[sp.file], sp.channels)
        law_db = MONO_CENTRE_DB if mono else 0.0
        assert linear_to_db(volume) - law_db + pre_db == pytest.approx(sp.gain_db, abs=TOL)
        pan, unit = _real(ch, "Pan")
        assert unit == "normalized" and normalized_to_pan(pan) == pytest.approx(sp.pan, abs=TOL)
        assert ch.find("Mute").get("value") == ("true" if sp.mute else "false")
        # EQ bands, in order; ``order`` is the band's index; a 24 dB/oct pass filter is two
        # Butterworth sections (two bands), each band's Freq comment says the slope.
        bands = eq.findall("Band") if eq is not None else []
        expected = []
        for b in sp.eq:
            if b.kind in ("highpass", "lowpass"):
                expected += [(b, q) for q in BUTTERWORTH_SECTION_Q.get(b.slope_db_per_oct, (None,))]
            else:
                expected.append((b, b.q))
        assert len(bands) == len(expected)
        assert [int(band.get("order")) for band in bands] == list(range(len(bands)))
        for band, (b, q) in zip(bands, expected):
            assert band.get("type") == EQ_TYPES[b.kind]
            assert _real(band, "Freq") == (pytest.approx(b.freq_hz, abs=TOL), "hertz")
            if q is None:
                assert band.find("Q") is None
            else:
                assert _real(band, "Q")[0] == pytest.approx(q, abs=TOL)
            if b.kind in ("highpass", "lowpass"):
                assert f"{b.slope_db_per_oct} dB/oct" in band.find("Freq").get("comment")
                assert band.find("Gain") is None
            else:
                assert _real(band, "Gain") == (pytest.approx(b.gain_db, abs=TOL), "decibel")
        # Compressor (threshold relative to the fader that follows it).
        comp = ch.find("Devices/Compressor")
        c = sp.compressor
        if c is None or not c.active:
            assert comp is None
        else:
            fader_db = linear_to_db(volume) - law_db
            assert _real(comp, "Threshold")[0] + fader_db == pytest.approx(c.threshold_db, abs=TOL)
            ratio, unit = _real(comp, "Ratio")
            assert unit == "percent" and 0 <= ratio <= 100
            assert percent_to_ratio(ratio) == pytest.approx(c.ratio, abs=TOL)
            assert _real(comp, "Attack") == (pytest.approx(c.attack_ms / 1000, abs=TOL), "seconds")
            assert _real(comp, "Release") == (pytest.approx(c.release_ms / 1000, abs=TOL), "seconds")
            assert _real(comp, "OutputGain")[0] == pytest.approx(c.makeup_db, abs=TOL)
            assert _real(comp, "InputGain")[0] == 0.0
            assert comp.find("AutoMakeup").get("value") == "false"
        # Send to the reverb return.
        sends = ch.findall("Sends/Send")
        if sp.reverb_send_db is None:
            assert sends == []
        else:
            (send,) = sends
            assert send.get("destination") == reverb_ch.get("id") and send.get("type") == "post"
            level, unit = _real(send, "Volume")
            assert unit == "linear" and linear_to_db(level) == pytest.approx(sp.reverb_send_db, abs=TOL)

    # The return: fader and filters; muted (without the rendered return it has no reverb).
    assert linear_to_db(_real(reverb_ch, "Volume")[0]) == pytest.approx(plan.reverb.return_db, abs=TOL)
    assert reverb_ch.find("Mute").get("value") == "true" and "Muted" in reverb.get("comment")
    rbands = reverb_ch.findall("Devices/Equalizer/Band")
    assert [(b.get("type"), float(b.find("Freq").get("value"))) for b in rbands] == \
        [("highPass", pytest.approx(plan.reverb.highpass_hz)), ("lowPass", pytest.approx(plan.reverb.lowpass_hz))]
    # The master: 0 dB, glue compressor, limiter at the ceiling.
    assert _real(master_ch, "Volume")[0] == 1.0
    limiter = master_ch.find("Devices/Limiter")
    assert _real(limiter, "Threshold") == (pytest.approx(plan.master.ceiling_dbtp, abs=TOL), "decibel")
    glue = master_ch.find("Devices/Compressor")
    if plan.master.glue is None:
        assert glue is None
    else:
        assert _real(glue, "Threshold")[0] == pytest.approx(plan.master.glue.threshold_db, abs=TOL)
        assert percent_to_ratio(_real(glue, "Ratio")[0]) == pytest.approx(plan.master.glue.ratio, abs=TOL)
        devices = [d.tag for d in master_ch.find("Devices")]
        assert devices == ["Compressor", "Limiter"]


def test_gain_above_the_fader_range_goes_before_the_eq(sample, tmp_path):
    session, plan = sample
    plan = copy.deepcopy(plan)
    name = next(n for n, sp in plan.stems.items() if sp.compressor is not None and sp.compressor.active)
    plan.stems[name].gain_db = 9.5
    plan.stems[name].mute = True
    _, project, _, _ = _export((session, plan), tmp_path)
    track = next(t for t in ET.fromstring(project).iter("Track") if t.get("name") == name)
    ch = track.find("Channel")
    # The fader holds +6 dB (the pan-law offset of a mono clip included); the rest precedes the EQ.
    law_db = MONO_CENTRE_DB if plays_mono(next(s.channels for s in session.stems if s.name == name),
                                          plan.stems[name].channels) else 0.0
    assert _real(ch, "Volume")[0] == pytest.approx(db_to_linear(FADER_MAX_DB), abs=TOL)
    assert _real(ch.find("Devices/Equalizer"), "InputGain")[0] == pytest.approx(9.5 + law_db - 6.0, abs=TOL)
    c = plan.stems[name].compressor
    assert _real(ch.find("Devices/Compressor"), "Threshold")[0] == \
        pytest.approx(c.threshold_db - (6.0 - law_db), abs=TOL)
    assert ch.find("Mute").get("value") == "true"


# --------------------------------------------------------------------------- the mappings themselves
@pytest.mark.parametrize("ratio, percent", [(1.0, 0.0), (1.5, 100 / 3), (2.0, 50.0), (4.0, 75.0), (10.0, 90.0)])
def test_ratio_is_stored_as_share_of_the_way_to_limiting(ratio, percent):
    assert ratio_to_percent(ratio) == pytest.approx(percent)
    assert percent_to_ratio(ratio_to_percent(ratio)) == pytest.approx(ratio)
    assert percent_to_ratio(100.0) == math.inf


@pytest.mark.parametrize("pan, normalized", [(-1.0, 0.0), (-0.5, 0.25), (0.0, 0.5), (0.38, 0.69), (1.0, 1.0)])
def test_pan_maps_to_normalized(pan, normalized):
    assert pan_to_normalized(pan) == pytest.approx(normalized)
    assert normalized_to_pan(normalized) == pytest.approx(pan)


@pytest.mark.parametrize("gain_db, fader_db, pre_db", [(-40.0, -40.0, 0.0), (0.0, 0.0, 0.0), (6.0, 6.0, 0.0),
                                                       (9.5, 6.0, 3.5), (40.0, 6.0, 34.0)])
def test_split_gain(gain_db, fader_db, pre_db):
    assert split_gain(gain_db) == pytest.approx((fader_db, pre_db))


@pytest.mark.parametrize("slope, order", [(6, 1), (12, 2), (24, 4)])
def test_filter_order_from_slope(slope, order):
    assert filter_order(slope) == order


@pytest.mark.parametrize("name, safe", [
    ("Gtr/L", "Gtr_L"), ("Gtr\\L", "Gtr_L"), ("Vox..", "Vox"), ("..", "stem"), (".", "stem"), ("", "stem"),
    ("CON", "CON_"), ("nul.txt", "nul_.txt"), ("com1", "com1_"), ("Lead: Vox?", "Lead_ Vox_"),
    ("Ünïcødé", "Ünïcødé"), ("U\u0308nicode", "Ünicode"), ("Bass\x00\x07", "Bass_"), ("  Pad  ", "Pad"),
    (".hidden", "hidden"), ("a" * 300, "a" * 120),
])
def test_safe_name(name, safe):
    assert safe_name(name) == safe


def test_unique_file_names_ignore_case():
    names = unique_file_names(["Kick", "kick", "Gtr/L", "Gtr:L", "Kick 2"], ".WAV")
    assert names == ["Kick.wav", "kick 2.wav", "Gtr_L.wav", "Gtr_L 2.wav", "Kick 2 2.wav"]
    assert unique_file_names(["Kick"], ".wav", taken=["KICK.WAV"]) == ["Kick 2.wav"]


# --------------------------------------------------------------------------- safety
def _stem_file(tmp_path, name: str) -> Path:
    path = tmp_path / name
    sf.write(str(path), (0.1 * np.sin(np.arange(22050) / 10)).astype(np.float32), 44100, format="WAV")
    return path


def test_refuses_to_write_over_an_input(tmp_path):
    stem = _stem_file(tmp_path, "Song.dawproject")  # a WAV stem with an unlucky name
    session = load_session([stem])
    plan = plan_mix(session, analyse(session))
    before = _digest(stem)
    with pytest.raises(WorkbenchError) as err:
        export.dawproject(plan, session, stem)
    assert err.value.code == "overwrite_input"
    assert _digest(stem) == before


def test_referencing_never_touches_files_already_in_the_audio_folder(tmp_path):
    folder = tmp_path / "song_audio"
    folder.mkdir()
    stem = _stem_file(folder, "Kick.wav")
    session = load_session(folder)
    plan = plan_mix(session, analyse(session))
    before = _digest(stem)
    out = export.dawproject(plan, session, tmp_path / "song.dawproject", embed_audio=False)
    assert _digest(stem) == before
    assert sorted(p.name for p in folder.iterdir()) == ["Kick.wav"]  # identical: reused, not copied
    with zipfile.ZipFile(out) as z:
        assert "song_audio/Kick.wav" in z.read("project.xml").decode()


@pytest.mark.parametrize("embed", [True, False])
def test_a_failed_write_leaves_nothing_behind(sample, tmp_path, monkeypatch, embed):
    session, plan = sample
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    old = out_dir / "song.dawproject"
    old.write_bytes(b"the previous export")
    calls = []
    real_writestr = zipfile.ZipFile.writestr

    def failing_writestr(self, *args, **kw):
        calls.append(args[0])
        if len(calls) == 2:  # metadata.xml is in, project.xml fails: a half-written zip
            raise OSError("disk full")
        return real_writestr(self, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk full"):
        export.dawproject(plan, session, old, embed_audio=embed)
    assert old.read_bytes() == b"the previous export"
    assert sorted(p.name for p in out_dir.iterdir()) == ["song.dawproject"]  # no temp file, no audio folder


def test_a_plan_from_another_session_is_refused(sample, awkward, tmp_path):
    with pytest.raises(WorkbenchError) as err:
        export.dawproject(sample[1], awkward[0], tmp_path / "x.dawproject")
    assert err.value.code == "unknown_stem"
    assert not (tmp_path / "x.dawproject").exists()
