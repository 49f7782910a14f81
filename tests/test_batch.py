"""Batch mixing on Dask: the task, resuming, failures, and real clusters on 127.0.0.1.

Sessions are made on the spot (a few stems × a few seconds, see ``synth.py``).
The cluster tests run a local cluster started by :func:`run_batch`, and a
scheduler and two workers started here as separate ``dask`` processes — one of
which is killed with SIGKILL in the middle of a batch.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from workbench import batch
from workbench.analysis import file_digest
from workbench.batch import expand_sessions, mix_one, read_manifest, run_batch, session_name, summary_table
from workbench.cli import main
from workbench.errors import WorkbenchError

from .synth import SR, write_session

STEMS = ["Kick", "Bass", "Keys", "Lead Vocal"]
SMALL = ["Kick", "Bass", "Lead Vocal"]
LONG = ["Kick", "Snare", "Hi-Hat", "Bass", "Keys", "Guitar", "Lead Vocal", "Pad"]
OUTPUTS = {"mix.wav", "plan.json", "report.md", "done.json"}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Analysis cache in tmp (local-cluster workers inherit the environment when spawned)."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))


def _session(root: Path, name: str, stems=SMALL, *, seconds: float = 2.0, seed: int = 0) -> Path:
    return write_session(root / name, list(stems), seconds=seconds, seed=seed)


def _nan_session(root: Path, name: str = "broken") -> Path:
    folder = write_session(root / name, ["Kick", "Bass", "Keys"], seconds=3.0)
    x = np.zeros(int(3.0 * SR), dtype=np.float32)
    x[1000] = np.nan
    sf.write(str(folder / "Lead Vocal.wav"), x, SR, subtype="FLOAT")
    return folder


def _mp3_as_wav(root: Path, name: str = "mp3") -> Path:
    folder = write_session(root / name, ["Kick", "Bass"], seconds=2.0)
    noise = 0.1 * np.random.default_rng(0).standard_normal(int(2.0 * SR))
    sf.write(str(folder / "Lead Vocal.wav"), noise, SR, format="MP3")
    return folder


def _hidden(out: Path) -> list[str]:
    """Leftovers: hidden entries or temporary files anywhere under the output folder."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")
                  if p.name.startswith(".") or ".part" in p.name or p.name.endswith(".old"))


def _assert_complete(out: Path, summary: dict) -> dict:
    """A session's output folder holds exactly the four outputs and a manifest that fits them."""
    folder = out / summary["session"]
    assert {p.name for p in folder.iterdir()} == OUTPUTS
    manifest = read_manifest(folder)
    assert manifest is not None and manifest["session"] == summary["session"]
    for o in manifest["outputs"].values():
        assert (folder / o["file"]).stat().st_size == o["bytes"]
    for i in manifest["inputs"]:
        assert file_digest(Path(summary["path"]) / i["file"]) == i["blake2b"]
    info = sf.info(str(folder / "mix.wav"))
    assert info.format == "WAV" and info.channels == 2 and info.frames > 0
    return manifest


# -- which sessions ---------------------------------------------------------------------------

def test_expand_sessions_takes_folders_globs_and_lists(tmp_path):
    root = tmp_path / "sessions"
    for name in ("b song", "a song", "c song"):
        _session(root, name, ["Kick"], seconds=0.5)
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("no audio here")
    want = [str(root / n) for n in ("a song", "b song", "c song")]

    assert expand_sessions([str(root / "*")]) == want                    # a glob: folders with .wav only
    assert expand_sessions([str(root)]) == want                          # a folder of sessions
    assert expand_sessions([str(root / "c song"), str(root / "a song"), str(root / "a song")]) == \
        [want[0], want[2]]                                               # sorted, once each
    listing = tmp_path / "list.txt"
    listing.write_text("# my sessions\nsessions/b song\n\nsessions/c*  # a glob\n")
    assert expand_sessions([f"@{listing}"]) == want[1:]                  # relative to the list's folder


