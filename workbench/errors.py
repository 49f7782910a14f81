"""The one exception family of the workbench, and its table of codes.

A problem the user can fix reaches them as a :class:`WorkbenchError` with a
code, a message that says what was found, and a fix in plain words — never as a
bare traceback. Problems with individual stems are :class:`~workbench.checks.Finding`
objects instead, so that one bad stem does not stop the check of the others.

Every code is a member of :class:`ErrorCode`; :data:`ERROR_TABLE` says what each
means and what usually fixes it (``docs/errors.md`` is rendered from it by
:func:`markdown_table`, and a test keeps the two equal). A bad argument to a
public function raises :class:`ParameterError`, which is also a ``ValueError``.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The stable machine-readable codes of :class:`WorkbenchError` (compare equal to their strings)."""

    ANALYSIS_FAILED = "analysis_failed"
    BAD_ARGUMENT = "bad_argument"
    BAD_AUDIO = "bad_audio"
    BAD_CATEGORY = "bad_category"
    BAD_IMPORTANCE = "bad_importance"
    BAD_MATCH = "bad_match"
    BAD_PLAN = "bad_plan"
    BAD_REFERENCE = "bad_reference"
    BAD_ROLE = "bad_role"
    BAD_SESSION_FILE = "bad_session_file"
    BAD_SETTING = "bad_setting"
    BAD_SETTINGS_FILE = "bad_settings_file"
    BAD_STYLE = "bad_style"
    BALANCE_MODEL = "balance_model"
    CANNOT_MIX = "cannot_mix"
    CATEGORY_MODEL = "category_model"
    CEILING_EXCEEDED = "ceiling_exceeded"
    DISK_FULL = "disk_full"
    DUPLICATE_SESSION_NAME = "duplicate_session_name"
    MISSING_EXTRA = "missing_extra"
    NO_FOLDER = "no_folder"
    NO_LIST_FILE = "no_list_file"
    NO_MASTER_GAIN = "no_master_gain"
    NO_MIXABLE_STEMS = "no_mixable_stems"
    NO_SAMPLE_STEMS = "no_sample_stems"
    NO_SCHEDULER = "no_scheduler"
    NO_SESSION = "no_session"
    NO_SESSIONS = "no_sessions"
    NO_SETTINGS_FILE = "no_settings_file"
    NO_STEMS = "no_stems"
    NO_WORKERS = "no_workers"
    NOT_A_FOLDER = "not_a_folder"
    NOT_UPLOADED = "not_uploaded"
    NOTHING_TO_MIX = "nothing_to_mix"
    NOTHING_TO_RENDER = "nothing_to_render"
    OUT_BUSY = "out_busy"
    NO_CATEGORY = "no_category"
    OUT_EXISTS = "out_exists"
    OUT_NOT_FOLDER = "out_not_folder"
    OUT_NOT_WRITABLE = "out_not_writable"
    OVERWRITE_INPUT = "overwrite_input"
    PLAN_MISMATCH = "plan_mismatch"
    SESSION_IN_OUTPUT = "session_in_output"
    SILENT_MIX = "silent_mix"
    STALE_ANALYSIS = "stale_analysis"
    UNKNOWN_SOURCE = "unknown_source"
    UNKNOWN_STEM = "unknown_stem"
    UNKNOWN_VARIANT = "unknown_variant"
    UNREADABLE_FOLDER = "unreadable_folder"
    VERSION_MISMATCH = "version_mismatch"
    WRITE_FAILED = "write_failed"
    WRONG_LENGTH = "wrong_length"


