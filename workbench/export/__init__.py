"""Project export: the mix plan as a project a DAW opens, with the stems and every decision.

- :func:`dawproject` — a ``.dawproject`` (the open DAWproject 1.0 format: Bitwig,
  Studio One, Cubase, Cubasis, VST Live, n-Track): tracks, clips, faders, pans,
  built-in EQ and compressor devices, a reverb return with sends, the master
  with glue compressor and limiter. Validated against the published XSD in the tests.
- :func:`ableton` (alias :func:`als`) — an Ableton Live Set (``.als``) for
  Live 11/12, experimental: tracks, clips, faders, pans, the reverb return with
  sends; no devices (the decisions are in ``plan.json`` / ``report.md`` and in
  each track's info text).

Both read every value from the :class:`~workbench.mixing.plan.MixPlan`, copy
the user's stems (never move or modify them), refuse to write over an input
(``WorkbenchError`` ``overwrite_input``) and write atomically.

Example
-------
>>> from workbench import load_session, export                  # doctest: +SKIP
>>> from workbench.analysis import analyse                      # doctest: +SKIP
>>> from workbench.mixing.planner import plan_mix               # doctest: +SKIP
>>> s = load_session("sample_stems"); plan = plan_mix(s, analyse(s))  # doctest: +SKIP
>>> export.dawproject(plan, s, "out/song.dawproject")           # doctest: +SKIP
>>> export.ableton(plan, s, "out/song Project/song.als")        # doctest: +SKIP

Note that ``workbench.export.dawproject`` and ``workbench.export.als`` name the
functions; import the modules' helpers with ``from workbench.export.dawproject
import ratio_to_percent``.
"""

from __future__ import annotations

from .als import write_als
from .dawproject import write_dawproject

dawproject = write_dawproject
ableton = write_als
als = write_als

__all__ = ["ableton", "als", "dawproject", "write_als", "write_dawproject"]
