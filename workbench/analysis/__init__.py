"""Analysis: what every stem measures, and how the stems mask each other.

:func:`analyse` turns a :class:`~workbench.session.Session` into an
:class:`Analysis` — numbers only, no audio:

1. for every mixable stem: hash the file's bytes (two threads), and either
   load the stem's cached measurements or measure it in one streamed pass
   (:func:`~workbench.analysis.features.analyse_stem`: loudness, peaks, levels,
   activity, stereo image, band power over time) and cache them — the stems to
   measure side by side, in forked worker processes for a long session and in
   threads otherwise (:mod:`workbench.workers`);
2. pad every stem's per-frame arrays to the session's frame count;
3. the stem × stem masking at the levels the stems arrived at
   (:func:`~workbench.analysis.masking.compute_masking`, all gains 0 dB) is
   computed when :attr:`Analysis.masking` is first read — it costs about 1 s
   for 16 three-minute stems, which a cache hit would otherwise spend on
   every call, and the planner computes its own masking after EQ anyway.

Nothing here reads the user's category or importance settings, so changing
them re-plans without re-analysing. :meth:`Analysis.masking_at` recomputes the
masking at other per-stem gains from the cached band powers.

Cache
-----
One entry per stem, keyed on the *content* of its file (a BLAKE2b digest of
its bytes), the analysis version (:data:`ANALYSIS_VERSION` and a digest of the
analysis source code, so an edit to the measuring code can never serve stale
numbers), the session sample rate and the band layout. Renaming or moving a
file keeps its entry; changing one stem re-analyses only that stem. Entries are
a ``.json`` (scalar features) and a ``.npz`` (per-frame arrays) written
atomically (temporary file, then rename; the ``.json`` last, so its presence
means the entry is complete).

Hashing a long session's files costs about 1 s per GB. To make an unchanged
session near-instant, the digest of each file is remembered together with the
file's ``stat`` identity — device, inode, size, modification *and change*
time in ns. The change time (``ctime``) is set by the kernel on every write and
on every ``os.utime``, and cannot be set back by user tools, so a file whose
contents changed — even with its size and mtime restored — is hashed again.
As git does for its index ("racy clean" files), the digest is not remembered
for a file changed less than :data:`RACY_S` seconds before it was hashed.

The cache lives in ``$WORKBENCH_CACHE_DIR/analysis`` when that variable is
set, else ``$XDG_CACHE_HOME/mixing-workbench/analysis`` (``~/.cache/...``).
Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..audio_io import atomic_path
from .. import workers as _workers
from ..errors import ParameterError, WorkbenchError
from . import features as _features
from . import spectrum as _spectrum
from .bands import Bands, erb_bands
from .features import StemFeatures, analyse_stem
from .masking import MaskingResult, compute_masking

if TYPE_CHECKING:
    from ..session import Session, Stem

__all__ = ["ANALYSIS_VERSION", "Analysis", "StemFeatures", "analyse", "analyse_stem",
           "default_cache_dir", "file_digest"]

#: Bump when the meaning of a cached number changes without a source change
#: (the source digest covers code edits).
ANALYSIS_VERSION = 2
#: Default workers measuring stems side by side, in forked processes or threads
#: (:mod:`workbench.workers`): pyebur128's ``add_frames`` (about a third of a
#: stem's CPU time) holds Python's GIL, so threads overlap only the rest. See
#: ``benchmarks/results/analysis.md`` for the measured speed-ups.
DEFAULT_WORKERS = _workers.DEFAULT_WORKERS
#: A file changed this recently (s) when hashed is hashed again next time
#: (timestamp granularity; git's racy-clean rule).
RACY_S = 2.0
_CHUNK = 1 << 20
_SOURCES = ("loudness.py", "features.py", "spectrum.py", "bands.py", "__init__.py")


@dataclass(eq=False)
class Analysis:
    """The measurements of a session's mixable stems, in session order.

    Attributes
    ----------
    sample_rate : int
        The session rate every stem was analysed at (Hz).
    frame_hop_s : float
        Seconds between analysis frames (:func:`~workbench.analysis.spectrum.frame_length`).
    bands : Bands
        The band layout of ``band_power`` and ``long_term_band_db``.
    names : list of str
        Display names of the stems.
    files : list of str
        Their file names.
    stems : list of StemFeatures
    band_power : np.ndarray, shape ``(n_stems, n_bands, n_frames)``, float32
        Linear mean-square band power of each stem's mono fold.
    activity : np.ndarray, shape ``(n_stems, n_frames)``, bool
        Where each stem plays.
    masking : MaskingResult
        Masking at the levels the stems arrived at (all gains 0 dB); computed
        on first access, then kept.
    """

    sample_rate: int
    frame_hop_s: float
    bands: Bands
    names: list[str]
    files: list[str]
    stems: list[StemFeatures]
    band_power: np.ndarray
    activity: np.ndarray
    _masking: MaskingResult | None = field(default=None, repr=False)

    @property
    def masking(self) -> MaskingResult:
        """Masking at the levels the stems arrived at (all gains 0 dB)."""
        if self._masking is None:
            self._masking = compute_masking(self.band_power, self.activity, self.bands,
                                                     names=list(self.names))
        return self._masking

    @property
    def n_frames(self) -> int:
        """Analysis frames per stem (the session's length)."""
        return int(self.band_power.shape[2])

    @property
    def n_stems(self) -> int:
        return len(self.stems)

    def index(self, key: str) -> int:
        """Position of a stem, found by display name or file name (case-insensitive)."""
        k = key.casefold()
        for i, (name, file) in enumerate(zip(self.names, self.files)):
            if k in (name.casefold(), file.casefold(), Path(file).stem.casefold()):
                return i
        raise WorkbenchError("unknown_stem", f"No analysed stem called {key!r}.",
                             "Use one of: " + ", ".join(self.names))

    def stem(self, name: str) -> StemFeatures:
        """The features of one stem, by display name or file name."""
        return self.stems[self.index(name)]

    def gains_vector(self, gains_db: Mapping[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
        """Per-stem gains (dB) as an array in session order; a mapping's missing stems get 0 dB."""
        if isinstance(gains_db, Mapping):
            g = np.zeros(self.n_stems)
            for key, value in gains_db.items():
                g[self.index(key)] = float(value)
            return g
        g = np.asarray(gains_db, dtype=np.float64)
        if g.shape != (self.n_stems,):
            raise ParameterError(f"gains_db must have one value per stem ({self.n_stems}), got shape {g.shape}")
        return g

    def masking_at(self, gains_db: Mapping[str, float] | Sequence[float] | np.ndarray) -> MaskingResult:
        """The masking if each stem were moved by a fader gain (dB).

        Activity stays as measured (a fader does not make a stem stop playing).

        Parameters
        ----------
        gains_db : mapping or sequence
            ``{stem name: gain_db}`` (others 0 dB) or one gain per stem in order.
        """
        return compute_masking(self.band_power, self.activity, self.bands,
                               gains_db=self.gains_vector(gains_db), names=list(self.names))

    def to_dict(self) -> dict:
        """JSON-safe summary: per-stem features (no per-frame arrays) and masking summaries.

        Non-finite levels (silence: ``-inf``) are written as ``null``.
        """
        return {
            "analysis_version": ANALYSIS_VERSION,
            "sample_rate": self.sample_rate,
            "frame_hop_s": self.frame_hop_s,
            "n_frames": self.n_frames,
            "bands": {"edges_hz": list(self.bands.edges_hz), "centres_hz": list(self.bands.centres_hz)},
            "stems": [s.to_dict() for s in self.stems],
            "masking": self.masking.to_dict(),
        }


def analyse(
    session: "Session",
    *,
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cache: bool = True,
) -> Analysis:
    """Analyse the mixable stems of a session (cached per stem by file content).

    Parameters
    ----------
    session : Session
        The loaded session; its ``mixable_stems`` are analysed at its
        ``sample_rate`` and padded to its length. Categories and importances
        are not read.
    cache_dir : path-like or None
        Cache folder (default :func:`default_cache_dir`).
    workers : int or None
        Stems measured side by side (default :data:`DEFAULT_WORKERS`), in
        forked processes or threads (see :mod:`workbench.workers`); 1
        measures in the calling thread.
    progress : callable or None
        ``progress(done, total, name)`` after each stem, from the calling thread.
    cache : bool
        ``False`` neither reads nor writes the cache.

    Returns
    -------
    Analysis

    Raises
    ------
    WorkbenchError
        ``no_mixable_stems`` when the session has none; ``analysis_failed``
        naming the stem when one cannot be read to the end.
    """
    stems = list(session.mixable_stems)
    if not stems:
        raise WorkbenchError("no_mixable_stems", "The session has no stem that can be analysed.",
                             "Fix the errors the checks report, then analyse again.")
    sample_rate = int(session.sample_rate)
    bands = erb_bands()
    n_frames = _spectrum.frame_count(session.frames, sample_rate)
    store = _Cache(Path(cache_dir) if cache_dir is not None else default_cache_dir()) if cache else None
    workers = _workers.DEFAULT_WORKERS if workers is None else max(1, int(workers))

    # Measure (or load) every stem; each one's per-frame arrays go straight
    # into the session arrays, padded with silence to the session's length.
    feats: list = [None] * len(stems)
    band_power = np.zeros((len(stems), bands.n_bands, n_frames), dtype=np.float32)
    activity = np.zeros((len(stems), n_frames), dtype=bool)
    done = 0

    def collect(i: int, result: tuple[StemFeatures, np.ndarray, np.ndarray]) -> None:
        nonlocal done
        f, p, a = _features.fit_frames(*result, n_frames)
        feats[i] = f
        band_power[i] = p
        activity[i] = a
        done += 1
        if progress is not None:
            progress(done, len(stems), stems[i].name)

    # Cache hits first (cheap), then the stems to measure.
    keys: dict[int, str] = {}
    if store is not None:
        # Hashing releases the GIL: two files at a time.
        with ThreadPoolExecutor(max_workers=min(2, len(stems))) as pool:
            keys = dict(enumerate(pool.map(lambda st: store.key(st.path, sample_rate, bands), stems)))
    todo = []
    for i, stem in enumerate(stems):
        if store is not None:
            hit = store.load(keys[i], stem)
            if hit is not None:
                collect(i, hit)
                continue
        todo.append(i)

    jobs = [(stems[i].path, sample_rate, stems[i].name, bands) for i in todo]
    seconds = sum(stems[i].duration_s or 0.0 for i in todo)
    with _features.blas_single_thread():
        for k, fut in _workers.run_each(_measure, jobs, workers=workers, seconds=seconds):
            i = todo[k]
            try:
                result = fut.result()
            except WorkbenchError:
                raise
            except Exception as exc:  # a stem that passed the checks but fails mid-read
                raise WorkbenchError(
                    "analysis_failed", f"Could not analyse {stems[i].file}: {exc}",
                    "Check that the file plays to its end; re-export it from your DAW.") from exc
            if store is not None:
                store.save(keys[i], *result)
            collect(i, result)

    return Analysis(
        sample_rate=sample_rate,
        frame_hop_s=_spectrum.frame_length(sample_rate) / sample_rate,
        bands=bands, names=[s.name for s in stems], files=[s.file for s in stems], stems=feats,
        band_power=band_power, activity=activity,
    )


def _measure(path: Path, sample_rate: int, name: str, bands: Bands) -> tuple[StemFeatures, np.ndarray, np.ndarray]:
    """Measure one stem (the unit of work of :func:`analyse`'s workers).

    Forked workers inherit the caller's one-thread BLAS limit (set around the
    whole job: a limit set per stem would be undone by a neighbouring
    thread's exit).
    """
    return _features.measure_stem(path, sample_rate=sample_rate, name=name, bands=bands)


def default_cache_dir() -> Path:
    """``$WORKBENCH_CACHE_DIR/analysis``, else ``$XDG_CACHE_HOME`` or ``~/.cache``, ``/mixing-workbench/analysis``."""
    root = os.environ.get("WORKBENCH_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "analysis"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "mixing-workbench" / "analysis"


def file_digest(path: str | os.PathLike) -> str:
    """BLAKE2b-160 hex digest of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """Digest of the analysis source files: any edit invalidates cached numbers."""
    h = hashlib.blake2b(digest_size=10)
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        p = here / name
        h.update(name.encode())
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()


class _Cache:
    """Per-stem cache entries and the stat → digest memo, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # -- keys -----------------------------------------------------------------
    def key(self, path: Path, sample_rate: int, bands: Bands) -> str:
        ident = {
            "content": self.digest(path),
            "version": ANALYSIS_VERSION,
            "code": _code_digest(),
            "sample_rate": int(sample_rate),
            "bands": [round(e, 6) for e in bands.edges_hz],
        }
        return hashlib.blake2b(json.dumps(ident, sort_keys=True).encode(), digest_size=20).hexdigest()

    def digest(self, path: Path) -> str:
        """The file's content digest, from the memo when its stat identity is unchanged."""
        st = os.stat(path)
        ident = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        memo = self.folder / "files" / (hashlib.blake2b(
            str(Path(path).resolve()).encode(), digest_size=16).hexdigest() + ".json")
        try:
            saved = json.loads(memo.read_text())
            if saved.get("stat") == ident:
                return str(saved["digest"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        digest = file_digest(path)
        changed_ns = max(st.st_mtime_ns, st.st_ctime_ns)
        if time.time_ns() - changed_ns > RACY_S * 1e9:
            self._write(memo, json.dumps({"stat": ident, "digest": digest}).encode())
        return digest

    # -- entries --------------------------------------------------------------
    def load(self, key: str, stem: "Stem"):
        """The cached ``(features, band_power, activity)`` or ``None`` on a miss."""
        meta_path = self.folder / f"{key}.json"
        try:
            meta = json.loads(meta_path.read_text())
            with np.load(self.folder / f"{key}.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            values = {k: _from_json(v) for k, v in meta["features"].items()}
            values.update(file=stem.file, name=stem.name,
                          short_term_lufs=arrays["short_term_lufs"],
                          long_term_band_db=arrays["long_term_band_db"])
            feats = StemFeatures(**{f.name: values[f.name] for f in fields(StemFeatures)})
            return feats, arrays["band_power"], arrays["activity"].astype(bool)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, key: str, feats: StemFeatures, band_power: np.ndarray, activity: np.ndarray) -> None:
        """Write an entry atomically (arrays first, the ``.json`` that completes it last)."""
        import io

        buf = io.BytesIO()
        np.savez(buf, band_power=band_power, activity=activity,
                 short_term_lufs=feats.short_term_lufs, long_term_band_db=feats.long_term_band_db)
        scalars = {f.name: _to_json(getattr(feats, f.name)) for f in fields(StemFeatures)
                   if f.name not in ("short_term_lufs", "long_term_band_db", "file", "name")}
        if self._write(self.folder / f"{key}.npz", buf.getvalue()):
            self._write(self.folder / f"{key}.json",
                        json.dumps({"analysis_version": ANALYSIS_VERSION, "features": scalars}).encode())

    @staticmethod
    def _write(dest: Path, data: bytes) -> bool:
        """Write atomically; ``False`` (and no exception) when the cache is unwritable:
        a read-only or full disk must not stop the analysis."""
        try:
            with atomic_path(dest) as tmp:
                tmp.write_bytes(data)
        except OSError:
            return False
        return True


def _to_json(v):
    """Cache encoding: non-finite floats as strings, so the JSON stays standard."""
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)  # 'inf', '-inf', 'nan'
    if isinstance(v, np.generic):
        return v.item()
    return v


def _from_json(v):
    if v in ("inf", "-inf", "nan"):
        return float(v)
    return v
