"""Reading and writing audio at the edge of the package.

Inside the workbench, audio is always ``float32`` with shape
``(channels, samples)`` and an explicit sample rate, as in pedalboard. This
module is the only place that converts from and to files. Reading is done in
blocks so that a session of many long stems needs little memory; writing is
atomic (a temporary file in the destination folder, then a rename) and refuses
to overwrite an input.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

#: Default block length for streamed reads (frames). ~1.5 s at 44.1 kHz:
#: large enough that per-block overhead is negligible, small enough that 32
#: stereo stems read side by side stay under 20 MB.
BLOCK_FRAMES = 65536


def iter_blocks(
    path: str | os.PathLike,
    *,
    block_frames: int = BLOCK_FRAMES,
    start: int = 0,
    frames: int | None = None,
    sample_rate: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield a file's audio in blocks of shape ``(channels, n)``, ``float32``.

    Parameters
    ----------
    path : path-like
        The audio file.
    block_frames : int
        Frames per block (the last block may be shorter).
    start : int
        First frame to read (at the output sample rate).
    frames : int or None
        How many frames to read; ``None`` reads to the end.
    sample_rate : int or None
        Resample to this rate while streaming (constant memory, via
        ``pedalboard.io.AudioFile.resampled_to``). ``None`` keeps the file's rate.
    """
    for block, _ in iter_blocks_interleaved(path, block_frames=block_frames, start=start,
                                            frames=frames, sample_rate=sample_rate):
        yield block


def iter_blocks_interleaved(
    path: str | os.PathLike,
    *,
    block_frames: int = BLOCK_FRAMES,
    start: int = 0,
    frames: int | None = None,
    sample_rate: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """:func:`iter_blocks`, also yielding each block as read, ``(n, channels)``.

    Yields ``(block, interleaved)`` pairs: ``block`` is ``(channels, n)``
    ``float32`` as :func:`iter_blocks` gives it, ``interleaved`` the same
    samples C-contiguous in file order (``None`` when resampling), for
    consumers that want interleaved samples without interleaving them again.
    """
    if sample_rate is not None and sf.info(str(path)).samplerate != sample_rate:
        for block in _iter_resampled(path, block_frames, start, frames, sample_rate):
            yield block, None
        return
    with sf.SoundFile(str(path)) as f:
        if start:
            f.seek(start)
        remaining = f.frames - start if frames is None else frames
        while remaining > 0:
            n = min(block_frames, remaining)
            raw = f.read(n, dtype="float32", always_2d=True)
            if raw.shape[0] == 0:
                break
            remaining -= raw.shape[0]
            yield np.ascontiguousarray(raw.T), raw


def _iter_resampled(path, block_frames, start, frames, sample_rate) -> Iterator[np.ndarray]:
    from pedalboard.io import AudioFile

    with AudioFile(str(path)).resampled_to(sample_rate) as f:
        if start:
            f.seek(start)
        remaining = f.frames - start if frames is None else frames
        while remaining > 0:
            n = min(block_frames, remaining)
            block = f.read(n)
            if block.shape[-1] == 0:
                break
            remaining -= block.shape[-1]
            yield np.ascontiguousarray(block, dtype=np.float32)


def read(
    path: str | os.PathLike,
    *,
    start: int = 0,
    frames: int | None = None,
    sample_rate: int | None = None,
) -> np.ndarray:
    """Read a whole file (or a section) as ``float32`` ``(channels, samples)``."""
    blocks = list(iter_blocks(path, start=start, frames=frames, sample_rate=sample_rate))
    if not blocks:
        channels = sf.info(str(path)).channels
        return np.zeros((channels, 0), dtype=np.float32)
    return np.concatenate(blocks, axis=1)


def atomic_path(dest: str | os.PathLike, *, inputs: tuple[Path, ...] = ()) -> "_AtomicWrite":
    """Context manager giving a temporary path that is renamed to ``dest`` on success.

    Refuses (``WorkbenchError`` code ``overwrite_input``) when ``dest`` is one of
    ``inputs``: the user's files are never modified.
    """
    return _AtomicWrite(Path(dest), inputs)


_UMASK = os.umask(0)
os.umask(_UMASK)


class _AtomicWrite:
    def __init__(self, dest: Path, inputs: tuple[Path, ...]) -> None:
        from .errors import WorkbenchError

        dest = Path(dest)
        for p in inputs:
            if dest.exists() and Path(p).exists() and os.path.samefile(dest, p):
                raise WorkbenchError(
                    "overwrite_input",
                    f"Refusing to write {dest}: it is one of your input files.",
                    "Choose an output folder that is not the stems folder.",
                )
        self.dest = dest
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.dest.name}.", suffix=".part" + self.dest.suffix, dir=self.dest.parent
        )
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is None:
            os.chmod(self.tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual mode
            os.replace(self.tmp, self.dest)
        else:
            self.tmp.unlink(missing_ok=True)


def write_wav(
    path: str | os.PathLike,
    audio: np.ndarray,
    sample_rate: int,
    *,
    subtype: str = "PCM_16",
    inputs: tuple[Path, ...] = (),
) -> Path:
    """Write ``(channels, samples)`` audio to a WAV file atomically.

    The caller is responsible for dither before a 16-bit write (see
    :mod:`workbench.mixing.render`); this function only converts and clips.
    """
    with atomic_path(path, inputs=inputs) as tmp:
        sf.write(str(tmp), np.clip(audio, -1.0, 1.0).T, sample_rate, subtype=subtype, format="WAV")
    return Path(path)
