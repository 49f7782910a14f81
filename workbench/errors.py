"""The one exception family of the workbench.

A problem the user can fix reaches them as a :class:`WorkbenchError` with a
code, a message that says what was found, and a fix in plain words — never as a
bare traceback. Problems with individual stems are :class:`~workbench.checks.Finding`
objects instead, so that one bad stem does not stop the check of the others.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A user-facing error with a stable ``code`` and a plain-words ``fix``.

    Parameters
    ----------
    code : str
        Stable machine-readable code (e.g. ``"no_folder"``).
    message : str
        What went wrong, naming the file or value involved.
    fix : str
        What the user can do about it.
    """

    def __init__(self, code: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()

    def __reduce__(self):
        # Picklable with all three fields (e.g. raised in a worker process).
        return (type(self), (self.code, self.message, self.fix))
