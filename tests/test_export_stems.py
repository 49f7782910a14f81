"""The processed-stem writer (workbench.export.stems): names, channels, all-or-nothing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from workbench import WorkbenchError
from workbench.export.stems import REVERB_RETURN_NAME, ProcessedStemWriter

SR = 44100


def _block(n: int, left: float, right: float) -> np.ndarray:
    return np.stack([np.full(n, left, np.float32), np.full(n, right, np.float32)])


def test_writes_each_stem_then_the_return(tmp_path):
    folder = tmp_path / "stems"
    with ProcessedStemWriter(folder, ["Kick", "kick", "Pad/Keys"], [True, False, False], sample_rate=SR,
                             subtype="FLOAT") as w:
        for _ in range(2):
            w.write(0, _block(100, 0.25, 0.5))
            w.write(1, _block(100, 0.125, -0.125))
            w.write(2, _block(100, 0.0, 0.5))
            w.write_return(_block(100, -0.25, 0.25))
        assert not any(p.exists() for p in w.paths)        # nothing in place before the end
    names = [p.name for p in w.paths]
    assert len(set(n.casefold() for n in names)) == 4 and names[-1] == f"{REVERB_RETURN_NAME}.wav"
    assert all("/" not in n for n in names)
    kick, _ = sf.read(str(w.paths[0]), dtype="float32", always_2d=True)
    assert kick.shape == (200, 1) and np.all(kick == 0.25)            # the mono file keeps the left side
    other, _ = sf.read(str(w.paths[1]), dtype="float32", always_2d=True)
    assert other.shape == (200, 2) and np.all(other == [0.125, -0.125])
    ret, _ = sf.read(str(w.paths[3]), dtype="float32", always_2d=True)
    assert ret.shape == (200, 2) and np.all(ret == [-0.25, 0.25])
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)   # no temporary file left


def test_a_failure_leaves_nothing(tmp_path):
    folder = tmp_path / "stems"
    with pytest.raises(RuntimeError):
        with ProcessedStemWriter(folder, ["Bass"], [False], sample_rate=SR, subtype="PCM_24") as w:
            w.write(0, _block(10, 0.5, 0.5))
            raise RuntimeError("the render failed")
    assert list(folder.iterdir()) == []


def test_never_writes_over_an_input(tmp_path):
    stem = tmp_path / "Bass.wav"
    sf.write(str(stem), np.zeros(10, np.float32), SR)
    before = stem.read_bytes()
    with pytest.raises(WorkbenchError) as e:
        with ProcessedStemWriter(tmp_path, ["Bass"], [True], sample_rate=SR, subtype="PCM_16", inputs=[stem]):
            pass
    assert e.value.code == "overwrite_input" and stem.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Bass.wav"]


def test_names_and_flags_must_agree(tmp_path):
    with pytest.raises(ValueError, match="2 stem names but 1 mono flags"):
        ProcessedStemWriter(tmp_path, ["a", "b"], [True], sample_rate=SR, subtype="FLOAT")
