"""A session: the stems of one song, what they are, and what is wrong with them.

:func:`load_session` reads only file headers up front (``soundfile.info``), then
runs the preparation checks, which stream each stem's audio in blocks. Nothing
is kept in memory but a few numbers per stem, so a 32-stem, 5-minute session
loads in bounded memory. The user's files are opened read-only.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import categories
from .errors import WorkbenchError
from .importance import IMPORTANCE_LEVELS as IMPORTANCE_LEVELS  # re-exported: the levels live in importance.py
from .importance import check_importance

#: File endings offered to the loader. Content decides whether a file really is a
#: WAV (see :mod:`workbench.checks`); the ending only decides what we look at.
AUDIO_SUFFIXES = (".wav", ".wave", ".bwf", ".rf64", ".w64", ".mp3", ".flac", ".ogg",
                  ".aif", ".aiff", ".m4a", ".aac")


@dataclass
class Stem:
    """One stem of a session: where it is, its header, and what it is.

    Header fields are ``None`` when the file could not be read as audio.
    """

    path: Path
    file: str
    name: str
    sample_rate: int | None = None
    subtype: str | None = None
    channels: int | None = None
    frames: int | None = None
    format: str | None = None
    category: str | None = None
    confidence: float = 0.0
    category_source: str = "none"
    importance: str = "medium"
    #: ``"user"`` when the user set the importance; otherwise the planner may
    #: suggest another (the part that carries the melody: high).
    importance_source: str = "default"
    #: The part's role when the user set it (:data:`workbench.mixing.rules.roles.ROLES`);
    #: ``None``: the planner detects it from what the part does.
    role: str | None = None

    def __setattr__(self, name: str, value) -> None:
        # The importance drives every rule's table: refuse a level they do not know
        # here, where it is set, rather than as a KeyError deep in the planner.
        if name == "importance":
            check_importance(value, self.file)
        super().__setattr__(name, value)

    @property
    def duration_s(self) -> float | None:
        """Length in seconds, or ``None`` when unreadable."""
        if self.frames is None or not self.sample_rate:
            return None
        return self.frames / self.sample_rate

    @property
    def unsure(self) -> bool:
        """A category guessed from the audio alone with a confidence below the calibrated threshold."""
        from .analysis.classify import UNSURE_BELOW

        return self.category_source == "audio" and self.category is not None and self.confidence < UNSURE_BELOW

    @property
    def bit_depth(self) -> int | None:
        """Bits per sample from the subtype (``PCM_16`` → 16, ``FLOAT`` → 32)."""
        return _BIT_DEPTH.get(self.subtype or "")

    @property
    def readable(self) -> bool:
        """Whether the header was read and the file holds audio frames."""
        return self.frames is not None and self.sample_rate is not None


_BIT_DEPTH = {"PCM_U8": 8, "PCM_S8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32,
              "FLOAT": 32, "DOUBLE": 64}


@dataclass
class Session:
    """The stems of one song with their categories, importances and findings."""

    folder: Path
    stems: list[Stem]
    findings: list = field(default_factory=list)
    max_stems: int = 32

    @property
    def sample_rate(self) -> int:
        """The session's working rate: the most common rate among readable stems."""
        rates = Counter(s.sample_rate for s in self.stems if s.readable and s.sample_rate)
        return int(rates.most_common(1)[0][0] or 44100) if rates else 44100

    @property
    def frames(self) -> int:
        """Length of the session in frames at :attr:`sample_rate` (the longest stem)."""
        sr = self.sample_rate
        return max((round((s.frames or 0) * sr / (s.sample_rate or sr)) for s in self.mixable_stems), default=0)

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def mixable_stems(self) -> list[Stem]:
        """Stems with no error finding of their own."""
        bad = {f.stem for f in self.findings if f.severity == "error"}
        return [s for s in self.stems if s.readable and s.file not in bad]

    @property
    def errors(self) -> list:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def can_mix(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    def stem(self, key: str) -> Stem:
        """Find a stem by file name or display name (case-insensitive)."""
        k = key.casefold()
        for s in self.stems:
            if k in (s.file.casefold(), s.name.casefold(), Path(s.file).stem.casefold()):
                return s
        raise WorkbenchError("unknown_stem", f"No stem called {key!r} in {self.folder}.",
                             "Use one of: " + ", ".join(s.name for s in self.stems))

    def with_settings(self, *, importance: dict[str, str] | None = None,
                      category: dict[str, str] | None = None, role: dict[str, str] | None = None) -> "Session":
        """A copy with some stems' importance, category or role changed by the user."""
        from .mixing.rules.roles import ROLES

        new = replace(self, stems=[replace(s) for s in self.stems], findings=list(self.findings))
        for key, value in (role or {}).items():
            wanted = str(value).strip().casefold()
            if wanted not in ROLES:
                raise WorkbenchError("bad_role", f"Role {value!r} for {key!r} is not known.",
                                     "Use one of: " + ", ".join(ROLES))
            new.stem(key).role = wanted
        for key, level in (importance or {}).items():
            check_importance(level, key)
            stem = new.stem(key)
            stem.importance, stem.importance_source = level, "user"
        for key, cat in (category or {}).items():
            canonical = categories.canonical(cat)
            if canonical is None:
                raise WorkbenchError("bad_category", f"Category {cat!r} for {key!r} is not known.",
                                     "Use one of: " + ", ".join(categories.CATEGORY_NAMES))
            s = new.stem(key)
            s.category, s.confidence, s.category_source = canonical, 1.0, "user"
        return new


def list_audio_files(folder: Path) -> list[Path]:
    """The candidate stem files of a folder, sorted by name (hidden files skipped)."""
    return sorted(
        (p for p in folder.iterdir()
         if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in AUDIO_SUFFIXES),
        key=lambda p: _natural_key(p.name),
    )


def skipped_inputs(folder: Path) -> list:
    """Notes for what a folder holds that looks like a stem but is not read.

    Broken symbolic links, named pipes and devices with an audio file ending,
    and sub-folders holding audio files (only the folder's own files are a
    session's stems): a ``note`` finding each, so that nothing is skipped
    without a word.
    """
    from .checks import Finding

    notes = []
    for p in sorted(folder.iterdir(), key=lambda p: _natural_key(p.name)):
        if p.name.startswith("."):
            continue
        shown = os.fsencode(p.name).decode("utf-8", "replace")
        try:
            if p.is_symlink() and not p.exists():
                if p.suffix.lower() in AUDIO_SUFFIXES:
                    notes.append(Finding(None, "note", "skipped_broken_link", shown,
                                         f"{shown} is a link to a file that does not exist; it is skipped.",
                                         "Point the link at the stem, or copy the stem into the folder."))
            elif p.is_dir():
                inside = [q for q in p.iterdir() if q.suffix.lower() in AUDIO_SUFFIXES and not q.name.startswith(".")]
                if inside:
                    notes.append(Finding(None, "note", "skipped_subfolder", len(inside),
                                         f"The sub-folder {shown}/ holds {len(inside)} audio file(s); only the "
                                         "folder's own files are stems, so they are skipped.",
                                         "Move the stems you want mixed into the session folder itself."))
            elif not p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES:
                notes.append(Finding(None, "note", "skipped_not_a_file", shown,
                                     f"{shown} is not a regular file (a pipe or a device); it is skipped.",
                                     "Put the stem there as an ordinary WAV file."))
        except OSError:
            continue
    return notes


def _natural_key(name: str) -> list:
    """Sort "Track 2" before "Track 10", as a file browser does."""
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


def _make_names_unique(stems: list[Stem]) -> None:
    """Stem names are keys (plan JSON, DAW tracks): number repeats "Kick", "Kick 2"."""
    seen: Counter = Counter()
    for s in stems:
        key = s.name.casefold()
        seen[key] += 1
        if seen[key] > 1:
            s.name = f"{s.name} {seen[key]}"


def load_session(path: str | os.PathLike | list, *, max_stems: int = 32,
                 check_audio: bool = True) -> Session:
    """Load the stems of a folder (or a list of files), suggest categories, run the checks.

    Parameters
    ----------
    path : path-like or list of path-like
        A folder of WAV stems, or the stem files themselves.
    max_stems : int
        The most stems a session may hold (the ``too_many_stems`` error above it).
    check_audio : bool
        Also run the checks that read audio (clipping, silence, late start...).
        Header-only checks always run.

    Returns
    -------
    Session

    Raises
    ------
    WorkbenchError
        ``no_folder`` when the folder does not exist, ``no_stems`` when it holds
        no audio files.
    """
    from . import checks

    skipped: list = []
    if isinstance(path, (list, tuple)):
        files = [_as_path(p) for p in path]
        folder = files[0].parent if files else Path(".")
    else:
        folder = _as_path(path)
        if not folder.exists():
            raise WorkbenchError("no_folder", f"The folder {folder} does not exist.",
                                 "Give the path of the folder that holds your WAV stems.")
        if folder.is_file():
            files, folder = [folder], folder.parent
        elif folder.is_dir():
            try:
                files = list_audio_files(folder)
                skipped = skipped_inputs(folder)
            except OSError as exc:
                raise WorkbenchError("unreadable_folder", f"Cannot read the folder {folder}: {exc.strerror}.",
                                     "Check that the folder exists and that you may read it.") from None
        else:
            raise WorkbenchError("not_a_folder", f"{folder} is neither a folder nor a file (a device or a pipe).",
                                 "Give the path of the folder that holds your WAV stems.")
    if not files:
        raise WorkbenchError("no_stems", f"No audio files found in {folder}.",
                             "Put the song's stems there as .wav files (one per instrument).")

    stems = []
    for p in files:
        name = categories.display_name(p.name)
        stem = Stem(path=p, file=p.name, name=name)
        suggestion = categories.suggest_from_name(p.name)
        stem.category, stem.confidence = suggestion.category, suggestion.confidence
        stem.category_source = "name" if suggestion.category else "none"
        stem.importance = suggestion.suggested_importance
        # "name": the name itself marks the part ("Synth Lead", "Pad quiet"),
        # beyond its category's default importance.
        stem.importance_source = ("name" if stem.importance != categories.default_importance(suggestion.category)
                                  else "default")
        stems.append(stem)
    _make_names_unique(stems)
    session = Session(folder=folder, stems=stems, max_stems=max_stems)
    stats: dict = {}
    session.findings = checks.run_checks(session, check_audio=check_audio, stats_out=stats)
    if check_audio:
        session.findings.extend(_listen_for_categories(session, stats))
    session.findings.extend(skipped)
    return session


def _as_path(value) -> Path:
    """A stem or folder path as given by a caller; refuse ``None``, bytes and other non-paths."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise WorkbenchError("bad_argument", f"A stems folder or file is given as a path, not {value!r}.",
                             "Pass a str or pathlib.Path (e.g. load_session(\"stems/\")).")
    if not os.fspath(value):
        raise WorkbenchError("bad_argument", "The stems path is empty.",
                             "Pass the path of the folder that holds your WAV stems.")
    return Path(value)


def _hear(path: Path, tile_power=None):
    """The audio's category suggestion for one stem, or ``None`` when it cannot be read."""
    from .analysis import classify

    try:
        return classify.suggest_from_audio(path, tile_power=tile_power)
    except Exception:  # never let the suggestion stop a session from loading
        return None


def _listen_for_categories(session: Session, stats: dict | None = None) -> list:
    """Suggest categories from the audio where the name says little; flag likely mislabels.

    A confident name wins; the audio decides when the name says nothing
    ("Track 7"), and a physically checkable contradiction (a "Bass" with no low
    end) becomes a ``category_mismatch`` warning. Best effort: a stem the model
    cannot read keeps its name's suggestion.
    """
    from . import workers
    from .analysis import classify
    from .analysis.features import blas_single_thread
    from .checks import Finding

    # Stems are heard side by side (workers.py) with BLAS on one thread:
    # measured on 16 stems × 3 min, 2 cores, another process busy: 5.0 s in
    # series with BLAS's default threads, 3.2 s in series with one.
    stems = session.mixable_stems
    heard_all: list = [None] * len(stems)
    with blas_single_thread():
        # The checks' pass measured each stem's level over time: only the
        # excerpt is read again (20 s of it).
        levels = [getattr((stats or {}).get(stem.file), "tile_power", None) for stem in stems]
        excerpt_seconds = sum(min(stem.duration_s or 0.0, classify.EXCERPT_SECONDS) if lv is not None
                              else stem.duration_s or 0.0 for stem, lv in zip(stems, levels))
        jobs = [(stem.path, lv) for stem, lv in zip(stems, levels)]
        for i, fut in workers.run_each(_hear, jobs, seconds=excerpt_seconds):
            heard_all[i] = fut.result()
    findings = []
    for stem, heard in zip(stems, heard_all):
        if heard is None:
            continue
        cat, conf, source, note = classify.combine(stem.category, stem.confidence, heard)
        if source in ("audio", "name+audio") and cat != stem.category:
            stem.importance = categories.default_importance(cat)
        stem.category, stem.confidence = cat, round(float(conf), 3)
        stem.category_source = source
        if note:
            findings.append(Finding(stem.file, "warning", "category_mismatch", stem.category, note,
                                    "Check that the file is the part its name says, or change its category."))
        elif stem.unsure:
            findings.append(Finding(
                stem.file, "note", "category_unsure", round(float(stem.confidence), 3),
                f"The category was guessed from the audio and the guess is unsure: {stem.category}? "
                f"({stem.confidence:.0%}; the name says nothing the name table knows).",
                f"Please check it, and set the category if it is wrong (e.g. --category \"{stem.name}=Keys\")."))
    return findings
