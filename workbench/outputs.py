"""The outputs of one mix, written as one set.

``workbench mix -o OUT`` writes several files (``mix.wav``, ``plan.json``,
``report.md``, optionally ``stems/`` and DAW projects). A failure or a kill
between two of them must not leave a new mix beside an old report, so they are

1. written into a hidden staging folder inside ``OUT``
   (``OUT/.workbench-mix.XXXXXXXX.part``, on the same file system as the
   targets, so that a rename moves each one in place atomically);
2. committed: a journal (``.commit``, the list of entries) is written into the
   staging folder, then each entry is renamed into place (a folder it replaces
   is first renamed aside into the staging folder), then the staging folder is
   removed;
3. swept on the next run into the same ``OUT``: a staging folder of a process
   that no longer runs is deleted when it holds no journal (the run was
   interrupted before its commit: the previous set is intact) and rolled
   forward when it holds one (the run was killed during its commit: the moves
   left are finished, so the new set is complete).

:func:`check_output_place` refuses output folders that would mix outputs with
the stems, and :func:`environment_error` turns the file system's refusals (a
read-only folder, a full disk) into a :class:`~workbench.errors.WorkbenchError`
with a fix.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from .errors import WorkbenchError

#: Name pattern of staging folders (``.workbench-mix.XXXXXXXX.part``).
STAGING_PREFIX = ".workbench-mix."
STAGING_SUFFIX = ".part"
_STAGING = re.compile(r"^\.workbench-mix\.[A-Za-z0-9_]{8}\.part$")
#: Temporary files that versions without staging left beside their outputs when killed.
_OLD_LEFTOVER = re.compile(r"^\.(mix\.wav|preview\.wav|plan\.json|report\.md)\.[A-Za-z0-9_]{8}\.(part|bus)\.\w+$")
JOURNAL = ".commit"
OWNER = ".owner"
ASIDE = ".replaced"


@dataclass(frozen=True)
class Staging:
    """A staging folder and the folder its entries are committed to.

    Attributes
    ----------
    path : Path
        The hidden staging folder (write the outputs here).
    target : Path
        The output folder the entries are moved into.
    """

    path: Path
    target: Path

    def final(self, staged: Path) -> Path:
        """Where a path inside the staging folder ends up after the commit."""
        return self.target / Path(staged).relative_to(self.path)


def check_output_place(out_dir: str | os.PathLike, stems_folder: str | os.PathLike | None) -> Path:
    """Refuse an output folder that is a file, or that is (or is inside) the stems folder.

    Returns
    -------
    Path
        ``out_dir`` as a path.

    Raises
    ------
    WorkbenchError
        ``out_not_folder`` when ``out_dir`` exists and is not a folder;
        ``overwrite_input`` when it is the stems folder or inside it (the next
        ``workbench check`` would count ``mix.wav`` as a stem).
    """
    out = _path(out_dir, "output folder")
    if out.exists() and not out.is_dir():
        raise WorkbenchError("out_not_folder", f"The output path {out} exists and is not a folder.",
                             "Give -o a folder (it is created if missing), not a file.")
    if stems_folder is not None:
        s = Path(os.path.realpath(stems_folder))
        o = Path(os.path.realpath(out))
        if o == s or s in o.parents:
            raise WorkbenchError(
                "overwrite_input",
                f"The output folder {out} is {'the stems folder' if o == s else 'inside the stems folder'} {s}: "
                "the mix would be taken for a stem the next time the folder is read.",
                "Choose an output folder (-o) outside the folder that holds the stems.")
    return out


def _path(value, what: str) -> Path:
    if value is None or isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise WorkbenchError("bad_argument", f"The {what} must be a path (text), not {value!r}.",
                             f"Pass the {what} as a str or pathlib.Path.")
    text = os.fspath(value)
    if not text:
        raise WorkbenchError("bad_argument", f"The {what} is empty.", f"Give the {what} as a path.")
    return Path(text)


@contextlib.contextmanager
def staged(out_dir: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()) -> Iterator[Staging]:
    """Stage a set of outputs and move them into ``out_dir`` together when the block succeeds.

    Sweeps leftovers of interrupted runs into ``out_dir`` first. On an
    exception nothing in ``out_dir`` changes and the staging folder is removed.

    Parameters
    ----------
    out_dir : path-like
        The output folder (created if missing).
    inputs : paths
        The user's files: an entry that would replace one of them, or a folder
        holding one, is refused (``overwrite_input``).

    Raises
    ------
    WorkbenchError
        ``out_not_writable``, ``disk_full`` (see :func:`environment_error`),
        ``overwrite_input``.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        sweep(out)
        path = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=STAGING_SUFFIX, dir=out))
        (path / OWNER).write_text(f"{os.getpid()} {_boot_id()}\n", encoding="utf-8")
    except OSError as exc:
        raise environment_error(exc, out) from None
    stage = Staging(path, out)
    try:
        yield stage
        commit(stage, inputs=inputs)
    except (OSError, sf.LibsndfileError) as exc:
        raise environment_error(exc, out) from None
    finally:
        if path.exists() and not (path / JOURNAL).exists():
            shutil.rmtree(path, ignore_errors=True)


