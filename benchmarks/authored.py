"""How close is the automix to the authors' own mixes? Leave-one-song-out on the training corpus.

Run::

    python scripts/make_training_corpus.py --out /work/corpus      # the authored songs, rendered per track
    python scripts/fit_balance_model.py --corpus /work/corpus      # table + model
    python benchmarks/authored.py --corpus /work/corpus             # this benchmark

For every song of the corpus of authored mixes (stems copied at random input
levels, 0 to −12 dB from the author's, by ``scripts/fit_balance_model.py``), it
compares each stem's level and pan in these mixes with the author's:

=====================  ===========================================================
variant                what
=====================  ===========================================================
plain sum              the stems as they arrived, centred
equal loudness         every stem at the same integrated loudness, centred
rules before           the planner of the previous release (measured by running
                       this script against that release: ``--before``)
fitted (LOSO)          the planner with a balance model fitted on every *other*
                       song (leave-one-song-out; its hyperparameters chosen by a
                       leave-one-song-out inside those songs): out of sample
fitted (in-sample)     the planner with the shipped model, fitted on all songs
oracle (category)      per-category levels fitted with hindsight on all songs,
                       this one included: what a perfect category table could do
=====================  ===========================================================

Measures, per song:

- **balance error** — mean absolute difference between each stem's level in
  the mix (planned gain + measured loudness, BS.1770) and the author's, after
  removing the median difference (:func:`workbench.evaluate.balance_error`);
- **pan error** — mean absolute difference between the planned pan and the
  author's (−1 left … +1 right);
- **tonal distance** — RMS difference (dB) of the mix's long-term spectrum from
  the author's mix over the ERB bands from 50 Hz to 16 kHz, level-aligned,
  *estimated from the analysis' band powers* (each stem's power × its gain ×
  its EQ's response), so compression, reverb and the master are not in it.

Categories come from the workbench's own detection (name, then audio), as a
new user gets them ("detected"), and from the corpus labels ("labelled").
Results: ``benchmarks/results/authored.json`` and the section between
``<!-- authored:start -->`` and ``<!-- authored:end -->`` of
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import write_section  # noqa: E402  (benchmarks/ is on the path from here)

RESULTS = ROOT / "benchmarks" / "results" / "authored.json"
BEFORE = ROOT / "benchmarks" / "results" / "authored_before.json"
VARIANTS = ("plain sum", "equal loudness", "rules before", "fitted (LOSO)", "fitted (in-sample)",
            "oracle (category)")
TONAL_BAND_HZ = (50.0, 16000.0)


TABLE = ROOT / "benchmarks" / "data" / "training_features.csv"
_TEXT = ("song", "family", "file", "name", "label_category", "label_source", "auto_category", "auto_source",
         "label_role", "auto_role", "licence")


def read_table(path: Path = TABLE) -> list[dict]:
    """The feature table of ``scripts/fit_balance_model.py`` (numbers parsed).

    Read here rather than imported, so that ``--before`` runs against a release
    that has no balance model.
    """
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k, v in r.items():
            if k not in _TEXT:
                r[k] = float(v) if v not in ("", "None") else math.nan
    return rows


def balance(levels: dict[str, float], author: dict[str, float]) -> float:
    """Mean |level − author − median difference| over the stems (dB): :func:`workbench.evaluate.balance_error`."""
    from workbench.evaluate import balance_error

    names = sorted(author)
    zero = np.zeros(len(names))
    return balance_error(zero, [levels[n] for n in names], zero, [author[n] for n in names]).mean_abs_db


def pan_error(pans: dict[str, float], author: dict[str, float]) -> float:
    return float(np.mean([abs(pans.get(n, 0.0) - author[n]) for n in author]))


def tonal_distance(analysis, gains_db: dict[str, float], eqs: dict[str, list], author_gain_db: dict[str, float],
                   sample_rate: int) -> float:
    """RMS dB difference of the band-power mix spectrum from the author's (level-aligned)."""
    from workbench.mixing.response import eq_response_db

    centres = np.asarray(analysis.bands.centres_hz)
    keep = (centres >= TONAL_BAND_HZ[0]) & (centres <= TONAL_BAND_HZ[1])
    mean_power = analysis.band_power.mean(axis=2, dtype=np.float64)
    ours = np.zeros(len(centres))
    theirs = np.zeros(len(centres))
    for i, f in enumerate(analysis.files):
        if f not in author_gain_db:
            continue
        eq = eq_response_db(eqs.get(f, []), centres, sample_rate) if eqs.get(f) else 0.0
        ours += mean_power[i] * 10 ** ((gains_db.get(f, 0.0) + eq) / 10)
        theirs += mean_power[i] * 10 ** (author_gain_db[f] / 10)
    d = 10 * np.log10(np.maximum(ours[keep], 1e-20)) - 10 * np.log10(np.maximum(theirs[keep], 1e-20))
    d -= d.mean()
    return float(np.sqrt(np.mean(d ** 2)))


