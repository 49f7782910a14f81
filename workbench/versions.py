"""The versions a release needs, from one mix: vocal up/down, instrumental, a cappella, TV mix.

A version is the main mix with the vocals' share changed, put through the
**same master decisions** as the main mix (the master gain and limiter ceiling
the render recorded in ``plan.master.rendered_gain_db`` and
``rendered_limiter_ceiling_db``): a version is not re-normalised, so an
instrumental is quieter than the full mix, as it is on a record's B-side.

The mix stage is shared: the versions are sums of the main render's processed
stems (each stem after its chain, gain and pan), which the render wrote anyway;
no stem is re-analysed and no chain re-run, except the vocal stems' chains,
whose reverb *sends* the processed stems do not hold. The reverb return is one
file holding every stem's reverb; the reverb bus is linear (delay, Butterworth
filters, a Freeverb-style reverb and a fixed return gain, see
:class:`workbench.mixing.render.ReverbReturn`), so the vocals' part of it is
the return of the vocals' sends alone, and the rest is the difference. A
version that mutes a vocal drops its reverb too (a muted stem sends nothing),
and a version that turns a vocal up turns its reverb up by the same step.

Vocal roles, from the plan (the category each stem was mixed as):

- **lead vocal**: the unmuted stems of category ``Lead Vocal``;
- **backing vocals**: the unmuted stems of category ``Backing Vocal``.

Versions (:data:`VERSIONS`):

- ``vocal-up`` / ``vocal-down``: the lead vocal (with its reverb) up / down by
  the step (default 1 dB); backing vocals unchanged;
- ``instrumental``: the mix without lead and backing vocals (nor their reverb);
- ``a-cappella``: lead and backing vocals with their reverb, nothing else;
- ``tv``: the TV mix — the full mix without the lead vocal, backing vocals kept
  (what a singer performs over live on television);
- ``stems``: the processed stems themselves (``OUT/stems/``, as ``--stems``).

Instrumental + a cappella, summed before the master, is the full mix's bus.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio_io import read
from .choices import parse_name_list
from .errors import ParameterError, WorkbenchError
from .mixing.plan import MixPlan
from .session import Session
from .units import db_to_amp

#: Every version name, in the order they are written.
VERSIONS = ("vocal-up", "vocal-down", "instrumental", "a-cappella", "tv", "stems")
#: The versions that are mixes (written to ``OUT/versions/<name>.wav``).
MIX_VERSIONS = VERSIONS[:-1]
#: Default lead-vocal step of ``vocal-up`` / ``vocal-down`` (dB), as the issue asks (±1 dB).
DEFAULT_VOCAL_STEP_DB = 1.0
LEAD_CATEGORY = "Lead Vocal"
BACKING_CATEGORY = "Backing Vocal"


def parse_versions(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The version names asked for: ``"all"``, a comma-separated string or names; in :data:`VERSIONS` order.

    Raises
    ------
    ParameterError
        Naming the unknown version and the valid names.
    """
    return parse_name_list(value, VERSIONS, field="versions", noun="version")


def check_vocal_step(step_db: float) -> float:
    """Refuse a vocal step that is not a positive finite number of dB (at most 12)."""
    try:
        step = float(step_db)
    except (TypeError, ValueError):
        raise ParameterError(f"vocal_step_db must be a number of dB, got {step_db!r}.",
                             "Give e.g. --vocal-step 1.") from None
    if not (0.0 < step <= 12.0):
        raise ParameterError(f"vocal_step_db must be > 0 and ≤ 12 dB, got {step:g}.", "Give e.g. --vocal-step 1.")
    return step


@dataclass(frozen=True)
class VocalParts:
    """The main mix's bus taken apart: ``(2, n)`` float64 arrays that sum to the bus before the glue.

    Attributes
    ----------
    lead, backing, rest : np.ndarray
        The processed stems of the lead vocal, of the backing vocals and of every other stem.
    lead_reverb, backing_reverb, rest_reverb : np.ndarray
        Each group's part of the reverb return.
    lead_stems, backing_stems : tuple of str
        Which plan stems were taken as lead and backing vocals.
    """

    lead: np.ndarray
    backing: np.ndarray
    rest: np.ndarray
    lead_reverb: np.ndarray
    backing_reverb: np.ndarray
    rest_reverb: np.ndarray
    lead_stems: tuple[str, ...]
    backing_stems: tuple[str, ...]

    @property
    def full(self) -> np.ndarray:
        """The whole bus (before the glue compressor)."""
        return (self.rest + self.rest_reverb) + (self.lead + self.lead_reverb) + (self.backing + self.backing_reverb)


