"""Mixing Workbench: an open-source, offline, explainable automatic mixing workbench.

The flow runs one way: stems on disk → :func:`load_session` (checks) →
analysis → mix plan → render and export → presentation.
"""

from .checks import Finding
from .errors import WorkbenchError
from .session import IMPORTANCE_LEVELS, Session, Stem, load_session

__version__ = "0.1.0"

__all__ = ["Finding", "IMPORTANCE_LEVELS", "Session", "Stem", "WorkbenchError", "load_session"]
