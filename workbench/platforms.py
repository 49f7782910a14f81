"""What each streaming platform's loudness normalisation does to a master: the report's turn-down table.

A figure is used only where the platform's own documentation states it; where we
found none, the table says so and gives no turn-down (a figure that third
parties report is shown as such, and is not used to compute anything).

Sources (checked 2026-12):

- Spotify for Artists, "Loudness normalization" (support.spotify.com/us/artists/article/loudness-normalization):
  tracks are adjusted to −14 dB LUFS (ITU 1770); positive gain leaves 1 dB of true-peak headroom
  ("if a track loudness level is −20 dB LUFS, and its True Peak maximum is −5 dB FS, we only lift the
  track up to −16 dB LUFS"); Premium settings: Loud −11 dB LUFS (set regardless of true peak, with a
  limiter at −1 dB), Normal −14, Quiet −19.
- Apple Music, YouTube, Amazon Music, TIDAL, Deezer: we found no loudness figure in the platforms' own
  documentation. Third parties report Apple Music (Sound Check) at −16 LUFS (Production Expert, 2022),
  TIDAL at −14 LUFS (MeterPlugs, 2016, quoting TIDAL) and Deezer at −15 LUFS (Production Expert, 2022);
  YouTube and Amazon Music figures circulate only as estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    """One platform (or playback setting) and what its own documentation says.

    Attributes
    ----------
    name : str
    target_lufs : float or None
        The documented normalisation target; None where the platform publishes none.
    source : str
        Where the figure comes from, or that none was found.
    turns_up : {"headroom", "limiter", "no", "unknown"}
        What it does to a quieter master: raises it only as far as 1 dB of true-peak headroom
        allows, raises it fully with a limiter, does not raise it, or not documented.
    reported : str
        A figure third parties report (not used for any number), or "".
    """

    name: str
    target_lufs: float | None
    source: str
    turns_up: str = "unknown"
    reported: str = ""


_SPOTIFY = "Spotify for Artists, “Loudness normalization”"
PLATFORMS: tuple[Platform, ...] = (
    Platform("Spotify (Normal, default)", -14.0, _SPOTIFY, "headroom"),
    Platform("Spotify (Loud, Premium)", -11.0, _SPOTIFY, "limiter"),
    Platform("Spotify (Quiet, Premium)", -19.0, _SPOTIFY, "headroom"),
    Platform("Apple Music (Sound Check)", None, "no figure in Apple's own documentation found",
             reported="−16 LUFS (Production Expert, 2022)"),
    Platform("YouTube", None, "no figure in YouTube's own documentation found", reported="estimates only"),
    Platform("Amazon Music", None, "no figure in Amazon's own documentation found", reported="estimates only"),
    Platform("TIDAL", None, "no figure in TIDAL's own documentation found",
             reported="−14 LUFS (MeterPlugs, 2016, quoting TIDAL)"),
    Platform("Deezer", None, "no figure in Deezer's own documentation found",
             reported="−15 LUFS (Production Expert, 2022)"),
)

#: Spotify's true-peak headroom kept when it turns a track up (dB below full scale), from its documentation.
SPOTIFY_HEADROOM_DBTP = -1.0


@dataclass(frozen=True)
class TurnDown:
    """What one platform does to the master: the gain it applies and the loudness it then plays at."""

    platform: Platform
    gain_db: float | None
    plays_at_lufs: float | None
    what: str


def turn_down(integrated_lufs: float, true_peak_dbtp: float,
              platforms: tuple[Platform, ...] = PLATFORMS) -> list[TurnDown]:
    """Each platform's normalisation gain for a master of this loudness and true peak.

    Parameters
    ----------
    integrated_lufs : float
        The master's BS.1770 integrated loudness.
    true_peak_dbtp : float
        Its true peak.

    Returns
    -------
    list of TurnDown
        ``gain_db`` None where the platform documents no target.

    Examples
    --------
    >>> r = turn_down(-20.0, -5.0)[0]          # Spotify's own example: lifted only to −16
    >>> r.gain_db, r.plays_at_lufs
    (4.0, -16.0)
    """
    out = []
    for p in platforms:
        if p.target_lufs is None or not math.isfinite(integrated_lufs):
            out.append(TurnDown(p, None, None, f"not published — {p.source}"
                                + (f"; reported: {p.reported}" if p.reported else "") + "."))
            continue
        gain = p.target_lufs - integrated_lufs
        if abs(gain) < 0.05:                    # within the 0.1 dB the report shows: played as it is
            gain = 0.0
        what = "turned down" if gain < 0 else "played as it is" if gain == 0 else "turned up"
        if gain > 0 and p.turns_up == "headroom":
            allowed = SPOTIFY_HEADROOM_DBTP - true_peak_dbtp
            if allowed < gain:
                gain = max(0.0, allowed)
                what = f"turned up only {gain:.1f} dB (1 dB true-peak headroom kept)"
        elif gain > 0 and p.turns_up == "limiter":
            what = "turned up, through the platform's limiter at −1 dB"
        out.append(TurnDown(p, round(gain, 2), round(integrated_lufs + gain, 2), f"{what} ({p.source})."))
    return out


def markdown_lines(integrated_lufs: float, true_peak_dbtp: float) -> list[str]:
    """The report's section: a row per platform."""
    lines = ["## Where it plays: platform loudness normalisation", "",
             f"This master: {integrated_lufs:.1f} LUFS integrated, true peak {true_peak_dbtp:.1f} dBTP. "
             "A figure appears only where the platform's own documentation states it (sources in "
             "`workbench/platforms.py`).", "",
             "| Platform | Target | Gain on this master | Plays at | What happens |", "|---|---|---|---|---|"]
    for r in turn_down(integrated_lufs, true_peak_dbtp):
        t = r.platform.target_lufs
        lines.append(f"| {r.platform.name} | {'—' if t is None else f'{t:g} LUFS'} | "
                     f"{'—' if r.gain_db is None else f'{r.gain_db:+.1f} dB'} | "
                     f"{'—' if r.plays_at_lufs is None else f'{r.plays_at_lufs:.1f} LUFS'} | {r.what} |")
    return lines + [""]
