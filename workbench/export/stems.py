"""Processed stems: each stem as it enters the mix bus, and the reverb return, as WAV files.

The renderer (:func:`workbench.mixing.render.render` with ``stems_dir``)
computes the audio; this module names and writes the files. It is used as a
context manager: the files are written beside their targets and moved into
place together when the block ends without an error (each atomically, never
over one of the user's files), and removed when it ends with one.

A mono file holds one channel: the renderer asks for it when a mono stem sits
at the centre, where both sides of the pan law are the same float32 factor
(cos π/4 == sin π/4 in float32), so nothing is lost; :func:`~workbench.mixing.render.master_stems`
puts such a file on both sides.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf

from ..audio_io import atomic_path
from ..errors import ParameterError
from .names import unique_file_names

#: Name of the processed reverb return among the processed stems (written last).
REVERB_RETURN_NAME = "Reverb return"


class ProcessedStemWriter:
    """Writers for the processed stems of one render: one WAV per stem, then the reverb return.

    Parameters
    ----------
    folder : path-like
        Where the files go (created when missing).
    names : sequence of str
        The stems' names, in the order :meth:`write` numbers them; the files are
        named after them (made unique and safe by :func:`~workbench.export.names.unique_file_names`).
    mono : sequence of bool
        Per stem: write one channel (the left side of the blocks given).
    sample_rate : int
    subtype : str
        libsndfile sample format (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``).
    inputs : sequence of path-like
        The user's files, never written over (``WorkbenchError`` ``overwrite_input``).
    """

    def __init__(self, folder: str | os.PathLike, names: Sequence[str], mono: Sequence[bool], *,
                 sample_rate: int, subtype: str, inputs: Sequence[str | os.PathLike] = ()) -> None:
        if len(names) != len(mono):
            raise ParameterError(f"{len(names)} stem names but {len(mono)} mono flags")
        self.folder = Path(folder)
        file_names = unique_file_names([*names, REVERB_RETURN_NAME], ".wav")
        #: The files, in stem order, the reverb return last.
        self.paths: tuple[Path, ...] = tuple(self.folder / n for n in file_names)
        self._mono = [bool(m) for m in mono] + [False]
        self._sample_rate = int(sample_rate)
        self._subtype = subtype
        self._inputs = tuple(Path(p) for p in inputs)
        self._stack = contextlib.ExitStack()
        self._files: list[sf.SoundFile] = []

    def __enter__(self) -> ProcessedStemWriter:
        self.folder.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            for path, one in zip(self.paths, self._mono):
                tmp = stack.enter_context(atomic_path(path, inputs=self._inputs))
                self._files.append(stack.enter_context(sf.SoundFile(
                    str(tmp), "w", self._sample_rate, 1 if one else 2, self._subtype, format="WAV")))
            self._stack = stack.pop_all()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.__exit__(exc_type, exc, tb)

    def write(self, i: int, block: np.ndarray) -> None:
        """Append a ``(2, n)`` block to stem ``i`` (its left side only when that file is mono)."""
        part = block[:1] if self._mono[i] else block
        self._files[i].write(np.ascontiguousarray(part.T))

    def write_return(self, block: np.ndarray) -> None:
        """Append a ``(2, n)`` block to the reverb return."""
        self._files[-1].write(np.ascontiguousarray(block.T))
