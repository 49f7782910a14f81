"""Tests of scripts/make_training_corpus.py on tiny hand-made projects.

- LMMS: a two-track tripleoscillator song (volumes 100 % and 50 %, pans +50 and
  −30) is soloed and rendered with ``lmms``: each solo render is centred and the
  two stems' loudness differs by the authors' volume ratio (6.02 dB) within 0.5 dB.
  Skipped when ``lmms`` is not installed.
- Hydrogen: a tiny ``.h2song`` with a synthetic one-sample kit is rendered in
  Python: the stems carry the author's instrument volumes and the mix their pans.
- MIDI: the author's CC7 and CC10 of a channel, static and time-weighted.
- The reserved material is excluded by name.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_training_corpus.py"


@pytest.fixture(scope="module")
def tc():
    """The script, imported as a module."""
    spec = importlib.util.spec_from_file_location("make_training_corpus", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_training_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


OSC = ('<tripleoscillator vol0="33" vol1="33" vol2="33" pan0="0" pan1="0" pan2="0" coarse0="0" coarse1="0" '
       'coarse2="0" finel0="0" finer0="0" finel1="0" finer1="0" finel2="0" finer2="0" wavetype0="2" '
       'wavetype1="2" wavetype2="2" phoffset0="0" phoffset1="0" phoffset2="0" modalgo1="2" modalgo2="2" '
       'modalgo3="0" stphdetun0="0" stphdetun1="0" stphdetun2="0" userwavefile0="" userwavefile1="" '
       'userwavefile2=""/>')


def lmms_track(name: str, vol: int, pan: int, key: int) -> str:
    """One tripleoscillator track with two one-bar notes."""
    return (f'<track type="0" name="{name}" muted="0" solo="0">'
            f'<instrumenttrack vol="{vol}" pan="{pan}" fxch="1" pitch="0" basenote="57" pitchrange="1" '
            f'usemasterpitch="1"><instrument name="tripleoscillator">{OSC}</instrument></instrumenttrack>'
            f'<pattern pos="0" len="384" steps="16" muted="0" type="1" name="">'
            f'<note pos="0" len="192" key="{key}" vol="100" pan="0"/>'
            f'<note pos="192" len="192" key="{key + 3}" vol="100" pan="0"/></pattern></track>')


TINY_MMP = f"""<?xml version="1.0"?>
<!DOCTYPE lmms-project>
<lmms-project version="1.0" creator="LMMS" creatorversion="1.2.2" type="song">
  <head timesig_numerator="4" timesig_denominator="4" bpm="240" mastervol="100" masterpitch="0"/>
  <song>
    <trackcontainer type="song">
      {lmms_track("loud", 100, 50, 57)}
      {lmms_track("soft", 50, -30, 64)}
    </trackcontainer>
    <fxmixer>
      <fxchannel num="0" name="Master" volume="1" muted="0" soloed="0">
        <fxchain enabled="0" numofeffects="0"/></fxchannel>
      <fxchannel num="1" name="FX 1" volume="0.5" muted="0" soloed="0"><fxchain enabled="0" numofeffects="0"/>
        <send channel="0" amount="1"/></fxchannel>
    </fxmixer>
  </song>
