"""Safe names and places for the files an export writes, whatever the stem names contain.

Stem names come from the user's file names or a hand-edited ``plan.json``, so
they may hold anything: path separators (``"Gtr/L"``), ``".."``, characters
Windows forbids (``: * ? " < > |``), names Windows reserves for devices
(``CON``, ``NUL``, ``COM1``…), control characters, trailing dots or spaces, or
two names that differ only in case. An export copies the stems under names
built from them (inside a ``.dawproject`` zip, next to a project, or into a
Live set's ``Samples/Imported`` folder), so every name is made safe on
Windows, macOS and Linux, and unique without regard to case (the default file
systems of Windows and macOS ignore case).

Letters and digits of every script are kept (``"Ünïcødé"`` stays readable),
normalised to NFC so that the same name typed on macOS and Windows gives the
same file. The rules follow Microsoft's "Naming files, paths, and namespaces"
(reserved names and characters, no trailing dot or space) and POSIX's portable
file names (no ``/``, no NUL).
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError, WorkbenchError

#: Device names Windows reserves with or without an extension (case-insensitive),
#: including the superscript-digit forms it also treats as devices.
WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in list("123456789") + ["¹", "²", "³"]]
)

#: Punctuation kept in file names; everything else that is not a letter, digit
#: or mark becomes ``_``.
_KEPT_PUNCTUATION = set(" -_.,()[]+&'!#@=~")

#: UTF-8 bytes allowed for the name part (before the suffix): well under the
#: 255-byte limit of ext4/APFS/NTFS, leaving room for " 123" and the suffix.
MAX_NAME_BYTES = 120

#: Used when nothing usable is left of a name.
FALLBACK_NAME = "stem"

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_name(name: str) -> str:
    """A file-name-safe version of ``name`` (no suffix, not yet unique).

    Parameters
    ----------
    name : str
        Any text: a stem name, a track name.

    Returns
    -------
    str
        Non-empty; no path separators, control or Windows-forbidden characters;
        no leading or trailing dots or spaces; not a reserved Windows device
        name; at most :data:`MAX_NAME_BYTES` bytes of UTF-8.

    Examples
    --------
    >>> safe_name("Gtr/L")
    'Gtr_L'
    >>> safe_name("..")
    'stem'
    >>> safe_name("con")
    'con_'
    >>> safe_name("nul.txt")
    'nul_.txt'
    """
    text = unicodedata.normalize("NFC", str(name))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LNM" or ch in _KEPT_PUNCTUATION:
            out.append(ch)
        elif cat[0] == "Z" or ch in "\t\n\r":
            out.append(" ")
        else:
            out.append("_")
    text = re.sub(r"\s+", " ", "".join(out))
    text = re.sub(r"_{2,}", "_", text)
    text = re.sub(r"\.{2,}", ".", text)  # no ".." anywhere, not even inside a name
    text = _truncate_utf8(text, MAX_NAME_BYTES)
    # Leading dots hide a file (and "." / ".." are directories); Windows drops
    # trailing dots and spaces, so "Vox.." and "Vox" would collide there.
    text = text.strip(" .")
    if not text.strip("_ "):
        return FALLBACK_NAME
    head = text.split(".")[0].rstrip(" ")
    if head.upper() in WINDOWS_RESERVED:
        # "NUL.txt" is reserved too: change the part before the first dot.
        text = head + "_" + text[len(head):]
    return text


def safe_suffix(suffix: str) -> str:
    """A lower-case file suffix made of ASCII letters and digits (``".WAV"`` → ``".wav"``)."""
    core = re.sub(r"[^a-z0-9]", "", str(suffix).lower())[:10]
    return f".{core}" if core else ""


def unique_file_names(names: Sequence[str], suffixes: Sequence[str] | str = "", *,
                      taken: Iterable[str] = ()) -> list[str]:
    """Safe, case-insensitively unique file names for ``names``, in order.

    Parameters
    ----------
    names : sequence of str
        The names to turn into files (e.g. stem names).
    suffixes : str or sequence of str
        One suffix for all (``".wav"``) or one per name (each made safe with
        :func:`safe_suffix`).
    taken : iterable of str
        File names already in use in the destination (compared case-insensitively).

    Returns
    -------
    list of str
        ``safe_name(name) + suffix``; a repeat gets `` 2``, `` 3``… before the suffix
        (``"Kick.wav"``, ``"kick 2.wav"``).
    """
    sfx = [suffixes] * len(names) if isinstance(suffixes, str) else list(suffixes)
    if len(sfx) != len(names):
        raise ParameterError(f"got {len(names)} names but {len(sfx)} suffixes")
    used = {unicodedata.normalize("NFC", t).casefold() for t in taken}
    result = []
    for name, suffix in zip(names, sfx):
        base, ext = safe_name(name), safe_suffix(suffix)
        candidate, n = base + ext, 1
        while candidate.casefold() in used:
            n += 1
            candidate = f"{base} {n}{ext}"
        used.add(candidate.casefold())
        result.append(candidate)
    return result


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold removed (control characters, lone surrogates)."""
    return _XML_INVALID.sub("", str(text))


def _truncate_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


