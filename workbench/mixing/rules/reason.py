"""Structured reasons: what was measured, which rule decided, which sources it follows.

Every rule returns its decision with a :class:`Reason`. The prose a report
shows ("−2.1 dB bell at 250 Hz: masks Lead Vocal 38% of its active time...")
is rendered from it (:attr:`Reason.text`), so a test or a notebook can read
the numbers themselves (``reason.measured["time_share"]``) instead of parsing
the sentence. Sources are keys of :data:`workbench.sources.SOURCES`.

Templates use :meth:`str.format` fields over ``measured`` plus two format
specs of our own: ``{freq:hz}`` writes a frequency as "250 Hz" / "2.5 kHz",
and ``{x:lu}`` a level step as "+1.5 LU".
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...sources import cite


def fmt_hz(f: float) -> str:
    """A frequency as the reports write it: ``"250 Hz"``, ``"2.5 kHz"``."""
    return f"{f / 1000:.1f} kHz" if f >= 1000 else f"{f:.0f} Hz"


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "hz":
            return fmt_hz(float(value))
        return super().format_field(value, format_spec)


_FORMAT = _Formatter()


@dataclass(frozen=True)
class Reason:
    """Why a rule decided what it did.

    Attributes
    ----------
    rule : str
        Which rule and which branch of it decided (``"eq.highpass.lowered"``).
    measured : Mapping
        What the rule read or derived, by name with units in the name
        (``{"content_hz": 62.4, "cutoff_hz": 43.7}``); text values for names.
    sources : tuple of str
        Keys of :data:`workbench.sources.SOURCES` the rule follows.
    template : str
        The sentence, with ``{name}`` fields over ``measured``.

    Examples
    --------
    >>> r = Reason("eq.highpass.usual", {"freq_hz": 90.0, "category": "Guitar"},
    ...            ("owsinski_handbook",), "high-pass at {freq_hz:hz}: usual for {category}")
    >>> r.text
    'high-pass at 90 Hz: usual for Guitar'
    """

    rule: str
    measured: Mapping[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    template: str = ""

    def __post_init__(self) -> None:
        # each source once, in the order given; every key must be listed in workbench.sources
        object.__setattr__(self, "sources", cite(*dict.fromkeys(self.sources)))
        self.text                  # noqa: B018 — a template that does not render fails here, not in a report

    @property
    def text(self) -> str:
        """The reason in words, rendered from :attr:`template` and :attr:`measured`."""
        return _FORMAT.format(self.template, **self.measured)

    def __str__(self) -> str:
        return self.text

    def extended(self, template_tail: str, **measured: Any) -> "Reason":
        """The same reason with a clause appended (and the values it reads)."""
        return Reason(self.rule, {**self.measured, **measured}, self.sources, self.template + template_tail)