</lmms-project>
"""


def test_lmms_plan_reads_author_settings(tc):
    p = tc.LmmsProject.parse(ET.fromstring(TINY_MMP.split("\n", 2)[2]))
    plan, skipped = tc.plan_lmms_tracks(p)
    assert [t.stem.name for t in plan] == ["loud", "soft"] and not skipped
    loud, soft = (t.stem for t in plan)
    assert loud.author_gain_db == pytest.approx(20 * math.log10(0.5), abs=0.01)  # vol 100 % x FX 0.5
    assert soft.author_gain_db == pytest.approx(20 * math.log10(0.25), abs=0.01)
    assert (loud.author_pan, soft.author_pan) == (0.5, -0.3)
    assert loud.plugin == "tripleoscillator" and loud.extra["fx_channel"] == 1


@pytest.mark.skipif(shutil.which("lmms") is None, reason="lmms is not installed")
def test_lmms_solo_renders_keep_volume_ratio_and_centre(tc, tmp_path):
    source = ET.fromstring(TINY_MMP.split("\n", 2)[2])
    p = tc.LmmsProject.parse(source)
    plan, _ = tc.plan_lmms_tracks(p)
    levels = []
    full = tc.read_audio(tc.run_lmms(source, tmp_path, "mix"))
    for tr in plan:
        solo = tc.solo_project(source, tr)
        names = [t.get("name") for t in solo.iter("track")]
        assert names == [tr.stem.name, "length keeper"]  # the other track is removed
        audio = tc.read_audio(tc.run_lmms(solo, tmp_path, tr.stem.stem_id))
        assert abs(audio.shape[1] - full.shape[1]) <= tc.SR // 10  # the keeper holds the length
        left, right = (float(np.sum(np.square(ch, dtype=np.float64))) for ch in audio)
        assert 10 * math.log10(left / right) == pytest.approx(0.0, abs=0.1)  # centred
        levels.append(tc.integrated_lufs(audio, tc.SR))
    # Different notes on the two tracks (same oscillators): compare with the authored ratio.
    assert levels[0] - levels[1] == pytest.approx(20 * math.log10(100 / 50), abs=0.5)


def write_h2song(path: Path, sample: Path) -> None:
    """A one-bar Hydrogen 1.2 song, two instruments on one sample, volumes 1.0 and 0.5."""
    def instrument(iid: int, name: str, volume: float, pan: float) -> str:
        return (f"<instrument><id>{iid}</id><name>{name}</name><drumkit>test</drumkit><volume>{volume}</volume>"
                f"<isMuted>false</isMuted><pan>{pan}</pan><gain>1</gain><pitchOffset>0</pitchOffset>"
                f"<muteGroup>-1</muteGroup><instrumentComponent><component_id>0</component_id><gain>1</gain>"
                f"<layer><filename>{sample}</filename><min>0</min><max>1</max><gain>1</gain><pitch>0</pitch>"
                f"</layer></instrumentComponent></instrument>")

    def note(pos: int, iid: int) -> str:
        return (f"<note><position>{pos}</position><leadlag>0</leadlag><velocity>0.8</velocity><pan>0</pan>"
                f"<pitch>0</pitch><probability>1</probability><length>-1</length><instrument>{iid}</instrument>"
                f"</note>")

    path.write_text(
        "<song><version>1.2.0</version><bpm>120</bpm><volume>0.5</volume><swing_factor>0</swing_factor>"
        "<componentList><drumkitComponent><id>0</id><volume>1</volume></drumkitComponent></componentList>"
        f"<instrumentList>{instrument(0, 'Kick', 1.0, 0.0)}{instrument(1, 'Tom', 0.5, 0.6)}</instrumentList>"
        "<patternList><pattern><name>p</name><size>192</size><noteList>"
        + "".join(note(pos, i) for pos in (0, 48, 96, 144) for i in (0, 1))
        + "</noteList></pattern></patternList><patternSequence><group><patternID>p</patternID></group>"
        "</patternSequence></song>")


def test_hydrogen_stems_carry_author_volume_and_mix_the_pan(tc, tmp_path):
    sr = tc.SR
    t = np.arange(int(0.2 * sr)) / sr
    sample = tmp_path / "hit.wav"
    sf.write(str(sample), (0.5 * np.sin(2 * np.pi * 200 * t) * np.exp(-t * 10)).astype(np.float32), sr)
    song_file = tmp_path / "tiny.h2song"
    write_h2song(song_file, sample)
    stems, pans, mix, _notes = tc.render_h2_song(ET.parse(song_file).getroot())
    assert [s.name for s, _ in stems] == ["Kick", "Tom"]
    (kick, kick_audio), (tom, tom_audio) = stems
    assert kick.author_gain_db == pytest.approx(20 * math.log10(0.5), abs=0.01)  # song volume 0.5
    assert tom.author_gain_db == pytest.approx(20 * math.log10(0.25), abs=0.01)
    assert tom.author_pan == 0.6
    assert np.allclose(tom_audio * 2, kick_audio, atol=1e-6)  # same hits, half the volume
    assert kick_audio.shape == (1, mix.shape[1])
    # The mix holds Tom panned right: left side at (1 - 0.6) / (1 + 0.6) of the right.
    assert np.allclose(mix, pans[0](kick_audio) + pans[1](tom_audio), atol=1e-6)
    assert tc.h2_pan_gains(0.6) == pytest.approx((0.25, 1.0))


def test_midi_controller_values(tc, tmp_path):
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.Message("control_change", channel=2, control=7, value=127, time=0))
    track.append(mido.Message("control_change", channel=2, control=10, value=96, time=0))
    track.append(mido.Message("note_on", channel=2, note=60, velocity=100, time=0))
    track.append(mido.Message("control_change", channel=2, control=7, value=64, time=960))  # after 1 s (120 bpm)
    track.append(mido.Message("note_off", channel=2, note=60, velocity=0, time=960))
    cc7, changed, first = tc.controller_value(mid, 2, 7, 100)
    assert changed and first == 127
    expected = 127 * ((1 + (64 / 127) ** 4) / 2) ** 0.25  # half the time at each value, in power
    assert cc7 == pytest.approx(expected, abs=0.01)
    cc10, changed10, _ = tc.controller_value(mid, 2, 10, 64)
    assert cc10 == 96 and not changed10
    assert tc.controller_value(mid, 5, 7, 100) == (100.0, False, 100)  # GM default when absent


def test_reserved_material_is_excluded(tc):
    assert all(p.stem not in tc.RESERVED_LMMS for p in tc.lmms_projects())
    assert all(p.stem not in tc.RESERVED_HYDROGEN for p in tc.hydrogen_songs())
    with pytest.raises(ValueError):
        tc.fetch_package("openttd-openmsx", Path("/nonexistent"))


def test_dep5_licence_last_match_wins(tc, tmp_path):
    cr = tmp_path / "copyright"
    cr.write_text("Files: *\nLicense: GPL-2+\n\nFiles: data/projects/demos/Saber-*\nLicense: BSD-2-clause\n")
    assert tc.dep5_licence(cr, "data/projects/demos/Saber-FinalStep.mmpz") == "BSD-2-clause"
    assert tc.dep5_licence(cr, "data/projects/shorties/X.mmpz") == "GPL-2+"


def test_repair_spikes_only_touches_lone_glitches(tc):
    x = np.zeros((2, 10), dtype=np.float32)
    x[0, 4] = 1170.0  # a lone glitch
    x[1, 3:6] = 100.0  # a loud but continuous stretch stays
    y, fixed = tc.repair_spikes(x.copy())
    assert fixed == 1 and y[0, 4] == 0.0 and np.all(y[1, 3:6] == 100.0)