#: Lower edge of the band the width is measured over (Hz): the top octaves the
#: issue found several dB wider than authored mixes.
WIDTH_FROM_HZ = 2000.0


def width_above(analysis, gains_db: dict[str, float], pans: dict[str, float], files) -> float:
    """Side share ``E_S / (E_M + E_S)`` of the mix above 2 kHz, estimated from pans and band powers.

    Each stem is taken as a point source at its pan (constant-power law), at its
    planned level, with its band power above :data:`WIDTH_FROM_HZ`; the stems add
    in power. 0 is mono, 0.5 two channels of equal level and no correlation.
    Our estimate (a stereo stem's own width is not in it).
    """
    centres = np.asarray(analysis.bands.centres_hz)
    hf = analysis.band_power[:, centres >= WIDTH_FROM_HZ, :].mean(axis=2, dtype=np.float64).sum(axis=1)
    mid = side = 0.0
    for i, f in enumerate(analysis.files):
        if f not in files:
            continue
        theta = (min(1.0, max(-1.0, pans.get(f, 0.0))) + 1) * math.pi / 4
        left, right = math.cos(theta), math.sin(theta)
        p = hf[i] * 10 ** (gains_db.get(f, 0.0) / 10)
        mid += p * (left + right) ** 2 / 4
        side += p * (left - right) ** 2 / 4
    return float(side / (mid + side)) if mid + side > 0 else 0.0


def oracle_offsets(rows: list[dict], which: str) -> dict[str, float]:
    """Per-category mean level relative to each song's mean, over every song (hindsight)."""
    by_song = defaultdict(list)
    for r in rows:
        by_song[r["song"]].append(r)
    acc = defaultdict(list)
    for song_rows in by_song.values():
        m = np.mean([r["author_lufs"] for r in song_rows])
        for r in song_rows:
            acc[r[f"{which}_category"]].append(r["author_lufs"] - m)
    return {c: float(np.mean(v)) for c, v in acc.items()}


_LOSO_MODELS: dict = {}


def loso_model(train: list[dict], song: str):
    """The model fitted without ``song``, its hyperparameters chosen by an inner leave-one-song-out (nested)."""
    import fit_balance_model as fbm

    if song not in _LOSO_MODELS:
        _LOSO_MODELS[song] = fbm.fit_tuned(train)[0]
    return _LOSO_MODELS[song]


