"""`workbench mix` writes its outputs as one set, sweeps what killed runs left, and reports the
environment's refusals (a file for a folder, a full disk, the stems folder as output) as errors with a fix."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from workbench import outputs, pipeline
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.mixing.plan import MixPlan
from workbench.session import load_session

from .conftest import ROOT
from .synth import write_session

SET = ("mix.wav", "plan.json", "report.md")


def _hashes(folder):
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in SET}


def _hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A small session and a first complete mix of it."""
    root = tmp_path_factory.mktemp("set")
    stems = write_session(root / "stems", ["Kick", "Bass", "Lead Vocal"], seconds=3.0)
    assert main(["mix", str(stems), "-o", str(root / "first"), "--quiet"]) == 0
    return stems, root / "first"


def _copy_of(first, dest):
    dest.mkdir()
    for n in SET:
        (dest / n).write_bytes((first / n).read_bytes())
    return dest


def test_a_failure_after_the_mix_is_written_leaves_the_previous_set(mixed, tmp_path, monkeypatch, capsys):
    stems, first = mixed
    out = _copy_of(first, tmp_path / "out")
    (out / "report.md").write_text("previous report\n")
    before = _hashes(out)

    def broken_report(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "report.md"))

    monkeypatch.setattr(pipeline, "mix_report", broken_report)
    assert main(["mix", str(stems), "-o", str(out), "--quiet", "--target-lufs", "-16"]) == 2
    err = capsys.readouterr().err
    assert "is full" in err and "fix:" in err and "this is a bug" not in err
    assert _hashes(out) == before                     # not a new mix beside the old report
    assert _hidden(out) == []                         # and nothing staged is left behind


def test_a_successful_run_replaces_the_whole_set_and_leaves_nothing_hidden(mixed, tmp_path, capsys):
    stems, first = mixed
    out = _copy_of(first, tmp_path / "out")
    (out / "report.md").write_text("previous report\n")
    (out / "notes.txt").write_text("mine")            # the user's own file beside the outputs stays
    assert main(["mix", str(stems), "-o", str(out), "--quiet", "--stems"]) == 0
    assert (out / "report.md").read_text().startswith("# Mix report")
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (out / "stems").iterdir())
    assert _hidden(out) == []
    assert MixPlan.from_json(out / "plan.json").stems


