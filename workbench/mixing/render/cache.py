"""The stem cache: processed stems of recent preview renders, kept for the next render.

A change of one importance re-plans every stem but changes the chains of only
one to three of them (measured on the sample and benchmark sessions); the
others are taken from the cache, and so are the shared chains of the A/B
versions (no reverb and no panning reuse the automix chains — see
:mod:`workbench.mixing.variants`). Entries are keyed by the file (path, size,
modification time), the rate, the section and every parameter of the chain
(:attr:`~.chain.StemChain.core_key`), so a cached stem is exactly what the
chain would compute again; the output is byte-identical with or without it.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np

from ...session import Stem


class StemCache:
    """Processed stems of recent section renders, kept in memory for the next render.

    See the module doc. Least recently used
    entries are dropped once the cache holds more than ``max_bytes``; a stem
    larger than that on its own is not kept. Full-length renders never use it
    (their memory must not grow with the song). Safe to share between threads.

    Parameters
    ----------
    max_bytes : int
        Memory budget (default 512 MiB: 16 stereo stems of a 30 s preview with
        its pre-roll take about 190 MiB).
    """

    def __init__(self, max_bytes: int = 512 * 2 ** 20) -> None:
        self.max_bytes = int(max_bytes)
        self._entries: collections.OrderedDict[Hashable, np.ndarray] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(stem: Stem, sample_rate: int, start: int, frames: int, core_key: tuple) -> tuple:
        """The entry of one stem's processed section (file identity, rate, section, chain)."""
        st = os.stat(stem.path)
        return (str(Path(stem.path).resolve()), st.st_size, st.st_mtime_ns, int(sample_rate),
                int(start), int(frames), core_key)

    def get(self, key: Hashable) -> np.ndarray | None:
        """The cached audio for ``key`` (read-only), or ``None``."""
        with self._lock:
            audio = self._entries.get(key)
            if audio is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return audio

    def lookup(self, keys: Sequence[Hashable],
               nbytes: Sequence[int]) -> tuple[list[np.ndarray | None], list[bool]]:
        """The entries of one render's stems, and which of the missing ones to collect for :meth:`put`.

        Parameters
        ----------
        keys : sequence
            One key per stem (:meth:`key`).
        nbytes : sequence of int
            The size each stem's audio will have.

        Returns
        -------
        cached : list of np.ndarray or None
            Per stem, its cached audio (read-only) or ``None``.
        collect : list of bool
            Per stem, whether to collect its audio: missing stems, in order, while
            they fit in the budget beside this render's hits (a render holds what
            it collects until it ends, so collecting more would only be thrown away).
        """
        cached = [self.get(key) for key in keys]
        budget = self.max_bytes - sum(a.nbytes for a in cached if a is not None)
        collect = []
        for audio, size in zip(cached, nbytes):
            fits = audio is None and size <= budget
            collect.append(fits)
            if fits:
                budget -= size
        return cached, collect

    def put(self, key: Hashable, audio: np.ndarray) -> None:
        """Keep ``audio`` under ``key``, dropping the least recently used beyond the budget."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if audio.nbytes > self.max_bytes:
            return
        audio.flags.writeable = False          # shared by later renders: never modified
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._entries[key] = audio
            self._bytes += audio.nbytes
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of audio held."""
        return self._bytes

