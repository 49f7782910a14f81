"""The mix plan: every decision as plain, serialisable data with its reason.

A :class:`MixPlan` is what :func:`workbench.plan_mix` decides and the only thing
the renderer and the exporters read. It round-trips through JSON
(:meth:`MixPlan.to_json` / :meth:`MixPlan.from_json`) so that a user can save it,
edit it by hand and render the identical mix again. Stem names are the JSON keys
and every field name carries its unit.

Because a plan may be edited by hand, every part checks itself when it is made
(and :meth:`MixPlan.validate` checks the whole again): types (a JSON
``"false"`` is a string, not a boolean; ``null`` is not a number), finite
numbers, each field's range, and the plan's own consistency. A problem is a
:class:`PlanError` (a :class:`~workbench.errors.WorkbenchError`, code
``bad_plan``) naming the field by its path in the JSON
(``stems["Bass"].compressor.attack_ms``), the value found, the valid range and
the fix. :meth:`MixPlan.check_session` checks that a plan fits the stems it is
rendered with.
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
import os
from dataclasses import MISSING as dataclass_missing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import WorkbenchError
from .settings import BIT_DEPTHS, CEILING_DBTP_RANGE, SAMPLE_RATES, TARGET_LUFS_RANGE

if TYPE_CHECKING:
    from ..session import Session

PLAN_VERSION = 2
#: Plan versions this workbench reads: version 1 plans (before the master EQ and width of
#: reference mode) load with a flat master EQ, width 1 and no mono low end — what they rendered.
READABLE_VERSIONS = (1, 2)

EQKind = Literal["highpass", "lowpass", "bell", "low_shelf", "high_shelf"]
EQ_KINDS = ("highpass", "lowpass", "bell", "low_shelf", "high_shelf")

#: Stages that can be bypassed for A/B listening (DESIGN §8).
STAGES = ("gain", "eq", "compression", "panning", "reverb", "master")


# ---------------------------------------------------------------- validation
#
# Every part of a plan checks itself when it is made, and :meth:`MixPlan.validate`
# checks the whole again (code may change a field after construction). The
# ranges are wide enough for every decision the planner makes and any sensible
# hand edit, and narrow enough that no accepted value can overflow the audio,
# blow up memory (a pre-delay line is allocated in full) or mean "off" in a way
# the renderer does not understand. They are our engineering choices unless a
# source is named.

#: Stem input gain (dB). The planner stays within ±40 dB (``rules/gain.py``);
#: below −100 dB a stem is inaudible after any master gain: use ``"mute": true``.
GAIN_DB_RANGE = (-100.0, 60.0)
#: EQ centre/corner frequency (Hz): the audible range (the renderer keeps it below 0.49 × the rate).
EQ_FREQ_HZ_RANGE = (10.0, 22000.0)
#: EQ band gain (dB): more than any corrective or unmasking move (the planner cuts ≤ 12 dB).
EQ_GAIN_DB_RANGE = (-30.0, 30.0)
EQ_Q_RANGE = (0.1, 20.0)
EQ_SLOPES = (6, 12, 24)
#: EQ bands per stem: each is a biquad run on every sample.
MAX_EQ_BANDS = 32
#: Compressor threshold (dBFS at its input, after the stem gain, which may exceed 0 dBFS in float).
THRESHOLD_DB_RANGE = (-100.0, 60.0)
#: Compressor ratio: 1 is off; above 100:1 is a limiter in all but name.
RATIO_RANGE = (1.0, 100.0)
ATTACK_MS_RANGE = (0.01, 1000.0)
RELEASE_MS_RANGE = (1.0, 10000.0)
MAKEUP_DB_RANGE = (-30.0, 30.0)
#: Reverb send and return level (dB); ``null`` send means no send.
SEND_DB_RANGE = (-100.0, 12.0)
RETURN_DB_RANGE = (-100.0, 12.0)
#: Reverb pre-delay (ms): the delay line holds this much audio per channel.
PREDELAY_MS_RANGE = (0.0, 500.0)
#: Reverb return filters (Hz): 0 switches a filter off.
REVERB_FILTER_HZ_RANGE = (0.0, 48000.0)
#: Master width (side gain): 0 folds the mix to mono, 1 leaves it, up to 2 (+6 dB of side).
MASTER_WIDTH_RANGE = (0.0, 2.0)
#: Master mono-low-end corner (Hz): 0 is off; above 300 Hz it would fold more than the low end.
MONO_BELOW_HZ_RANGE = (0.0, 300.0)
#: Longest song a plan may describe (s): 6 hours.
MAX_DURATION_S = 6 * 3600.0
#: Output channels a stem may be worked in (1: folded to mono, 2: stereo).
STEM_CHANNELS = (1, 2)

#: Keys a newer workbench may write into a plan that this one ignores safely:
#: they describe a decision (its role, a comment), they do not change the sound.
#: Any other unknown key is refused: it is most likely a misspelt field, and an
#: edit silently dropped is worse than an error.
FORWARD_KEYS: dict[str, frozenset[str]] = {
    "MixPlan": frozenset({"workbench_version", "created", "comment", "title", "settings"}),
    "StemPlan": frozenset({"role", "role_reason", "role_confidence", "comment", "color", "colour"}),
    "EQBand": frozenset({"comment", "rule", "source"}),
    "Compressor": frozenset({"comment", "rule", "source"}),
    "ReverbBus": frozenset({"comment", "rule", "source"}),
    "MasterPlan": frozenset({"comment", "rule", "source"}),
}

_REDO = "or write the plan again with `workbench mix` (without --plan)"


class PlanError(WorkbenchError):
    """A plan field that is missing, of the wrong type or out of range (code ``bad_plan``).

    Attributes
    ----------
    path : str
        Where the field is, as in the JSON: ``stems["Bass"].compressor.attack_ms``.
    value : object
        The value found (``None`` for JSON ``null`` or a missing field).
    valid : str
        What the field accepts, in words (``"a number from 0.01 to 1000 ms"``).
    """

    def __init__(self, path: str, value: Any, valid: str, fix: str = "", *, problem: str = "") -> None:
        self.path, self.value, self.valid, self.problem = path, value, valid, problem
        shown = problem or f"is {_show(value)}"
        super().__init__("bad_plan", f"The plan's {path} {shown}; it must be {valid}.",
                         fix or f"Set {path} to {valid} in the plan, {_REDO}.")

    def rerooted(self, old: str, new: str) -> "PlanError":
        """The same error with the path's leading ``old`` (a class name) replaced by ``new``."""
        if not self.path.startswith(old):
            return self
        path = (new + self.path[len(old):]) if new else self.path[len(old):].lstrip(".")
        fix = self.fix.replace(self.path, path)
        return PlanError(path, self.value, self.valid, fix, problem=self.problem)

    def __reduce__(self):
        return (_rebuild_plan_error, (self.path, self.value, self.valid, self.fix, self.problem))


