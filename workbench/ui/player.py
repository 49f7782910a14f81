"""One A/B player: versions that switch at the same playhead, a loop, level matching, solo stems.

:class:`ABPlayer` is a self-contained widget (an `anywidget <https://anywidget.dev>`_
with its own script and style) built on the browser's Web Audio API: every
version is decoded once into memory and played by one clock, so pressing
another version's button switches *at the same point of the song*, with no gap
and no restart. A loop repeats a section (start and end in seconds of the
song). The **level-matched** switch plays every mix version at the loudness of
the quietest one (BS.1770 integrated loudness, measured by
:class:`workbench.analysis.loudness.LoudnessMeter` when the caller does not
give it), so the comparison is not won by the louder version; solo stems are
played as they are (they are parts of the mix, not rival versions of it).

Versions are given as a mapping name → WAV file (:meth:`ABPlayer.set_versions`);
a :class:`Version` adds a label, a group ("preview", "mix", "versions", "solo")
and where in the song the file starts (a preview section starts part-way in).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anywidget
import numpy as np
import traitlets

__all__ = ["ABPlayer", "Version", "file_loudness", "MAX_PLAYER_BYTES"]

#: Most audio bytes one player sends to the browser (a 5-minute 16-bit stereo mix is ~53 MB).
MAX_PLAYER_BYTES = 180_000_000


@dataclass(frozen=True)
class Version:
    """One version the player offers.

    Attributes
    ----------
    path : Path
        A WAV file.
    label : str
        The button's text.
    group : str
        ``"preview"`` (A/B of the preview section), ``"mix"`` (the full mix),
        ``"versions"`` (release versions), or ``"solo"`` (one stem alone; not level-matched).
    start_s : float
        Where in the song the file's first sample is (s).
    lufs : float or None
        Integrated loudness (LUFS); measured from the file when ``None``.
    explains : str
        A tooltip: what to listen for.
    """

    path: Path
    label: str = ""
    group: str = "preview"
    start_s: float = 0.0
    lufs: float | None = None
    explains: str = ""


def file_loudness(path: str | os.PathLike) -> float:
    """BS.1770 integrated loudness of a WAV file (LUFS; ``-inf`` for silence)."""
    import soundfile as sf

    from ..analysis.loudness import LoudnessMeter

    with sf.SoundFile(str(path)) as f:
        meter = LoudnessMeter(f.channels, f.samplerate)
        for block in f.blocks(blocksize=65536, dtype="float32", always_2d=True):
            meter.push(np.ascontiguousarray(block.T))
    return float(meter.finish().integrated_lufs)


#: The script (anywidget reads the file).
_ESM = Path(__file__).with_name("player.js").read_text(encoding="utf-8")

_CSS = """
.wb-ab-player { font-size: 13px; border: 1px solid #ddd; border-radius: 6px; padding: 6px 8px; max-width: 100%; }
.wb-ab-player.wb-ab-empty .wb-ab-transport, .wb-ab-player.wb-ab-empty .wb-ab-options { display: none; }
.wb-ab-group { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin: 3px 0; }
.wb-ab-group-name { color: #555; font-size: 12px; min-width: 150px; }
.wb-ab-player button { font: inherit; padding: 2px 9px; border: 1px solid #bbb; border-radius: 4px; background: #f5f5f5;
                       cursor: pointer; }
.wb-ab-player button.wb-ab-current { background: #1565c0; border-color: #1565c0; color: #fff; }
.wb-ab-transport { display: flex; align-items: center; gap: 8px; margin: 6px 0 2px 0; flex-wrap: wrap; }
.wb-ab-seek { flex: 1 1 200px; min-width: 120px; }
.wb-ab-position { font-variant-numeric: tabular-nums; min-width: 110px; }
.wb-ab-options { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; }
.wb-ab-options input[type=number] { width: 64px; }
.wb-ab-note { color: #666; font-size: 12px; }
"""


class ABPlayer(anywidget.AnyWidget):
    """One player for every version: same playhead, loop, level-matched switch, solo stems.

    Parameters
    ----------
    versions : mapping, optional
        ``{name: path or Version}``; see :meth:`set_versions`.

    Examples
    --------
    >>> ABPlayer({"automix": "out/preview.wav", "plain sum": "out/plain.wav"})   # doctest: +SKIP
    """

    _esm = _ESM
    _css = _CSS
    #: ``[{"key", "label", "group", "start_s", "duration_s", "lufs", "explains", "wav": bytes}]``.
    versions = traitlets.List(traitlets.Dict()).tag(sync=True)
    level_matched = traitlets.Bool(True).tag(sync=True)
    title_html = traitlets.Unicode("").tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)

    def __init__(self, versions: Mapping[str, object] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_class("wb-ab-player-widget")
        if versions:
            self.set_versions(versions)

    def set_versions(self, versions: Mapping[str, object]) -> None:
        """Offer these versions (replacing the previous ones), in the order given.

        Parameters
        ----------
        versions : mapping
            ``{name: path}`` or ``{name: Version}``. Files that are missing are
            skipped; files beyond :data:`MAX_PLAYER_BYTES` in total are left out
            and named in the player's note.
        """
        import soundfile as sf

        out, total, left_out = [], 0, []
        for name, v in versions.items():
            if not isinstance(v, Version):
                v = Version(Path(str(v)))
            path = Path(v.path)
            if not path.is_file():
                continue
            size = path.stat().st_size
            if total + size > MAX_PLAYER_BYTES:
                left_out.append(v.label or str(name))
                continue
            info = sf.info(str(path))
            lufs = v.lufs if v.lufs is not None else file_loudness(path)
            out.append({"key": str(name), "label": v.label or str(name), "group": v.group,
                        "start_s": float(v.start_s), "duration_s": info.frames / info.samplerate,
                        "lufs": lufs if lufs is not None and math.isfinite(lufs) else None,
                        "explains": v.explains, "wav": path.read_bytes()})
            total += size
        self.note = ("" if not left_out else
                     f"Too large to play here (download them instead): {', '.join(left_out)}.")
        self.versions = out

    @property
    def version_keys(self) -> list[str]:
        return [v["key"] for v in self.versions]
