"""Session analysis: assembly, masking, the content-keyed cache, progress."""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import pytest
import soundfile as sf

from workbench import audio_io
from workbench.analysis import (Analysis, analyse, default_cache_dir, features, file_digest,
                                spectrum)
from workbench.errors import WorkbenchError
from workbench.session import load_session

SR = 44100
L = spectrum.frame_length(SR)


def tone(seconds: float, freq_hz: float, peak: float = 0.3, *, sr: int = SR, seed: int = 0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    rng = np.random.default_rng(seed)
    x = peak * np.sin(2 * np.pi * freq_hz * t) + 0.01 * rng.standard_normal(t.size)
    return np.stack([x, 0.9 * x]).astype(np.float32)


def write(folder, name, audio, sr=SR):
    path = folder / name
    sf.write(str(path), audio.T, sr, subtype="PCM_16", format="WAV")
    return path


@pytest.fixture
def session_dir(tmp_path):
    folder = tmp_path / "song"
    folder.mkdir()
    write(folder, "Bass.wav", tone(4.0, 80.0, 0.5, seed=1))
    write(folder, "Keys.wav", tone(4.0, 300.0, 0.3, seed=2))
    write(folder, "Lead Vocal.wav", tone(4.0, 600.0, 0.4, seed=3))
    return folder


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


@pytest.fixture
def count_reads(monkeypatch):
    """Counts the blocks read through ``audio_io.iter_blocks_interleaved`` (all reads)."""
    counter = {"blocks": 0}
    real = audio_io.iter_blocks_interleaved

    def counting(path, **kw):
        for pair in real(path, **kw):
            counter["blocks"] += 1
            yield pair

    monkeypatch.setattr(audio_io, "iter_blocks_interleaved", counting)
    return counter


def test_analysis_shapes_and_order(session_dir, cache):
    session = load_session(session_dir, check_audio=False)
    a = analyse(session, cache_dir=cache)
    n_frames = math.ceil(4.0 * SR / L)
    assert isinstance(a, Analysis)
    assert a.names == [s.name for s in session.mixable_stems]
    assert a.files == ["Bass.wav", "Keys.wav", "Lead Vocal.wav"]
    assert a.band_power.shape == (3, 40, n_frames) and a.band_power.dtype == np.float32
    assert a.activity.shape == (3, n_frames) and a.activity.dtype == bool
    assert a.n_frames == n_frames and a.frame_hop_s == pytest.approx(L / SR)
    assert [s.short_term_lufs.size for s in a.stems] == [n_frames] * 3
    assert a.masking.share.shape == (3, 3) and a.masking.names == a.names
    assert a.stem("lead vocal").file == "Lead Vocal.wav"
    assert a.stem("Bass.wav").low_end_share > 0.9
    with pytest.raises(Exception, match="No analysed stem"):
        a.stem("Drums")


def test_to_dict_is_json_safe(tmp_path, cache):
    folder = tmp_path / "with_silence"
    folder.mkdir()
    write(folder, "Bass.wav", tone(3.0, 80.0))
    write(folder, "Silent.wav", np.zeros((2, 3 * SR), np.float32))
    a = analyse(load_session(folder, check_audio=False), cache_dir=cache)
    doc = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    silent = [s for s in doc["stems"] if s["file"] == "Silent.wav"][0]
    assert silent["integrated_lufs"] is None and silent["true_peak_dbtp"] is None
    assert "short_term_lufs" not in silent
    assert doc["masking"]["names"] == a.names
    assert doc["sample_rate"] == SR and len(doc["bands"]["centres_hz"]) == 40


def test_cache_hit_is_equal_fast_and_reads_no_audio(session_dir, cache, monkeypatch):
    session = load_session(session_dir, check_audio=False)
    t0 = time.perf_counter()
    first = analyse(session, cache_dir=cache)
    cold = time.perf_counter() - t0

    def no_audio(*args, **kwargs):
        raise AssertionError("the cache hit read audio")

    monkeypatch.setattr(audio_io, "iter_blocks", no_audio)
    monkeypatch.setattr(audio_io, "iter_blocks_interleaved", no_audio)
    monkeypatch.setattr(audio_io, "read", no_audio)
    t0 = time.perf_counter()
    again = analyse(session, cache_dir=cache)
    hot = time.perf_counter() - t0
    assert hot < cold
    assert again.stems == first.stems
    np.testing.assert_array_equal(again.band_power, first.band_power)
    np.testing.assert_array_equal(again.activity, first.activity)
    np.testing.assert_array_equal(again.masking.share, first.masking.share)


@pytest.mark.parametrize("racy_s", [0.0, 2.0])
def test_content_change_with_same_size_and_mtime_invalidates(session_dir, cache, count_reads,
                                                             monkeypatch, racy_s):
    # racy_s=0: the stat memo is written on the first run and must notice the
    # change (ctime moves on every write and utime); 2.0 (the default): the
    # files are too fresh to be memoised, so they are hashed again.
    import workbench.analysis as wa

    monkeypatch.setattr(wa, "RACY_S", racy_s)
    session = load_session(session_dir, check_audio=False)
    first = analyse(session, cache_dir=cache)
    keys = session_dir / "Keys.wav"
    st = os.stat(keys)
    digest = file_digest(keys)
    # Same name, same length, same size: different samples; then put the mtime back.
    write(session_dir, "Keys.wav", tone(4.0, 300.0, 0.05, seed=9))
    os.utime(keys, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(keys).st_size == st.st_size and os.stat(keys).st_mtime_ns == st.st_mtime_ns
    assert file_digest(keys) != digest
    before = count_reads["blocks"]
    second = analyse(session, cache_dir=cache)
    assert count_reads["blocks"] > before
    assert second.stem("Keys").integrated_lufs < first.stem("Keys").integrated_lufs - 10
    assert second.stem("Bass") == first.stem("Bass")


def test_stat_memo_skips_hashing_unchanged_files(session_dir, cache, monkeypatch):
    import workbench.analysis as wa

    monkeypatch.setattr(wa, "RACY_S", 0.0)
    session = load_session(session_dir, check_audio=False)
    analyse(session, cache_dir=cache)
    assert len(list((cache / "files").glob("*.json"))) == 3
    monkeypatch.setattr(wa, "file_digest", lambda p: pytest.fail(f"re-hashed {p}"))
    analyse(session, cache_dir=cache)


def test_fresh_files_are_not_memoised(session_dir, cache):
    analyse(load_session(session_dir, check_audio=False), cache_dir=cache)
    assert not list((cache / "files").glob("*.json"))  # written < RACY_S ago


def test_changing_one_stem_reanalyses_only_that_one(session_dir, cache, monkeypatch):
    session = load_session(session_dir, check_audio=False)
    analyse(session, cache_dir=cache)
    write(session_dir, "Bass.wav", tone(4.0, 60.0, 0.5, seed=4))
    measured = []
    real = features.measure_stem

    def spy(path, **kw):
        measured.append(os.path.basename(path))
        return real(path, **kw)

    monkeypatch.setattr(features, "measure_stem", spy)
    analyse(session, cache_dir=cache)
    assert measured == ["Bass.wav"]


def test_renamed_file_keeps_its_cache_entry(session_dir, cache, monkeypatch):
    analyse(load_session(session_dir, check_audio=False), cache_dir=cache)
    os.rename(session_dir / "Keys.wav", session_dir / "Piano.wav")
    monkeypatch.setattr(features, "measure_stem", lambda *a, **k: pytest.fail("re-measured"))
    a = analyse(load_session(session_dir, check_audio=False), cache_dir=cache)
    assert a.stem("Piano.wav").file == "Piano.wav"


def test_off_rate_stem_is_resampled_and_gets_the_same_frame_count(tmp_path, cache):
    folder = tmp_path / "mixed"
    folder.mkdir()
    write(folder, "Bass.wav", tone(4.0, 80.0))
    write(folder, "Drums.wav", tone(3.0, 200.0))
    write(folder, "Pad.wav", tone(4.0, 500.0, sr=48000), sr=48000)
    session = load_session(folder, check_audio=False)
    assert session.sample_rate == SR
    a = analyse(session, cache_dir=cache)
    n = math.ceil(session.frames / L)
    assert a.band_power.shape[2] == n and a.activity.shape[1] == n
    pad = a.stem("Pad")
    assert pad.sample_rate == SR and pad.duration_s == pytest.approx(4.0, abs=1e-3)
    assert a.stem("Drums").duration_s == pytest.approx(3.0)
    assert not a.activity[a.index("Drums"), math.ceil(3.0 * SR / L):].any()


def test_progress_reports_every_stem(session_dir, cache):
    calls = []
    analyse(load_session(session_dir, check_audio=False), cache_dir=cache,
            progress=lambda done, total, name: calls.append((done, total, name)))
    assert [c[0] for c in calls] == [1, 2, 3]
    assert {c[1] for c in calls} == {3}
    assert sorted(c[2] for c in calls) == ["Bass", "Keys", "Lead Vocal"]


def test_workers_do_not_change_results(session_dir):
    session = load_session(session_dir, check_audio=False)
    one = analyse(session, cache=False, workers=1)
    two = analyse(session, cache=False, workers=3)
    assert one.stems == two.stems
    np.testing.assert_array_equal(one.band_power, two.band_power)


def test_analysis_does_not_depend_on_importance_or_category(session_dir):
    session = load_session(session_dir, check_audio=False)
    other = session.with_settings(importance={"Keys": "high", "Bass": "low"}, category={"Keys": "Synth"})
    a = analyse(session, cache=False)
    b = analyse(other, cache=False)
    assert a.stems == b.stems
    np.testing.assert_array_equal(a.masking.share, b.masking.share)


def test_masking_is_computed_on_first_access_only(session_dir, cache, monkeypatch):
    import workbench.analysis as wa

    session = load_session(session_dir, check_audio=False)
    analyse(session, cache_dir=cache)
    calls = []
    real = wa.compute_masking
    monkeypatch.setattr(wa, "compute_masking", lambda *a, **k: calls.append(1) or real(*a, **k))
    a = analyse(session, cache_dir=cache)
    assert calls == []
    m = a.masking
    assert a.masking is m and calls == [1]
    assert m.share.shape == (3, 3) and np.all(m.gains_db == 0)


def test_masking_at_gains(session_dir, cache):
    a = analyse(load_session(session_dir, check_audio=False), cache_dir=cache)
    assert np.all(a.masking.gains_db == 0)
    quiet_bass = a.masking_at({"Bass": -60.0})
    assert quiet_bass.gains_db[a.index("Bass")] == -60.0
    bass = a.index("Bass")
    assert quiet_bass.share[bass].sum() <= a.masking.share[bass].sum()
    same = a.masking_at([0.0, 0.0, 0.0])
    np.testing.assert_array_equal(same.share, a.masking.share)
    with pytest.raises(ValueError, match="one value per stem"):
        a.masking_at([0.0])


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "wb"))
    assert default_cache_dir() == tmp_path / "wb" / "analysis"
    monkeypatch.delenv("WORKBENCH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "mixing-workbench" / "analysis"


def test_unwritable_cache_does_not_stop_the_analysis(session_dir, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    a = analyse(load_session(session_dir, check_audio=False), cache_dir=blocker)
    assert a.n_stems == 3


def test_corrupt_cache_entry_is_a_miss(session_dir, cache):
    session = load_session(session_dir, check_audio=False)
    first = analyse(session, cache_dir=cache)
    for p in cache.glob("*.npz"):
        p.write_bytes(b"not an npz")
    again = analyse(session, cache_dir=cache)
    assert again.stems == first.stems


def test_cache_entries_are_written_atomically(session_dir, cache):
    analyse(load_session(session_dir, check_audio=False), cache_dir=cache)
    names = sorted(p.name for p in cache.iterdir())
    assert not [n for n in names if n.endswith(".part")]
    assert len([n for n in names if n.endswith(".json")]) == 3
    assert len([n for n in names if n.endswith(".npz")]) == 3


@pytest.fixture
def process_pool(monkeypatch):
    """Make :func:`analyse` measure in forked worker processes; yields the pools it made."""
    import threading

    from workbench import workers

    if threading.active_count() != 1:
        pytest.skip("another thread runs in this process: analyse() uses threads then")
    monkeypatch.setattr(workers, "PROCESS_MIN_SECONDS", 0.0)
    pools = []
    real = workers.executor

    def spy(*args):
        pools.append(real(*args))
        return pools[-1]

    monkeypatch.setattr(workers, "executor", spy)
    return pools


def test_worker_processes_give_the_in_process_results(session_dir, cache, process_pool):
    from concurrent.futures import ProcessPoolExecutor

    session = load_session(session_dir, check_audio=False)
    one = analyse(session, cache=False, workers=1)
    assert process_pool == []
    calls = []
    two = analyse(session, cache_dir=cache, workers=2, progress=lambda *c: calls.append(c))
    assert len(process_pool) == 1 and isinstance(process_pool[0], ProcessPoolExecutor)
    assert one.stems == two.stems
    np.testing.assert_array_equal(one.band_power, two.band_power)
    np.testing.assert_array_equal(one.activity, two.activity)
    assert sorted(c[0] for c in calls) == [1, 2, 3]
    # The parent wrote the cache: a second run measures nothing.
    again = analyse(session, cache_dir=cache, workers=2)
    assert len(process_pool) == 1 and again.stems == one.stems


@pytest.mark.parametrize("mode", ["in process", "threads", "processes"])
def test_a_stem_that_fails_mid_analysis_is_named(session_dir, mode, request, monkeypatch):
    from workbench import workers

    if mode == "processes":
        request.getfixturevalue("process_pool")
    else:
        monkeypatch.setattr(workers, "PROCESS_MIN_SECONDS", math.inf)
    session = load_session(session_dir, check_audio=False)
    (session_dir / "Keys.wav").write_bytes(b"RIFF but not audio any more")  # replaced after the checks
    with pytest.raises(WorkbenchError) as err:
        analyse(session, cache=False, workers=1 if mode == "in process" else 2)
    assert err.value.code == "analysis_failed" and "Keys.wav" in err.value.message
    assert err.value.fix