#: What each code means and what usually fixes it (the message of each error
#: names the file, field or value concerned).
ERROR_TABLE: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.ANALYSIS_FAILED: ("A stem could not be analysed (it stopped decoding part-way).",
                                "Check that the file plays to its end; export it again from your DAW."),
    ErrorCode.BAD_MATCH: ("A --match amount is not 'tone', 'dynamics', 'width' or 'loudness' with a percentage 0-100.",
                          "Write it as --match tone=70 dynamics=50 width=100 loudness=0."),
    ErrorCode.BAD_REFERENCE: ("A reference song cannot be used: missing, not WAV/FLAC/MP3/OGG, too short or silent.",
                              "Give a readable WAV, FLAC, MP3 or OGG file of the song (at least a few seconds)."),
    ErrorCode.BAD_STYLE: ("A style is not a known preset name or its JSON file has a missing or out-of-range field.",
                          "Use a shipped style name or fix the field the message names "
                          "(or make one with `workbench style make`)."),
    ErrorCode.NO_CATEGORY: ("A category guess was confirmed for a stem that has no category yet.",
                            "Pick the stem's category from the list instead."),
    ErrorCode.BAD_ARGUMENT: ("A command-line option or a function argument is outside what it accepts.",
                             "Use a value in the range the message gives (see `workbench --help` or the "
                             "function's docstring)."),
    ErrorCode.BAD_AUDIO: ("An audio array passed to a function has the wrong shape, no samples, "
                          "non-finite samples or a bad sample rate.",
                          "Pass float audio shaped (channels, samples) with an integer sample rate in Hz."),
    ErrorCode.BAD_CATEGORY: ("A category that is not one of the sixteen (or a table extension that "
                             "clashes with one).", "Use one of the names `workbench check` lists."),
    ErrorCode.BAD_IMPORTANCE: ("An importance that is not low, medium or high.", "Use low, medium or high."),
    ErrorCode.BAD_PLAN: ("A plan field is missing, of the wrong type or out of range.",
                         "Set the field the message names to a value in its range, or write the plan "
                         "again with `workbench mix`."),
    ErrorCode.BAD_ROLE: ("A role that the balance model does not know.", "Use one of the roles the message lists."),
    ErrorCode.BAD_SESSION_FILE: ("A batch session entry cannot be read.",
                                 "Give one session folder (or glob) per line."),
    ErrorCode.BAD_SETTING: ("A mix setting is out of range or of the wrong type.",
                            "Use a value in the range the message gives."),
    ErrorCode.BAD_SETTINGS_FILE: ("A settings file is not valid JSON or holds unknown fields.",
                                  "Fix the file as the message says."),
    ErrorCode.BALANCE_MODEL: ("The shipped balance model file is malformed.",
                              "Reinstall the workbench or run scripts/fit_balance_model.py again."),
    ErrorCode.CANNOT_MIX: ("The session has error findings (unreadable or broken stems).",
                           "Fix the errors `workbench check` lists, or mute the stem in the plan."),
    ErrorCode.CATEGORY_MODEL: ("The category model file cannot be read or does not match this version.",
                               "Reinstall the workbench or retrain with scripts/train_category_model.py."),
    ErrorCode.CEILING_EXCEEDED: ("The rendered mix peaks above the plan's true-peak ceiling.",
                                 "Lower the gains or the loudness target in the plan and render again."),
    ErrorCode.DISK_FULL: ("The disk filled up while the outputs were written.",
                          "Free some space or choose another output folder."),
    ErrorCode.DUPLICATE_SESSION_NAME: ("Two batch sessions would write to the same output folder name.",
                                       "Rename one of the session folders."),
    ErrorCode.MISSING_EXTRA: ("An optional part of the workbench is not installed.",
                              "Install the extra the message names, e.g. pip install 'mixing-workbench[batch]'."),
    ErrorCode.NO_FOLDER: ("The folder given does not exist.", "Check the path."),
    ErrorCode.NO_LIST_FILE: ("The @FILE list of sessions cannot be read.",
                             "Give @FILE with one session folder or glob per line."),
    ErrorCode.NO_MASTER_GAIN: ("A re-render needs the master gain of an earlier render, and the plan has none.",
                               "Use the plan.json written by `workbench mix`."),
    ErrorCode.NO_MIXABLE_STEMS: ("No stem of the session can be read.", "Fix the stems `workbench check` lists."),
    ErrorCode.NO_SAMPLE_STEMS: ("The sample session was not found.",
                                "Set the sample-stems folder variable the message names, or upload stems."),
    ErrorCode.NO_SCHEDULER: ("The Dask scheduler cannot be reached.", "Start `dask scheduler` and give its address."),
    ErrorCode.NO_SESSION: ("The dashboard has no session loaded yet.", "Upload stems or pick the sample session."),
    ErrorCode.NO_SESSIONS: ("A batch was given no session folders.", "Give session folders, globs or @FILE."),
    ErrorCode.NO_SETTINGS_FILE: ("The settings file does not exist.", "Check the path."),
    ErrorCode.NO_STEMS: ("The folder holds no WAV files.", "Point to the folder of the song's WAV stems."),
    ErrorCode.NO_WORKERS: ("The Dask scheduler has no workers.", "Start workers with `dask worker ADDRESS`."),
    ErrorCode.NOT_A_FOLDER: ("The path given is a file, not a folder.", "Give the folder that holds the stems."),
    ErrorCode.NOT_UPLOADED: ("Only uploaded stems can be removed.", "Upload your own stems first."),
    ErrorCode.NOTHING_TO_MIX: ("Every stem is silent or muted: the mix would be silent.",
                               "Unmute a stem or check the stems with `workbench check`."),
    ErrorCode.NOTHING_TO_RENDER: ("The session has no audio (zero frames).", "Check that the stems hold audio."),
    ErrorCode.OUT_BUSY: ("Another process keeps writing into the output folder.",
                         "Run one mix or batch at a time into an output folder."),
    ErrorCode.OUT_EXISTS: ("The output already exists and would be replaced.",
                           "Choose another output folder or allow overwriting."),
    ErrorCode.OUT_NOT_FOLDER: ("The output path is a file.", "Give a folder for -o."),
    ErrorCode.OUT_NOT_WRITABLE: ("The output folder cannot be written (read-only or no permission).",
                                 "Choose a folder you can write to."),
    ErrorCode.OVERWRITE_INPUT: ("An output would overwrite or sit inside the input stems.",
                                "Write the outputs to another folder."),
    ErrorCode.PLAN_MISMATCH: ("The plan names stems that are not in the session.",
                              "Use the plan with the session it was written for."),
    ErrorCode.SESSION_IN_OUTPUT: ("A batch session lies inside the output folder.",
                                  "Keep the sessions and the output folder apart."),
    ErrorCode.SILENT_MIX: ("The rendered mix is silent.", "Check the stems and the plan's gain_db and mute fields."),
    ErrorCode.STALE_ANALYSIS: ("The analysis does not match the session's stems.", "Analyse the session again."),
    ErrorCode.UNKNOWN_SOURCE: ("A rule cites a source key that is not listed in workbench/sources.py.",
                               "Add the source there or correct the key (a bug in the workbench: report it)."),
    ErrorCode.UNKNOWN_STEM: ("A stem name that is not in the session or plan.", "Use one of the names listed."),
    ErrorCode.UNKNOWN_VARIANT: ("An A/B version name that is not one of the listed versions.",
                                "Use one of the names listed."),
    ErrorCode.UNREADABLE_FOLDER: ("The folder cannot be listed (permissions).", "Check the folder's permissions."),
    ErrorCode.VERSION_MISMATCH: ("A batch worker runs another version of the workbench.",
                                 "Install the same version on every worker machine."),
    ErrorCode.WRITE_FAILED: ("An output file could not be written.", "Check the disk and the folder's permissions."),
    ErrorCode.WRONG_LENGTH: ("The rendered mix has another length than the plan expects.",
                             "Check the plan's frames and sample_rate (0 frames = the stems' length)."),
}