# --------------------------------------------------------------------------- stems of a plan
@dataclass(frozen=True)
class ExportStem:
    """One stem as an export sees it: the plan's name and decisions, and the file on disk."""

    name: str
    plan: object            # StemPlan
    path: Path
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def plan_stems(plan, session) -> list[ExportStem]:
    """The plan's stems in plan order, each matched to its file in ``session`` by file name.

    Raises ``WorkbenchError`` (``unknown_stem``) when the plan names a file the
    session does not hold or cannot read.
    """
    by_file = {s.file: s for s in session.stems}
    out = []
    for name, sp in plan.stems.items():
        stem = by_file.get(sp.file)
        if stem is None or not stem.readable:
            raise WorkbenchError(
                "unknown_stem",
                f"The plan's stem {name!r} uses the file {sp.file!r}, which is "
                f"{'not in' if stem is None else 'unreadable in'} {session.folder}.",
                "Export with the session the plan was made from, or make the plan again.")
        out.append(ExportStem(name, sp, Path(stem.path), int(stem.sample_rate), int(stem.channels),
                              int(stem.frames)))
    return out


def decision_notes(plan, where: str) -> list[str]:
    """The plan's decisions for ``where`` (a stem name, "Reverb", "Master") as short lines.

    ``"what: why"``, without repeating the head of a reason that restates the
    decision ("pan centre: Kick stays in the middle", not "pan centre: pan centre: …").
    """
    lines = []
    for w, what, why in plan.decisions():
        if w != where:
            continue
        head, sep, rest = why.partition(":")
        if sep and set(head.split()) <= set(what.split()):
            why = rest.strip()
        lines.append(f"{what}: {why}" if why else what)
    return lines


# --------------------------------------------------------------------------- copying
def check_not_input(dest: Path, inputs: Iterable[Path]) -> None:
    """Raise ``overwrite_input`` when ``dest`` is (or would replace) one of the user's files."""
    dest = Path(dest)
    for p in inputs:
        p = Path(p)
        same = (dest.exists() and p.exists() and os.path.samefile(dest, p)) or \
            dest.resolve() == p.resolve()
        if same:
            raise WorkbenchError("overwrite_input", f"Refusing to write {dest}: it is one of your input files.",
                                 "Choose an output path outside the stems folder, or another name.")


@dataclass
class Copies:
    """Where :func:`copy_stems` put the stems, and what it created (to undo a failed export)."""

    paths: list[Path]
    created_files: list[Path]
    created_dirs: list[Path]

    def undo(self) -> None:
        """Remove the files and folders this copy created (folders only when left empty)."""
        for f in self.created_files:
            Path(f).unlink(missing_ok=True)
        for d in sorted(self.created_dirs, key=lambda p: len(p.parts), reverse=True):
            try:
                d.rmdir()
            except OSError:
                pass


def copy_stems(sources: Sequence[Path], names: Sequence[str], folder: Path) -> Copies:
    """Copy ``sources`` into ``folder`` under safe, unique names; never replace a file.

    Each copy is named ``safe_name(name)`` plus the source's suffix. A file
    already in ``folder`` under that name is reused when its bytes are
    identical to the source (a repeated export) and otherwise left alone: the
    copy takes the next free name (`` 2``, `` 3``…). Each copy is written to a
    temporary file and renamed, so no half-copied file is ever visible; the
    user's files are only read, and no existing file is ever replaced.

    Returns
    -------
    Copies
        The destination of every source, in order, and what was created.
    """
    folder = Path(folder)
    missing = [d for d in [folder, *folder.parents] if not d.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    copies = Copies([], [], missing)
    used: set[str] = set()
    try:
        for src, name in zip(sources, names, strict=True):
            src = Path(src)
            base, ext = safe_name(name), safe_suffix(src.suffix)
            n = 1
            while True:
                candidate = base + ext if n == 1 else f"{base} {n}{ext}"
                dest = folder / candidate
                if candidate.casefold() not in used and (
                        not dest.exists() or (dest.is_file() and filecmp.cmp(src, dest, shallow=False))):
                    break
                n += 1
            used.add(candidate.casefold())
            if not dest.exists():
                tmp = folder / f".{candidate}.part"
                try:
                    shutil.copyfile(src, tmp)
                    os.replace(tmp, dest)
                finally:
                    tmp.unlink(missing_ok=True)
                copies.created_files.append(dest)
            copies.paths.append(dest)
    except BaseException:
        copies.undo()
        raise
    return copies


def prepare_sources(stems: Sequence[ExportStem], scratch: Path) -> list[ExportStem]:
    """The audio each track of a project plays: the stem's file, or its mono fold.

    A stem the renderer folds to mono (the plan's ``channels == 1`` on a
    stereo file, or a file with more than two channels) is folded the same way,
    ``(L + R) / 2``, into ``scratch`` (see :mod:`workbench.export.levels`), and
    the export copies that fold instead of the file: the projects then play the
    same mono signal as the mix and can apply the mono pan-law rule to it.
    """
    from dataclasses import replace

    from .levels import fold_to_mono, needs_fold

    out = []
    for i, s in enumerate(stems):
        if needs_fold(s.channels, getattr(s.plan, "channels", s.channels)):
            folded = fold_to_mono(s.path, Path(scratch) / f"{i:03d}{safe_suffix(s.path.suffix) or '.wav'}")
            s = replace(s, path=folded, channels=1)
        out.append(s)
    return out
