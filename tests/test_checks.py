"""Every check code triggered by a file the test makes; the measured value asserted."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import soundfile as sf

from workbench import categories, load_session
from workbench.checks import sniff_format
from workbench.errors import WorkbenchError

from .conftest import SAMPLE_STEMS, SR, tone, write


def codes(session, stem=None):
    return {f.code for f in session.findings if stem is None or f.stem == stem}


def finding(session, code, stem=None):
    hits = [f for f in session.findings if f.code == code and (stem is None or f.stem == stem)]
    assert hits, f"no {code} finding in {[(f.stem, f.code) for f in session.findings]}"
    return hits[0]


def test_clean_session_has_no_warnings(tmp_path):
    from .synth import parts

    p = parts(6.0)
    write(tmp_path, "Kick.wav", p["Kick"][None])
    write(tmp_path, "Bass.wav", p["Bass"][None])
    s = load_session(tmp_path)
    assert [f for f in s.findings if f.severity != "note"] == []
    assert s.can_mix
    assert [st.category for st in s.stems] == ["Bass", "Kick"]


def test_clipping_counts_runs(tmp_path):
    x = tone(level_db=-6.0)
    for start in (1000, 20000, 30000):  # three runs of 5 full-scale samples
        x[0, start:start + 5] = 1.0
    x[0, 40000] = 1.0  # a single full-scale sample is a peak, not a clip
    write(tmp_path, "Guitar.wav", x)
    write(tmp_path, "Bass.wav", tone())
    f = finding(load_session(tmp_path), "clipping", "Guitar.wav")
    assert f.severity == "warning" and f.value == 3
    assert "0:00.02" in f.message  # first run at sample 1000


def test_clip_run_across_block_boundary_is_counted(tmp_path):
    x = tone(seconds=3.0, level_db=-6.0)
    edge = 4410 * 16  # the checks read blocks of 16 × 100 ms windows
    x[0, edge - 2: edge + 2] = -1.0
    write(tmp_path, "Keys.wav", x)
    assert finding(load_session(tmp_path), "clipping").value == 1


@pytest.mark.parametrize("sr, severity", [(48000, "note"), (96000, "note"), (22050, "warning")])
def test_sample_rate(tmp_path, sr, severity):
    write(tmp_path, "Piano.wav", tone(sr=sr), sr=sr)
    f = finding(load_session(tmp_path), "sample_rate")
    assert f.value == sr and f.severity == severity


@pytest.mark.parametrize("subtype, value, severity", [
    ("FLOAT", "32-bit float", "note"), ("DOUBLE", "64-bit float", "note"),
    ("PCM_24", 24, "note"), ("PCM_U8", 8, "warning")])
def test_bit_depth(tmp_path, subtype, value, severity):
    write(tmp_path, "Strings.wav", tone(), subtype=subtype)
    f = finding(load_session(tmp_path), "bit_depth")
    assert f.value == value and f.severity == severity


def test_16_bit_has_no_bit_depth_finding(tmp_path):
    write(tmp_path, "Strings.wav", tone())
    assert "bit_depth" not in codes(load_session(tmp_path))


def test_mp3_named_wav_is_not_wav(tmp_path):
    write(tmp_path, "Lead Vocal.wav", tone(), fmt="MP3", subtype="MPEG_LAYER_III")
    assert sniff_format(tmp_path / "Lead Vocal.wav") == "MP3"
    s = load_session(tmp_path)
    f = finding(s, "not_wav", "Lead Vocal.wav")
    assert f.severity == "error" and f.value == "MP3"
    assert not s.can_mix


@pytest.mark.parametrize("fmt, subtype, expect", [("FLAC", "PCM_16", "FLAC"), ("OGG", "VORBIS", "OGG"),
                                                   ("AIFF", "PCM_16", "AIFF")])
def test_other_formats_named_wav_are_not_wav(tmp_path, fmt, subtype, expect):
    write(tmp_path, "Bass.wav", tone(), fmt=fmt, subtype=subtype)
    assert finding(load_session(tmp_path), "not_wav").value == expect


def test_truncated_header_is_unreadable(tmp_path, make_wav):
    p = make_wav("Kick.wav")
    p.write_bytes(p.read_bytes()[:30])
    f = finding(load_session(tmp_path), "unreadable", "Kick.wav")
    assert f.severity == "error"


def test_truncated_data_reports_missing_seconds(tmp_path, make_wav):
    p = make_wav("Kick.wav", tone(seconds=2.0))
    data = p.read_bytes()
    p.write_bytes(data[: 44 + SR * 2])  # keep the header and 1 s of 16-bit mono
    f = finding(load_session(tmp_path), "unreadable", "Kick.wav")
    assert f.value == pytest.approx(1.0, abs=0.01)


def test_zero_byte_file_is_empty(tmp_path):
    (tmp_path / "Snare.wav").write_bytes(b"")
    f = finding(load_session(tmp_path), "empty")
    assert f.value == 0 and f.severity == "error"


def test_zero_frame_wav_is_empty(tmp_path):
    write(tmp_path, "Snare.wav", np.zeros((1, 0), dtype=np.float32))
    assert finding(load_session(tmp_path), "empty").severity == "error"


def test_nan_samples(tmp_path):
    x = tone()
    x[0, 100:110] = np.nan
    x[0, 500] = np.inf
    write(tmp_path, "Synth.wav", x, subtype="FLOAT")
    f = finding(load_session(tmp_path), "nan_samples")
    assert f.value == 11 and f.severity == "error"


def test_silent_and_too_quiet(tmp_path):
    write(tmp_path, "Pad.wav", np.zeros((2, SR * 2), dtype=np.float32))
    write(tmp_path, "Organ.wav", tone(level_db=-52.0))
    s = load_session(tmp_path)
    assert finding(s, "silent", "Pad.wav").severity == "warning"
    assert finding(s, "too_quiet", "Organ.wav").value == pytest.approx(-52.0, abs=0.2)
    assert "too_quiet" not in codes(s, "Pad.wav")


def test_dc_offset(tmp_path):
    x = tone(level_db=-12.0) + 0.05
    write(tmp_path, "Bass.wav", x)
    f = finding(load_session(tmp_path), "dc_offset")
    assert f.value == pytest.approx(20 * np.log10(0.05), abs=0.3)


def test_heavy_limiting(tmp_path):
    rng = np.random.default_rng(1)
    n = SR * 8
    noise = rng.standard_normal(n)
    beat = 0.05 + np.exp(-((np.arange(n) / SR) % 0.25) / 0.05)  # a hit every quarter second
    limited = np.clip(noise * beat * 6.0, -0.7, 0.7).astype(np.float32)[None]  # slammed into a ceiling
    natural = (0.1 * noise * np.exp(-((np.arange(n) % SR) / (0.15 * SR)))).astype(np.float32)[None]
    t = np.arange(n) / SR
    drone = (0.5 * np.sign(np.sin(2 * np.pi * 110 * t)) * 0.9).astype(np.float32)[None]  # steady square wave
    write(tmp_path, "Synth.wav", limited)
    write(tmp_path, "Perc.wav", natural)
    write(tmp_path, "Organ.wav", drone)
    s = load_session(tmp_path)
    f = finding(s, "heavy_limiting", "Synth.wav")
    assert f.value < 8.0
    assert "heavy_limiting" not in codes(s, "Perc.wav")
    assert "heavy_limiting" not in codes(s, "Organ.wav")  # flat, but a steady tone is not limiting


def test_late_start_reports_missing_seconds(tmp_path):
    write(tmp_path, "Drums.wav", tone(seconds=10.0))
    write(tmp_path, "Bass.wav", tone(seconds=10.0))
    write(tmp_path, "Vocal.wav", tone(seconds=6.5))  # bounced from its first region
    f = finding(load_session(tmp_path), "late_start", "Vocal.wav")
    assert f.value == pytest.approx(3.5, abs=0.01) and f.severity == "warning"


def test_late_entry_with_silence_is_fine(tmp_path):
    write(tmp_path, "Drums.wav", tone(seconds=10.0))
    write(tmp_path, "Vocal.wav", tone(seconds=10.0, start_s=6.0))  # silent until it enters
    s = load_session(tmp_path)
    assert codes(s) & {"late_start", "length_mismatch"} == set()


def test_length_mismatch_for_a_stem_that_ends_early(tmp_path):
    write(tmp_path, "Drums.wav", tone(seconds=10.0))
    write(tmp_path, "Bass.wav", tone(seconds=10.0))
    write(tmp_path, "Keys.wav", tone(seconds=7.0, start_s=1.0))  # starts silent, ends early
    f = finding(load_session(tmp_path), "length_mismatch", "Keys.wav")
    assert f.value == pytest.approx(-3.0, abs=0.01)


@pytest.mark.parametrize("name", ["Track 1.wav", "Audio 03.wav", "untitled.wav"])
def test_generic_name(tmp_path, name):
    write(tmp_path, name, tone())
    s = load_session(tmp_path)
    f = finding(s, "generic_name", name)
    assert f.severity == "warning"
    # the name gives no suggestion; what the stem is comes from listening to it
    assert categories.suggest_from_name(name).confidence == 0
    assert s.stems[0].category_source in ("audio", "none")


def test_too_many_stems(tmp_path):
    for i, name in enumerate(["Kick", "Snare", "Bass", "Piano"]):
        write(tmp_path, f"{name}.wav", tone(seconds=0.5, seed=i))
    s = load_session(tmp_path, max_stems=3)
    f = finding(s, "too_many_stems")
    assert f.stem is None and f.value == 4 and "3" in f.message and not s.can_mix


def test_duplicate_names_are_flagged_and_made_unique(tmp_path):
    write(tmp_path, "01 Guitar.wav", tone())
    write(tmp_path, "02_Guitar.wav", tone(seed=1))
    s = load_session(tmp_path)
    assert {f.stem for f in s.findings if f.code == "duplicate_name"} == {"01 Guitar.wav", "02_Guitar.wav"}
    assert len({st.name for st in s.stems}) == 2


def test_mixed_sample_rates(tmp_path):
    write(tmp_path, "Kick.wav", tone())
    write(tmp_path, "Snare.wav", tone(seed=1))
    write(tmp_path, "Bass.wav", tone(sr=48000), sr=48000)
    s = load_session(tmp_path)
    f = finding(s, "mixed_sample_rates")
    assert f.stem is None and "44100" in f.value and "48000" in f.value
    assert s.sample_rate == 44100


def test_more_than_two_channels_is_an_error(tmp_path):
    write(tmp_path, "Room.wav", tone(channels=6))
    assert finding(load_session(tmp_path), "channels").value == 6


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(WorkbenchError) as e:
        load_session(tmp_path / "nope")
    assert e.value.code == "no_folder"
    with pytest.raises(WorkbenchError) as e:
        load_session(tmp_path)
    assert e.value.code == "no_stems" and str(tmp_path) in e.value.message


def test_inputs_are_byte_identical_after_loading(tmp_path):
    write(tmp_path, "Kick.wav", tone())
    x = tone()
    x[0, 10:20] = 1.0
    write(tmp_path, "Snare.wav", x)
    (tmp_path / "Bad.wav").write_bytes(b"RIFF\x00\x00")
    before = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
              for p in tmp_path.iterdir()}
    load_session(tmp_path)
    after = {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
             for p in tmp_path.iterdir()}
    assert before == after


def test_sample_stems_pass_without_errors():
    s = load_session(SAMPLE_STEMS)
    assert 8 <= len(s.stems) <= 14
    assert s.errors == []
    bad = [f for f in s.findings if f.code in {"late_start", "length_mismatch", "clipping", "silent",
                                              "too_quiet", "generic_name", "not_wav", "heavy_limiting"}]
    assert bad == []
    assert all(st.sample_rate == 44100 and st.subtype == "PCM_16" for st in s.stems)
    assert len({st.frames for st in s.stems}) == 1
    assert all(st.category is not None for st in s.stems)


def test_check_json_shape(tmp_path):
    from workbench.report import check_dict

    write(tmp_path, "Kick.wav", tone())
    (tmp_path / "Track 2.wav").write_bytes(b"nonsense")
    d = json.loads(json.dumps(check_dict(load_session(tmp_path))))
    assert set(d) == {"stems", "findings"}
    assert set(d["stems"][0]) == {"file", "category", "confidence", "sample_rate", "subtype",
                                  "channels", "duration_s"}
    assert all(set(f) == {"stem", "severity", "code", "value", "message", "fix"} for f in d["findings"])
    assert d["stems"][0]["duration_s"] == 2.0


def test_nameless_stems_get_a_category_from_their_audio(tmp_path):
    import shutil

    for i, name in enumerate(["01 Kick", "03 Hi-Hat", "05 Bass"], start=1):
        shutil.copy(SAMPLE_STEMS / f"{name}.wav", tmp_path / f"Track {i * 5}.wav")
    s = load_session(tmp_path)
    assert [st.file for st in s.stems] == ["Track 5.wav", "Track 10.wav", "Track 15.wav"]  # natural order
    assert all(st.category_source == "audio" for st in s.stems)
    assert [st.category for st in s.stems] == ["Kick", "Cymbals", "Bass"]


def test_a_bass_with_no_low_end_is_flagged(tmp_path):
    from .synth import parts

    write(tmp_path, "Bass.wav", parts(6.0)["Hi-Hat"][None])
    write(tmp_path, "Kick.wav", parts(6.0)["Kick"][None])
    s = load_session(tmp_path)
    f = finding(s, "category_mismatch", "Bass.wav")
    assert f.severity == "warning" and "Bass" in f.message
    assert s.stem("Bass").category == "Bass"  # a confident name still wins
    assert "category_mismatch" not in codes(s, "Kick.wav")


_COMPARE_MODES = """
import sys
from workbench import load_session, workers