class WorkbenchError(Exception):
    """A user-facing error with a stable ``code`` and a plain-words ``fix``.

    Parameters
    ----------
    code : str or ErrorCode
        One of :class:`ErrorCode` (e.g. ``"no_folder"``).
    message : str
        What went wrong, naming the file or value involved.
    fix : str
        What the user can do about it.

    Raises
    ------
    ValueError
        When ``code`` is not in :class:`ErrorCode` (a bug: ``tests/test_errors.py``
        checks every code the package raises).
    """

    def __init__(self, code: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()

    def __reduce__(self):
        # Picklable with all three fields (e.g. raised in a worker process).
        return (type(self), (self.code, self.message, self.fix))


class ParameterError(WorkbenchError, ValueError):
    """A bad argument to a public function: names the parameter, the value and the valid range.

    Also a ``ValueError``, so code that catches ``ValueError`` keeps working.

    Parameters
    ----------
    message : str
        Names the parameter, the value found and what it accepts.
    fix : str, optional
    code : ErrorCode, optional
        ``bad_argument`` by default; ``bad_audio`` for audio arrays.
    """

    def __init__(self, message: str, fix: str = "", *, code: str = ErrorCode.BAD_ARGUMENT) -> None:
        super().__init__(code, message, fix)

    def __reduce__(self):
        return (_rebuild_parameter_error, (self.message, self.fix, str(self.code)))


def _rebuild_parameter_error(message: str, fix: str, code: str) -> ParameterError:
    return ParameterError(message, fix, code=code)


def markdown_table() -> str:
    """The table of :data:`ERROR_TABLE` as Markdown (what ``docs/errors.md`` holds)."""
    rows = ["| code | meaning | the fix |", "|---|---|---|"]
    rows += [f"| `{code}` | {meaning} | {fix} |" for code, (meaning, fix) in ERROR_TABLE.items()]
    return "\n".join(rows) + "\n"