def _rebuild_plan_error(path, value, valid, fix, problem):
    return PlanError(path, value, valid, fix, problem=problem)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return {math.inf: "Infinity", -math.inf: "-Infinity"}.get(value, "NaN")
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_eq(where: str, eq: Any) -> None:
    """An EQ list (a stem's or the master's): a list of at most :data:`MAX_EQ_BANDS` valid bands."""
    _instance(where, "eq", eq, list)
    if len(eq) > MAX_EQ_BANDS:
        raise PlanError(_join(where, "eq"), f"{len(eq)} bands", f"at most {MAX_EQ_BANDS} bands",
                        problem=f"has {len(eq)} bands")
    for i, band in enumerate(eq):
        _instance(where, f"eq[{i}]", band, EQBand)
        band._check(_join(where, f"eq[{i}]"))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(where: str, name: str, value: Any, bounds: tuple[float, float], unit: str = "", *,
            none_ok: bool = False, none_means: str = "") -> None:
    """Refuse ``value`` unless it is a finite real number within ``bounds`` (or ``None`` if allowed)."""
    lo, hi = bounds
    valid = f"a number from {lo:g} to {hi:g}{' ' + unit if unit else ''}"
    if none_ok:
        valid += f", or null ({none_means})"
    path = _join(where, name)
    if value is None:
        if none_ok:
            return
        raise PlanError(path, value, valid,
                        f"Write a number for {path}: null is what the plan writer puts for a value that "
                        f"was not finite (NaN or infinity), {_REDO}.")
    if not _is_number(value):
        raise PlanError(path, value, valid, f"Write {path} as a plain number without quotes, e.g. {lo:g}.",
                        problem=f"is {_show(value)}, not a number")
    if not math.isfinite(value):
        raise PlanError(path, value, valid, f"Set {path} to a finite number, {_REDO}.")
    if not lo <= value <= hi:
        raise PlanError(path, value, valid)


