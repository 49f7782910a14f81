"""Loudness for where it goes: the mix delivered for streaming, broadcast, or with little limiting.

Each delivery is the main mix's bus (the sum of its processed stems, before the
master) put through the plan's master — glue, gain, limiter, dither — with the
gain chosen for where it goes:

- ``streaming``: the main mix's own master decisions (the −14 LUFS default target,
  −1 dBTP ceiling), re-encoded in the chosen format;
- ``broadcast``: EBU R 128 — programme loudness −23 LUFS, maximum true peak
  −1 dBTP (EBU R 128 v4.0, 2020; measured per ITU-R BS.1770 / EBU Tech 3341).
  The gain is set from the measured loudness and corrected once after a first
  pass (the limiter takes less at a lower gain, so loudness is not exactly linear
  in gain);
- ``dynamic``: the main mix's gain lowered until the loudest bus peak sits at most
  :data:`DYNAMIC_LIMITING_DB` above the limiter's ceiling — at most about 3 dB of
  limiting, the "gentle" figure the report already offers for over-limited masters
  (:data:`workbench.pipeline.GENTLE_LIMITING_DB`). Its loudness is whatever that
  gives (quieter than −14 LUFS; a streaming service turns it up less or not at all).

Formats (:data:`FORMATS`): WAV 16-bit and 24-bit (TPDF-dithered by the master),
FLAC 24-bit (lossless: the 24-bit master's samples), MP3 (libsndfile 1.2's LAME
encoder through soundfile, constant bit rate at the highest setting). pedalboard
0.9 can encode MP3 too, but pads the file with extra frames; soundfile reads
libsndfile's MP3 back at the exact length, so we use soundfile.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio_io import read
from .choices import parse_name_list
from .errors import ParameterError
from .mixing.plan import MixPlan
from .release_check import ReleaseTarget

DELIVERIES = ("streaming", "broadcast", "dynamic")
#: EBU R 128 (v4.0, 2020): Programme Loudness target −23.0 LUFS; Maximum True Peak −1 dBTP.
BROADCAST_LUFS = -23.0
BROADCAST_CEILING_DBTP = -1.0
#: At most this much limiting for the dynamic delivery (dB): the issue's "~3 dB".
DYNAMIC_LIMITING_DB = 3.0
#: name → (soundfile format, subtype, extension, master bit depth before encoding)
FORMATS: dict[str, tuple[str, str, str, int]] = {
    "wav16": ("WAV", "PCM_16", ".wav", 16),
    "wav24": ("WAV", "PCM_24", ".wav", 24),
    "flac": ("FLAC", "PCM_24", ".flac", 24),
    "mp3": ("MP3", "MPEG_LAYER_III", ".mp3", 24),
}
#: Loudness the broadcast delivery must land within before it is corrected once more (LU).
_LOUDNESS_STEP_LU = 0.1


def parse_deliveries(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The deliveries asked for (``"all"`` or names from :data:`DELIVERIES`), in that order.

    Raises
    ------
    ParameterError
        Naming the unknown delivery and the valid ones.
    """
    return parse_name_list(value, DELIVERIES, field="deliver", noun="delivery")


def check_format(fmt: str) -> str:
    """Refuse an output format not in :data:`FORMATS` (or one this libsndfile cannot write)."""
    if fmt not in FORMATS:
        raise ParameterError(f"format: unknown output format {fmt!r}.", f"Use one of: {', '.join(FORMATS)}.")
    if FORMATS[fmt][0] not in sf.available_formats():
        raise ParameterError(f"format: the installed libsndfile cannot write {fmt}.",
                             "Use wav16, wav24 or flac, or install soundfile ≥ 0.12 (libsndfile ≥ 1.1).")
    return fmt


def dynamic_gain_db(main_gain_db: float, bus_peak_dbfs: float, limiter_ceiling_db: float, *,
                    max_limiting_db: float = DYNAMIC_LIMITING_DB) -> float:
    """The master gain that keeps the loudest bus peak at most ``max_limiting_db`` over the limiter's ceiling.

    Never above the main mix's gain (a master already that gentle is delivered as it is).

    Examples
    --------
    >>> dynamic_gain_db(6.0, -2.0, -1.3)      # peak −2 + 6 = +4 dB, 5.3 dB over the ceiling: 2.3 dB less
    3.7
    """
    return round(min(main_gain_db, limiter_ceiling_db + max_limiting_db - bus_peak_dbfs), 6)


@dataclass(frozen=True)
class Delivery:
    """One delivered file: where, its master gain, and what the release check holds it to."""

    name: str
    path: Path
    gain_db: float
    target: ReleaseTarget
    note: str


def bus_from_stems(stem_files: Sequence[str | os.PathLike]) -> np.ndarray:
    """The mix bus before the glue: the sum of the processed stems (a mono file on both sides), ``(2, n)``."""
    frames = max(sf.info(str(p)).frames for p in stem_files)
    bus = np.zeros((2, frames))
    for p in stem_files:
        x = read(p).astype(np.float64)
        bus[:, :x.shape[1]] += x if x.shape[0] == 2 else np.vstack([x[0], x[0]])
    return bus