def evaluate_song(song_rows: list[dict], views: Path, cache: Path, all_rows: list[dict], variants: tuple[str, ...],
                  which_categories: tuple[str, ...]) -> dict:
    from workbench.analysis import analyse
    from workbench.mixing.planner import plan_mix
    from workbench.session import load_session

    song = song_rows[0]["song"]
    family = song_rows[0]["family"]
    view = views / family / song
    session = load_session(view, max_stems=128)  # a few authored songs have more than 32 tracks
    analysis = analyse(session, cache_dir=cache)
    lufs = {f: s.integrated_lufs for f, s in zip(analysis.files, analysis.stems)}
    rows = [r for r in song_rows if r["file"] in lufs and math.isfinite(lufs[r["file"]])]
    author = {r["file"]: r["author_lufs"] for r in rows}
    author_pan = {r["file"]: r["author_pan"] for r in rows}
    author_gain = {r["file"]: -r["offset_db"] for r in rows}  # copy → author level
    takes_model = "model" in inspect.signature(plan_mix).parameters
    out: dict = {"song": song, "family": family, "stems": len(rows), "variants": {}}
    for which in which_categories:
        sess = session if which == "auto" else session.with_settings(
            category={s.name: r["label_category"] for r in rows for s in session.stems if s.file == r["file"]})
        res = {}
        if "plain sum" in variants:
            levels = {f: lufs[f] for f in author}
            res["plain sum"] = {"balance_db": balance(levels, author), "pan": pan_error({}, author_pan),
                                "tonal_db": tonal_distance(analysis, {}, {}, author_gain, analysis.sample_rate)}
        if "equal loudness" in variants:
            g = {f: -lufs[f] for f in author}
            res["equal loudness"] = {"balance_db": balance({f: 0.0 for f in author}, author),
                                     "pan": pan_error({}, author_pan),
                                     "tonal_db": tonal_distance(analysis, g, {}, author_gain, analysis.sample_rate)}
        if "oracle (category)" in variants:
            off = oracle_offsets(all_rows, which)
            key = "label_category" if which == "label" else "auto_category"
            levels = {r["file"]: off.get(r[key], 0.0) for r in rows}
            g = {f: levels[f] - lufs[f] for f in author}
            res["oracle (category)"] = {"balance_db": balance(levels, author), "pan": pan_error({}, author_pan),
                                        "tonal_db": tonal_distance(analysis, g, {}, author_gain,
                                                                   analysis.sample_rate)}
        plans = {}
        if "rules before" in variants:
            plans["rules before"] = plan_mix(sess, analysis)
        if takes_model and "fitted (LOSO)" in variants:
            train = [r for r in all_rows if r["song"] != song]
            plans["fitted (LOSO)"] = plan_mix(sess, analysis, model=loso_model(train, song))
        if takes_model and "fitted (in-sample)" in variants:
            plans["fitted (in-sample)"] = plan_mix(sess, analysis)
        for name, plan in plans.items():
            by_file = {p.file: p for p in plan.stems.values()}
            levels = {f: by_file[f].gain_db + lufs[f] for f in author}
            ours_w = width_above(analysis, {f: by_file[f].gain_db for f in author}, {f: by_file[f].pan for f in author},
                                 author)
            res[name] = {
                "balance_db": balance(levels, author),
                "width_hf": ours_w,
                "width_hf_author": width_above(analysis, author_gain, author_pan, author),
                "pan": pan_error({f: by_file[f].pan for f in author}, author_pan),
                "tonal_db": tonal_distance(analysis, {f: by_file[f].gain_db for f in author},
                                           {f: by_file[f].eq for f in author}, author_gain, analysis.sample_rate),
                "per_stem": {f: {"error_db": levels[f] - author[f], "role": getattr(by_file[f], "role", ""),
                                 "pan": by_file[f].pan, "author_pan": author_pan[f]} for f in author},
            }
            # median-removed per-stem error
            med = float(np.median([v["error_db"] for v in res[name]["per_stem"].values()]))
            for v in res[name]["per_stem"].values():
                v["error_db"] = round(v["error_db"] - med, 3)
        out["variants"][which] = res
    return out


def summarise(songs: list[dict], which: str, variants: tuple[str, ...]) -> dict:
    out = {}
    for v in variants:
        vals = [s["variants"][which][v] for s in songs if v in s["variants"].get(which, {})]
        if not vals:
            continue
        out[v] = {k: (float(np.mean([x[k] for x in vals])), float(np.std([x[k] for x in vals])))
                  for k in ("balance_db", "pan", "tonal_db")}
        out[v]["songs"] = len(vals)
    return out


