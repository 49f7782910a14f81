"""The whole flow from the command line and from Python: check, analyse, mix, re-render a plan."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.mixing.plan import MixPlan
from workbench.mixing.settings import MixSettings
from workbench.pipeline import mix_session

from .conftest import SAMPLE_STEMS
from .synth import write_session


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _measure(path):
    x, sr = sf.read(str(path), dtype="float64", always_2d=True)
    lufs = pyloudnorm.Meter(sr).integrated_loudness(x)
    tp = 20 * np.log10(np.abs(resample_poly(x, 4, 1, axis=0)).max())
    return lufs, tp, x, sr


def test_check_cli_exit_codes_and_json(tmp_path, capsys):
    assert main(["check", str(SAMPLE_STEMS)]) == 0
    out = capsys.readouterr().out
    assert "Lead Vocal" in out and "Ready to mix" in out
    assert main(["check", str(SAMPLE_STEMS), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["stems"]) == 10 and data["findings"] == []
    bad = write_session(tmp_path / "bad", ["Kick", "Bass"])
    (bad / "Vocal.wav").write_bytes(b"ID3\x04\x00" + bytes(200))
    assert main(["check", str(bad)]) == 2
    assert "Vocal.wav is an MP3 file, not a WAV" in capsys.readouterr().out
    assert main(["check", str(bad), "--json"]) == 2
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["not_wav"]


def test_missing_folder_is_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert main(["mix", str(tmp_path / "empty"), "-o", str(tmp_path / "o")]) == 2
    assert "No audio files" in capsys.readouterr().err


def test_mix_refuses_errors_and_lists_them(tmp_path, capsys):
    bad = write_session(tmp_path / "bad", ["Kick", "Bass"])
    (bad / "Vocal.wav").write_bytes(b"")
    assert main(["mix", str(bad), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot be mixed" in err and "Vocal.wav" in err
    assert not (tmp_path / "out" / "mix.wav").exists()


@pytest.fixture(scope="module")
def sample_mix(tmp_path_factory):
    out = tmp_path_factory.mktemp("mix")
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(out), "--quiet"]) == 0
    return out


def test_mix_of_the_sample_stems_meets_the_targets(sample_mix):
    lufs, tp, x, sr = _measure(sample_mix / "mix.wav")
    info = sf.info(str(sample_mix / "mix.wav"))
    assert (info.samplerate, info.subtype, info.channels) == (44100, "PCM_16", 2)
    assert abs(lufs - (-14.0)) <= 0.5
    assert tp <= -1.0 + 0.05  # 4× oversampled peak, independent of the renderer's meter
    assert info.frames == sf.info(str(SAMPLE_STEMS / "01 Kick.wav")).frames
    # a real stereo mix: the channels differ (panning), but not wildly
    side = np.mean((x[:, 0] - x[:, 1]) ** 2) / np.mean((x[:, 0] + x[:, 1]) ** 2)
    assert 0.01 < side < 0.5
    report = (sample_mix / "report.md").read_text()
    assert "## Decisions" in report and "Lead Vocal" in report and "role: lead vocal" in report
    assert "Limiter: takes up to" in report


def test_edited_plan_renders_identically_and_edits_take_effect(sample_mix, tmp_path):
    plan_path = sample_mix / "plan.json"
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "again"), "--plan", str(plan_path),
                 "--quiet"]) == 0
    assert _sha(tmp_path / "again" / "mix.wav") == _sha(sample_mix / "mix.wav")
    # edit by hand: mute the lead vocal
    data = json.loads(plan_path.read_text())
    data["stems"]["Lead Vocal"]["mute"] = True
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data, indent=2))
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "edited"), "--plan", str(edited),
                 "--quiet"]) == 0
    assert _sha(tmp_path / "edited" / "mix.wav") != _sha(sample_mix / "mix.wav")
    assert MixPlan.from_json(tmp_path / "edited" / "plan.json").stems["Lead Vocal"].mute


def test_bad_plan_json_is_a_clear_message(tmp_path, capsys):
    p = tmp_path / "plan.json"
    p.write_text("{not json")
    assert main(["mix", str(SAMPLE_STEMS), "-o", str(tmp_path / "o"), "--plan", str(p), "--quiet"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_preview_is_short_and_at_target(tmp_path):
    res = mix_session(SAMPLE_STEMS, tmp_path, preview=True, settings=MixSettings(preview_seconds=10.0))
    info = sf.info(str(res.audio_path))
    assert res.audio_path.name == "preview.wav" and info.frames == 10 * 44100
    lufs, tp, _, _ = _measure(res.audio_path)
    assert abs(lufs + 14.0) <= 0.5 and tp <= -0.95
    assert "stems play there" in res.report_path.read_text()


@pytest.mark.parametrize("target, ceiling", [(-14.0, -1.0), (-20.0, -2.0), (-9.0, -1.0)])
def test_generated_sessions_meet_loudness_and_ceiling(tmp_path, target, ceiling):
    folder = write_session(tmp_path / "s", levels_db={"Kick": 0.0, "Bass": -12.0, "Keys": 6.0 - 6.0,
                                                      "Lead Vocal": -20.0})
    res = mix_session(folder, tmp_path / "out", settings=MixSettings(target_lufs=target, ceiling_dbtp=ceiling))
    lufs, tp, _, _ = _measure(res.audio_path)
    assert abs(lufs - target) <= 0.5
    assert tp <= ceiling + 0.05


def test_output_never_over_an_input(tmp_path):
    folder = write_session(tmp_path / "s", ["Kick", "Bass"])
    (folder / "mix.wav").write_bytes((folder / "Kick.wav").read_bytes())  # a stem called "mix"
    before = _sha(folder / "mix.wav")
    with pytest.raises(WorkbenchError) as e:
        mix_session(folder, folder)
    assert e.value.code == "overwrite_input"
    assert _sha(folder / "mix.wav") == before


def test_input_level_does_not_change_the_mix(tmp_path):
    """A stem bounced 12 dB down (or 6 dB up) mixes to the same level: the mixes are near identical."""
    levels = {"Kick": -6.0, "Bass": -6.0, "Keys": -6.0, "Lead Vocal": -6.0, "Guitar": -6.0}
    names = list(levels)
    a = write_session(tmp_path / "a", names, levels_db=levels)
    results = {}
    for label, change in (("down", {"Keys": -18.0}), ("up", {"Lead Vocal": 0.0})):
        b = write_session(tmp_path / label, names, levels_db={**levels, **change})
        ra = mix_session(a, tmp_path / "oa", cache_dir=tmp_path / "c")
        rb = mix_session(b, tmp_path / f"o{label}", cache_dir=tmp_path / "c")
        xa, _ = sf.read(str(ra.audio_path))
        xb, _ = sf.read(str(rb.audio_path))
        # difference far below the mix: any stem moving by 1 dB would leave a residue ≈ −19 dB re. that stem
        results[label] = 10 * np.log10(np.mean((xa - xb) ** 2) / np.mean(xa ** 2))
    assert all(v < -30.0 for v in results.values()), results


def test_processed_stems_sum_through_the_master_to_the_mix(tmp_path):
    from workbench.mixing.render import master_stems

    res = mix_session(SAMPLE_STEMS, tmp_path, stems=True)
    files = res.render.stem_files
    assert [p.name for p in files][-1] == "Reverb return.wav" and len(files) == 11
    mix_frames = sf.info(str(res.audio_path)).frames
    for p, (name, sp) in zip(files, list(res.plan.stems.items()) + [(None, None)]):
        info = sf.info(str(p))
        # A mono stem at the centre stays mono; panned, stereo and the reverb return are stereo.
        channels = 1 if sp is not None and sp.channels == 1 and sp.pan == 0.0 else 2
        assert (info.subtype, info.channels, info.frames) == ("PCM_24", channels, mix_frames), name
    assert {sf.info(str(p)).channels for p in files} == {1, 2}
    # The files alone suffice: the gain and ceiling come from plan.json.
    from workbench.mixing.plan import MixPlan

    saved = MixPlan.from_json(res.plan_path)
    assert saved.master.rendered_gain_db == res.render.master_gain_db
    again = master_stems(saved, files, tmp_path / "resum.wav")
    a = sf.read(str(res.audio_path), dtype="int16")[0].astype(int)
    b = sf.read(str(again.path), dtype="int16")[0].astype(int)
    assert np.abs(a - b).max() <= 1  # within dither: one LSB at most
    assert np.mean(a == b) > 0.9  # most samples identical; the rest one dither step apart
    # the stems are the mix taken apart: the panned lead vocal is centred, the reverb return is not silent
    vox = sf.read(str(tmp_path / "stems" / "Lead Vocal.wav"), always_2d=True)[0]
    assert vox.shape[1] == 1
    assert np.abs(sf.read(str(files[-1]))[0]).max() > 1e-3


def test_the_cli_progress_bar_starts_no_thread():
    # A second thread would keep load_session/analyse from forking worker
    # processes (workbench/workers.py); tqdm's monitor thread is switched off.
    # In a fresh interpreter, where no earlier bar has started one.
    import subprocess
    import sys

    code = ("import threading\nfrom workbench.cli import _ProgressBar\n"
            "bar = _ProgressBar(); bar('analyse', 0.5)\n"
            "print(threading.active_count()); bar.close()")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["1"]
