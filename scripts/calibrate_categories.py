#!/usr/bin/env python3
"""How sure is the audio category model on real authored stems? Calibrate the "unsure" threshold.

Usage::

    python scripts/calibrate_categories.py            # needs the corpus views of fit_balance_model.py

Every stem of the held-out songs of the category model (the authored songs
``scripts/train_category_model.py`` kept out of its training) whose category an
independent source gives (a confident name, the drum-note group, the sample
file's name or the GM program: the ``label_source`` of
``benchmarks/data/training_features.csv``) is heard by the runtime audio model
(:func:`workbench.analysis.classify.suggest_from_audio`) as if its name said
nothing. The accuracy of the guesses by confidence says where a guess may be
shown as a category and where it must be shown as a question:
:data:`workbench.analysis.classify.UNSURE_BELOW` is the lowest confidence at
and above which the guesses were right at least :data:`TARGET_ACCURACY` of the
time. Results: ``benchmarks/results/category_calibration.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import fit_balance_model as fbm  # noqa: E402

from workbench.analysis import classify  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "category_calibration.md"
INDEPENDENT = ("name", "drum group", "sample name", "GM program")
TARGET_ACCURACY = 0.8
BINS = ((0.0, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--views", type=Path, default=Path("/work/corpus_views"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    rows = [r for r in fbm.read_table() if r["label_source"] in INDEPENDENT]
    # Only the songs the category model did not train on (its held-out authored songs).
    import train_category_model as tcm

    songs: dict[str, list[str]] = {}
    for r in rows:
        songs.setdefault(r["family"], [])
        if r["song"] not in songs[r["family"]]:
            songs[r["family"]].append(r["song"])
    split = tcm.authored_split(songs)
    rows = [r for r in rows if split[(r["family"], r["song"])] == "test"]
    heard = []
    for r in rows:
        path = args.views / r["family"] / r["song"] / r["file"]
        s = classify.suggest_from_audio(path)
        if s.category is None:
            continue
        heard.append((r, s.category, s.confidence))
    conf = np.array([c for _, _, c in heard])
    ok = np.array([cat == r["label_category"] for r, cat, _ in heard])
    lines = ["# Audio category guesses on authored stems: calibration", "",
             f"Made by `python scripts/calibrate_categories.py`. {len(heard)} stems of the authored songs the "
             f"category model did not train on ({len({r['song'] for r, _, _ in heard})} songs) whose category an independent "
             "source gives (a confident name, the drum-note group, the sample file's name or the GM program) "
             "were heard by the runtime audio model as if their names said nothing.", "",
             f"Overall accuracy: {ok.mean():.0%}.", "",
             "| confidence | stems | right |", "|---|---|---|"]
    for lo, hi in BINS:
        m = (conf >= lo) & (conf < hi)
        lines.append(f"| {lo:.1f}–{min(hi, 1.0):.1f} | {int(m.sum())} | "
                     f"{ok[m].mean():.0%} |" if m.any() else f"| {lo:.1f}–{min(hi, 1.0):.1f} | 0 | — |")
    threshold = None
    for t in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        m = conf >= t
        if m.sum() >= 5 and ok[m].mean() >= TARGET_ACCURACY:
            threshold = t
            break
    lines += ["", "| shown as sure at or above | stems | right |", "|---|---|---|"]
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):
        m = conf >= t
        lines.append(f"| {t:.1f} | {int(m.sum())} | {ok[m].mean():.0%} |" if m.any() else f"| {t:.1f} | 0 | — |")
    lines += ["", f"Lowest threshold whose guesses are right at least {TARGET_ACCURACY:.0%} of the time (with at "
              f"least 5 stems): **{threshold if threshold is not None else 'none'}** "
              f"(`UNSURE_BELOW` in `workbench/analysis/classify.py` is {classify.UNSURE_BELOW}).", "",
              "Most frequent confusions (labelled → heard):", ""]
    for (a, b), n in Counter((r["label_category"], cat) for r, cat, _ in heard
                             if cat != r["label_category"]).most_common(12):
        lines.append(f"- {a} → {b}: {n}")
    lines += ["", "The audio model was trained on General MIDI renders, Hydrogen kits, Sonic Pi samples and "
              "the other authored songs (`benchmarks/results/category_accuracy.md`); the synthesiser timbres "
              "of the LMMS songs vary widely, which is why a guess from the audio is shown as a question "
              "unless it is sure."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