def paired(songs: list[dict], which: str, a: str, b: str, key: str = "balance_db") -> tuple[float, float, int, int]:
    """Mean and std over songs of (a − b), songs where a < b, songs compared."""
    d = [s["variants"][which][a][key] - s["variants"][which][b][key] for s in songs
         if a in s["variants"].get(which, {}) and b in s["variants"].get(which, {})]
    if not d:
        return math.nan, math.nan, 0, 0
    return float(np.mean(d)), float(np.std(d)), int(sum(x < 0 for x in d)), len(d)


def role_table(songs: list[dict], which: str, variant: str) -> list[tuple[str, int, float, float]]:
    acc = defaultdict(list)
    for s in songs:
        v = s["variants"].get(which, {}).get(variant)
        if not v:
            continue
        for st in v["per_stem"].values():
            acc[st["role"]].append(abs(st["error_db"]))
    return sorted(((r, len(e), float(np.mean(e)), float(np.median(e))) for r, e in acc.items()),
                  key=lambda x: -x[1])


INTRO = """## Balance, pan and tone against the authors' own mixes (out of sample)

The headline figure of the workbench. Each of the authored songs of the training corpus
(`scripts/make_training_corpus.py`: LMMS demo projects, Hydrogen demo songs, composers' MIDI from
Debian packages; the songs and packages reserved for acceptance checks were never rendered) is
mixed from copies of its stems moved by a seeded 0 to −12 dB from the author's level, and each
stem's level (planned gain + measured loudness) and pan are compared with the author's.
**fitted (LOSO)** is the planner with a balance model fitted on every *other* song, its
hyperparameters chosen by a leave-one-song-out inside those songs: out of sample. **fitted
(in-sample)** is the shipped model, fitted on all songs. **rules before** is the planner of the
previous release (run with `--before` against it). **oracle (category)** gives each category its
mean level over all songs, this one included (hindsight). *Balance error*: mean |stem level −
author's level| after removing each song's median difference (`workbench.evaluate.balance_error`'s
measure). *Pan error*: mean |pan − author's pan|, pans −1…+1; leaving every stem centred scores the
mean |author's pan|, the value of the plain-sum and equal-loudness rows. *Tonal distance*: RMS
difference of the long-term spectrum from the author's mix over the ERB bands 50 Hz–16 kHz, after
level alignment, estimated from the analysis' band powers (each stem's gain and EQ; compression,
reverb and master are not in it). In the "detected" runs the audio category model has heard 29 of
the songs (`scripts/train_category_model.py` trains on them and holds out 12); the "labelled" runs
do not depend on it. The plain sum inherits the authors' balance from the simulated
input levels (they are the authors' levels moved by at most 12 dB) and is shown for completeness
only: the planner is independent of input levels except for its guards on faint stems."""