folder = sys.argv[1]
workers.DEFAULT_WORKERS = 1
one = load_session(folder)
workers.DEFAULT_WORKERS, workers.PROCESS_MIN_SECONDS = 2, 0.0
pools = []
real = workers.executor
workers.executor = lambda *a: pools.append(real(*a)) or pools[-1]
many = load_session(folder)
assert [type(p).__name__ for p in pools] == ["ProcessPoolExecutor"] * 2, pools
assert many.findings == one.findings, (many.findings, one.findings)
assert [(s.category, s.confidence, s.category_source) for s in many.stems] == \
    [(s.category, s.confidence, s.category_source) for s in one.stems]
print(sorted({f.code for f in many.findings}))
"""


def test_worker_processes_find_what_one_thread_finds(tmp_path):
    # Long sessions are checked and classified in forked worker processes
    # (workbench/workers.py): same findings, same categories, same order. In a
    # fresh interpreter, where no other thread runs (as in the CLI).
    import ast
    import subprocess
    import sys

    x = tone()
    x[0, 100:110] = np.nan
    write(tmp_path, "Synth.wav", x, subtype="FLOAT")
    write(tmp_path, "Pad.wav", np.zeros((2, SR * 2), dtype=np.float32))
    write(tmp_path, "Bass.wav", tone(level_db=-12.0) + 0.05)
    write(tmp_path, "Track 4.wav", tone(level_db=-20.0))
    res = subprocess.run([sys.executable, "-c", _COMPARE_MODES, str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert {"nan_samples", "silent", "dc_offset"} <= set(ast.literal_eval(res.stdout.strip().splitlines()[-1]))
