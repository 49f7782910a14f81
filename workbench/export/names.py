"""Safe names for the files and XML an export writes, whatever the stem names contain.

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

import re
import unicodedata
from collections.abc import Iterable, Sequence

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
    text = _truncate_utf8(text, MAX_NAME_BYTES)
    # Leading dots hide a file (and "." / ".." are directories); Windows drops
    # trailing dots and spaces, so "Vox.." and "Vox" would collide there.
    text = text.strip(" .")
    if not text.strip("_ "):
        return FALLBACK_NAME
    if text.split(".")[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        text += "_"
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
        raise ValueError(f"got {len(names)} names but {len(sfx)} suffixes")
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