def report(songs: list[dict], command: str, elapsed: float) -> str:
    took = f" ({elapsed:.0f} s)" if math.isfinite(elapsed) else ""
    lines = [INTRO, "", f"Command: `{command}`{took}. {len(songs)} songs, "
             f"{sum(s['stems'] for s in songs)} stems; families: "
             + ", ".join(f"{f} {sum(1 for s in songs if s['family'] == f)}"
                         for f in sorted({s['family'] for s in songs})) + ".", ""]
    for which, title in (("auto", "categories detected by the workbench (as a new user gets them)"),
                         ("label", "categories as labelled in the corpus")):
        for fam in [None] + sorted({s["family"] for s in songs}):
            sel = [s for s in songs if fam is None or s["family"] == fam]
            summ = summarise(sel, which, VARIANTS)
            if not summ:
                continue
            lines += [f"**{'All songs' if fam is None else fam} ({len(sel)} songs), {title}** — mean over songs "
                      "(± standard deviation)", "",
                      "| variant | balance error (dB) | pan error | tonal distance (dB) |", "|---|---|---|---|"]
            for v, m in summ.items():
                label = f"**{v}**" if v == "fitted (LOSO)" else v
                lines.append(f"| {label} | {m['balance_db'][0]:.2f} ± {m['balance_db'][1]:.2f} | "
                             f"{m['pan'][0]:.3f} ± {m['pan'][1]:.3f} | {m['tonal_db'][0]:.2f} ± {m['tonal_db'][1]:.2f} |")
            lines.append("")
            for base in ("equal loudness", "rules before"):
                d, sd, wins, n = paired(sel, which, "fitted (LOSO)", base)
                if n:
                    lines.append(f"- fitted (LOSO) − {base}: {d:+.2f} ± {sd:.2f} dB per song; better on {wins} of {n} songs")
            lines.append("")
    lines += ["**Width above 2 kHz** (side share of the mix's energy above 2 kHz, estimated from the pans and "
              "band powers; 0 = mono; detected categories), mean over songs:", "",
              "| variant | ours | the authors' | mean |difference| |", "|---|---|---|---|"]
    for v in ("rules before", "fitted (LOSO)", "fitted (in-sample)"):
        vals = [s["variants"]["auto"][v] for s in songs if "width_hf" in s["variants"].get("auto", {}).get(v, {})]
        if vals:
            lines.append(f"| {v} | {np.mean([x['width_hf'] for x in vals]):.3f} | "
                         f"{np.mean([x['width_hf_author'] for x in vals]):.3f} | "
                         f"{np.mean([abs(x['width_hf'] - x['width_hf_author']) for x in vals]):.3f} |")
    lines += ["", "**Balance error by role** (fitted, leave-one-song-out, labelled categories; |error| per stem after "
              "removing each song's median):", "", "| role | stems | mean |error| (dB) | median |error| (dB) |",
              "|---|---|---|---|"]
    for role, n, mean, med in role_table(songs, "label", "fitted (LOSO)"):
        lines.append(f"| {role or '—'} | {n} | {mean:.2f} | {med:.2f} |")
    return "\n".join(lines)



def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--views", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--before", action="store_true",
                    help="run only the planner's own variant as 'rules before' (point PYTHONPATH at the old release)")
    ap.add_argument("--songs", nargs="*", default=None)
    ap.add_argument("--report-only", action="store_true", help="rewrite the RESULTS.md section from the JSON")
    args = ap.parse_args(argv)
    if args.report_only:
        songs = json.loads(RESULTS.read_text(encoding="utf-8"))
        write_section(ROOT / "benchmarks" / "RESULTS.md", "authored",
                      report(songs, "python benchmarks/authored.py --corpus " + str(args.corpus), math.nan))
        return 0
    views = args.views or args.corpus.parent / "corpus_views"
    cache = args.cache or views / ".cache"
    rows = read_table(args.table)
    by_song = defaultdict(list)
    for r in rows:
        by_song[r["song"]].append(r)
    t0 = time.perf_counter()
    variants = ("rules before",) if args.before else tuple(v for v in VARIANTS if v != "rules before")
    songs = []
    for song in sorted(by_song):
        if args.songs and song not in args.songs:
            continue
        print(f"{song}", file=sys.stderr)
        songs.append(evaluate_song(by_song[song], views, cache, rows, variants, ("auto", "label")))
    elapsed = time.perf_counter() - t0
    if args.before:
        BEFORE.write_text(json.dumps(songs, indent=1) + "\n", encoding="utf-8")
        return 0
    if BEFORE.exists():
        before = {s["song"]: s for s in json.loads(BEFORE.read_text(encoding="utf-8"))}
        for s in songs:
            for which in ("auto", "label"):
                b = before.get(s["song"], {}).get("variants", {}).get(which, {}).get("rules before")
                if b:
                    s["variants"][which]["rules before"] = b
    RESULTS.write_text(json.dumps(songs, indent=1) + "\n", encoding="utf-8")
    command = "python benchmarks/authored.py --corpus " + str(args.corpus)
    write_section(ROOT / "benchmarks" / "RESULTS.md", "authored", report(songs, command, elapsed))
    print(report(songs, command, elapsed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
