"""The A/B versions of a preview, and which of them may share the stem cache.

Each version is the automix with some stages bypassed (:data:`AB_VARIANTS`);
all are rendered by :func:`workbench.mixing.render.render` at the same
loudness target, so the comparison is not won by the louder one. A caller (the
dashboard, a notebook) asks for a version by its key: :func:`variant`,
:func:`render_variant`, :func:`render_ab`.

Cache policy: only the versions that keep the automix's stem chains
(:attr:`Variant.shares_chains`: automix, no panning, no reverb) read and fill a
:class:`~workbench.mixing.render.StemCache`; the others would fill it with
chains that no regeneration reads and push out the ones it does. The audio
never depends on the cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkbenchError
from ..session import Session
from .plan import MixPlan
from .preview import PreviewSection
from .render import CORE_STAGES, PLAIN_SUM, RenderResult, StemCache, render

#: ``progress(what, fraction)``: a plain-words stage and the job's overall fraction done (0..1).
JobProgress = Callable[[str, float], None]


@dataclass(frozen=True)
class Variant:
    """One version of the preview for A/B listening: the stages it bypasses.

    Attributes
    ----------
    key : str
        Its name (``"automix"``, ``"no-reverb"``...); also names its file, ``preview-<key>.wav``.
    label : str
        Its title for people.
    bypass : frozenset of str
        Stages of :data:`~workbench.mixing.plan.STAGES` it skips.
    explains : str
        What to listen for.
    """

    key: str
    label: str
    bypass: frozenset[str]
    explains: str

    @property
    def shares_chains(self) -> bool:
        """Whether its stems' chains are the automix's (it bypasses nothing inside a stem chain)."""
        return not (self.bypass & CORE_STAGES)


#: The A/B versions, in the order the players show them.
AB_VARIANTS: tuple[Variant, ...] = (
    Variant("automix", "Automix", frozenset(), "every decision applied"),
    Variant("plain", "Plain sum", PLAIN_SUM,
            "the stems added at unity gain, no processing — what you would hear without mixing"),
    Variant("no-eq", "Automix without EQ", frozenset({"eq"}),
            "no high-pass, corrective or unmasking cuts: listen for mud and clashes"),
    Variant("no-compression", "Automix without compression", frozenset({"compression"}),
            "no stem compressors: listen for parts that jump out and drop away"),
    Variant("no-panning", "Automix without panning", frozenset({"panning"}),
            "everything in the centre: listen for parts that crowd each other"),
    Variant("no-reverb", "Automix without reverb", frozenset({"reverb"}),
            "dry: listen for the sense of space and depth"),
)


def variant(key: Variant | str) -> Variant:
    """The A/B version called ``key`` (a :class:`Variant` is returned as it is).

    Raises
    ------
    WorkbenchError
        ``unknown_variant`` for a key that is not one of :data:`AB_VARIANTS`.
    """
    if isinstance(key, Variant):
        return key
    for v in AB_VARIANTS:
        if v.key == key:
            return v
    raise WorkbenchError("unknown_variant", f"There is no A/B version called {key!r}.",
                         "Use one of: " + ", ".join(v.key for v in AB_VARIANTS))


def render_variant(plan: MixPlan, session: Session, key: Variant | str, out_path: str | os.PathLike, *,
                   section: PreviewSection, cache: StemCache | None = None,
                   progress: Callable[[int, int, str], None] | None = None,
                   stems_dir: str | os.PathLike | None = None) -> RenderResult:
    """Render one A/B version of a preview section, using ``cache`` only when its policy allows.

    Parameters
    ----------
    plan : MixPlan
    session : Session
        The stems the plan was made for.
    key : Variant or str
        The version (see :func:`variant`).
    out_path : path-like
        The WAV to write.
    section : PreviewSection
        From :func:`workbench.mixing.preview.choose_section`.
    cache : StemCache, optional
        Used only by the versions that keep the automix's stem chains.
    progress : callable ``(done_frames, total_frames, stage)``, optional
        As for :func:`~workbench.mixing.render.render`.
    stems_dir : path-like, optional
        Also write the version's processed stems of the section here (``stems_dir`` of
        :func:`~workbench.mixing.render.render`).

    Returns
    -------
    RenderResult
    """
    v = variant(key)
    return render(plan, session, out_path, bypass=v.bypass, section=(section.start_frame, section.frames),
                  preroll_frames=section.preroll_frames, progress=progress,
                  cache=cache if v.shares_chains else None, stems_dir=stems_dir)


def render_ab(plan: MixPlan, session: Session, section: PreviewSection, folder: str | os.PathLike, *,
              variants: Iterable[Variant | str] = AB_VARIANTS, progress: JobProgress | None = None,
              on_done: Callable[[Variant, RenderResult], None] | None = None,
              cache: StemCache | None = None,
              solo_dir: str | os.PathLike | None = None) -> dict[str, RenderResult]:
    """Render the same preview section once per A/B version, as ``folder/preview-<key>.wav``.

    Parameters
    ----------
    plan : MixPlan
    session : Session
        The stems the plan was made for.
    section : PreviewSection
        From :func:`workbench.mixing.preview.choose_section`.
    folder : path-like
        Where ``preview-<key>.wav`` files are written.
    variants : iterable of Variant or str
        Default :data:`AB_VARIANTS`; keys (``"automix"``, ``"no-reverb"``...) pick some of them.
    progress : callable ``(what, fraction)``, optional
    on_done : callable ``(variant, RenderResult)``, optional
        Called as each version is ready (to show its player straight away).
    cache : StemCache, optional
        Processed stems reused across versions and regenerations (see the module doc).
    solo_dir : path-like, optional
        Also write the automix's processed stems of the section here (for solo listening).

    Returns
    -------
    dict
        ``{variant.key: RenderResult}``.
    """
    chosen = [variant(v) for v in variants]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, RenderResult] = {}
    for i, v in enumerate(chosen):
        result = render_variant(plan, session, v, folder / f"preview-{v.key}.wav", section=section, cache=cache,
                                progress=_progress(progress, i, len(chosen), v) if progress else None,
                                stems_dir=solo_dir if v.key == "automix" else None)
        results[v.key] = result
        if on_done:
            on_done(v, result)
    return results


def _progress(progress: JobProgress, i: int, n: int, v: Variant) -> Callable[[int, int, str], None]:
    """The renderer's ``(done, total, stage)`` as the ``i``-th of ``n`` versions' share of the job."""
    def one(done: int, total: int, stage: str) -> None:
        within = 0.6 * done / max(total, 1) if stage == "mix" else 0.6 + 0.4 * done / max(total, 1)
        progress(f"Rendering preview {i + 1} of {n}: {v.label}", (i + within) / n)
    return one