def _integer(where: str, name: str, value: Any, allowed: tuple[int, ...] | None = None,
             bounds: tuple[int, int] | None = None) -> None:
    """Refuse ``value`` unless it is a whole number (one of ``allowed``, or within ``bounds``)."""
    path = _join(where, name)
    if allowed is not None:
        valid = "one of " + ", ".join(str(a) for a in allowed)
    else:
        assert bounds is not None
        valid = f"a whole number from {bounds[0]} to {bounds[1]}"
    whole = (_is_number(value) and math.isfinite(value) and float(value).is_integer())
    if not whole:
        raise PlanError(path, value, valid, f"Write {path} as a whole number without quotes.",
                        problem=f"is {_show(value)}, not a whole number")
    if allowed is not None and int(value) not in allowed:
        raise PlanError(path, value, valid)
    if bounds is not None and not bounds[0] <= int(value) <= bounds[1]:
        raise PlanError(path, value, valid)


def _flag(where: str, name: str, value: Any) -> None:
    """Refuse anything but a real boolean (a JSON ``"false"`` is a non-empty, truthy string)."""
    if not isinstance(value, bool):
        path = _join(where, name)
        raise PlanError(path, value, "true or false",
                        f"Write {path} as true or false, without quotes.")


def _text(where: str, name: str, value: Any, *, none_ok: bool = False,
          choices: tuple[str, ...] | None = None) -> None:
    path = _join(where, name)
    if value is None and none_ok:
        return
    if choices is not None:
        if not isinstance(value, str) or value not in choices:
            valid = "one of " + ", ".join(f'"{c}"' for c in choices) + (" or null" if none_ok else "")
            raise PlanError(path, value, valid)
        return
    if not isinstance(value, str):
        raise PlanError(path, value, "text" + (" or null" if none_ok else ""),
                        f"Write {path} as text in double quotes.")