def test_stale_staging_is_swept_and_a_journalled_commit_rolled_forward(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("old")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    boot = outputs._boot_id()
    # Killed before its commit: deleted.
    before = out / ".workbench-mix.aaaaaaaa.part"
    before.mkdir()
    (before / outputs.OWNER).write_text(f"{dead} {boot}\n")
    (before / "mix.wav").write_bytes(b"x" * 1000)
    # Killed during its commit (journal written, report not yet moved): finished.
    during = out / ".workbench-mix.bbbbbbbb.part"
    during.mkdir()
    (during / outputs.OWNER).write_text(f"{dead} {boot}\n")
    (during / "report.md").write_text("new")
    (during / outputs.JOURNAL).write_text(json.dumps({"entries": ["mix.wav", "report.md"]}))
    # Of a run still going (this test's parent process): left alone.
    alive = out / ".workbench-mix.cccccccc.part"
    alive.mkdir()
    (alive / outputs.OWNER).write_text(f"{os.getppid()} {boot}\n")
    # A temporary file of a version without staging.
    (out / ".mix.wav.abcd1234.part.wav").write_bytes(b"y")

    swept = outputs.sweep(out)
    assert {p.name for p in swept} == {before.name, during.name, ".mix.wav.abcd1234.part.wav"}
    assert (out / "report.md").read_text() == "new"
    assert _hidden(out) == [alive.name]


def test_kill_9_during_the_render_keeps_the_previous_set_and_the_next_run_sweeps(tmp_path):
    stems = write_session(tmp_path / "stems", ["Kick", "Bass", "Lead Vocal"], seconds=20.0)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "workbench", "mix", str(stems), "-o", str(out), "--quiet", "--stems"]
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    before = _hashes(out)
    cli = subprocess.Popen(cmd + ["--target-lufs", "-18"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        staged = []
        for _ in range(2400):                 # until it writes into its staging folder
            staged = [p for p in out.glob(".workbench-mix.*.part") if any(p.glob("*.wav"))]
            if staged or cli.poll() is not None:
                break
            time.sleep(0.05)
        assert staged, "the mix never staged its outputs"
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait()
    finally:
        if cli.poll() is None:
            cli.kill()
    assert _hashes(out) == before             # the previous complete set
    assert _hidden(out)                       # and what the killed run staged ...
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    assert _hidden(out) == []                 # ... swept by the next run
    assert _hashes(out)["mix.wav"] == before["mix.wav"]   # same stems, same settings: the same mix


@pytest.mark.parametrize("where", ["same", "inside"])
def test_output_in_the_stems_folder_is_refused(mixed, where, capsys):
    stems, _ = mixed
    out = stems if where == "same" else stems / "mix"
    assert main(["mix", str(stems), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "stems folder" in err and "fix:" in err
    assert not (stems / "mix.wav").exists() and not (stems / "mix").exists()


def test_output_path_that_is_a_file_is_refused(mixed, tmp_path, capsys):
    stems, _ = mixed
    (tmp_path / "taken").write_text("a file")
    assert main(["mix", str(stems), "-o", str(tmp_path / "taken"), "--quiet"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["mix", str(stems), "-o", str(tmp_path / "taken" / "out"), "--quiet"]) == 2
    assert "fix:" in capsys.readouterr().err


def test_an_unwritable_output_folder_is_an_error_with_a_fix(mixed, tmp_path, monkeypatch, capsys):
    stems, _ = mixed

    def refuse(*a, **k):
        raise PermissionError(errno.EROFS, "Read-only file system", str(tmp_path / "ro"))

    monkeypatch.setattr(outputs.tempfile, "mkdtemp", refuse)
    assert main(["mix", str(stems), "-o", str(tmp_path / "ro"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Cannot write into" in err and "Read-only file system" in err and "fix:" in err


@pytest.mark.parametrize("exc, low, code", [
    (OSError(errno.ENOSPC, "No space left on device"), False, "disk_full"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), False, "disk_full"),
    (sf.LibsndfileError(2, "System error."), True, "disk_full"),
    (sf.LibsndfileError(2, "System error."), False, "write_failed"),
    (PermissionError(errno.EACCES, "Permission denied"), False, "out_not_writable"),
    (OSError(errno.EROFS, "Read-only file system"), False, "out_not_writable"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory"), False, "out_not_folder"),
])
def test_file_system_failures_become_errors_with_a_fix(exc, low, code, monkeypatch, tmp_path):
    monkeypatch.setattr(outputs, "_low_space", lambda where: low)
    err = outputs.environment_error(exc, tmp_path)
    assert isinstance(err, WorkbenchError) and err.code == code and err.fix


def test_sessions_with_nothing_to_mix_are_refused_with_a_reason(tmp_path, capsys):
    one = tmp_path / "one"
    one.mkdir()
    sf.write(str(one / "Bass.wav"), np.array([0.5], dtype=np.float32), 44100, subtype="PCM_16")
    silent = tmp_path / "silent"
    silent.mkdir()
    for name in ("Bass", "Kick"):
        sf.write(str(silent / f"{name}.wav"), np.zeros(88200, dtype=np.float32), 44100, subtype="PCM_16")
    assert main(["mix", str(one), "-o", str(tmp_path / "o1"), "--quiet"]) == 2
    assert "too short for a mix" in capsys.readouterr().err
    assert main(["mix", str(silent), "-o", str(tmp_path / "o2"), "--quiet"]) == 2
    assert "is silent: the mix would be silence" in capsys.readouterr().err
    assert not (tmp_path / "o1" / "mix.wav").exists() and not (tmp_path / "o2" / "mix.wav").exists()


def test_skipped_inputs_are_listed_as_notes(tmp_path):
    folder = write_session(tmp_path / "s", ["Bass"], seconds=1.0)
    (folder / "sub").mkdir()
    write_session(folder / "sub", ["Kick"], seconds=1.0)
    os.symlink(tmp_path / "nowhere.wav", folder / "Gone.wav")
    os.mkfifo(folder / "Pipe.wav")
    session = load_session(folder)
    assert [s.file for s in session.stems] == ["Bass.wav"]
    notes = {f.code: f for f in session.findings if f.severity == "note" and f.stem is None}
    assert {"skipped_broken_link", "skipped_subfolder", "skipped_not_a_file"} <= set(notes)
    assert "Gone.wav" in notes["skipped_broken_link"].message and "sub/" in notes["skipped_subfolder"].message


@pytest.mark.skipif(sys.platform != "linux", reason="byte file names")
def test_a_file_name_that_is_not_utf8_is_named_as_such_not_a_damaged_header(tmp_path):
    folder = write_session(tmp_path / "s", ["Bass", "Kick"], seconds=1.0)
    os.rename(os.fsencode(folder / "Kick.wav"), os.fsencode(folder) + b"/K\xe9ck.wav")
    session = load_session(folder)
    codes = {f.code for f in session.findings if f.severity == "error"}
    assert codes == {"bad_file_name"}
    assert "not valid UTF-8" in next(f.message for f in session.findings if f.code == "bad_file_name")


@pytest.mark.parametrize("bad", [None, b"stems", 3, ""])
def test_public_api_refuses_non_paths_with_a_workbench_error(bad, tmp_path):
    with pytest.raises(WorkbenchError) as err:
        load_session(bad)
    assert err.value.code == "bad_argument"
    with pytest.raises(WorkbenchError):
        pipeline.mix_session(tmp_path, bad)
    with pytest.raises(WorkbenchError):
        MixPlan.from_json(bad)


def test_an_invalid_importance_is_a_workbench_error_not_a_key_error(mixed):
    stems, _ = mixed
    session = load_session(stems)
    with pytest.raises(WorkbenchError) as err:
        session.stems[0].importance = "huge"
    assert err.value.code == "bad_importance"
    with pytest.raises(WorkbenchError):
        session.with_settings(importance={"Bass": "loud"})


def test_check_of_a_device_is_an_error_with_a_fix(capsys):
    assert main(["check", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "neither a folder nor a file" in err and "internal error" not in err
