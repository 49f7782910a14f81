"""Shared fixtures: small WAV files made on the spot, and the sample stems folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_STEMS = ROOT / "sample_stems"
SR = 44100


def tone(seconds: float = 2.0, freq_hz: float = 220.0, level_db: float = -12.0, sr: int = SR,
         channels: int = 1, start_s: float = 0.0, seed: int = 0) -> np.ndarray:
    """A sine with a little noise, ``(channels, samples)`` float32, silent before ``start_s``."""
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    rng = np.random.default_rng(seed)
    x = np.sin(2 * np.pi * freq_hz * t) + 0.05 * rng.standard_normal(n)
    x *= 10 ** (level_db / 20) / np.abs(x).max()
    x[: int(start_s * sr)] = 0.0
    return np.tile(x.astype(np.float32), (channels, 1))


def write(folder: Path, name: str, audio: np.ndarray, sr: int = SR, subtype: str = "PCM_16",
          fmt: str = "WAV") -> Path:
    path = folder / name
    sf.write(str(path), np.asarray(audio).T, sr, subtype=subtype, format=fmt)
    return path


@pytest.fixture
def make_wav(tmp_path):
    """``make_wav(name, audio=None, **kw)`` writes a WAV into tmp_path and returns its path."""

    def _make(name: str, audio: np.ndarray | None = None, sr: int = SR, subtype: str = "PCM_16",
              fmt: str = "WAV") -> Path:
        if audio is None:
            audio = tone(sr=sr)
        return write(tmp_path, name, audio, sr, subtype, fmt)

    return _make