def _instance(where: str, name: str, value: Any, cls: type, *, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if not isinstance(value, cls):
        path = _join(where, name)
        raise PlanError(path, value, f"a {cls.__name__}" + (" or null" if none_ok else ""),
                        f"Give {path} as an object with the fields of a plan written by `workbench mix`.",
                        problem=f"is a {type(value).__name__}")


def _whole(obj: Any, name: str) -> None:
    """Store an integral float (44100.0) as the int it stands for."""
    value = getattr(obj, name)
    if not isinstance(value, int):
        object.__setattr__(obj, name, int(value))


# ---------------------------------------------------------------- the plan
@dataclass
class EQBand:
    """One EQ band.

    ``highpass``/``lowpass`` use ``slope_db_per_oct`` (6, 12 or 24) and ignore
    ``gain_db``; ``bell`` uses ``gain_db`` and ``q``; shelves use ``gain_db`` and
    ``q`` (0.707 = no overshoot).

    Raises
    ------
    PlanError
        When a field is of the wrong type or out of range (see the ``*_RANGE`` constants).
    """

    kind: str
    freq_hz: float
    gain_db: float = 0.0
    q: float = 0.707
    slope_db_per_oct: int = 12
    reason: str = ""

    def __post_init__(self) -> None:
        self._check("EQBand")

    def _check(self, where: str) -> None:
        _text(where, "kind", self.kind, choices=EQ_KINDS)
        _number(where, "freq_hz", self.freq_hz, EQ_FREQ_HZ_RANGE, "Hz")
        _number(where, "gain_db", self.gain_db, EQ_GAIN_DB_RANGE, "dB")
        _number(where, "q", self.q, EQ_Q_RANGE)
        _integer(where, "slope_db_per_oct", self.slope_db_per_oct, EQ_SLOPES)
        _whole(self, "slope_db_per_oct")
        _text(where, "reason", self.reason)


@dataclass
class Compressor:
    """A feed-forward compressor; ``ratio`` 1.0 means off.

    Raises
    ------
    PlanError
        When a field is of the wrong type or out of range.
    """

    threshold_db: float
    ratio: float
    attack_ms: float
    release_ms: float
    makeup_db: float = 0.0
    reason: str = ""

    def __post_init__(self) -> None:
        self._check("Compressor")

    def _check(self, where: str) -> None:
        _number(where, "threshold_db", self.threshold_db, THRESHOLD_DB_RANGE, "dB")
        _number(where, "ratio", self.ratio, RATIO_RANGE, "(1 is off)")
        _number(where, "attack_ms", self.attack_ms, ATTACK_MS_RANGE, "ms")
        _number(where, "release_ms", self.release_ms, RELEASE_MS_RANGE, "ms")
        _number(where, "makeup_db", self.makeup_db, MAKEUP_DB_RANGE, "dB")
        _text(where, "reason", self.reason)

    @property
    def active(self) -> bool:
        return self.ratio > 1.0


@dataclass
class StemPlan:
    """Every decision for one stem, each with its reason.

    ``gain_db`` is applied first (at the stem's input), then EQ, compression,
    pan; the reverb send is taken post-fader (after gain, EQ and compression,
    before pan) at ``reverb_send_db`` relative to the stem. ``role`` is what the
    part does in the song (:mod:`workbench.mixing.rules.roles`) and
    ``importance_reason`` says whether the importance was the user's or a
    suggestion, and why; neither changes the render.

    Raises
    ------
    PlanError
        When a field is of the wrong type or out of range.
    """

    file: str
    category: str | None
    importance: str
    gain_db: float
    gain_reason: str
    pan: float = 0.0
    width: float = 1.0
    pan_reason: str = ""
    eq: list[EQBand] = field(default_factory=list)
    compressor: Compressor | None = None
    reverb_send_db: float | None = None
    reverb_reason: str = ""
    mute: bool = False
    channels: int = 2
    role: str = ""
    role_reason: str = ""
    importance_reason: str = ""

    def __post_init__(self) -> None:
        self._check("StemPlan")

    def _check(self, where: str) -> None:
        from .. import categories
        from ..importance import IMPORTANCE_LEVELS

        _text(where, "file", self.file)
        if not self.file.strip():
            raise PlanError(_join(where, "file"), self.file, "the stem's file name")
        _text(where, "category", self.category, none_ok=True)
        if self.category is not None and categories.canonical(self.category) is None:
            raise PlanError(_join(where, "category"), self.category,
                            "one of " + ", ".join(categories.CATEGORY_NAMES) + " or null")
        _text(where, "importance", self.importance, choices=IMPORTANCE_LEVELS)
        _number(where, "gain_db", self.gain_db, GAIN_DB_RANGE, "dB")
        _text(where, "gain_reason", self.gain_reason)
        _number(where, "pan", self.pan, (-1.0, 1.0), "(−1 left, 0 centre, 1 right)")
        _number(where, "width", self.width, (0.0, 1.0), "(0 mono, 1 as recorded)")
        _text(where, "pan_reason", self.pan_reason)
        _check_eq(where, self.eq)
        _instance(where, "compressor", self.compressor, Compressor, none_ok=True)
        if self.compressor is not None:
            self.compressor._check(_join(where, "compressor"))
        _number(where, "reverb_send_db", self.reverb_send_db, SEND_DB_RANGE, "dB", none_ok=True,
                none_means="no send")
        _text(where, "reverb_reason", self.reverb_reason)
        for name in ("role", "role_reason", "importance_reason"):
            _text(where, name, getattr(self, name))
        _flag(where, "mute", self.mute)
        _integer(where, "channels", self.channels, STEM_CHANNELS)
        _whole(self, "channels")


@dataclass
class ReverbBus:
    """The one reverb return all stems send to (pedalboard's Freeverb-style reverb).

    Raises
    ------
    PlanError
        When a field is of the wrong type or out of range.
    """

    room_size: float = 0.5
    damping: float = 0.5
    width: float = 1.0
    predelay_ms: float = 20.0
    highpass_hz: float = 300.0
    lowpass_hz: float = 8000.0
    return_db: float = 0.0
    reason: str = ""

    def __post_init__(self) -> None:
        self._check("ReverbBus")

    def _check(self, where: str) -> None:
        _number(where, "room_size", self.room_size, (0.0, 1.0))
        _number(where, "damping", self.damping, (0.0, 1.0))
        _number(where, "width", self.width, (0.0, 1.0))
        _number(where, "predelay_ms", self.predelay_ms, PREDELAY_MS_RANGE, "ms")
        _number(where, "highpass_hz", self.highpass_hz, REVERB_FILTER_HZ_RANGE, "Hz (0 is off)")
        _number(where, "lowpass_hz", self.lowpass_hz, REVERB_FILTER_HZ_RANGE, "Hz (0 is off)")
        _number(where, "return_db", self.return_db, RETURN_DB_RANGE, "dB")
        _text(where, "reason", self.reason)


@dataclass
class MasterPlan:
    """The master bus: glue compression, tonal EQ and width, loudness target and true-peak ceiling.

    The bus runs glue → ``eq`` → ``width`` (mid/side side gain) → mono low end (the side
    signal high-passed at ``mono_below_hz``, 0 = off) → loudness gain → limiter → dither.
    ``eq``, ``width``, ``mono_below_hz`` and ``width_reason`` are what reference mode and
    styles decide (:mod:`workbench.mixing.reference_match`); ``target`` says what the mix
    was moved toward (empty: the rules' own mix).

    ``target_lufs``, ``ceiling_dbtp``, ``bit_depth`` and ``sample_rate`` accept
    what :class:`~workbench.mixing.settings.MixSettings` accepts.

    Raises
    ------
    PlanError
        When a field is of the wrong type or out of range.
    """

    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    glue: Compressor | None = None
    bit_depth: int = 16
    sample_rate: int = 44100
    dither: bool = True
    reason: str = ""
    #: Recorded by the render that wrote this plan (``None`` before a render):
    #: the gain (dB) it applied before the limiter to reach ``target_lufs``,
    #: and the ceiling (dB) its limiter ran at (below ``ceiling_dbtp`` by the
    #: renderer's safety margin). The renderer measures them again and does not
    #: read them; the exporters and :func:`~workbench.mixing.render.master_stems`
    #: do, so that the processed stems and the DAW projects play like the mix.
    rendered_gain_db: float | None = None
    rendered_limiter_ceiling_db: float | None = None
    eq: list[EQBand] = field(default_factory=list)
    width: float = 1.0
    mono_below_hz: float = 0.0
    width_reason: str = ""
    target: str = ""

    def __post_init__(self) -> None:
        self._check("MasterPlan")

    def _check(self, where: str) -> None:
        _number(where, "target_lufs", self.target_lufs, TARGET_LUFS_RANGE, "LUFS")
        _number(where, "ceiling_dbtp", self.ceiling_dbtp, CEILING_DBTP_RANGE, "dBTP")
        _instance(where, "glue", self.glue, Compressor, none_ok=True)
        if self.glue is not None:
            self.glue._check(_join(where, "glue"))
        _integer(where, "bit_depth", self.bit_depth, BIT_DEPTHS)
        _whole(self, "bit_depth")
        _integer(where, "sample_rate", self.sample_rate, SAMPLE_RATES)
        _whole(self, "sample_rate")
        _flag(where, "dither", self.dither)
        _text(where, "reason", self.reason)
        _number(where, "rendered_gain_db", self.rendered_gain_db, (-60.0, 60.0), "dB", none_ok=True,
                none_means="not rendered yet")
        _number(where, "rendered_limiter_ceiling_db", self.rendered_limiter_ceiling_db, (-40.0, 0.0), "dB",
                none_ok=True, none_means="not rendered yet")
        _check_eq(where, self.eq)
        _number(where, "width", self.width, MASTER_WIDTH_RANGE, "(0 mono, 1 unchanged)")
        _number(where, "mono_below_hz", self.mono_below_hz, MONO_BELOW_HZ_RANGE, "Hz (0 is off)")
        _text(where, "width_reason", self.width_reason)
        _text(where, "target", self.target)


@dataclass(frozen=True)
class TempoGrid:
    """The song's tempo and first downbeat, measured from the audio (or set by the user).

    Not a mixing decision: the exporters write it so that a DAW's bar grid
    lines up with the music (:mod:`workbench.tempo`).

    Attributes
    ----------
    bpm : float
        Tempo in beats per minute.
    downbeat_s : float
        Time (seconds from the start of the stems) of a downbeat (beat 1 of a bar).
    beats_per_bar : int
        Beats in a bar (4: the beat tracker does not measure the metre).
    confident : bool
        False when the beat tracker was unsure (irregular beats, or its tempo
        and the beats' spacing disagree): check the tempo, or set it.
    source : str
        ``"audio"`` (measured) or ``"user"`` (``--bpm``).
    reason : str
        How it was found, in plain words.
    """

    bpm: float
    downbeat_s: float = 0.0
    beats_per_bar: int = 4
    confident: bool = True
    source: str = "audio"
    reason: str = ""

    def __post_init__(self) -> None:
        self._check("TempoGrid")

    def _check(self, where: str) -> None:
        _number(where, "bpm", self.bpm, (20.0, 999.0), "bpm")
        _number(where, "downbeat_s", self.downbeat_s, (0.0, 86400.0), "s")
        _integer(where, "beats_per_bar", self.beats_per_bar, bounds=(1, 32))
        _flag(where, "confident", self.confident)
        _text(where, "source", self.source)
        _text(where, "reason", self.reason)


@dataclass
class MixPlan:
    """The whole mix: one :class:`StemPlan` per stem (in session order), the reverb bus and master.

    ``frames`` is the song's length at ``sample_rate`` (0: the stems' length);
    it does not follow an edited ``sample_rate``, so :meth:`check_session`
    refuses a plan whose length no longer matches its stems.

    Raises
    ------
    PlanError
        When a field (or a field of a part) is of the wrong type or out of
        range, or ``master.sample_rate`` differs from ``sample_rate``.
    """

    stems: dict[str, StemPlan]
    reverb: ReverbBus
    master: MasterPlan
    sample_rate: int = 44100
    frames: int = 0
    folder: str = ""
    notes: list[str] = field(default_factory=list)
    version: int = PLAN_VERSION
    #: Tempo and downbeat for the DAW projects' grid (``None``: not measured).
    grid: TempoGrid | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> "MixPlan":
        """Check every field of the plan and its parts again (after an edit in code); returns the plan.

        Raises
        ------
        PlanError
            Naming the first field found wrong by its JSON path.
        """
        _integer("", "version", self.version, READABLE_VERSIONS)
        _instance("", "stems", self.stems, dict)
        if not self.stems:
            raise PlanError("stems", self.stems, "at least one stem", problem="is empty")
        for name, stem in self.stems.items():
            if not isinstance(name, str) or not name.strip():
                raise PlanError("stems", name, "stem names as non-empty text",
                                problem=f"has a stem named {_show(name)}")
            where = _stem_path(name)
            if not isinstance(stem, StemPlan):
                raise PlanError(where, stem, "a StemPlan", problem=f"is a {type(stem).__name__}")
            stem._check(where)
        _instance("", "reverb", self.reverb, ReverbBus)
        self.reverb._check("reverb")
        _instance("", "master", self.master, MasterPlan)
        self.master._check("master")
        _integer("", "sample_rate", self.sample_rate, SAMPLE_RATES)
        _whole(self, "sample_rate")
        if self.master.sample_rate != self.sample_rate:
            raise PlanError("master.sample_rate", self.master.sample_rate,
                            f"equal to the plan's sample_rate ({self.sample_rate})",
                            f"Set master.sample_rate and sample_rate to the same rate; if you changed the "
                            f"rate, set frames to 0 (the stems' length) or rescale it too, {_REDO}.")
        _integer("", "frames", self.frames, bounds=(0, int(MAX_DURATION_S * self.sample_rate)))
        _whole(self, "frames")
        _text("", "folder", self.folder)
        _instance("", "notes", self.notes, list)
        for i, note in enumerate(self.notes):
            _text("", f"notes[{i}]", note)
        return self

    def check_session(self, session: "Session") -> None:
        """Refuse a plan that does not fit ``session``'s stems.

        Raises
        ------
        WorkbenchError
            ``plan_mismatch`` when a plan stem is not in the session;
            ``bad_plan`` when ``frames`` is not the stems' length at the plan's
            ``sample_rate`` (e.g. ``sample_rate`` edited without ``frames``);
            ``nothing_to_mix`` when every stem of the plan is muted.
        """
        self.validate()
        names = {s.name for s in session.stems} | {s.file for s in session.stems}
        missing = [n for n, s in self.stems.items() if n not in names and s.file not in names]
        if missing:
            raise WorkbenchError(
                "plan_mismatch",
                f"The plan names stem(s) that are not in the session in {session.folder}: "
                f"{', '.join(repr(n) for n in missing)}. The session has: "
                f"{', '.join(repr(s.name) for s in session.stems)}.",
                "Render the plan with the stems it was made for, or plan the mix again for these stems.")
        if all(s.mute for s in self.stems.values()):
            raise WorkbenchError("nothing_to_mix", "Every stem of the plan is muted: the mix would be silent.",
                                 'Set "mute": false for at least one stem in the plan.')
        expected = int(round(session.frames * self.sample_rate / session.sample_rate))
        if self.frames and abs(self.frames - expected) > 1:
            raise PlanError(
                "frames", self.frames, f"the stems' length at {self.sample_rate} Hz ({expected}), or 0",
                f'Set "frames" to {expected} (or to 0: the stems\' length). A plan\'s frames count samples '
                f"at its sample_rate, so changing sample_rate means rescaling frames too.",
                problem=(f"is {self.frames} ({self.frames / self.sample_rate:.2f} s at {self.sample_rate} Hz) "
                         f"but the stems run {session.duration_s:.2f} s"))

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return _json_safe(d)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """Serialise to readable JSON (stem names as keys, units in field names).

        When ``path`` is given the file is written atomically.
        """
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            from ..audio_io import atomic_path

            with atomic_path(path) as tmp:
                tmp.write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, d: Any) -> "MixPlan":
        """Build a plan from parsed JSON, checking every field.

        Raises
        ------
        PlanError
            (code ``bad_plan``) naming the first field that is missing, unknown,
            of the wrong type or out of range, by its JSON path.
        """
        _mapping("the plan", d)
        version = d.get("version", PLAN_VERSION)
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            raise PlanError("version", version, f"one of {', '.join(map(str, READABLE_VERSIONS))} (this workbench "
                            f"reads plans of these versions)", "Write the plan again with this workbench's "
                            "`workbench mix`.")
        _mapping("stems", d.get("stems"))
        stems = {}
        for name, s in d["stems"].items():
            where = _stem_path(name)
            _mapping(where, s)
            s = dict(s)
            eq = s.get("eq", [])
            if not isinstance(eq, list):
                raise PlanError(f"{where}.eq", eq, "a list of EQ bands ([] for none)",
                                problem=f"is {_show(eq)}")
            s["eq"] = [_make(EQBand, b, f"{where}.eq[{i}]") for i, b in enumerate(eq)]
            comp = s.get("compressor")
            s["compressor"] = None if comp is None else _make(Compressor, comp, f"{where}.compressor")
            stems[name] = _make(StemPlan, s, where)
        _mapping("master", d.get("master"))
        master = dict(d["master"])
        glue = master.get("glue")
        master["glue"] = None if glue is None else _make(Compressor, glue, "master.glue")
        meq = master.get("eq", [])
        if not isinstance(meq, list):
            raise PlanError("master.eq", meq, "a list of EQ bands ([] for none)", problem=f"is {_show(meq)}")
        master["eq"] = [_make(EQBand, b, f"master.eq[{i}]") for i, b in enumerate(meq)]
        grid = d.get("grid")
        parts = {"stems": stems, "reverb": _make(ReverbBus, d.get("reverb"), "reverb"),
                 "master": _make(MasterPlan, master, "master"),
                 "grid": None if grid is None else _make(TempoGrid, grid, "grid")}
        # An older plan is read as this version: its new fields take their neutral defaults.
        return cls(**_known(cls, {**d, **parts, "version": PLAN_VERSION}, ""))

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> "MixPlan":
        """Load a plan from a JSON file path or a JSON string.

        Raises
        ------
        WorkbenchError
            ``bad_plan`` when the file cannot be read, is not JSON, or a field is wrong.
        """
        if isinstance(source, bytes) or not isinstance(source, (str, os.PathLike)):
            raise WorkbenchError("bad_plan", f"A plan is given as a path or a JSON string, not {_show(source)}.",
                                 "Pass the path of a plan.json written by `workbench mix`.")
        text = str(source) if isinstance(source, str) else ""
        if not text.lstrip().startswith("{"):
            try:
                text = Path(source).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                why = getattr(exc, "strerror", None) or "it is not UTF-8 text"
                raise WorkbenchError("bad_plan", f"Cannot read the plan file {source}: {why}.",
                                     "Give the path of a plan.json written by `workbench mix`.") from None
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise WorkbenchError("bad_plan", f"The plan is not valid JSON ({exc.msg}, line {exc.lineno}).",
                                 "Fix the JSON syntax, or write the plan again with `workbench mix`.") from None
        except RecursionError:
            raise WorkbenchError("bad_plan", "The plan is nested too deeply to be a mix plan.",
                                 "Write the plan again with `workbench mix`.") from None

    def decisions(self) -> list[tuple[str, str, str]]:
        """Every decision as ``(where, what, reason)`` rows, for reports and tables."""
        rows: list[tuple[str, str, str]] = []
        for name, s in self.stems.items():
            if s.role:
                rows.append((name, f"role: {s.role}", s.role_reason))
            if s.importance_reason:
                rows.append((name, f"importance {s.importance}", s.importance_reason))
            rows.append((name, f"gain {s.gain_db:+.1f} dB", s.gain_reason))
            for b in s.eq:
                rows.append((name, describe_eq(b), b.reason))
            if s.compressor is not None:
                c = s.compressor
                what = ("no compression" if not c.active else
                        f"compress {c.ratio:.1f}:1 at {c.threshold_db:.1f} dB, "
                        f"{c.attack_ms:g}/{c.release_ms:g} ms")
                rows.append((name, what, c.reason))
            rows.append((name, f"pan {describe_pan(s.pan)}", s.pan_reason))
            send = "no reverb" if s.reverb_send_db is None else f"reverb send {s.reverb_send_db:.1f} dB"
            rows.append((name, send, s.reverb_reason))
        r = self.reverb
        rows.append(("Reverb", f"room {r.room_size:.2f}, pre-delay {r.predelay_ms:g} ms, "
                     f"{r.highpass_hz:g}–{r.lowpass_hz:g} Hz", r.reason))
        m = self.master
        if m.target:
            rows.append(("Master", "mixed toward a target", m.target))
        for b in m.eq:
            rows.append(("Master", describe_eq(b), b.reason))
        if m.width != 1.0 or m.mono_below_hz > 0:
            what = ", ".join(([f"width {m.width:g}"] if m.width != 1.0 else [])
                             + ([f"mono below {m.mono_below_hz:g} Hz"] if m.mono_below_hz > 0 else []))
            rows.append(("Master", what, m.width_reason))
        if m.glue is not None:
            rows.append(("Master", f"glue {m.glue.ratio:.1f}:1 at {m.glue.threshold_db:.1f} dB", m.glue.reason))
        rows.append(("Master", f"{m.target_lufs:g} LUFS, ceiling {m.ceiling_dbtp:g} dBTP", m.reason))
        if m.rendered_gain_db is not None:
            rows.append(("Master", f"gain {m.rendered_gain_db:+.2f} dB before the limiter, limiter ceiling "
                         f"{m.rendered_limiter_ceiling_db:.2f} dB",
                         "measured by the render to reach the loudness target (the projects and the "
                         "processed stems use these numbers)"))
        if self.grid is not None:
            g = self.grid
            rows.append(("Song", f"{g.bpm:g} bpm, downbeat at {g.downbeat_s:.3f} s"
                         + ("" if g.confident else " (unsure)"), g.reason))
        return rows