def write_deliveries(plan: MixPlan, bus: np.ndarray, main_lufs: float, out_dir: str | os.PathLike,
                     names: Iterable[str], *, fmt: str = "wav24") -> list[Delivery]:
    """Master ``bus`` for each delivery and write ``out_dir/<name>.<ext>``.

    Parameters
    ----------
    plan : MixPlan
        The rendered plan (its ``master.rendered_gain_db`` / ``rendered_limiter_ceiling_db`` set).
    bus : np.ndarray
        ``(2, n)`` bus before the glue (:func:`bus_from_stems`).
    main_lufs : float
        The main mix's measured integrated loudness.
    out_dir : path-like
    names : iterable of str
        From :data:`DELIVERIES`.
    fmt : str
        From :data:`FORMATS`.
    """
    from .mixing.render import master_stems

    check_format(fmt)
    m = plan.master
    if m.rendered_gain_db is None or m.rendered_limiter_ceiling_db is None:
        raise ParameterError("plan: the master gain of a render is not recorded.",
                             "Deliver from a full render (not a preview).")
    main_gain, ceiling = m.rendered_gain_db, m.rendered_limiter_ceiling_db
    margin = m.ceiling_dbtp - ceiling                  # the render's safety margin under its dBTP ceiling
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    container, subtype, ext, bits = FORMATS[fmt]
    sr = int(plan.sample_rate)
    done: list[Delivery] = []
    fd, bus_tmp = tempfile.mkstemp(prefix=".bus.", suffix=".wav", dir=out)
    os.close(fd)
    try:
        sf.write(bus_tmp, bus.T.astype(np.float32), sr, subtype="FLOAT", format="WAV")
        peak = float(np.max(np.abs(bus)))
        peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf

        def master(gain: float, lim_ceiling: float, path: Path):
            return master_stems(plan, [bus_tmp], path, master_gain_db=gain, limiter_ceiling_db=lim_ceiling,
                                bit_depth=bits)

        for name in names:
            wav = out / f".{name}.master.wav"
            if name == "streaming":
                gain, lim = main_gain, ceiling
                target = ReleaseTarget("streaming", m.target_lufs, ceiling_dbtp=m.ceiling_dbtp)
                r = master(gain, lim, wav)
                note = f"the main mix's master: gain {gain:+.2f} dB, limiter ceiling {lim:.2f} dB."
            elif name == "broadcast":
                lim = BROADCAST_CEILING_DBTP - margin
                gain = main_gain + (BROADCAST_LUFS - main_lufs)
                r = master(gain, lim, wav)
                if math.isfinite(r.integrated_lufs) and abs(r.integrated_lufs - BROADCAST_LUFS) > _LOUDNESS_STEP_LU:
                    gain += BROADCAST_LUFS - r.integrated_lufs
                    r = master(gain, lim, wav)
                from .release_check import BROADCAST_TOLERANCE_LU

                target = ReleaseTarget("broadcast", BROADCAST_LUFS, BROADCAST_TOLERANCE_LU, BROADCAST_CEILING_DBTP)
                note = (f"EBU R 128: {BROADCAST_LUFS:g} LUFS, ≤ {BROADCAST_CEILING_DBTP:g} dBTP; master gain "
                        f"{gain:+.2f} dB.")
            elif name == "dynamic":
                lim = ceiling
                gain = dynamic_gain_db(main_gain, peak_db, lim)
                r = master(gain, lim, wav)
                target = ReleaseTarget("dynamic", None, ceiling_dbtp=m.ceiling_dbtp, no_target_reason=(
                    f"No loudness target: at most {DYNAMIC_LIMITING_DB:g} dB of limiting decides its level."))
                note = (f"at most {DYNAMIC_LIMITING_DB:g} dB of limiting (pre-glue bus peak {peak_db:+.1f} dBFS "
                        f"+ gain {gain:+.2f} dB − ceiling {lim:.2f} dB = "
                        f"{max(0.0, peak_db + gain - lim):.1f} dB): {r.integrated_lufs:.1f} LUFS, "
                        f"{main_gain - gain:.1f} dB below the streaming master's gain.")
            else:
                raise ParameterError(f"deliver: unknown delivery {name!r}.", f"Use one of: {', '.join(DELIVERIES)}.")
            final = out / f"{name}{ext}"
            _encode(wav, final, container, subtype)
            done.append(Delivery(name, final, gain, target, note))
    finally:
        Path(bus_tmp).unlink(missing_ok=True)
        for p in out.glob(".*.master.wav"):
            p.unlink(missing_ok=True)
    return done


def _encode(wav: Path, dest: Path, container: str, subtype: str) -> None:
    """Move the mastered WAV into place, or encode it (FLAC: the same 24-bit samples; MP3: LAME at the top CBR)."""
    if container == "WAV":
        os.replace(wav, dest)
        return
    info = sf.info(str(wav))
    tmp = dest.with_name(f".{dest.name}.part")
    if container == "FLAC":
        data, _ = sf.read(str(wav), dtype="int32", always_2d=True)
        sf.write(str(tmp), data, info.samplerate, subtype=subtype, format="FLAC")
    else:
        data, _ = sf.read(str(wav), dtype="float32", always_2d=True)
        with sf.SoundFile(str(tmp), "w", info.samplerate, info.channels, subtype, format=container,
                          compression_level=0.0, bitrate_mode="CONSTANT") as f:
            f.write(data)
    os.replace(tmp, dest)
    wav.unlink(missing_ok=True)
