"""Tempo and downbeat of a song, from its audio, for the DAW projects' bar grid.

The exported projects place every clip in seconds, so the tempo changes nothing
in what they play; it sets the DAW's grid of bars and beats. A grid that lines
up with the music lets the user edit on it, so the tempo and the first
downbeat are measured from the rendered mix:

1. **Beats** — librosa's dynamic-programming beat tracker
   (``librosa.beat.beat_track``; Ellis, "Beat tracking by dynamic programming",
   J. New Music Research 36(1), 2007) on the onset strength of the mono fold at
   :data:`ANALYSIS_RATE_HZ` with a :data:`HOP_FRAMES` hop (11.6 ms).
2. **Tempo** — the slope of a straight line fitted through the beat times
   (least squares): the tracker's own tempo is quantised to its autocorrelation
   lags (at 108 bpm one lag step is ~2 bpm), the fitted line is not. A tempo
   within :data:`INTEGER_SNAP_BPM` of a whole number is rounded to it
   (sequenced music is made at whole-number tempi, and a set's tempo field is
   read as an integer by some parsers).
3. **Downbeat** — librosa has no downbeat tracker. Of the four phases of a
   4/4 bar along the fitted beat grid, the one whose beats carry the most
   low-frequency onset energy (below :data:`LOW_BAND_HZ`: kick and bass mark
   beat 1 in most popular music — the heuristic of the bass-drum pattern
   features in Goto, "An audio-based real-time beat tracking system for music
   with or without drum-sounds", J. New Music Research 30(2), 2001) is taken as
   beat 1.
4. **Confidence** — the tracker is *unsure* when the beats scatter around the
   fitted line by more than :data:`MAX_JITTER` of a beat period, when it found
   fewer than :data:`MIN_BEATS` beats, or when its own tempo and the fitted one
   disagree by more than :data:`MAX_TEMPO_DISAGREEMENT` (a half- or
   double-tempo confusion). An unsure tempo is still written, and reported.

The user can set the tempo (``workbench mix --bpm``): the beats are then
tracked at that tempo (only the phase is measured).

librosa costs ~3 s on its first call in a process (numba), so this runs only
when a project is exported — never in checks, previews or regeneration.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import WorkbenchError
from .mixing.plan import TempoGrid

#: Rate the mix is analysed at (librosa's default rate; beats need no more).
ANALYSIS_RATE_HZ = 22050
#: Hop of the onset envelope: 256 frames at 22.05 kHz = 11.6 ms.
HOP_FRAMES = 256
#: Low band for the downbeat phase (kick and bass fundamentals).
LOW_BAND_HZ = 150.0
#: Beats a tempo needs to be trusted (two 4/4 bars).
MIN_BEATS = 8
#: Largest RMS deviation of the beats from the fitted grid, as a share of a beat (5 %).
MAX_JITTER = 0.05
#: Largest relative disagreement between the tracker's tempo and the fitted one (4 %).
MAX_TEMPO_DISAGREEMENT = 0.04
#: A fitted tempo this close to a whole number is rounded to it.
INTEGER_SNAP_BPM = 0.15
BEATS_PER_BAR = 4
#: Half-width of the window around each grid beat searched for its low-band onset
#: (35 ms: three onset frames; a tenth of a beat at 170 bpm).
DOWNBEAT_WINDOW_S = 0.035
#: The tempo range the projects accept (Live's tempo range is 20–999 bpm).
BPM_RANGE = (20.0, 999.0)


def estimate_grid(audio: np.ndarray, sample_rate: int, *, bpm: float | None = None) -> TempoGrid:
    """Tempo, downbeat and confidence of a song.

    Parameters
    ----------
    audio : np.ndarray
        ``(channels, n)`` or ``(n,)`` float audio (the mix).
    sample_rate : int
        Its rate in Hz.
    bpm : float, optional
        The user's tempo: used as given; only the downbeat is measured.

    Returns
    -------
    TempoGrid

    Raises
    ------
    WorkbenchError
        ``bad_argument`` when ``bpm`` is outside 20–999.
    """
    import librosa

    if bpm is not None and not BPM_RANGE[0] <= float(bpm) <= BPM_RANGE[1]:
        raise WorkbenchError("bad_argument", f"--bpm {bpm} is outside {BPM_RANGE[0]:g}–{BPM_RANGE[1]:g} bpm.",
                             "Give the song's tempo in beats per minute, e.g. --bpm 108.")
    x = np.atleast_2d(np.asarray(audio, dtype=np.float32)).mean(axis=0)
    if sample_rate != ANALYSIS_RATE_HZ:
        from scipy.signal import resample_poly

        g = math.gcd(int(sample_rate), ANALYSIS_RATE_HZ)
        x = resample_poly(x, ANALYSIS_RATE_HZ // g, int(sample_rate) // g).astype(np.float32)
    sr, hop = ANALYSIS_RATE_HZ, HOP_FRAMES
    if not np.any(x):
        return _fallback(bpm, "the mix is silent: no beats to track")
    spec = np.abs(librosa.stft(x, n_fft=2048, hop_length=hop))
    onset = librosa.onset.onset_strength(S=librosa.amplitude_to_db(spec, ref=np.max), sr=sr, hop_length=hop)
    low_bins = librosa.fft_frequencies(sr=sr, n_fft=2048) < LOW_BAND_HZ
    low = np.maximum(0.0, np.diff(np.log1p(spec[low_bins].sum(axis=0)), prepend=0.0))
    if bpm is not None:
        tracked, beats = librosa.beat.beat_track(onset_envelope=onset, sr=sr, hop_length=hop, units="frames",
                                                 start_bpm=float(bpm), tightness=1000.0)
    else:
        tracked, beats = librosa.beat.beat_track(onset_envelope=onset, sr=sr, hop_length=hop, units="frames")
    tracked = float(np.atleast_1d(tracked)[0])
    times = librosa.frames_to_time(beats, sr=sr, hop_length=hop)
    if len(times) < 2:
        return _fallback(bpm, f"the beat tracker found {len(times)} beat(s)")

    # Tempo: the slope of the beat grid, or the user's.
    index = np.arange(len(times))
    slope, intercept = np.polyfit(index, times, 1)
    fitted = 60.0 / slope
    if bpm is not None:
        period = 60.0 / float(bpm)
        intercept = float(np.mean(times - index * period))
        tempo = float(bpm)
    else:
        period = float(slope)
        tempo = round(fitted) if abs(fitted - round(fitted)) <= INTEGER_SNAP_BPM else round(fitted, 2)
    jitter = float(np.sqrt(np.mean((times - (intercept + index * period)) ** 2)) / period)
    # The grid's phase: the shift (within half a beat, in onset frames) that puts the
    # most onset strength on the grid. The tracker's beat frames lag the attacks by a
    # frame or two (measured: 30 ms on the sample stems), which matters for the downbeat.
    grid_frames = (intercept + index * period) * sr / hop
    shifts = np.arange(-int(period * sr / hop / 2), int(period * sr / hop / 2) + 1)
    scores = [onset[np.clip(np.round(grid_frames + d).astype(int), 0, len(onset) - 1)].sum() for d in shifts]
    intercept += float(shifts[int(np.argmax(scores))]) * hop / sr
    # Beats before the first tracked one, down to 0:00, count for the downbeat too.
    intercept -= period * math.floor(intercept / period)
    index = np.arange(int((times[-1] - intercept) / period) + 1)

    # Downbeat: the bar phase with the most low-band onset energy on its beats.
    # Each beat's low-band onset is its largest within ± DOWNBEAT_WINDOW_S of the grid
    # (the fitted grid and the onset peaks differ by a frame or two).
    reach = max(1, int(round(DOWNBEAT_WINDOW_S * sr / hop)))
    peaks = np.array([low[max(0, f - reach):f + reach + 1].max(initial=0.0)
                      for f in np.round((intercept + index * period) * sr / hop).astype(int)])
    phase = int(np.argmax([peaks[k::BEATS_PER_BAR].mean() if len(peaks[k::BEATS_PER_BAR]) else 0.0
                           for k in range(BEATS_PER_BAR)]))
    bar_s = BEATS_PER_BAR * period
    downbeat = (intercept + phase * period) % bar_s

    unsure = []
    if len(times) < MIN_BEATS:
        unsure.append(f"only {len(times)} beats")
    if jitter > MAX_JITTER:
        unsure.append(f"beats scatter {jitter:.0%} of a beat around the grid")
    if bpm is None and abs(tracked - fitted) / fitted > MAX_TEMPO_DISAGREEMENT:
        unsure.append(f"the tracker's {tracked:.1f} bpm and the beats' {fitted:.1f} bpm disagree")
    how = ("set by the user (--bpm); downbeat from the audio" if bpm is not None else
           f"librosa beat tracker: {len(times)} beats, {fitted:.2f} bpm fitted")
    reason = f"{how}; beat 1 = the beat phase with the most energy below {LOW_BAND_HZ:g} Hz"
    if unsure:
        reason += ". Unsure (" + "; ".join(unsure) + "): check the grid, or set the tempo with --bpm"
    return TempoGrid(bpm=float(tempo), downbeat_s=float(downbeat), beats_per_bar=BEATS_PER_BAR,
                     confident=not unsure, source="user" if bpm is not None else "audio", reason=reason)


def estimate_grid_file(path: str | os.PathLike, *, bpm: float | None = None) -> TempoGrid:
    """:func:`estimate_grid` of an audio file (the rendered mix)."""
    import soundfile as sf

    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return estimate_grid(audio.T, sr, bpm=bpm)


#: A downbeat this little after a bar line counts as on it (no clip offset): the
#: tracker's beats lag the attacks by up to ~30 ms (measured on the sample stems,
#: whose first downbeat is at 0:00), and 60 ms is below a 32nd note up to 250 bpm.
SNAP_S = 0.06


def clip_offset_s(grid: TempoGrid | None, *, snap_s: float = SNAP_S) -> float:
    """Where the clips start (seconds) so that the downbeat falls on a bar line of the DAW's grid.

    Every clip moves by the same amount, so the mix is unchanged. A downbeat
    within ``snap_s`` (:data:`SNAP_S`) after a bar line counts as on it (no
    offset of almost a whole bar for a few milliseconds).
    """
    if grid is None:
        return 0.0
    bar_s = grid.beats_per_bar * 60.0 / grid.bpm
    late = grid.downbeat_s % bar_s
    if late <= snap_s:
        return 0.0
    return bar_s - late


def _fallback(bpm: float | None, why: str) -> TempoGrid:
    return TempoGrid(bpm=float(bpm) if bpm is not None else 120.0, downbeat_s=0.0, confident=bpm is not None,
                     source="user" if bpm is not None else "audio",
                     reason=f"{why}: {'the user tempo' if bpm is not None else '120 bpm'} with beat 1 at 0:00")
