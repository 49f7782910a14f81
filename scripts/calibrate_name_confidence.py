#!/usr/bin/env python3
"""How often is a category read from a stem's name right? Measure it on authored stems.

Usage::

    python scripts/calibrate_name_confidence.py

:func:`workbench.categories.suggest_from_name` gives each name a score by how
the name matched (a plain word such as "snare" scores 0.92, a hint such as
"lead" 0.55 — see ``CONFIDENCE_*`` in ``workbench/categories.py``). Those scores
rank matches; they are not measured probabilities. This script measures them:
every stem of the authored training corpus (``benchmarks/data/training_features.csv``)
whose true category comes from a source *independent of its name* — the drum
note group (Hydrogen kits), the sample file, or the General MIDI program (rows
whose ``label_source`` is ``drum group``, ``sample name`` or ``GM program``; rows
labelled from the name itself would only measure the table against itself, and
rows labelled from the audio or a plugin guess are not ground truth) — is
given to the name reader, and the guesses are scored per score tier.

Writes ``workbench/data/name_confidence.json`` (read by
:mod:`workbench.confidence`; the dashboard shows these figures instead of the
tier scores) and ``benchmarks/results/name_confidence.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.categories import suggest_from_name  # noqa: E402

TABLE = ROOT / "benchmarks" / "data" / "training_features.csv"
DATA_OUT = ROOT / "workbench" / "data" / "name_confidence.json"
REPORT_OUT = ROOT / "benchmarks" / "results" / "name_confidence.md"
#: Label sources that say what a stem is without reading its name.
INDEPENDENT = ("drum group", "sample name", "GM program")
#: A guess is shown as sure only where guesses like it were right at least this often
#: (the same target as ``scripts/calibrate_categories.py`` uses for the audio model).
TARGET_ACCURACY = 0.8


def measure(table: Path) -> dict:
    with open(table, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["label_source"] in INDEPENDENT]
    tiers: dict[str, dict] = defaultdict(lambda: {"stems": 0, "right": 0, "examples": []})
    no_guess = 0
    for r in rows:
        s = suggest_from_name(r["name"] + ".wav")
        if s.category is None:
            no_guess += 1
            continue
        t = tiers[f"{s.confidence:.2f}"]
        t["stems"] += 1
        ok = s.category == r["label_category"]
        t["right"] += int(ok)
        if len(t["examples"]) < 4 and (r["name"], s.category, r["label_category"]) not in t["examples"]:
            t["examples"].append((r["name"], s.category, r["label_category"]))
    return {"rows": len(rows), "no_guess": no_guess, "tiers": dict(sorted(tiers.items(), reverse=True))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--data-out", type=Path, default=DATA_OUT)
    ap.add_argument("--report-out", type=Path, default=REPORT_OUT)
    args = ap.parse_args(argv)
    m = measure(args.table)
    data = {
        "format": "workbench-name-confidence", "version": 1,
        "made_by": "python scripts/calibrate_name_confidence.py",
        "source": "benchmarks/data/training_features.csv, rows labelled by " + ", ".join(INDEPENDENT),
        "target_accuracy": TARGET_ACCURACY,
        "stems": m["rows"], "no_guess": m["no_guess"],
        "tiers": {k: {"stems": v["stems"], "right": v["right"]} for k, v in m["tiers"].items()},
    }
    args.data_out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    lines = ["# Category from the name: measured on authored stems", "",
             f"Made by `python scripts/calibrate_name_confidence.py`. {m['rows']} stems of the authored training "
             "corpus whose category comes from a source independent of the name (" + ", ".join(INDEPENDENT)
             + f"); the name reader made no guess for {m['no_guess']}. Score = the tier score of "
             "`suggest_from_name` (a ranking, not a probability); right = the guess equals the label.", "",
             "| name score | stems | right | examples (name → guess, label) |", "|---|---|---|---|"]
    for k, v in m["tiers"].items():
        ex = "; ".join(f"{n} → {g} ({lab})" for n, g, lab in v["examples"])
        lines.append(f"| {k} | {v['stems']} | {v['right']} ({v['right'] / v['stems']:.0%}) | {ex} |")
    lines += ["", f"The dashboard shows a name guess as a question (\"Synth? — please check\") where its tier was "
              f"right less than {TARGET_ACCURACY:.0%} of the time; tiers with no measured stems are judged by "
              "their score like the audio model's guesses (unsure below `UNSURE_BELOW`). The data is small: "
              "read the counts, not only the percentages.", ""]
    args.report_out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