def commit(stage: Staging, *, inputs: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Move every entry of the staging folder into place (see the module doc); returns the final paths."""
    entries = sorted(p.name for p in stage.path.iterdir() if p.name not in (OWNER, JOURNAL, ASIDE))
    real_inputs = [Path(os.path.realpath(p)) for p in inputs]
    for name in entries:
        dest = Path(os.path.realpath(stage.target / name))
        if any(p == dest or dest in p.parents for p in real_inputs):
            raise WorkbenchError("overwrite_input",
                                 f"Refusing to write {stage.target / name}: it is (or holds) one of your input files.",
                                 "Choose an output folder (-o) that is not the stems folder or one that holds it.")
    journal = stage.path / JOURNAL
    tmp = journal.with_name(JOURNAL + ".tmp")
    tmp.write_text(json.dumps({"entries": entries}), encoding="utf-8")
    os.replace(tmp, journal)                 # from here on, a killed run is rolled forward
    return _roll_forward(stage.path, stage.target)


def _roll_forward(staging: Path, target: Path) -> list[Path]:
    """Finish a journalled commit: move the entries still staged into place, remove the staging folder."""
    try:
        entries = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        entries = []
    done = []
    for name in entries:
        src, dest = staging / name, target / name
        if src.exists() or src.is_symlink():
            if dest.is_dir() and not dest.is_symlink():
                aside = staging / ASIDE
                aside.mkdir(exist_ok=True)
                os.rename(dest, aside / name)
            os.replace(src, dest)
        done.append(dest)
    shutil.rmtree(staging, ignore_errors=True)
    return done


def sweep(out_dir: str | os.PathLike) -> list[Path]:
    """Clean up after interrupted runs into ``out_dir``; returns what was removed or rolled forward.

    Staging folders of processes still running are left alone (another mix
    into the same folder at the same time).
    """
    out = Path(out_dir)
    handled: list[Path] = []
    try:
        entries = list(out.iterdir())
    except OSError:
        return handled
    for entry in entries:
        if _STAGING.match(entry.name) and entry.is_dir() and not entry.is_symlink():
            if _owner_alive(entry):
                continue
            if (entry / JOURNAL).exists():
                _roll_forward(entry, out)
            else:
                shutil.rmtree(entry, ignore_errors=True)
            handled.append(entry)
        elif _OLD_LEFTOVER.match(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
            handled.append(entry)
    return handled


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"


def _owner_alive(staging: Path) -> bool:
    """Whether the process that made a staging folder still runs (on this machine, since this boot)."""
    try:
        pid_text, boot = (staging / OWNER).read_text(encoding="utf-8").split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return False             # no owner written: interrupted as it was made
    if boot != _boot_id() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # alive, another user's
        return True
    return True


#: errno values that mean "the disk is full" / "you may not write here".
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def environment_error(exc: BaseException, where: str | os.PathLike) -> WorkbenchError:
    """A :class:`WorkbenchError` with a fix for a file-system failure while writing into ``where``.

    ``OSError`` by its errno (a full disk, a read-only or forbidden folder,
    a path that is not a folder); libsndfile's bare "System error." (what
    soundfile raises when a write fails) is read as a full disk when the disk
    has less than 64 MiB free.
    """
    if isinstance(exc, WorkbenchError):
        return exc
    code = getattr(exc, "errno", None)
    name = getattr(exc, "filename", None) or where
    if code in _FULL or (code is None and _low_space(where)):
        return WorkbenchError("disk_full", f"The disk holding {where} is full (writing {name} failed).",
                              "Free some space there or choose another output folder (-o), then run again; "
                              "the previous outputs are left as they were.")
    if code in _DENIED:
        return WorkbenchError("out_not_writable", f"Cannot write into {where}: {os.strerror(code)}.",
                              "Choose an output folder (-o) you may write to, or change its permissions.")
    if code in (errno.ENOTDIR, errno.EEXIST):
        return WorkbenchError("out_not_folder", f"Cannot write into {where}: a part of the path is a file.",
                              "Give -o a folder path whose parts are folders, not files.")
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return WorkbenchError("write_failed", f"Writing the outputs into {where} failed: {text}.",
                          "Check the output folder and the disk, then run again; "
                          "the previous outputs are left as they were.")


def _low_space(where: str | os.PathLike) -> bool:
    p = Path(where)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free < 64 * 2 ** 20
    except OSError:
        return False