def vocal_stems(plan: MixPlan) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(lead, backing)``: the names of the unmuted plan stems mixed as Lead Vocal and as Backing Vocal."""
    lead = tuple(n for n, s in plan.stems.items() if not s.mute and s.category == LEAD_CATEGORY)
    backing = tuple(n for n, s in plan.stems.items() if not s.mute and s.category == BACKING_CATEGORY)
    return lead, backing


def split_parts(plan: MixPlan, session: Session, stem_files: Sequence[str | os.PathLike]) -> VocalParts:
    """Take the main mix apart into vocal and other parts from its processed stems.

    Parameters
    ----------
    plan : MixPlan
        The plan that was rendered.
    session : Session
        Its stems (only the vocal stems are read, to rebuild their reverb sends).
    stem_files : sequence of path-like
        The render's processed stems: one per unmuted plan stem, in plan order, the reverb return last
        (``RenderResult.stem_files``).

    Returns
    -------
    VocalParts
    """
    from .mixing.render import ReverbReturn, render_stem_chain

    sr = int(plan.sample_rate)
    names = [n for n, s in plan.stems.items() if not s.mute]
    if len(stem_files) != len(names) + 1:
        raise WorkbenchError("plan_mismatch", f"{len(stem_files)} processed stems for {len(names)} unmuted plan "
                             "stems and the reverb return.", "Render the plan again with its processed stems.")
    lead_names, backing_names = vocal_stems(plan)
    frames = max(sf.info(str(p)).frames for p in stem_files)

    def load(path) -> np.ndarray:
        x = read(path).astype(np.float64)
        x = np.vstack([x, x]) if x.shape[0] == 1 else x      # a mono file is one side of the centre pan
        return np.pad(x, ((0, 0), (0, frames - x.shape[1])))

    groups = {"lead": np.zeros((2, frames)), "backing": np.zeros((2, frames)), "rest": np.zeros((2, frames))}
    for name, path in zip(names, stem_files):
        group = "lead" if name in lead_names else "backing" if name in backing_names else "rest"
        groups[group] += load(path)
    reverb_total = load(stem_files[-1])
    by_name = {s.name: s for s in session.stems}
    by_file = {s.file: s for s in session.stems}

    def reverb_of(group: tuple[str, ...]) -> np.ndarray:
        """The reverb return of these stems' sends alone (the bus is linear: see the module doc)."""
        sends = np.zeros((2, frames))
        any_send = False
        for name in group:
            sp = plan.stems[name]
            if sp.reverb_send_db is None:
                continue
            stem = by_name.get(name) or by_file[sp.file]
            _, send = render_stem_chain(sp, read(stem.path, sample_rate=sr), sr)
            if send is not None:
                sends[:, :send.shape[1]] += send[:, :frames]
                any_send = True
        if not any_send:
            return np.zeros((2, frames))
        return ReverbReturn(plan.reverb, sr).process(sends.astype(np.float32)).astype(np.float64)

    lead_rev, backing_rev = reverb_of(lead_names), reverb_of(backing_names)
    return VocalParts(groups["lead"], groups["backing"], groups["rest"], lead_rev, backing_rev,
                      reverb_total - lead_rev - backing_rev, lead_names, backing_names)


def version_bus(parts: VocalParts, name: str, *, vocal_step_db: float = DEFAULT_VOCAL_STEP_DB) -> np.ndarray:
    """The bus (before the glue and master) of one version, ``(2, n)`` float64.

    Raises
    ------
    ParameterError
        For a name not in :data:`MIX_VERSIONS`.
    """
    lead = parts.lead + parts.lead_reverb
    backing = parts.backing + parts.backing_reverb
    rest = parts.rest + parts.rest_reverb
    if name == "vocal-up":
        return rest + backing + lead * db_to_amp(vocal_step_db)
    if name == "vocal-down":
        return rest + backing + lead * db_to_amp(-vocal_step_db)
    if name == "instrumental":
        return rest
    if name == "a-cappella":
        return lead + backing
    if name == "tv":
        return rest + backing
    raise ParameterError(f"version: unknown mix version {name!r}.", f"Use one of: {', '.join(MIX_VERSIONS)}.")


def version_notes(parts: VocalParts, names: Iterable[str]) -> list[str]:
    """Plain-words notes for the report: which stems were taken as vocals, and versions that equal another."""
    notes = [f"Versions: lead vocal = {', '.join(parts.lead_stems) or 'none'}; backing vocals = "
             f"{', '.join(parts.backing_stems) or 'none'} (the plan's categories Lead Vocal / Backing Vocal)."]
    names = list(names)
    if not parts.lead_stems and any(n in names for n in ("vocal-up", "vocal-down", "tv")):
        notes.append("No stem is mixed as Lead Vocal: vocal-up, vocal-down and tv equal the full mix.")
    if not parts.lead_stems and not parts.backing_stems and "a-cappella" in names:
        notes.append("No vocal stem: the a cappella is silent.")
    return notes


def write_versions(plan: MixPlan, parts: VocalParts, out_dir: str | os.PathLike, names: Iterable[str], *,
                   vocal_step_db: float = DEFAULT_VOCAL_STEP_DB) -> dict[str, Path]:
    """Write each mix version through the main mix's master as ``out_dir/<name>.wav``; returns ``{name: path}``.

    The master gain and limiter ceiling are the main render's (``plan.master.rendered_*``).
    """
    from .mixing.render import master_stems

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in names:
        if name not in MIX_VERSIONS:
            continue
        bus = version_bus(parts, name, vocal_step_db=vocal_step_db)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".bus.wav", dir=out)
        os.close(fd)
        try:
            sf.write(tmp, bus.T.astype(np.float32), int(plan.sample_rate), subtype="FLOAT", format="WAV")
            written[name] = master_stems(plan, [tmp], out / f"{name}.wav").path
        finally:
            Path(tmp).unlink(missing_ok=True)
    return written
