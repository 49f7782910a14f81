"""Small made-up multitrack sessions for the mixing tests (seeded, a few seconds long).

Each part is a crude but spectrally honest stand-in for its instrument:
a pitched decaying sine for the kick, noise bursts for snare and hats,
harmonic tones for bass, keys, guitar and voice — enough for loudness,
masking, panning and compression to behave as they would on real stems.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 44100


def _env(n, sr, period_s, decay_s, offset_s=0.0):
    t = (np.arange(n) / sr - offset_s) % period_s
    return np.exp(-t / decay_s)


def _harmonic(n, sr, f0_hz, partials=8, rolloff=1.0, vibrato_hz=0.0, seed=0):
    t = np.arange(n) / sr
    rng = np.random.default_rng(seed)
    phase_mod = 0.003 * np.sin(2 * np.pi * vibrato_hz * t) if vibrato_hz else 0.0
    x = np.zeros(n)
    for k in range(1, partials + 1):
        x += np.sin(2 * np.pi * f0_hz * k * t * (1 + phase_mod) + rng.uniform(0, 2 * np.pi)) / k ** rolloff
    return x


def parts(seconds: float = 6.0, sr: int = SR, seed: int = 0) -> dict[str, np.ndarray]:
    """Named mono parts, each normalised to peak 0.5."""
    n = int(seconds * sr)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    beat = 0.5
    kick = np.sin(2 * np.pi * (50 + 80 * _env(n, sr, beat, 0.03)) * t) * _env(n, sr, beat, 0.12)
    snare = (rng.standard_normal(n) * 0.7 + np.sin(2 * np.pi * 190 * t)) * _env(n, sr, 2 * beat, 0.08, beat)
    hats = np.diff(rng.standard_normal(n + 1)) * _env(n, sr, beat / 2, 0.02)
    bass = _harmonic(n, sr, 55.0, partials=6, rolloff=1.5, seed=1) * (0.6 + 0.4 * _env(n, sr, beat, 0.3))
    keys = _harmonic(n, sr, 262.0, partials=10, seed=2) * (0.5 + 0.5 * _env(n, sr, 2 * beat, 0.6))
    guitar = _harmonic(n, sr, 196.0, partials=14, rolloff=0.8, seed=3) * _env(n, sr, beat / 2, 0.15)
    voice = _harmonic(n, sr, 220.0, partials=12, vibrato_hz=5.0, seed=4)
    voice *= (np.sin(2 * np.pi * 0.25 * t) > -0.6)  # phrases with gaps
    pad = np.convolve(rng.standard_normal(n), np.ones(40) / 40, mode="same") + _harmonic(n, sr, 131.0, 6, seed=5)
    out = {"Kick": kick, "Snare": snare, "Hi-Hat": hats, "Bass": bass, "Keys": keys,
           "Guitar": guitar, "Lead Vocal": voice, "Pad": pad}
    return {k: (0.5 * v / np.abs(v).max()).astype(np.float32) for k, v in out.items()}


def write_session(folder: Path, names: list[str] | None = None, *, seconds: float = 6.0,
                  levels_db: dict[str, float] | None = None, stereo: tuple[str, ...] = (),
                  seed: int = 0) -> Path:
    """Write a session of the named parts (all by default) as 16-bit WAVs; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    p = parts(seconds, seed=seed)
    for name in names or list(p):
        x = p[name] * 10 ** ((levels_db or {}).get(name, 0.0) / 20)
        data = np.stack([x, x], axis=1) if name in stereo else x
        sf.write(str(folder / f"{name}.wav"), data, SR, subtype="PCM_16")
    return folder