def describe_eq(b: EQBand) -> str:
    """A short human description of an EQ band ("−2.4 dB bell at 250 Hz")."""
    f = f"{b.freq_hz / 1000:.1f} kHz" if b.freq_hz >= 1000 else f"{b.freq_hz:.0f} Hz"
    if b.kind in ("highpass", "lowpass"):
        return f"{'high' if b.kind == 'highpass' else 'low'}-pass {b.slope_db_per_oct} dB/oct at {f}"
    kind = {"bell": "bell", "low_shelf": "low shelf", "high_shelf": "high shelf"}[b.kind]
    return f"{b.gain_db:+.1f} dB {kind} at {f} (Q {b.q:.1f})"


def describe_pan(pan: float) -> str:
    if abs(pan) < 0.005:
        return "centre"
    return f"{abs(pan) * 100:.0f}% {'left' if pan < 0 else 'right'}"


def _stem_path(name: Any) -> str:
    return f"stems[{json.dumps(name, ensure_ascii=False) if isinstance(name, str) else _show(name)}]"


def _mapping(where: str, value: Any) -> None:
    if not isinstance(value, dict):
        what = "missing" if value is None else f"{_show(value)}, not an object"
        raise PlanError(where, value, "a JSON object ({...}) as `workbench mix` writes it",
                        f"Restore {where} from a plan written by `workbench mix`.", problem=f"is {what}")