@pytest.mark.parametrize("pattern, words", [
    ("nowhere/*", "matches nothing"),
    ("sessions/notes/*", "none is a folder holding .wav"),
    ("missing", "does not exist"),
    ("sessions/notes", "holds no .wav"),
    ("sessions/a/Kick.wav", "is a file"),
    ("@missing.txt", "could not be read"),
])
def test_expand_sessions_names_the_pattern_that_gives_nothing(tmp_path, monkeypatch, pattern, words):
    _session(tmp_path / "sessions", "a", ["Kick"], seconds=0.5)
    (tmp_path / "sessions" / "notes").mkdir()
    (tmp_path / "sessions" / "notes" / "readme.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkbenchError) as err:
        expand_sessions([str(tmp_path / "sessions" / "a"), pattern])
    assert words in err.value.message and err.value.fix


@pytest.mark.parametrize("folder, name", [
    ("Song 1", "Song 1"),
    ("Café – Démo (v2)", "Café _ Démo _v2_"),
    ("a:b*c?", "a_b_c_"),
    (".hidden.", "hidden"),
])
def test_session_name_is_safe_for_any_file_system(tmp_path, folder, name):
    assert session_name(tmp_path / folder) == name


# -- the task: outputs, manifest, skipping ---------------------------------------------------

def test_mix_one_writes_outputs_and_manifest_then_skips(tmp_path):
    song = _session(tmp_path / "sessions", "Song One", STEMS, seconds=3.0)
    out = tmp_path / "out"

    first = mix_one(str(song), str(out), {})
    assert first["status"] == "mixed", first
    assert first["reason"] == "no earlier mix" and first["code"] == ""
    assert first["lufs"] == pytest.approx(-14.0, abs=0.5) and first["true_peak_dbtp"] <= -1.0
    assert set(first["outputs"]) == {"mix", "plan", "report", "manifest"}
    manifest = _assert_complete(out, first)
    assert [i["file"] for i in manifest["inputs"]] == sorted(f"{n}.wav" for n in STEMS)
    assert manifest["settings"]["target_lufs"] == -14.0 and manifest["workbench_version"]
    assert _hidden(out) == []
    umask = batch._umask()
    assert (out / "Song One").stat().st_mode & 0o777 == 0o777 & ~umask
    assert (out / "Song One" / "mix.wav").stat().st_mode & 0o777 == 0o666 & ~umask

    stamp = (out / "Song One" / "done.json").stat().st_mtime_ns
    again = mix_one(str(song), str(out), {})
    assert again["status"] == "skipped" and "unchanged since" in again["reason"]
    assert again["seconds"] < 1.0
    assert (again["lufs"], again["true_peak_dbtp"]) == (first["lufs"], first["true_peak_dbtp"])
    assert (out / "Song One" / "done.json").stat().st_mtime_ns == stamp


def test_mix_one_recomputed_in_the_same_run_reports_mixed(tmp_path):
    """A result lost with a dead worker is recomputed: it finds its own manifest, and was mixed."""
    song = _session(tmp_path, "s")
    out = tmp_path / "out"
    assert mix_one(str(song), str(out), {}, run_id="run-A")["status"] == "mixed"
    assert mix_one(str(song), str(out), {}, run_id="run-A")["status"] == "mixed"   # recomputed: no new mix
    assert read_manifest(out / "s")["run_id"] == "run-A"
    assert mix_one(str(song), str(out), {}, run_id="run-B")["status"] == "skipped"


def _change_stem(song, out):
    write_session(song, ["Bass"], seconds=2.0, levels_db={"Bass": -3.0})  # same size, other content


def _add_stem(song, out):
    write_session(song, ["Keys"], seconds=2.0)


def _session_choice(song, out):
    (song / "workbench.json").write_text(json.dumps({"importance": {"Lead Vocal": "high"}}))


def _drop_output(song, out):
    (out / "s" / "mix.wav").unlink()


def _drop_manifest(song, out):
    (out / "s" / "done.json").unlink()


@pytest.mark.parametrize("change, settings, words", [
    (_change_stem, {}, "stems changed: Bass.wav"),
    (_add_stem, {}, "stems new: Keys.wav"),
    (_session_choice, {}, "importance changed"),
    (None, {"target_lufs": -16.0}, "settings changed"),
    (_drop_output, {}, "outputs missing"),
    (_drop_manifest, {}, "no valid done.json"),
])
def test_mix_one_remixes_what_changed(tmp_path, change, settings, words):
    song = _session(tmp_path, "s")
    out = tmp_path / "out"
    assert mix_one(str(song), str(out), {})["status"] == "mixed"
    if change:
        change(song, out)
    again = mix_one(str(song), str(out), settings)
    assert again["status"] == "mixed" and words in again["reason"], again
    _assert_complete(out, again)
    assert _hidden(out) == []
    assert mix_one(str(song), str(out), settings)["status"] == "skipped"


def test_mix_one_applies_the_session_file(tmp_path):
    song = _session(tmp_path, "s", STEMS, seconds=3.0)
    (song / "workbench.json").write_text(json.dumps({
        "categories": {"Keys": "Synth"}, "importance": {"Lead Vocal": "high"},
        "settings": {"target_lufs": -16.0}}))
    summary = mix_one(str(song), str(tmp_path / "out"), {"target_lufs": -12.0, "bit_depth": 24})
    assert summary["status"] == "mixed", summary
    assert summary["lufs"] == pytest.approx(-16.0, abs=0.5)            # the session's setting wins
    plan = json.loads(Path(summary["outputs"]["plan"]).read_text())
    assert plan["stems"]["Lead Vocal"]["importance"] == "high"
    assert plan["stems"]["Keys"]["category"] == "Synth"
    assert sf.info(summary["outputs"]["mix"]).subtype == "PCM_24"      # the batch's setting stays


@pytest.mark.parametrize("content, code, words", [
    ("{not json", "bad_session_file", "could not be read as JSON"),
    ('["Kick"]', "bad_session_file", "not a JSON object"),
    ('{"importance": {"Lead Vocal": "high"}, "volume": 3}', "bad_session_file", "unknown key(s): volume"),
    ('{"settings": {"loudness": -14}}', "bad_setting", "Unknown setting(s): loudness"),
    ('{"settings": {"target_lufs": 3}}', "bad_setting", "target_lufs=3"),
    ('{"settings": {"target_lufs": "loud"}}', "bad_setting", "wrong kind"),
    ('{"importance": {"Lead Vocal": "very"}}', "bad_importance", "'very'"),
    ('{"importance": {"Tuba": "high"}}', "unknown_stem", "Tuba"),
])
def test_mix_one_reports_a_bad_session_file(tmp_path, content, code, words):
    song = _session(tmp_path, "s")
    (song / "workbench.json").write_text(content)
    summary = mix_one(str(song), str(tmp_path / "out"), {})
    assert summary["status"] == "failed" and summary["code"] == code
    assert words in summary["reason"] and "\n" not in summary["reason"]
    assert summary["lufs"] is None and summary["outputs"] == {}
    assert not (tmp_path / "out" / "s").exists()


@pytest.mark.parametrize("make, words", [(_mp3_as_wav, "MP3"), (_nan_session, "NaN")])
def test_mix_one_fails_a_bad_session_cleanly(tmp_path, make, words):
    folder = make(tmp_path / "sessions")
    out = tmp_path / "out"
    summary = mix_one(str(folder), str(out), {})
    assert summary["status"] == "failed" and summary["code"] == "cannot_mix"
    assert words in summary["reason"] and "Lead Vocal.wav" in summary["reason"]
    assert not (out / folder.name).exists() and _hidden(out) == []


def test_mix_one_crash_keeps_the_previous_mix_and_leaves_no_partial_files(tmp_path, monkeypatch):
    import workbench.pipeline

    song = _session(tmp_path, "s")
    out = tmp_path / "out"
    assert mix_one(str(song), str(out), {})["status"] == "mixed"
    before = {p.name: p.read_bytes() for p in (out / "s").iterdir()}
    _change_stem(song, out)

    def crash(source, out_dir, **kw):
        (Path(out_dir) / "mix.wav").write_bytes(b"RIFF half a file")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(workbench.pipeline, "mix_session", crash)
    summary = mix_one(str(song), str(out), {})
    assert summary["status"] == "failed" and summary["code"] == "internal_error"
    assert "RuntimeError: disk on fire" in summary["reason"] and "left as it was" in summary["reason"]
    assert "Traceback" in summary["detail"]
    assert {p.name: p.read_bytes() for p in (out / "s").iterdir()} == before
    assert _hidden(out) == []


def test_mix_one_never_replaces_the_session_or_foreign_files(tmp_path):
    song = _session(tmp_path / "sessions", "s")
    digests = {p.name: file_digest(p) for p in song.iterdir()}
    summary = mix_one(str(song), str(tmp_path / "sessions"), {})        # out/<name> is the session itself
    assert summary["status"] == "failed" and summary["code"] == "overwrite_input"
    assert {p.name: file_digest(p) for p in song.iterdir()} == digests

    out = tmp_path / "out"
    (out / "s").mkdir(parents=True)
    (out / "s" / "notes.txt").write_text("mine")
    summary = mix_one(str(song), str(out), {})
    assert summary["status"] == "failed" and summary["code"] == "out_exists"
    assert [p.name for p in (out / "s").iterdir()] == ["notes.txt"]


def test_mix_one_replaces_its_own_earlier_folder_with_extra_outputs(tmp_path, monkeypatch):
    """Whatever a mix wrote (a DAW project export, say) is listed in done.json and may be replaced."""
    import workbench.pipeline

    song = _session(tmp_path, "s")
    out = tmp_path / "out"
    real = workbench.pipeline.mix_session

    def with_export(source, out_dir, **kw):
        result = real(source, out_dir, **kw)
        (Path(out_dir) / "s Project").mkdir()
        (Path(out_dir) / "s Project" / "s.als").write_bytes(b"project")
        return result

    monkeypatch.setattr(workbench.pipeline, "mix_session", with_export)
    first = mix_one(str(song), str(out), {})
    assert first["status"] == "mixed" and first["outputs"]["s Project"] == str(out / "s" / "s Project")
    assert read_manifest(out / "s")["outputs"]["s Project"] == {"file": "s Project", "bytes": None}
    assert mix_one(str(song), str(out), {})["status"] == "skipped"

    monkeypatch.setattr(workbench.pipeline, "mix_session", real)
    _change_stem(song, out)
    again = mix_one(str(song), str(out), {})
    assert again["status"] == "mixed", again
    _assert_complete(out, again)                                       # the old export went with the old mix


# -- the batch: arguments, summary ------------------------------------------------------------

@pytest.mark.parametrize("kwargs, code", [
    ({"scheduler": "tcp://127.0.0.1:1", "workers": 2}, "bad_argument"),
    ({"workers": 0}, "bad_argument"),
    ({"settings": {"target_lufs": 10}}, "bad_setting"),
    ({"settings": {"loudness": -14}}, "bad_setting"),
])
def test_run_batch_rejects_bad_arguments_before_starting(tmp_path, kwargs, code):
    song = _session(tmp_path, "s", ["Kick"], seconds=0.5)
    with pytest.raises(WorkbenchError) as err:
        run_batch([str(song)], str(tmp_path / "out"), **kwargs)
    assert err.value.code == code


def test_run_batch_rejects_clashing_names_and_sessions_inside_the_output(tmp_path):
    a = _session(tmp_path / "a", "song", ["Kick"], seconds=0.5)
    b = _session(tmp_path / "b", "song", ["Kick"], seconds=0.5)
    with pytest.raises(WorkbenchError) as err:
        run_batch([str(a), str(b)], str(tmp_path / "out"))
    assert err.value.code == "duplicate_session_name"
    with pytest.raises(WorkbenchError) as err:
        run_batch([str(a)], str(tmp_path / "a"))
    assert err.value.code == "session_in_output"


def test_run_batch_says_when_the_scheduler_is_unreachable(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(batch, "CONNECT_TIMEOUT_S", 1.0)
    song = _session(tmp_path, "s", ["Kick"], seconds=0.5)
    with pytest.raises(WorkbenchError) as err:
        run_batch([str(song)], str(tmp_path / "out"), scheduler=f"tcp://127.0.0.1:{port}")
    assert err.value.code == "no_scheduler" and "dask scheduler" in err.value.fix


def test_summary_table_lists_sessions_then_failures():
    rows = [{"session": "a", "status": "mixed", "lufs": -14.02, "true_peak_dbtp": -1.55, "seconds": 3.21,
             "reason": ""},
            {"session": "broken one", "status": "failed", "lufs": None, "true_peak_dbtp": None, "seconds": 0.5,
             "reason": "Lead Vocal.wav is an MP3 file"}]
    text = summary_table(rows)
    assert text.splitlines()[0].split() == ["session", "status", "LUFS", "true", "peak", "time"]
    assert "-14.0  -1.6 dBTP  3.2 s" in text
    assert "1 mixed, 0 skipped, 1 failed of 2 session(s)." in text
    assert "✗ broken one: Lead Vocal.wav is an MP3 file" in text


def test_a_task_lost_to_dying_workers_is_a_failed_session():
    from distributed.scheduler import KilledWorker

    class Lost:
        status = "error"

        def exception(self):
            return KilledWorker("mix_one-s-1", "tcp://127.0.0.1:1", "died")

    summary = batch._collect(Lost(), "/songs/s")
    assert summary["status"] == "failed" and summary["code"] == "worker_lost"
    assert summary["session"] == "s" and "died repeatedly" in summary["reason"]


def test_tune_malloc_only_acts_in_dask_workers(monkeypatch):
    monkeypatch.setattr(batch, "_malloc_tuned", False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    batch._tune_malloc()
    assert batch._malloc_tuned is False
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")                # what Dask's nanny sets
    batch._tune_malloc()
    assert batch._malloc_tuned is True


# -- the batch on a local cluster -------------------------------------------------------------

def test_batch_on_a_local_cluster_fails_one_then_resumes(tmp_path):
    root = tmp_path / "sessions"
    for i, name in enumerate(("Song A", "Song B", "Song C")):
        _session(root, name, STEMS, seconds=3.0, seed=i)
    _nan_session(root, "Song D")
    out = tmp_path / "out"
    sessions = expand_sessions([str(root / "*")])
    calls = []

    results = run_batch(sessions, str(out), workers=2, progress=lambda *a: calls.append(a))
    assert [r["session"] for r in results] == ["Song A", "Song B", "Song C", "Song D"]
    assert [r["status"] for r in results] == ["mixed", "mixed", "mixed", "failed"]
    assert results[3]["code"] == "cannot_mix" and "NaN" in results[3]["reason"]
    assert [c[:2] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted(c[2]["session"] for c in calls) == ["Song A", "Song B", "Song C", "Song D"]
    for r in results[:3]:
        assert r["lufs"] == pytest.approx(-14.0, abs=0.5)
        _assert_complete(out, r)
    assert not (out / "Song D").exists() and _hidden(out) == []

    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["session"], r["status"]) for r in rows] == [(r["session"], r["status"]) for r in results]
    assert float(rows[0]["lufs"]) == pytest.approx(-14.0, abs=0.5) and rows[3]["lufs"] == ""
    assert "NaN" in rows[3]["reason"]
    saved = json.loads((out / "summary.json").read_text())
    assert saved["counts"] == {"mixed": 3, "skipped": 0, "failed": 1}
    assert [s["status"] for s in saved["sessions"]] == ["mixed", "mixed", "mixed", "failed"]

    # Again: nothing to do but the broken session.
    stamps = {r["session"]: (out / r["session"] / "mix.wav").stat().st_ino for r in results[:3]}
    again = run_batch(sessions, str(out), workers=2)
    assert [r["status"] for r in again] == ["skipped", "skipped", "skipped", "failed"]
    assert all(r["seconds"] < 2.0 for r in again[:3])                    # a hash of the stems, no mix
    assert {r["session"]: (out / r["session"] / "mix.wav").stat().st_ino for r in again[:3]} == stamps
    assert json.loads((out / "summary.json").read_text())["counts"] == {"mixed": 0, "skipped": 3, "failed": 1}

    # A stem of Song B changes: only Song B is mixed again.
    write_session(root / "Song B", ["Keys"], seconds=3.0, levels_db={"Keys": -2.0})
    third = run_batch(sessions, str(out), workers=1)
    assert [r["status"] for r in third] == ["skipped", "mixed", "skipped", "failed"]
    assert third[1]["reason"] == "stems changed: Keys.wav"
    _assert_complete(out, third[1])
    assert _hidden(out) == []


# -- the batch on a scheduler and workers of their own ------------------------------------------

@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 (nanny, 1 thread each)."""
    from dask.distributed import Client

    root = tmp_path_factory.mktemp("cluster")
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "WORKBENCH_CACHE_DIR": str(root / "cache")}
    log = open(root / "cluster.log", "wb")
    scheduler_file = root / "scheduler.json"
    procs: list[subprocess.Popen] = []
    worker_pids: set[int] = set()

    def start(*args):
        procs.append(subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            assert time.monotonic() < deadline and procs[0].poll() is None, "the scheduler did not start"
            time.sleep(0.1)
        time.sleep(0.2)  # let the file be written whole
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            start("worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                  "--name", f"worker-{i}", "--local-directory", str(root / "scratch"))
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)

        def pids() -> dict:
            with Client(address, timeout=30) as c:
                found = c.run(os.getpid)
            worker_pids.update(found.values())
            return found

        yield SimpleNamespace(address=address, root=root, worker_pids=pids)
    finally:
        for group in (procs[1:], procs[:1]):  # the workers, then the scheduler
            for p in group:
                p.terminate()
            for p in group:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for pid in worker_pids:  # worker processes the nannies started, should one outlive its nanny
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def test_batch_on_a_scheduler_and_workers_of_their_own(tmp_path, cluster):
    root = tmp_path / "sessions"
    for i in range(3):
        _session(root, f"take {i}", STEMS, seconds=3.0, seed=i)
    (root / "take 1" / "workbench.json").write_text(json.dumps({"settings": {"target_lufs": -18.0}}))
    out = tmp_path / "out"
    (out / ".take 0.abcd1234.part").mkdir(parents=True)  # left by an interrupted run
    (out / ".take 0.abcd1234.part" / "mix.wav").write_bytes(b"RIFF")

    results = run_batch(expand_sessions([str(root)]), str(out), scheduler=cluster.address,
                        settings={"bit_depth": 24})
    assert [r["status"] for r in results] == ["mixed"] * 3, results
    assert [round(r["lufs"]) for r in results] == [-14, -18, -14]
    for r in results:
        manifest = _assert_complete(out, r)
        assert manifest["settings"]["bit_depth"] == 24
        assert manifest["pid"] in cluster.worker_pids().values()       # mixed on the workers
    assert _hidden(out) == []
    assert json.loads((out / "summary.json").read_text())["scheduler"] == cluster.address


def test_cli_batch_prints_a_table_and_exits_1_on_a_failed_session(tmp_path, cluster, capsys):
    root = tmp_path / "sessions"
    _session(root, "good", SMALL, seconds=2.0)
    _mp3_as_wav(root, "bad")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"target_lufs": -16}))
    out = tmp_path / "out"

    code = main(["batch", str(root / "*"), "-o", str(out), "--scheduler", cluster.address,
                 "--settings", str(settings)])
    captured = capsys.readouterr()
    assert code == 1
    lines = captured.out.splitlines()
    assert lines[0].split()[:2] == ["session", "status"]
    assert lines[2].split()[:2] == ["bad", "failed"]
    assert lines[3].split()[:3] == ["good", "mixed", "-16.0"]
    assert "✗ bad:" in captured.out and "MP3" in captured.out
    assert "session" in captured.err                                       # the progress bar

    # Only the broken session failed; once it is fixed the batch exits 0.
    write_session(root / "bad", ["Lead Vocal"], seconds=2.0)
    assert main(["batch", str(root / "*"), "-o", str(out), "--scheduler", cluster.address,
                 "--settings", str(settings), "--quiet"]) == 0
    assert "0 mixed" not in capsys.readouterr().out

    assert main(["batch", str(tmp_path / "nowhere" / "*"), "-o", str(out)]) == 2
    assert "matches nothing" in capsys.readouterr().err


def test_a_worker_killed_mid_batch_changes_nothing_in_the_results(tmp_path, cluster):
    from dask.distributed import Client

    root = tmp_path / "sessions"
    for i in range(4):
        _session(root, f"long {i}", LONG, seconds=6.0, seed=i)
    out = tmp_path / "out"
    sessions = expand_sessions([str(root)])
    box: dict = {}

    def run():
        try:
            box["results"] = run_batch(sessions, str(out), scheduler=cluster.address)
        except BaseException as exc:  # noqa: BLE001 — reported below
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    with Client(cluster.address, timeout=30) as spy:
        victim, deadline = None, time.monotonic() + 90
        while victim is None and thread.is_alive() and time.monotonic() < deadline:
            busy = spy.run(lambda dask_worker: (os.getpid(), [str(ts.key) for ts in dask_worker.state.executing]))
            staged = [p.name for p in out.glob(".*.part")] if out.exists() else []
            for pid, keys in busy.values():
                # Keys are "mix_one-<session>-<run id>"; kill a worker whose session is being written.
                names = [k.split("-", 1)[1].rsplit("-", 1)[0] for k in keys]
                if any(p.startswith(f".{n}.") for n in names for p in staged):
                    time.sleep(0.05)  # inside the session's staging (it may commit soon after)
                    victim, victim_session = pid, names[0]
                    os.kill(victim, signal.SIGKILL)
                    break
            else:
                time.sleep(0.1)
        thread.join(timeout=180)
        assert victim is not None, "no task was seen running"
        assert not thread.is_alive() and "error" not in box, box.get("error")
        assert victim not in cluster.worker_pids().values()                  # it really died (and was replaced)

    results = box["results"]
    assert [r["session"] for r in results] == [f"long {i}" for i in range(4)]
    assert [r["status"] for r in results] == ["mixed"] * 4, results
    assert {p.name for p in out.iterdir()} == {f"long {i}" for i in range(4)} | {"summary.csv", "summary.json"}
    run_ids = set()
    for r in results:
        run_ids.add(_assert_complete(out, r)["run_id"])
        assert r["lufs"] == pytest.approx(-14.0, abs=0.5)
    assert len(run_ids) == 1
    # Finished by another process — unless the kill landed in the instant after the victim
    # committed its session (a race no test can close): then its outputs are complete as checked.
    manifest = read_manifest(out / victim_session)
    assert manifest["pid"] != victim or _assert_complete(out, next(r for r in results
                                                                    if r["session"] == victim_session))
    assert _hidden(out) == []
    # The manifests are valid: every session is now skipped.
    assert all(mix_one(s, str(out), {})["status"] == "skipped" for s in sessions)
