"""The mix plan: every decision as plain, serialisable data with its reason.

A :class:`MixPlan` is what :func:`workbench.plan_mix` decides and the only thing
the renderer and the exporters read. It round-trips through JSON
(:meth:`MixPlan.to_json` / :meth:`MixPlan.from_json`) so that a user can save it,
edit it by hand and render the identical mix again. Stem names are the JSON keys
and every field name carries its unit.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

PLAN_VERSION = 1

EQKind = Literal["highpass", "lowpass", "bell", "low_shelf", "high_shelf"]
EQ_KINDS = ("highpass", "lowpass", "bell", "low_shelf", "high_shelf")

#: Stages that can be bypassed for A/B listening (DESIGN §8).
STAGES = ("gain", "eq", "compression", "panning", "reverb", "master")


@dataclass
class EQBand:
    """One EQ band.

    ``highpass``/``lowpass`` use ``slope_db_per_oct`` (12 or 24) and ignore
    ``gain_db``; ``bell`` uses ``gain_db`` and ``q``; shelves use ``gain_db`` and
    ``q`` (0.707 = no overshoot).
    """

    kind: str
    freq_hz: float
    gain_db: float = 0.0
    q: float = 0.707
    slope_db_per_oct: int = 12
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind not in EQ_KINDS:
            raise ValueError(f"EQ band kind must be one of {EQ_KINDS}, got {self.kind!r}")
        if not 10.0 <= self.freq_hz <= 22000.0:
            raise ValueError(f"EQ freq_hz must be within 10..22000 Hz, got {self.freq_hz}")
        if not 0.1 <= self.q <= 20.0:
            raise ValueError(f"EQ q must be within 0.1..20, got {self.q}")
        if self.kind in ("highpass", "lowpass") and self.slope_db_per_oct not in (6, 12, 24):
            raise ValueError(f"slope_db_per_oct must be 6, 12 or 24, got {self.slope_db_per_oct}")


@dataclass
class Compressor:
    """A feed-forward compressor; ``ratio`` 1.0 means off."""

    threshold_db: float
    ratio: float
    attack_ms: float
    release_ms: float
    makeup_db: float = 0.0
    reason: str = ""

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
        if not -1.0 <= self.pan <= 1.0:
            raise ValueError(f"pan must be within -1..1, got {self.pan}")
        if not 0.0 <= self.width <= 1.0:
            raise ValueError(f"width must be within 0..1, got {self.width}")


@dataclass
class ReverbBus:
    """The one reverb return all stems send to (pedalboard's Freeverb-style reverb)."""

    room_size: float = 0.5
    damping: float = 0.5
    width: float = 1.0
    predelay_ms: float = 20.0
    highpass_hz: float = 300.0
    lowpass_hz: float = 8000.0
    return_db: float = 0.0
    reason: str = ""


@dataclass
class MasterPlan:
    """The master bus: glue compression, loudness target and true-peak ceiling."""

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
        if not 20.0 <= self.bpm <= 999.0:
            raise ValueError(f"tempo bpm must be within 20..999, got {self.bpm}")
        if self.downbeat_s < 0:
            raise ValueError(f"downbeat_s must be >= 0, got {self.downbeat_s}")


@dataclass
class MixPlan:
    """The whole mix: one :class:`StemPlan` per stem (in session order), the reverb bus and master."""

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

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return _json_safe(d)

    def to_json(self, path: str | Path | None = None) -> str:
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
    def from_dict(cls, d: dict[str, Any]) -> "MixPlan":
        from ..errors import WorkbenchError

        try:
            if d.get("version", PLAN_VERSION) != PLAN_VERSION:
                raise ValueError(f"plan version {d.get('version')} is not {PLAN_VERSION}")
            stems = {}
            for name, s in d["stems"].items():
                s = dict(s)
                s["eq"] = [EQBand(**_known(EQBand, b)) for b in s.get("eq", [])]
                s["compressor"] = (Compressor(**_known(Compressor, s["compressor"]))
                                   if s.get("compressor") else None)
                stems[name] = StemPlan(**_known(StemPlan, s))
            master = dict(d["master"])
            master["glue"] = Compressor(**_known(Compressor, master["glue"])) if master.get("glue") else None
            grid = TempoGrid(**_known(TempoGrid, d["grid"])) if d.get("grid") else None
            return cls(stems=stems, reverb=ReverbBus(**_known(ReverbBus, d["reverb"])),
                       master=MasterPlan(**_known(MasterPlan, master)), grid=grid,
                       **{k: d[k] for k in ("sample_rate", "frames", "folder", "notes", "version") if k in d})
        except (KeyError, TypeError, ValueError) as exc:
            raise WorkbenchError("bad_plan", f"The mix plan could not be read: {exc}.",
                                 "Check the JSON against a plan written by `workbench mix`.") from None

    @classmethod
    def from_json(cls, source: str | Path) -> "MixPlan":
        """Load a plan from a JSON file path or a JSON string."""
        from ..errors import WorkbenchError

        text = str(source)
        if not text.lstrip().startswith("{"):
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise WorkbenchError("bad_plan", f"Cannot read the plan file {source}: {exc.strerror}.",
                                     "Give the path of a plan.json written by `workbench mix`.") from None
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise WorkbenchError("bad_plan", f"The plan is not valid JSON ({exc.msg}, line {exc.lineno}).",
                                 "Fix the JSON syntax, or write the plan again with `workbench mix`.") from None

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


def _known(cls, d: dict) -> dict:
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)} in {cls.__name__}")
    return dict(d)


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
