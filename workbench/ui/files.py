"""Files for the user interface: the session's work folder, uploads, excerpts and links.

Plain functions and small classes with no widget imports, so they are easy to
test and reuse (the widgets in this package call them):

- :class:`WorkFolder` — one temporary folder per dashboard session
  (``tempfile.mkdtemp(prefix="workbench-")``), removed when the kernel shuts
  down (:func:`weakref.finalize` runs at interpreter exit);
- :func:`sample_stems_dir` — where the bundled sample session is;
- :func:`sanitise_upload_name`, :class:`UploadLimits`, :func:`save_uploads` —
  uploaded files are written under names *we* make (never a path joined with a
  name the browser sent), within per-file, per-session and stem-count caps;
- :func:`stem_excerpt_wav`, :func:`wav_bytes` — small WAVs for the browser's
  audio players;
- :class:`InlineLinks`, :class:`VoilaLinks` — how a file reaches the browser as
  a download link (see :mod:`workbench.ui.downloads`).
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
import weakref
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ..audio_io import atomic_path
from ..errors import WorkbenchError

#: Environment variables read by :meth:`UploadLimits.from_env` (values in MB, 10^6 bytes).
ENV_MAX_UPLOAD_MB = "WORKBENCH_MAX_UPLOAD_MB"
ENV_MAX_SESSION_MB = "WORKBENCH_MAX_SESSION_MB"
ENV_MAX_STEMS = "WORKBENCH_MAX_STEMS"
#: Where the sample session is, when not next to the package.
ENV_SAMPLE_STEMS = "WORKBENCH_SAMPLE_STEMS"

MB = 1_000_000

#: Length and format of the excerpt each stem's player gets in the stem table:
#: 20 s of 22.05 kHz mono 16-bit is 882 kB — enough to recognise a part, small
#: enough that 32 of them load quickly.
EXCERPT_SECONDS = 20.0
EXCERPT_SAMPLE_RATE = 22050

#: Longest name part (before ``.wav``) an uploaded file keeps, in characters.
MAX_UPLOAD_NAME_CHARS = 100
#: Characters kept in uploaded names besides letters and digits.
_KEPT = set(" -_.,()+&'")

#: Folder (inside the Voila root) holding one link per dashboard session to its outputs.
DOWNLOADS_DIRNAME = ".workbench-downloads"


# --------------------------------------------------------------------------- work folder
class WorkFolder:
    """A dashboard session's own temporary folder, removed when the kernel exits.

    Layout: ``stems/`` (uploads), ``cache/`` (analysis cache), ``ab/`` (A/B
    previews), ``mix/`` (full mix and projects), ``out/`` (the files offered
    for download). Under Voila, ``out/`` moves into Voila's root folder so its
    file handler can serve it (:meth:`serve_out_from`); it is removed with the
    rest.

    Parameters
    ----------
    prefix : str
        Prefix of the folder name under the system's temporary folder.
    """

    SUBFOLDERS = ("stems", "cache", "ab", "mix", "out")

    def __init__(self, prefix: str = "workbench-") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        for name in self.SUBFOLDERS:
            (self.path / name).mkdir()
        self._out = self.path / "out"
        self._extra: list[Path] = []
        self._finalizer = weakref.finalize(self, _remove_work, self.path, self._extra)

    @property
    def stems(self) -> Path:
        return self.path / "stems"

    @property
    def cache(self) -> Path:
        return self.path / "cache"

    @property
    def ab(self) -> Path:
        return self.path / "ab"

    @property
    def mix(self) -> Path:
        return self.path / "mix"

    @property
    def out(self) -> Path:
        return self._out

    def serve_out_from(self, base: Path) -> str:
        """Move ``out/`` to ``base/<random 128-bit token>/`` and return the token.

        The folder is private to this process (mode 0700) and removed with the
        work folder; an ``.owner`` file (never served) lets a later session
        remove it if this kernel was killed before it could clean up.
        """
        base.mkdir(exist_ok=True)
        prune_download_folders(base)
        token = secrets.token_urlsafe(16)
        out = base / token
        out.mkdir(mode=0o700)
        (out / ".owner").write_text(f"{os.getpid()}\n{self.path}\n")
        for p in self._out.iterdir():
            shutil.move(str(p), out / p.name)
        self._out.rmdir()
        self._out = out
        self._extra.append(out)
        return token

    @property
    def alive(self) -> bool:
        return self._finalizer.alive

    def cleanup(self) -> None:
        """Remove the folder now (it is also removed at interpreter exit)."""
        self._finalizer()


def _remove_work(path: Path, extra: list[Path]) -> None:
    for folder in extra:
        shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


def prune_download_folders(base: Path) -> None:
    """Remove download folders whose owner process is gone (a kernel that was killed)."""
    for entry in base.iterdir():
        owner = entry / ".owner"
        try:
            pid = int(owner.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


# --------------------------------------------------------------------------- sample stems
def sample_stems_dir() -> Path:
    """The folder of the bundled sample session.

    Looked up in order: ``$WORKBENCH_SAMPLE_STEMS``; ``sample_stems/`` in the
    repository next to the installed package; ``sample_stems/`` in the current
    folder or its parent (notebooks run with ``notebooks/`` as their folder).

    Raises
    ------
    WorkbenchError
        ``no_sample_stems`` when none of these exists.
    """
    candidates = []
    env = os.environ.get(ENV_SAMPLE_STEMS)
    if env:
        candidates.append(Path(env).expanduser())
    candidates.append(Path(__file__).resolve().parents[2] / "sample_stems")
    cwd = Path.cwd()
    candidates += [cwd / "sample_stems", cwd.parent / "sample_stems"]
    for c in candidates:
        if c.is_dir() and any(p.suffix.lower() == ".wav" for p in c.iterdir()):
            return c
    raise WorkbenchError("no_sample_stems", "The sample session (sample_stems/) was not found.",
                         f"Set {ENV_SAMPLE_STEMS} to the folder of the sample stems, or upload your own stems.")


# --------------------------------------------------------------------------- uploads
def sanitise_upload_name(name: str, taken: Iterable[str] = ()) -> str:
    """A safe, unique file name for an uploaded file, always ending in ``.wav``.

    The name the browser sent is only a hint: any folder part (``/`` or ``\\``)
    is dropped, control and unusual characters become ``_``, leading dots and
    spaces go (no hidden files, no ``..``), the length is capped, an empty
    result becomes ``stem``, and a number is added when the name is taken
    (case-insensitively). A name that does not end in ``.wav`` gets ``.wav``
    added (``notes.txt`` → ``notes.txt.wav``); :func:`save_uploads` refuses
    such files before they get here.

    Examples
    --------
    >>> sanitise_upload_name("../../etc/passwd")
    'passwd.wav'
    >>> sanitise_upload_name("Kick.WAV", taken=["kick.wav"])
    'Kick 2.wav'
    """
    text = unicodedata.normalize("NFC", str(name))
    text = re.split(r"[/\\]", text)[-1]
    root = text[:-4] if text.lower().endswith(".wav") else text
    chars = []
    for ch in root:
        cat = unicodedata.category(ch)
        if ch.isalnum() and not cat.startswith("C"):
            chars.append(ch)
        elif ch in _KEPT:
            chars.append(ch)
        else:
            chars.append("_")
    root = re.sub(r"\s+", " ", "".join(chars))
    root = re.sub(r"_{2,}", "_", root).strip(" ._-")
    root = root[:MAX_UPLOAD_NAME_CHARS].rstrip(" .") or "stem"
    used = {t.casefold() for t in taken}
    candidate, n = f"{root}.wav", 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{root} {n}.wav"
    return candidate


@dataclass(frozen=True)
class UploadLimits:
    """Our own caps on uploads (the server's websocket limit is set separately in ``voila.json``).

    Attributes
    ----------
    max_file_bytes : int
        Largest single file (default 200 MB).
    max_session_bytes : int
        Largest total of a session's uploads (default 1 GB).
    max_stems : int
        Most stems in a session (default 32, the checks' limit).
    """

    max_file_bytes: int = 200 * MB
    max_session_bytes: int = 1000 * MB
    max_stems: int = 32

    @classmethod
    def from_env(cls) -> "UploadLimits":
        """Defaults, overridden by ``WORKBENCH_MAX_UPLOAD_MB``, ``WORKBENCH_MAX_SESSION_MB``, ``WORKBENCH_MAX_STEMS``.

        A value that is not a positive number is ignored (the default stays).
        """
        d = cls()
        return cls(max_file_bytes=_env_number(ENV_MAX_UPLOAD_MB, d.max_file_bytes, MB),
                   max_session_bytes=_env_number(ENV_MAX_SESSION_MB, d.max_session_bytes, MB),
                   max_stems=int(_env_number(ENV_MAX_STEMS, d.max_stems, 1)))

    def describe(self) -> str:
        return (f"up to {format_size(self.max_file_bytes)} per file, {format_size(self.max_session_bytes)} "
                f"and {self.max_stems} stems per session")


def _env_number(name: str, default: int, unit: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return default
    return int(value * unit) if value > 0 and np.isfinite(value) else default


def format_size(n_bytes: float) -> str:
    """``1234567`` → ``"1.2 MB"`` (decimal units, as file managers show them)."""
    n = float(n_bytes)
    if n < 1000:
        return f"{n:.0f} bytes"
    if n < MB:
        return f"{n / 1000:.0f} kB"
    if n < 1000 * MB:
        return f"{n / MB:.3g} MB"
    return f"{n / (1000 * MB):.3g} GB"


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one uploaded file.

    Attributes
    ----------
    name : str
        The name the browser sent, as shown in messages (quoted, printable).
    status : {"added", "replaced", "refused"}
    saved_as : Path or None
        Where it was written (``None`` when refused).
    reason : str
        Why it was refused, and the fix, in plain words (empty otherwise).
    """

    name: str
    status: str
    saved_as: Path | None = None
    reason: str = ""

    def message(self) -> str:
        if self.status == "added":
            return f"{self.name} added."
        if self.status == "replaced":
            return f"{self.name} replaced the stem uploaded earlier under the same name."
        return f"{self.name} was not added: {self.reason}"


@dataclass
class UploadOutcome:
    """What :func:`save_uploads` did, file by file."""

    files: list[FileOutcome] = field(default_factory=list)

    @property
    def saved(self) -> list[Path]:
        """Files written (added or replaced)."""
        return [f.saved_as for f in self.files if f.saved_as is not None]

    @property
    def refused(self) -> list[str]:
        """One plain-words message per refused file."""
        return [f.message() for f in self.files if f.status == "refused"]

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def all_added(self) -> bool:
        """Every file was added or replaced (the notice may be green)."""
        return bool(self.files) and not self.refused

    def summary(self) -> str:
        """``"Added 2 file(s), replaced 1, refused 1."``"""
        parts = [f"Added {self.count('added')} file(s)"]
        if self.count("replaced"):
            parts.append(f"replaced {self.count('replaced')}")
        if self.count("refused"):
            parts.append(f"refused {self.count('refused')}")
        return ", ".join(parts) + "."


def refuse_reason(content: bytes | memoryview) -> str:
    """Why uploaded bytes cannot be a stem (empty string: they read as a WAV).

    Judged by the content, not the name (the format sniffing and the header
    read of :mod:`workbench.checks`): a text file called ``.wav`` or an MP3
    renamed ``.wav`` is refused, as is a WAV whose header is damaged.
    """
    import soundfile as sf

    from ..checks import WAV_FORMATS

    data = bytes(memoryview(content)[:16])
    if not data:
        return "the file is empty (0 bytes). Export the stem again; the export probably failed."
    is_wav = len(data) >= 12 and data[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and data[8:12] == b"WAVE"
    if not is_wav and data[:4] != b"riff":
        return ("its content is not a WAV (judged by the bytes, not the name). Export the stem from your DAW "
                "as WAV (16-bit, 44.1 kHz).")
    try:
        info = sf.info(io.BytesIO(bytes(content)))
    except Exception as exc:
        detail = str(exc).split("\n")[0][:120]
        return (f"it starts like a WAV but cannot be read ({detail}). Export the stem again; if it was copied "
                "or downloaded, copy it again.")
    if info.format not in WAV_FORMATS:
        return f"it is a {info.format} file, not a WAV. Export the stem from your DAW as WAV."
    if info.frames == 0:
        return "it holds no audio (0 samples). Bounce the stem again from 0:00 to the end of the song."
    return ""


def save_uploads(files: Iterable[tuple[str, bytes | memoryview]], folder: Path,
                 limits: UploadLimits) -> UploadOutcome:
    """Write uploaded files into ``folder`` under sanitised names, within the caps.

    A file is refused (with its reason) when its name does not end in ``.wav``
    (a ``.txt`` is never renamed), its content is not a readable WAV
    (:func:`refuse_reason`), or it breaks a cap. A file with the same name as
    one uploaded before (case-insensitively) **replaces** it.

    Parameters
    ----------
    files : iterable of (name, content)
        The name the browser sent and the bytes received. The size is measured
        on the bytes, never taken from what the browser claims.
    folder : Path
        The session's upload folder (its existing ``.wav`` files count towards
        the caps).
    limits : UploadLimits

    Returns
    -------
    UploadOutcome
        One :class:`FileOutcome` per file, in the order sent; nothing raises for a bad upload.
    """
    folder.mkdir(parents=True, exist_ok=True)
    existing = {p.name.casefold(): p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".wav"}
    sizes = {k: p.stat().st_size for k, p in existing.items()}
    out = UploadOutcome()
    for raw_name, content in files:
        shown = _shown_name(raw_name)
        size = memoryview(content).nbytes

        def refuse(reason: str, shown: str = shown) -> None:
            out.files.append(FileOutcome(shown, "refused", None, reason))

        last = re.split(r"[/\\]", str(raw_name))[-1]
        if not last.lower().endswith(".wav"):
            suffix = Path(last).suffix or "no extension"
            refuse(f"only WAV files (.wav) are taken, and this one is {suffix}. Export the stem as WAV.")
            continue
        if size > limits.max_file_bytes:
            refuse(f"it is {format_size(size)}, above the limit of {format_size(limits.max_file_bytes)} per file. "
                   "Export a shorter or 16-bit version, or ask for a larger limit.")
            continue
        name = sanitise_upload_name(raw_name)
        key = name.casefold()
        replacing = key in existing
        count = len(existing) + (0 if replacing else 1)
        total = sum(sizes.values()) - sizes.get(key, 0) + size
        if count > limits.max_stems:
            refuse(f"a session holds at most {limits.max_stems} stems. Combine some parts into one stem "
                   "(e.g. all toms) or remove a stem first.")
            continue
        if total > limits.max_session_bytes:
            refuse(f"the session would hold {format_size(total)}, above the limit of "
                   f"{format_size(limits.max_session_bytes)}. Remove a stem or upload shorter stems.")
            continue
        why = refuse_reason(content)
        if why:
            refuse(why)
            continue
        dest = existing[key] if replacing else folder / name
        with atomic_path(dest) as tmp:
            tmp.write_bytes(content)
        existing[key], sizes[key] = dest, size
        out.files.append(FileOutcome(shown, "replaced" if replacing else "added", dest))
    return out


def _shown_name(name: str) -> str:
    """An uploaded name for messages: the last path part, printable, at most 80 characters."""
    text = re.split(r"[/\\]", str(name))[-1]
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return "“" + text[:80] + ("…" if len(text) > 80 else "") + "”"


# --------------------------------------------------------------------------- audio for players
def wav_bytes(audio: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> bytes:
    """``(channels, samples)`` float audio as the bytes of a WAV file."""
    import soundfile as sf

    a = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    buf = io.BytesIO()
    sf.write(buf, np.clip(a, -1.0, 1.0).T, int(sample_rate), subtype=subtype, format="WAV")
    return buf.getvalue()


def stem_excerpt_wav(path: str | os.PathLike, seconds: float = EXCERPT_SECONDS,
                     sample_rate: int = EXCERPT_SAMPLE_RATE) -> bytes:
    """A short WAV of a stem for its player: its most active ``seconds``, mono, 16-bit.

    Uses :func:`workbench.analysis.classify.excerpt` (the stretch the category
    autodetect listens to), folded to mono at ``sample_rate``. The level is
    left as it is in the file, so a stem bounced very quietly sounds quiet.
    """
    from ..analysis.classify import excerpt

    audio, rate = excerpt(path, sample_rate=sample_rate, seconds=seconds)
    mono = audio.mean(axis=0, keepdims=True) if audio.shape[0] > 1 else audio
    return wav_bytes(mono, rate)


def zip_folder(folder: Path, dest: Path) -> Path:
    """Zip ``folder`` (stored, not compressed: audio does not shrink) into ``dest``, atomically."""
    with atomic_path(dest) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, Path(folder.name) / p.relative_to(folder))
    return dest


# --------------------------------------------------------------------------- download links
def mime_type(path: Path) -> str:
    return {".wav": "audio/wav", ".json": "application/json", ".md": "text/markdown",
            ".zip": "application/zip"}.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] \
        or "application/octet-stream"


class InlineLinks:
    """Links that carry the file in the page: ``data:`` URLs (base64).

    Work wherever the widgets are shown (JupyterLab, Voila, any URL layout)
    with no server configuration. The file travels inside the page (a third
    larger than the file), so only files up to ``max_bytes`` get a link.
    """

    mode = "inline"

    def __init__(self, max_bytes: int = 40 * MB) -> None:
        self.max_bytes = int(max_bytes)

    def url(self, path: Path) -> str | None:
        """A ``data:`` URL for ``path``, or ``None`` when the file is larger than ``max_bytes``."""
        if path.stat().st_size > self.max_bytes:
            return None
        return f"data:{mime_type(path)};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


class VoilaLinks:
    """Links to files served by Voila's file handler (``/voila/files/``).

    Voila serves the files under its root folder (the dashboard notebook's
    folder, which is also the kernel's working folder) that match the
    allowlist in ``voila.json``; tornado refuses symbolic links that leave the
    root. So the session's ``out/`` folder is created *there*, as
    ``.workbench-downloads/<random 128-bit token>/`` (:meth:`WorkFolder.serve_out_from`),
    and holds only the files offered for download. The token is the only way
    to reach it; it is removed with the work folder. Files of any size
    download at disk speed, and nothing large goes through the widgets.

    Parameters
    ----------
    work : WorkFolder
    root : Path
        Voila's root folder (default: the current folder).
    server_url : str
        Voila's server URL (default ``$VOILA_SERVER_URL`` or ``/``).
    """

    mode = "served"

    def __init__(self, work: WorkFolder, root: Path | None = None, server_url: str | None = None) -> None:
        self.root = Path(root) if root is not None else Path.cwd()
        self.token = work.serve_out_from(self.root / DOWNLOADS_DIRNAME)
        self._out = work.out
        server = server_url if server_url is not None else os.environ.get("VOILA_SERVER_URL", "/")
        self.prefix = (server.rstrip("/") + "/voila/files/" + _notebook_dir_in_root() + DOWNLOADS_DIRNAME
                       + "/" + self.token + "/")

    def url(self, path: Path) -> str | None:
        """The URL of a file in the session's ``out/`` folder (``?v=`` changes with each new version)."""
        return f"{self.prefix}{quote(path.name)}?v={path.stat().st_mtime_ns}"

    @staticmethod
    def available() -> bool:
        """True inside a kernel started by Voila (it sets ``SERVER_SOFTWARE=voila/...``)."""
        return os.environ.get("SERVER_SOFTWARE", "").startswith("voila/")

    def works(self, timeout_s: float = 3.0) -> bool:
        """Ask the Voila server for a small file in ``out/``: ``True`` when it serves it.

        It does not when Voila was started without this repository's
        ``voila.json`` (run it from the repository root, as ``make dashboard``
        does): the file handler then refuses the download folder.
        """
        import urllib.request

        probe = self._out / "server-check.json"
        probe.write_text("{}")
        try:
            port = os.environ.get("VOILA_APP_PORT") or os.environ.get("SERVER_PORT") or ""
            hosts = ["127.0.0.1", os.environ.get("SERVER_NAME") or "localhost"]
            for host in dict.fromkeys(hosts):
                url = f"http://{host}{':' + port if port else ''}{self.prefix}{probe.name}"
                try:
                    with urllib.request.urlopen(url, timeout=timeout_s) as r:
                        if r.status == 200:
                            return True
                except OSError:
                    continue
            return False
        finally:
            probe.unlink(missing_ok=True)


def _notebook_dir_in_root() -> str:
    """The notebook's folder relative to Voila's root (``""`` when Voila serves one notebook)."""
    script = os.environ.get("SCRIPT_NAME", "")
    marker = "/voila/render/"
    if marker in script:
        rel = os.path.dirname(script.split(marker, 1)[1])
        return quote(rel) + "/" if rel else ""
    return ""
