"""Make the shipped style presets (``workbench/data/styles/*.json``) from the training corpus.

Run::

    python scripts/make_styles.py --corpus /work/corpus

Each family of the corpus of authored mixes (``scripts/make_training_corpus.py``; the songs and
packages reserved for acceptance checks are not in it) gives one style:

- ``target``: the authors' own mixes (``<song>/mix.wav``) measured with
  :func:`workbench.analysis.reference.measure_reference` and combined with equal weights;
- ``role_offsets_db``: per role (the corpus labels, ``label_role`` of
  ``benchmarks/data/training_features.csv``), the family's mean stem level relative to its song's
  mean, minus the same over the whole corpus, halved (a style leans, the balance model decides),
  only for roles with at least 5 stems in the family, within ±3 dB;
- ``pan_spread``: the family's mean |author pan| over the corpus mean |author pan| (panned stems only);
- ``reverb_offset_db``: 0 (the corpus does not measure reverb sends separately).

Plus ``pink``: a tonal target of pink noise (equal power in every octave — the reference signal of
IEC 60268-1's simulated programme signal and of loudspeaker alignment) with the corpus-wide width and
dynamics, tone only by default.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FAMILIES = {
    "lmms": ("lmms-electronic", "Electronic productions: the LMMS demo projects' own mixes (lmms-common 1.2.2)."),
    "hydrogen": ("hydrogen-drums", "Drum-kit grooves: the Hydrogen demo songs' own mixes (hydrogen-data 1.2.0)."),
    "midi": ("midi-game", "General-MIDI game music: composers' MIDI from Debian (freedink-data, freedoom) "
                          "rendered with FluidR3 GM at the composers' volumes and pans."),
}
MIN_ROLE_STEMS = 5


def main(argv: list[str] | None = None) -> int:
    from authored import TABLE, read_table

    from workbench.analysis.reference import MEASURE_RATE, combine, measure_audio, measure_reference
    from workbench.mixing.reference_match import MatchAmounts
    from workbench.mixing.style import STYLE_DIR, Style

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--out", type=Path, default=STYLE_DIR)
    args = ap.parse_args(argv)
    rows = read_table(TABLE)
    by_song = defaultdict(list)
    for r in rows:
        by_song[r["song"]].append(r)
    rel = defaultdict(lambda: defaultdict(list))          # family → role → levels relative to the song mean
    pans = defaultdict(list)
    for song_rows in by_song.values():
        mean = float(np.mean([r["author_lufs"] for r in song_rows if math.isfinite(r["author_lufs"])]))
        for r in song_rows:
            if math.isfinite(r["author_lufs"]):
                rel[r["family"]][r["label_role"]].append(r["author_lufs"] - mean)
                rel["all"][r["label_role"]].append(r["author_lufs"] - mean)
            if math.isfinite(r["author_pan"]) and r["author_pan"] != 0:
                pans[r["family"]].append(abs(r["author_pan"]))
                pans["all"].append(abs(r["author_pan"]))
    args.out.mkdir(parents=True, exist_ok=True)
    measured_all = []
    for family, (name, description) in FAMILIES.items():
        songs = sorted(p for p in (args.corpus / family).iterdir() if (p / "mix.wav").is_file())
        measured = [(measure_reference(p / "mix.wav"), 1.0) for p in songs]
        measured_all += measured
        target = combine(measured)
        target = type(target)(**{**target.__dict__, "source": f"{len(songs)} authored {family} mixes"})
        offsets = {}
        for role, levels in rel[family].items():
            if len(levels) >= MIN_ROLE_STEMS and role:
                off = 0.5 * (float(np.mean(levels)) - float(np.mean(rel["all"][role])))
                if abs(off) >= 0.25:
                    offsets[role] = max(-3.0, min(3.0, round(off, 2)))
        spread = float(np.mean(pans[family]) / np.mean(pans["all"])) if pans[family] else 1.0
        style = Style(
            name=name, description=description,
            sources=(f"target: the authors' mixes of the {len(songs)} {family} songs of the training corpus "
                     f"({', '.join(p.name for p in songs)}), measured by workbench.analysis.reference and "
                     "combined with equal weights (scripts/make_styles.py)",
                     "role_offsets_db: half the family's mean stem level per labelled role relative to its song's "
                     "mean, minus the corpus-wide mean (benchmarks/data/training_features.csv)",
                     "pan_spread: the family's mean |author pan| of panned stems over the corpus-wide mean"),
            target=target, match=MatchAmounts(), role_offsets_db=tuple(sorted(offsets.items())),
            pan_spread=round(min(2.0, max(0.0, spread)), 3))
        style.to_json(args.out / f"{name}.json")
        print(f"{name}: {len(songs)} songs, offsets {offsets}, pan spread {spread:.2f}")
    # Pink: equal power per octave, with the corpus-wide width and dynamics.
    rng = np.random.default_rng(0)
    n = 30 * MEASURE_RATE
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / MEASURE_RATE)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    pink = np.fft.irfft(spec, n)
    pink = (0.1 * pink / np.sqrt(np.mean(pink ** 2))).astype(np.float32)
    tone = measure_audio(np.stack([pink, pink]), MEASURE_RATE, source="pink noise")
    corpus = combine(measured_all)
    target = type(corpus)(**{**corpus.__dict__, "tonal_db": tone.tonal_db,
                             "source": f"pink noise (tone); {len(measured_all)} authored mixes (width, dynamics)"})
    style = Style(name="pink", description="A neutral tonal balance: equal power in every octave (pink noise).",
                  sources=("tonal target: pink noise, equal power per octave — the reference signal of "
                           "loudspeaker alignment and of IEC 60268-1's simulated programme signal "
                           "(see workbench.evaluate.pink_reference_db)",
                           f"loudness, dynamics and width: the {len(measured_all)} authored mixes of the training "
                           "corpus combined (used only if their amounts are raised)"),
                  target=target, match=MatchAmounts(tone=50, dynamics=0, width=0, loudness=0))
    style.to_json(args.out / "pink.json")
    print("pink written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
