"""Batch mixing: many sessions, one task each, on Dask distributed (DESIGN §9).

:func:`run_batch` sends one :func:`mix_one` task per session folder to a Dask
cluster — a local one sized by ``workers`` by default, or an existing scheduler
(``dask scheduler`` + ``dask worker`` on any number of machines) — and collects
one summary per session. The same code runs in both cases.

The task
--------
:func:`mix_one` is a pure path-in/path-out function: its arguments are plain
strings and a dict (pedalboard objects cannot be pickled, so every plugin is
built inside the worker). For one session folder it

1. reads the optional per-session choices file ``workbench.json``
   (:data:`SESSION_FILE`)::

       {"categories": {"Kick": "kick"},
        "importance": {"Lead Vocal": "high"},
        "settings":   {"target_lufs": -16.0}}

   whose ``settings`` override the batch's settings field by field;
2. fingerprints its inputs — every stem file's name, size and BLAKE2b content
   digest (:func:`workbench.analysis.file_digest`), the session's choices, the
   full effective :class:`~workbench.mixing.settings.MixSettings` and the
   workbench version;
3. skips the session (status ``skipped``) when ``OUT/<name>/done.json`` holds
   that fingerprint and the outputs it lists are present with their sizes;
4. otherwise checks and mixes it with :func:`~workbench.pipeline.mix_session`
   into a hidden staging folder ``OUT/.<name>.XXXXXXXX.part``, writes the
   manifest ``done.json`` there last, and renames the folder into place as
   ``OUT/<name>`` (``mix.wav``, ``plan.json``, ``report.md``, ``done.json``).

Every problem — error findings (``cannot_mix``), an unreadable stem, a bad
choices file, a bug — comes back as status ``failed`` with a one-line reason;
the batch goes on.

Idempotent and resumable
------------------------
A session's output folder appears whole or not at all: it is renamed into
place only once the mix, the plan, the report and the manifest are complete.
A worker killed mid-session (crash, out of memory, ``SIGKILL``) leaves only its
hidden staging folder; the scheduler re-runs the task on another worker
(``allowed-failures``, 3 by default, counts worker deaths; ``retries=2`` covers
exceptions escaping the task) and :func:`run_batch` removes stale staging
folders of its sessions before and after the run. Re-running a batch mixes
only what is missing or changed: new or edited stems, other choices or
settings, another workbench version, or outputs deleted since. When a re-mix
fails, the previous output folder is left as it was (its manifest still names
the inputs it was made from).

One batch at a time should write to an output folder; two batches of
*different* sessions may share one.

Outputs of the batch
--------------------
``OUT/summary.csv`` and ``OUT/summary.json`` list every session of the run
with its status, reason, integrated loudness, true peak and time, in the
order of the session list. Both are written atomically.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
import traceback
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .audio_io import atomic_path
from .errors import WorkbenchError
from .mixing.settings import MixSettings

#: The per-session choices file, read from the session folder when present.
SESSION_FILE = "workbench.json"
#: Keys allowed in :data:`SESSION_FILE`.
SESSION_FILE_KEYS = ("categories", "importance", "settings")
#: The manifest written last into each session's output folder.
MANIFEST = "done.json"
MANIFEST_FORMAT = "mixing-workbench batch manifest"
MANIFEST_VERSION = 1
#: What a session's output folder may hold; anything else there is the user's, and kept.
OUTPUT_FILES = {"mix": "mix.wav", "plan": "plan.json", "report": "report.md", "manifest": MANIFEST}
#: File endings that make a folder a session for :func:`expand_sessions`.
WAV_SUFFIXES = (".wav", ".wave")
#: Seconds to wait for a scheduler to answer, and for it to have at least one worker.
CONNECT_TIMEOUT_S = 20.0
WORKER_WAIT_S = 60.0
#: Task retries on an exception escaping :func:`mix_one` (worker deaths are counted
#: separately by the scheduler's ``distributed.scheduler.allowed-failures``).
TASK_RETRIES = 2

STATUSES = ("mixed", "skipped", "failed")
SUMMARY_FIELDS = ("session", "status", "lufs", "true_peak_dbtp", "seconds", "warnings", "reason", "path")

Progress = Callable[[int, int, dict], None]

# Hidden leftovers of interrupted runs: staging folders (``.NAME.XXXXXXXX.part``),
# replaced folders being deleted (``.NAME.XXXXXXXX.old``).
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.(part|old)$")


# -- the task ------------------------------------------------------------------------------

def mix_one(session_dir: str, out_dir: str, settings: dict | None = None, *,
            run_id: str | None = None) -> dict:
    """Mix one session folder into ``out_dir/<name>/``, or skip it when already done.

    A pure path-in/path-out task for a Dask worker: plain ``str``/``dict``
    arguments, a plain ``dict`` result, and it never raises.

    Parameters
    ----------
    session_dir : str
        The folder of stems, optionally with a ``workbench.json`` of choices.
    out_dir : str
        The batch's output folder; this session's outputs go to
        ``out_dir/<session_name(session_dir)>/``.
    settings : dict, optional
        :class:`~workbench.mixing.settings.MixSettings` fields for every session;
        the session's own ``workbench.json`` ``settings`` override them.
    run_id : str, optional
        Identifies the batch run. A task re-run within the same run (the scheduler
        recomputing a result lost with a worker) finds its own manifest and reports
        ``mixed`` rather than ``skipped``.

    Returns
    -------
    dict
        ``session`` (output folder name), ``path`` (the session folder), ``status``
        (``"mixed"``, ``"skipped"`` or ``"failed"``), ``reason`` (one line), ``code``
        (the error code when failed), ``lufs``, ``true_peak_dbtp`` (of the mix;
        ``None`` when failed), ``seconds`` (this task's wall time), ``warnings``
        (check warnings) and ``outputs`` (``{"mix": path, ...}``; empty when failed).
    """
    started = time.perf_counter()
    _tune_malloc()
    session_path = Path(os.path.abspath(session_dir))
    out_root = Path(os.path.abspath(out_dir))
    name = session_name(session_path)
    final = out_root / name
    summary: dict[str, Any] = {"session": name, "path": str(session_path), "status": "failed", "reason": "", "code": "",
               "lufs": None, "true_peak_dbtp": None, "seconds": 0.0, "warnings": 0, "outputs": {}}
    try:
        summary.update(_mix_or_skip(session_path, out_root, final, settings or {}, run_id))
    except WorkbenchError as exc:
        summary.update(code=exc.code, reason=_one_line(f"{exc.message} {exc.fix}".strip()))
    except Exception as exc:  # a bug of ours, or the file system: the batch goes on
        summary.update(code="internal_error",
                       reason=_one_line(f"internal error ({type(exc).__name__}: {exc})"),
                       detail=traceback.format_exc())
    if summary["status"] == "failed" and read_manifest(final) is not None:
        summary["reason"] += f" (the previous mix in {final} is left as it was)"
    summary["seconds"] = time.perf_counter() - started
    return summary


def _mix_or_skip(session_path: Path, out_root: Path, final: Path, batch_settings: Mapping,
                 run_id: str | None) -> dict:
    from . import __version__
    from .pipeline import mix_session

    if not session_path.is_dir():
        raise WorkbenchError("no_folder", f"The session folder {session_path} does not exist.",
                             "Give folders that hold the WAV stems of one song each.")
    _check_output_place(session_path, final)

    # What this mix depends on: the stems' bytes, the choices, the settings, the version.
    choices = read_session_file(session_path)
    settings = make_settings({**batch_settings, **choices["settings"]})
    identity = {"workbench_version": __version__, "inputs": _input_files(session_path),
                "categories": choices["categories"], "importance": choices["importance"],
                "settings": settings.to_dict()}
    fingerprint = _fingerprint(identity)

    # Done already? Then say so, with the numbers of that mix.
    previous = read_manifest(final)
    if previous is not None and previous.get("fingerprint") == fingerprint and _outputs_intact(final, previous):
        same_run = run_id is not None and previous.get("run_id") == run_id
        return _from_manifest(previous, final, "mixed" if same_run else "skipped",
                              "" if same_run else f"unchanged since the mix of {previous.get('mixed_at', '?')}")
    why = _why_mix(final, previous, identity)

    # Mix into a hidden staging folder; the manifest last; then rename it into place.
    out_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=out_root))
    try:
        started = time.perf_counter()
        result = mix_session(session_path, staging, settings=settings, importance=choices["importance"],
                             category=choices["categories"])
        warnings = sum(1 for f in result.session.findings if f.severity == "warning")
        manifest = {
            "format": MANIFEST_FORMAT, "manifest_version": MANIFEST_VERSION, "fingerprint": fingerprint,
            "session": final.name, "source": str(session_path), **identity,
            "outputs": _outputs_of(staging),
            "result": {"lufs": result.render.integrated_lufs, "true_peak_dbtp": result.render.true_peak_dbtp,
                       "duration_s": result.render.frames / result.plan.sample_rate,
                       "mix_seconds": time.perf_counter() - started, "warnings": warnings},
            "run_id": run_id, "mixed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "host": socket.gethostname(), "pid": os.getpid(),
        }
        write_json(staging / MANIFEST, manifest)
        _apply_umask(staging)
        _commit(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return _from_manifest(manifest, final, "mixed", why)


def _check_output_place(session_path: Path, final: Path) -> None:
    """Never write where the stems are: the output folder may not be or contain the session."""
    s, f = Path(os.path.realpath(session_path)), Path(os.path.realpath(final))
    if s == f or f in s.parents:
        raise WorkbenchError("overwrite_input",
                             f"The output folder {final} would replace the session folder {session_path}.",
                             "Choose an output folder (-o) outside the folders that hold the sessions.")
    if final.exists() and not _is_ours(final):
        raise WorkbenchError("out_exists",
                             f"{final} already exists and holds files the workbench did not write.",
                             "Move those files away, or choose another output folder (-o).")


def _is_ours(folder: Path) -> bool:
    """True when a folder holds only what a batch writes there (so it may be replaced)."""
    if not folder.is_dir() or folder.is_symlink():
        return False
    manifest = read_manifest(folder) or {}
    listed = {o.get("file") for o in manifest.get("outputs", {}).values() if isinstance(o, dict)}
    files = set(OUTPUT_FILES.values())
    return all((p.is_file() and p.name in files) or p.name in listed for p in folder.iterdir())


def _outputs_of(staging: Path) -> dict:
    """What a mix wrote: the known outputs by key, anything else (exports) by name; sizes of files."""
    found = {p.name: (p.stat().st_size if p.is_file() else None) for p in staging.iterdir() if p.name != MANIFEST}
    keys = {file: key for key, file in OUTPUT_FILES.items()}
    return {keys.get(name, name): {"file": name, "bytes": size} for name, size in sorted(found.items())}


def _commit(staging: Path, final: Path) -> None:
    """Rename the finished staging folder to ``final``, replacing an earlier output folder."""
    for _ in range(5):
        aside = None
        if final.exists():
            if not _is_ours(final):
                raise WorkbenchError("out_exists",
                                     f"{final} already exists and holds files the workbench did not write.",
                                     "Move those files away, or choose another output folder (-o).")
            aside = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.old"
            try:
                os.rename(final, aside)
            except FileNotFoundError:  # another attempt moved it first
                aside = None
        try:
            os.rename(staging, final)
        except OSError:
            if final.exists():  # another attempt of the same session committed meanwhile: try again
                continue
            raise
        finally:
            if aside is not None:
                shutil.rmtree(aside, ignore_errors=True)
        return
    raise WorkbenchError("out_busy",
                         f"Could not put the mix in place at {final}: something else keeps writing there.",
                         "Run one batch at a time into an output folder.")


def _outputs_intact(final: Path, manifest: dict) -> bool:
    try:
        outputs = manifest["outputs"]
        if not all(key in outputs for key in ("mix", "plan", "report")):
            return False
        return all((final / o["file"]).exists() if o["bytes"] is None
                   else (final / o["file"]).stat().st_size == o["bytes"] for o in outputs.values())
    except (OSError, KeyError, TypeError, AttributeError):
        return False


def _why_mix(final: Path, previous: dict | None, identity: dict) -> str:
    """Why a session is (re-)mixed, in words: the first thing that differs."""
    if previous is None:
        return "no earlier mix" if not final.exists() else f"no valid {MANIFEST} in {final}"
    if previous.get("workbench_version") != identity["workbench_version"]:
        return (f"workbench version changed "
                f"({previous.get('workbench_version')} → {identity['workbench_version']})")
    before = {i["file"]: i for i in previous.get("inputs", [])}
    now = {i["file"]: i for i in identity["inputs"]}
    changed = sorted(f for f in now if f in before and now[f] != before[f])
    added, removed = sorted(set(now) - set(before)), sorted(set(before) - set(now))
    parts = [f"{what}: {', '.join(files)}"
             for what, files in (("changed", changed), ("new", added), ("removed", removed)) if files]
    if parts:
        return "stems " + "; ".join(parts)
    for key in ("categories", "importance", "settings"):
        if previous.get(key) != identity[key]:
            return f"{key} changed"
    return "outputs missing or changed since the last mix"


def _from_manifest(manifest: dict, final: Path, status: str, reason: str) -> dict:
    result = manifest.get("result", {})
    return {"status": status, "reason": reason, "lufs": result.get("lufs"),
            "true_peak_dbtp": result.get("true_peak_dbtp"), "warnings": result.get("warnings", 0),
            "outputs": {**{key: str(final / o["file"]) for key, o in manifest["outputs"].items()},
                        "manifest": str(final / MANIFEST)}}


_malloc_tuned = False


def _tune_malloc() -> None:
    """Give glibc's allocator back its default behaviour in a Dask worker process.

    Dask's nanny starts every worker with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``). Setting any malloc threshold turns
    off glibc's *dynamic* mmap threshold (mallopt(3)), so every block buffer above
    128 KiB is mmap'ed and unmapped again on each use. Measured on the 2-core
    benchmark machine, a 6-stem × 20 s mix then took 2.3× the CPU time with 13×
    the page faults. Setting the thresholds to where glibc's dynamic mode ends up
    (mmap 32 MiB, trim 64 MiB) restores the speed of an ordinary process; it only
    keeps up to 64 MiB of freed memory per arena for reuse. Done once per process,
    only when that variable is set; a no-op without glibc.
    """
    global _malloc_tuned
    if _malloc_tuned or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    _malloc_tuned = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's <malloc.h>
        libc.mallopt(m_mmap_threshold, 32 * 2**20)
        libc.mallopt(m_trim_threshold, 64 * 2**20)
    except (OSError, AttributeError):
        pass


# -- inputs, choices, settings --------------------------------------------------------------

def session_name(session_dir: str | os.PathLike) -> str:
    """The output folder name of a session: its folder's name, made safe for any file system."""
    name = unicodedata.normalize("NFC", Path(os.path.abspath(session_dir)).name)
    name = re.sub(r"[^\w .+-]", "_", name).strip(" .")
    return name[:120] or "session"


def read_session_file(session_dir: str | os.PathLike) -> dict:
    """The session's choices from its ``workbench.json`` (empty choices when there is none).

    Returns ``{"categories": {stem: category}, "importance": {stem: level},
    "settings": {MixSettings field: value}}``.

    Raises
    ------
    WorkbenchError
        ``bad_session_file`` when the file is not JSON, not an object, has unknown
        keys or values of the wrong kind.
    """
    path = Path(session_dir) / SESSION_FILE
    choices: dict[str, dict] = {key: {} for key in SESSION_FILE_KEYS}
    if not path.is_file():
        return choices
    fix = ('Write it as {"categories": {"Kick": "kick"}, "importance": {"Lead Vocal": "high"}, '
           '"settings": {"target_lufs": -14}} (every key optional).')
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkbenchError("bad_session_file", f"{path} could not be read as JSON ({exc}).", fix) from None
    if not isinstance(data, dict):
        raise WorkbenchError("bad_session_file", f"{path} holds a {type(data).__name__}, not a JSON object.", fix)
    unknown = sorted(set(data) - set(SESSION_FILE_KEYS))
    if unknown:
        raise WorkbenchError("bad_session_file", f"{path} has unknown key(s): {', '.join(unknown)}.",
                             f"Use only {', '.join(SESSION_FILE_KEYS)}. " + fix)
    for key in SESSION_FILE_KEYS:
        value = data.get(key, {})
        if not isinstance(value, dict) or (key != "settings" and
                                           not all(isinstance(v, str) for v in value.values())):
            raise WorkbenchError("bad_session_file", f"{path}: {key!r} must be an object"
                                 + (" of stem name → text." if key != "settings" else " of settings."), fix)
        choices[key] = {str(k): value[k] for k in sorted(value)}
    return choices


def make_settings(values: Mapping) -> MixSettings:
    """Validated :class:`MixSettings` from a dict of its fields (``bad_setting`` otherwise)."""
    valid = tuple(MixSettings.__dataclass_fields__)
    unknown = sorted(set(values) - set(valid))
    if unknown:
        raise WorkbenchError("bad_setting", f"Unknown setting(s): {', '.join(map(str, unknown))}.",
                             f"Use only: {', '.join(valid)}.")
    try:
        return MixSettings(**values)
    except TypeError as exc:  # e.g. a string where a number belongs
        raise WorkbenchError("bad_setting", f"A setting has a value of the wrong kind ({exc}).",
                             "Give numbers for the numeric settings.") from None


def load_settings(path: str | os.PathLike) -> dict:
    """Read a batch settings file: a JSON object of :class:`MixSettings` fields, validated."""
    fix = 'Write it as a JSON object such as {"target_lufs": -14, "bit_depth": 24}.'
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkbenchError("no_settings_file", f"The settings file {path} does not exist.",
                             "Give the path of a JSON file such as {\"target_lufs\": -14}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkbenchError("bad_settings_file", f"{path} could not be read as JSON ({exc}).", fix) from None
    if not isinstance(data, dict):
        raise WorkbenchError("bad_settings_file", f"{path} holds a {type(data).__name__}, not a JSON object.", fix)
    make_settings(data)
    return data


def _input_files(session_path: Path) -> list[dict]:
    """Name, size and content digest of every audio file the session loader will look at."""
    from .analysis import file_digest
    from .session import list_audio_files

    return [{"file": p.name, "bytes": p.stat().st_size, "blake2b": file_digest(p)}
            for p in list_audio_files(session_path)]


def _fingerprint(identity: dict) -> str:
    text = json.dumps(identity, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """A session output folder's ``done.json``, or ``None`` when missing or not one of ours."""
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    return data


def write_json(path: Path, data) -> Path:
    """Write JSON atomically (temporary file, then rename)."""
    return _write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o666 & ~_umask())  # temporary files are private; the result need not be
    return path


def _apply_umask(folder: Path) -> None:
    """Give a staged folder and its files the modes the user's umask asks for.

    Temporary folders and files are created private (0700/0600); renamed into
    place they would stay so, unreadable to the other machines' users of a shared
    output folder.
    """
    mask = _umask()
    folder.chmod(0o777 & ~mask)
    for p in folder.iterdir():
        if p.is_file():
            p.chmod(0o666 & ~mask)


def _umask() -> int:
    try:  # read it without setting it (os.umask would change it for every thread meanwhile)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _one_line(text: str) -> str:
    lines = [line.strip().lstrip("✗").strip() for line in str(text).splitlines()]
    return "; ".join(line for line in lines if line).replace(":;", ":")


# -- which sessions --------------------------------------------------------------------------

def expand_sessions(patterns: Iterable[str]) -> list[str]:
    """Session folders named by folders, globs and list files; sorted absolute paths.

    Each pattern is

    - a folder holding at least one ``.wav`` — that session;
    - a folder holding none but with sub-folders that do — each of those
      (``workbench batch sessions`` means every session in ``sessions``);
    - a glob (``'sessions/*'``, ``'**/stems'``; ``**`` recurses) — every match that
      is a folder holding a ``.wav``;
    - ``@list.txt`` — one pattern per line (``#`` starts a comment), relative
      paths taken from the list file's folder.

    Raises
    ------
    WorkbenchError
        ``no_sessions`` naming the first pattern that gives no session folder.
    """
    found: dict[str, None] = {}
    for pattern, base in _patterns(patterns):
        matches = _expand_one(pattern, base)
        for m in matches:
            found[os.path.abspath(m)] = None
    if not found:
        raise WorkbenchError("no_sessions", "No session folders were given.",
                             "Name folders of WAV stems, a glob such as 'sessions/*', or @list.txt.")
    return sorted(found)


def _patterns(patterns: Iterable[str]) -> Iterator[tuple[str, str]]:
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    for pattern in patterns:
        pattern = str(pattern)
        if not pattern.startswith("@"):
            yield pattern, ""
            continue
        list_path = Path(os.path.expanduser(pattern[1:]))
        try:
            lines = list_path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise WorkbenchError("no_list_file", f"The session list {list_path} could not be read ({exc}).",
                                 "Give @FILE with one session folder or glob per line.") from None
        for line in lines:
            line = line.split("#", 1)[0].strip()
            if line:
                yield line, str(list_path.parent)


def _expand_one(pattern: str, base: str) -> list[str]:
    path = os.path.join(base, os.path.expanduser(pattern))
    fix = "Check the path; quote globs ('sessions/*') so that the shell does not expand them first."
    if glob.has_magic(path):
        matches = sorted(glob.glob(path, recursive=True))
        sessions = [m for m in matches if _holds_wav(m)]
        if not sessions:
            what = (f"matches {len(matches)} path(s), but none is a folder holding .wav files"
                    if matches else "matches nothing")
            raise WorkbenchError("no_sessions", f"The pattern {pattern!r} {what}.", fix)
        return sessions
    if not os.path.exists(path):
        raise WorkbenchError("no_sessions", f"{pattern!r} does not exist.", fix)
    if not os.path.isdir(path):
        raise WorkbenchError("no_sessions", f"{pattern!r} is a file, not a session folder.",
                             "Give the folder that holds the song's stems (or @FILE for a list of folders).")
    if _holds_wav(path):
        return [path]
    subs = sorted(e.path for e in os.scandir(path)
                  if e.is_dir() and not e.name.startswith(".") and _holds_wav(e.path))
    if not subs:
        raise WorkbenchError("no_sessions", f"The folder {pattern!r} holds no .wav files, nor do its sub-folders.",
                             "Give folders that hold WAV stems.")
    return subs


def _holds_wav(folder: str) -> bool:
    try:
        return os.path.isdir(folder) and any(
            e.is_file() and not e.name.startswith(".") and e.name.lower().endswith(WAV_SUFFIXES)
            for e in os.scandir(folder))
    except OSError:
        return False


# -- the batch ---------------------------------------------------------------------------------

def run_batch(sessions: list[str], out_dir: str, *, scheduler: str | None = None, workers: int | None = None,
              settings: dict | None = None, progress: Progress | None = None) -> list[dict]:
    """Mix many sessions on a Dask cluster; write ``summary.csv`` and ``summary.json``.

    Parameters
    ----------
    sessions : list of str
        Session folders (see :func:`expand_sessions`). Every worker must see them
        at the same paths (relative paths are made absolute here).
    out_dir : str
        Output folder, shared with the workers likewise; one sub-folder per session.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:8786``). ``None`` starts a
        local cluster of ``workers`` processes for this batch and stops it after.
    workers : int, optional
        Worker processes of the local cluster (default 2), one thread each.
    settings : dict, optional
        :class:`MixSettings` fields for every session (a session's ``workbench.json``
        overrides them).
    progress : callable ``(done, total, summary)``, optional
        Called as each session finishes, in the order they finish.

    Returns
    -------
    list of dict
        One :func:`mix_one` summary per session, in the order of ``sessions``.

    Raises
    ------
    WorkbenchError
        Before anything runs: ``no_sessions``, ``bad_setting``, ``duplicate_session_name``,
        ``session_in_output``, ``bad_argument``, ``no_scheduler``, ``no_workers`` or
        ``version_mismatch``. A session's own problems never raise: they are
        ``failed`` summaries.
    """
    sessions = list(dict.fromkeys(os.path.abspath(s) for s in sessions))
    if not sessions:
        raise WorkbenchError("no_sessions", "No session folders were given.",
                             "Name folders of WAV stems, or a glob such as 'sessions/*'.")
    if workers is not None and workers < 1:
        raise WorkbenchError("bad_argument", f"workers={workers} is not a number of worker processes.",
                             "Use 1 or more.")
    if scheduler is not None and workers is not None:
        raise WorkbenchError("bad_argument",
                             "--workers sizes the local cluster; it cannot be used with --scheduler.",
                             "Start as many `dask worker` processes as you want on the cluster instead.")
    settings = dict(settings or {})
    make_settings(settings)
    try:
        import distributed  # noqa: F401  (the `batch` extra)
    except ImportError:
        raise WorkbenchError("missing_extra", "Batch mixing needs Dask distributed, which is not installed.",
                             "Install the batch extra: pip install 'mixing-workbench[batch]'.") from None
    out_root = Path(os.path.abspath(out_dir))
    names = _check_batch(sessions, out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    _sweep(out_root, names)

    run_id = uuid.uuid4().hex
    results: dict[str, dict] = {}
    started = time.perf_counter()
    with _client(scheduler, workers) as client:
        from dask.distributed import as_completed

        futures = client.map(mix_one, sessions, out_dir=str(out_root), settings=settings, run_id=run_id,
                             key=[f"mix_one-{name}-{run_id}" for name in names], pure=False,
                             retries=TASK_RETRIES)
        session_of = {f.key: s for f, s in zip(futures, sessions)}
        for future in as_completed(futures):
            session = session_of[future.key]
            results[session] = _collect(future, session)
            future.release()
            if progress:
                progress(len(results), len(sessions), results[session])
    _sweep(out_root, names)

    ordered = [results[s] for s in sessions]
    write_summary(out_root, ordered, seconds=time.perf_counter() - started,
                  scheduler=scheduler or f"local cluster, {workers or _local_workers()} worker(s)")
    return ordered


def _check_batch(sessions: list[str], out_root: Path) -> list[str]:
    names: dict[str, str] = {}
    real_out = Path(os.path.realpath(out_root))
    for s in sessions:
        real = Path(os.path.realpath(s))
        if real == real_out or real_out in real.parents:
            raise WorkbenchError("session_in_output", f"The session {s} is inside the output folder {out_root}.",
                                 "Keep the sessions and the output folder (-o) apart.")
        name = session_name(s)
        other = names.get(name.casefold())
        if other is not None:
            raise WorkbenchError("duplicate_session_name",
                                 f"{other} and {s} would both be written to {out_root / name}.",
                                 "Rename one of the folders, or mix them in separate batches.")
        names[name.casefold()] = s
    return [session_name(s) for s in sessions]


def _sweep(out_root: Path, names: list[str]) -> None:
    """Remove staging and replaced folders that interrupted tasks of these sessions left behind."""
    wanted = set(names)
    for entry in out_root.iterdir():
        m = _LEFTOVER.match(entry.name)
        if m and m["name"] in wanted and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _collect(future, session: str) -> dict:
    """A finished future's summary, or a ``failed`` one when the task itself could not run."""
    if future.status != "error":
        return future.result()
    exc = future.exception()
    name = type(exc).__name__
    if name == "KilledWorker":
        reason = ("the workers running this session died repeatedly (out of memory or a crash); "
                  "it was given up after the scheduler's allowed failures")
    else:
        reason = f"the task could not run on the cluster ({name}: {exc})"
    return {"session": session_name(session), "path": session, "status": "failed", "reason": _one_line(reason),
            "code": "worker_lost" if name == "KilledWorker" else "task_error", "lufs": None,
            "true_peak_dbtp": None, "seconds": 0.0, "warnings": 0, "outputs": {}}


def _local_workers() -> int:
    """Worker processes of a local cluster: one per core this process may use."""
    from .workers import machine_workers

    return machine_workers()


@contextmanager
def _client(scheduler: str | None, workers: int | None):
    """A Dask client: on a local cluster started for this batch, or on ``scheduler``."""
    from dask.distributed import Client, LocalCluster

    if scheduler is None:
        # No dashboard; the scheduler's always-on HTTP endpoint (health, metrics) would
        # otherwise take port 8787: a random loopback port instead. Logs silenced: at
        # shutdown a worker's last heartbeat logs an ERROR that means nothing here, and
        # what failed is in the summaries.
        with LocalCluster(n_workers=workers or _local_workers(), threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.CRITICAL,
                          scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"}) as cluster, \
                Client(cluster) as client:
            _check_workers(client, "the local cluster")
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise WorkbenchError("no_scheduler", f"Could not reach a Dask scheduler at {scheduler} ({exc}).",
                             "Start one with `dask scheduler` and give the address it prints "
                             "(tcp://HOST:8786).") from None
    with client:
        _check_workers(client, scheduler)
        yield client


def _check_workers(client, scheduler: str) -> None:
    """At least one worker, each running the same workbench version as here (and warmed up)."""
    from . import __version__

    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError:
        raise WorkbenchError("no_workers", f"The scheduler at {scheduler} has no workers.",
                             f"Start workers with `dask worker {scheduler} --nthreads 1`.") from None
    try:
        versions = client.run(_worker_version)
    except Exception as exc:  # typically: workbench cannot be imported there
        raise WorkbenchError("version_mismatch",
                             f"A worker of {scheduler} cannot run the workbench ({type(exc).__name__}: {exc}).",
                             "Install the same Mixing Workbench on every worker machine.") from None
    other = {addr: v for addr, v in versions.items() if v != __version__}
    if other:
        listed = ", ".join(f"{addr} has {v}" for addr, v in sorted(other.items()))
        raise WorkbenchError("version_mismatch", f"This is workbench {__version__}, but {listed}.",
                             "Install the same Mixing Workbench on every worker machine.")


def _worker_version() -> str:
    """The workbench version of a worker; importing the mixing code on the way, so that a
    session's time is its own and not the first import's."""
    from . import __version__, pipeline  # noqa: F401
    from .mixing import render  # noqa: F401  (scipy.signal: about a second)

    return __version__


# -- the summary -------------------------------------------------------------------------------

def write_summary(out_dir: str | os.PathLike, results: list[dict], **about) -> tuple[Path, Path]:
    """Write ``summary.csv`` and ``summary.json`` into ``out_dir`` (atomically)."""
    from . import __version__

    out = Path(out_dir)
    counts = {s: sum(1 for r in results if r["status"] == s) for s in STATUSES}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerow({**r, **{k: _round(r.get(k)) for k in ("lufs", "true_peak_dbtp", "seconds")}})
    csv_path = _write_text(out / "summary.csv", buf.getvalue())
    json_path = write_json(out / "summary.json", {
        "workbench_version": __version__,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **about, "counts": counts, "sessions": results})
    return csv_path, json_path


def _round(x, digits: int = 2):
    return None if x is None else round(float(x), digits)


def summary_table(results: list[dict]) -> str:
    """A plain-text table of a batch: session, status, LUFS, true peak, time; then the failures."""
    rows = [("session", "status", "LUFS", "true peak", "time")]
    for r in results:
        rows.append((r["session"], r["status"],
                     "" if r.get("lufs") is None else f"{r['lufs']:.1f}",
                     "" if r.get("true_peak_dbtp") is None else f"{r['true_peak_dbtp']:.1f} dBTP",
                     f"{r.get('seconds') or 0.0:.1f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    align = ("<", "<", ">", ">", ">")
    lines = ["  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in STATUSES}
    lines += ["", ", ".join(f"{n} {s}" for s, n in counts.items()) + f" of {len(results)} session(s)."]
    failed = [r for r in results if r["status"] == "failed"]
    if failed:
        lines += ["", "Failed:"] + [f"  ✗ {r['session']}: {r['reason']}" for r in failed]
    return "\n".join(lines)