def _known(cls: type, d: dict, where: str) -> dict:
    """``d`` without the forward-compatible keys :data:`FORWARD_KEYS` lists; refuse any other unknown key."""
    names = {f.name for f in fields(cls)}
    ignorable = FORWARD_KEYS.get(cls.__name__, frozenset())
    unknown = sorted(str(k) for k in d if k not in names and k not in ignorable)
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, sorted(names), n=1)
            hints.append(f'"{k}"' + (f' (did you mean "{close[0]}"?)' if close else ""))
        raise PlanError(where or "the plan", unknown, "made of the fields " + ", ".join(sorted(names)),
                        f"Remove or correct {', '.join(hints)} in the plan.",
                        problem=f"has unknown field(s) {', '.join(hints)}")
    required = [f.name for f in fields(cls)
                if f.default is dataclass_missing and f.default_factory is dataclass_missing]
    for name in required:
        if name not in d:
            raise PlanError(_join(where, name), None, f"given (a {cls.__name__} needs {', '.join(required)})",
                            f"Add {_join(where, name)} to the plan, {_REDO}.", problem="is missing")
    return {k: v for k, v in d.items() if k in names}


def _make(cls: type, d: Any, where: str) -> Any:
    """``cls(**d)`` with every problem reported at ``where`` (the JSON path of ``d``)."""
    _mapping(where, d)
    try:
        return cls(**_known(cls, d, where))
    except PlanError as exc:
        raise exc.rerooted(cls.__name__, where) from None


def _json_safe(x):
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return None
        return x
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x
