"""Widgets for notebooks and the Voila dashboard (ipywidgets 8). No mixing logic here.

Components (each has ``.widget`` and displays itself in a notebook):

- :class:`StemTable` — per stem: name, player, category (autodetect pre-selected,
  confidence shown), importance, findings as badges with their fixes;
- :class:`FindingsPanel` — the verdict, session-wide findings, notices;
- :class:`MixPanel` — Generate preview / Render full mix, progress bar, status,
  "out of date" after any change;
- :class:`ABPlayers` — plain sum, automix, and each stage bypassed, same section,
  same loudness;
- :class:`MaskingView`, :class:`SpectrogramView`, :class:`DecisionTable`;
- :class:`Downloads` — links to the mix, preview, DAWproject, Ableton set, plan, report;
- :class:`Workbench` — all of them around one :class:`WorkbenchModel`;
  ``Workbench.dashboard()`` is the Voila dashboard.

Every widget carries ``wb-*`` CSS classes (stable selectors for tests and styling).
"""

from .app import Workbench
from .downloads import Downloads
from .files import UploadLimits, WorkFolder, sample_stems_dir, sanitise_upload_name, save_uploads, stem_excerpt_wav
from .mix import ABPlayers, MixPanel
from .model import AB_VARIANTS, Variant, WorkbenchModel, render_ab
from .stems import FindingsPanel, StemTable
from .views import DecisionTable, MaskingView, SpectrogramView

__all__ = ["AB_VARIANTS", "ABPlayers", "DecisionTable", "Downloads", "FindingsPanel", "MaskingView", "MixPanel",
           "SpectrogramView", "StemTable", "UploadLimits", "Variant", "WorkFolder", "Workbench", "WorkbenchModel",
           "render_ab", "sample_stems_dir", "sanitise_upload_name", "save_uploads", "stem_excerpt_wav"]
