#!/usr/bin/env python3
"""Fit the balance model on the training corpus of authored mixes.

Usage::

    python scripts/fit_balance_model.py --corpus /work/corpus            # measure, write the table, fit
    python scripts/fit_balance_model.py --from-table                     # refit from the committed table only

Two stages:

1. **Measure** (needs the corpus audio made by ``scripts/make_training_corpus.py``).
   For every song, each stem is copied at a seeded random level — the
   author's level moved by 0 to −12 dB, as stems arrive from musicians — into
   a session folder named by the track names (``<views>/<family>/<song>/``),
   and the workbench loads it as a user would (checks, category from the name
   and the audio), analyses it and measures what each part does
   (:mod:`workbench.analysis.parts`). Each stem also gets a *labelled*
   category — from the name table, the GM program, the drum-note group, the
   sample file or the synth plugin; the audio model only when none of these
   says anything — written with where it came from. One row per stem goes to
   ``benchmarks/data/training_features.csv``: the author's level (the copy's
   BS.1770 loudness minus its random offset) and pan, the labelled and the
   detected category and role, and the measured terms.
2. **Fit** (the table alone): :func:`workbench.mixing.balance_model.fit` on
   the labelled roles, with the leave-one-song-out error of the same fit
   recorded in the model file, written to ``workbench/data/balance_model.json``.

The model is deterministic for the same table. ``benchmarks/authored.py``
measures the model against the baselines song by song.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench import categories as cats  # noqa: E402
from workbench.evaluate import balance_error  # noqa: E402
from workbench.mixing import balance_model as bm  # noqa: E402
from workbench.mixing.rules.gain import PRIOR_OFFSET_LU  # noqa: E402

TABLE = ROOT / "benchmarks" / "data" / "training_features.csv"
#: Reserved for acceptance checks (issue 13): never measured or fitted on.
RESERVED = ("CapDan-ReggaeTry", "Thomasso-AxeFromThe80s", "CapDan-TwilightArea-OriginalByAlf42red",
            "Skiessi-C64", "tutorial_georgyporgy")
#: Input levels: the author's level moved by a seeded offset in this range (dB),
#: as ``scripts/make_eval_corpus.py`` does; never above −0.5 dBFS sample peak.
OFFSET_RANGE_DB = (-12.0, 0.0)
PEAK_LIMIT_DBFS = -0.5

COLUMNS = ["song", "family", "file", "name", "label_category", "label_source", "auto_category",
           "auto_confidence", "auto_source", "label_role", "auto_role", "offset_db", "author_lufs",
           "author_pan", "duty", "onset_rate_hz", "hit_share", "register_hz", "overlap", "lead_score",
           "section_label", "section_auto", "foreground_label", "foreground_auto", "channels",
           "too_quiet", "automated", "licence"]

# GM program (0-based) → category, by the GM families (General MIDI 1 sound set,
# MMA 1991). Bells are Cymbals and choirs are pads, per the preparation guide's rules.
_GM = ([("Keys", 8)]                                                   # 0-7 pianos
       + [("Keys", 6), ("Cymbals", 1), ("Keys", 1)]                      # 8-15 chromatic perc., 14 tubular bells
       + [("Keys", 8), ("Guitar", 8), ("Bass", 8)]                       # organs, guitars, basses
       + [("Strings", 7), ("Percussion", 1), ("Strings", 4)]             # strings, 47 timpani, ensembles
       + [("Pads", 3), ("FX", 1)]                                        # choirs and voices, orchestra hit
       + [("Brass", 8), ("Brass", 8), ("Brass", 8)]                      # brass, reeds, pipes (winds)
       + [("Synth", 8), ("Pads", 8), ("FX", 8)]                          # synth lead, pad, effects
       + [("Guitar", 4), ("Keys", 1), ("Brass", 1), ("Strings", 1), ("Brass", 1)]  # ethnic
       + [("Cymbals", 1), ("Percussion", 6), ("FX", 1), ("FX", 8)])      # percussive, sound effects
GM_CATEGORY = [c for c, k in _GM for _ in range(k)]
assert len(GM_CATEGORY) == 128, len(GM_CATEGORY)

DRUM_GROUP_CATEGORY = {"kick": "Kick", "snare": "Snare", "hats": "Cymbals", "hihat": "Cymbals",
                       "cymbals": "Cymbals", "hats+cymbals": "Cymbals", "toms": "Percussion",
                       "percussion": "Percussion", "perc": "Percussion"}
PLUGIN_CATEGORY = {"kicker": "Kick", "organic": "Keys", "vibedstrings": "Strings", "sfxr": "FX",
                   "malletsstk": "Keys"}


def _safe_name(name: str) -> str:
    s = re.sub(r"[^\w\s\-\.\(\)&+#']", "_", name).strip(" ._") or "track"
    return s[:60]


def label_category(stem: dict, auto: tuple[str | None, float]) -> tuple[str, str]:
    """The labelled category of a corpus stem and where it came from.

    Order: drum-note group (MIDI drums split by note, Hydrogen instruments by
    name), a confident name, the sample file's name, the GM program, the synth
    plugin, and last the audio model (``auto``).
    """
    group = str(stem.get("drum_group") or "").lower()
    if group in DRUM_GROUP_CATEGORY:
        return DRUM_GROUP_CATEGORY[group], "drum group"
    named = cats.suggest_from_name(stem["name"])
    if named.category and named.confidence >= 0.6:
        return named.category, "name"
    sample = stem.get("sample") or ""
    if isinstance(sample, list):
        sample = sample[0] if sample else ""
    if sample:
        by_sample = cats.suggest_from_name(Path(str(sample)).name)
        if by_sample.category and by_sample.confidence >= 0.6:
            return by_sample.category, "sample name"
    prog = stem.get("program")
    if prog is not None and str(prog) not in ("", "None") and 0 <= int(prog) < 128:
        return GM_CATEGORY[int(prog)], "GM program"
    plugin = str(stem.get("plugin") or "").lower()
    if plugin in PLUGIN_CATEGORY:
        return PLUGIN_CATEGORY[plugin], "plugin"
    if named.category and named.category not in ("Lead Vocal", "Backing Vocal"):
        return named.category, "name (weak)"  # a hint ("lead", "bg") is no evidence of a voice
    if auto[0]:
        return auto[0], "audio"
    return "Other", "none"


def _offset_db(song: str, stem_file: str) -> float:
    h = int.from_bytes(hashlib.blake2b(f"{song}/{stem_file}".encode(), digest_size=8).digest(), "big")
    lo, hi = OFFSET_RANGE_DB
    return round(lo + (hi - lo) * (h / 2 ** 64), 2)


def make_view(song_dir: Path, meta: dict, view: Path) -> list[tuple[dict, Path, float]]:
    """Copy each stem at its random input level into ``view``, named by its track name (24-bit WAV)."""
    view.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    out = []
    for stem in meta["stems"]:
        base = _safe_name(stem["name"])
        name, k = base, 2
        while name.casefold() in used:
            name, k = f"{base} {k}", k + 1
        used.add(name.casefold())
        dst = view / f"{name}.wav"
        x, sr = sf.read(song_dir / stem["file"], dtype="float32", always_2d=True)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        off = _offset_db(meta["song"], stem["file"])
        if peak > 0:
            off = min(off, PEAK_LIMIT_DBFS - 20 * math.log10(peak))
        if not dst.exists():
            tmp = dst.with_suffix(".part.wav")
            sf.write(tmp, x * np.float32(10 ** (off / 20)), sr, subtype="PCM_24")
            tmp.rename(dst)
        out.append((stem, dst, off))
    return out


def measure_song(song_dir: Path, views: Path, cache: Path) -> list[dict]:
    """Rows of the feature table for one song."""
    from workbench.analysis import analyse
    from workbench.analysis.parts import co_activity, part_features
    from workbench.mixing.planner import part_roles
    from workbench.session import load_session

    meta = json.loads((song_dir / "song.json").read_text())
    view = views / meta["family"] / meta["song"]
    copies = make_view(song_dir, meta, view)
    session = load_session(view, max_stems=128)  # a few authored songs have more than 32 tracks
    by_file = {s.file: s for s in session.stems}
    quiet = {f.stem for f in session.findings if f.code == "too_quiet"}
    labels = {}
    for stem, dst, _ in copies:
        s = by_file[dst.name]
        labels[dst.name] = label_category(stem, (s.category, s.confidence))
    labelled = session.with_settings(category={by_file[f].name: c for f, (c, _) in labels.items()})
    analysis = analyse(session, cache_dir=cache)
    parts = part_features(analysis)
    co = co_activity(analysis.activity)
    auto_roles = part_roles(session, analysis, parts=parts, co=co)
    label_roles = part_roles(labelled, analysis, parts=parts, co=co)
    rows = []
    order = {f: i for i, f in enumerate(analysis.files)}
    for stem, dst, off in copies:
        if dst.name not in order:  # not mixable (an error finding): left out, with the reason in the log
            print(f"  {meta['song']}: {dst.name} not analysed", file=sys.stderr)
            continue
        i = order[dst.name]
        f = analysis.stems[i]
        s = by_file[dst.name]
        lufs = f.integrated_lufs
        if not math.isfinite(lufs):
            continue
        rows.append({
            "song": meta["song"], "family": meta["family"], "file": dst.name, "name": stem["name"],
            "label_category": labels[dst.name][0], "label_source": labels[dst.name][1],
            "auto_category": s.category or "", "auto_confidence": round(float(s.confidence), 3),
            "auto_source": s.category_source, "label_role": label_roles[i].role.key,
            "auto_role": auto_roles[i].role.key, "offset_db": off,
            "author_lufs": round(lufs - off, 3), "author_pan": stem.get("author_pan", 0.0),
            "duty": round(parts[i].duty, 4), "onset_rate_hz": round(parts[i].onset_rate_hz, 3),
            "hit_share": round(parts[i].hit_share, 4), "register_hz": round(parts[i].register_hz, 1),
            "overlap": round(parts[i].overlap, 4), "lead_score": round(parts[i].lead_score, 4),
            "section_label": round(label_roles[i].section, 3), "section_auto": round(auto_roles[i].section, 3),
            "foreground_label": int(label_roles[i].role.key == "foreground"),
            "foreground_auto": int(auto_roles[i].role.key == "foreground"),
            "channels": f.channels, "too_quiet": int(dst.name in quiet),
            "automated": int(bool(stem.get("automated"))), "licence": meta.get("licence", ""),
        })
    return rows


def songs_in(corpus: Path) -> list[Path]:
    """Song folders with a ``song.json``, reserved songs excluded, in a stable order."""
    out = []
    for p in sorted(corpus.glob("*/*/song.json")):
        if p.parent.name in RESERVED or any(r in p.parent.name for r in RESERVED):
            continue
        out.append(p.parent)
    return out


def read_table(path: Path = TABLE) -> list[dict]:
    """The committed feature table, numbers parsed."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k, v in r.items():
            if k in ("song", "family", "file", "name", "label_category", "label_source", "auto_category",
                     "auto_source", "label_role", "auto_role", "licence"):
                continue
            r[k] = float(v) if v not in ("", "None") else math.nan
    return rows


def terms_of(row: dict, which: str = "label") -> dict[str, float]:
    return bm.term_values(row["duty"], row["register_hz"], row[f"section_{which}"], row["hit_share"])


#: Stems more than this far below their song's median level are inaudible in
#: the author's mix (a render that failed, a muted idea): their "balance" says
#: nothing, so they are not fitted on (they are still scored by the benchmark).
INAUDIBLE_BELOW_MEDIAN_LU = 30.0


def fittable(rows: Sequence[dict]) -> list[dict]:
    """The rows the model is fitted on: audible in the author's mix."""
    med = defaultdict(list)
    for r in rows:
        med[r["song"]].append(r["author_lufs"])
    m = {s: float(np.median(v)) for s, v in med.items()}
    return [r for r in rows if r["author_lufs"] >= m[r["song"]] - INAUDIBLE_BELOW_MEDIAN_LU]


#: Roles the authored sources hold too few real examples of to fit (a voice
#: sample, a GM choir patch): they keep the literature prior (issue 13).
PRIOR_ONLY_ROLES = ("lead vocal", "backing vocal")


def fit_rows(rows: Sequence[dict], which: str = "label", **kw) -> bm.BalanceModel:
    """Fit the model on table rows (``which``: the labelled or the detected roles).

    Stems inaudible in the author's mix and vocal roles are left out
    (:func:`fittable`, :data:`PRIOR_ONLY_ROLES`).
    """
    rows = [r for r in fittable(rows) if r[f"{which}_role"] not in PRIOR_ONLY_ROLES]
    model = bm.fit([r["song"] for r in rows], [r[f"{which}_role"] for r in rows],
                  [terms_of(r, which) for r in rows], [r["author_lufs"] for r in rows], PRIOR_OFFSET_LU,
                  fitted_on={"songs": len({r["song"] for r in rows}), "stems": len(rows),
                             "families": sorted({r["family"] for r in rows}),
                             "table": "benchmarks/data/training_features.csv"}, **kw)
    return with_pan_fit(model, rows)


def with_pan_fit(model: bm.BalanceModel, rows: Sequence[dict]) -> bm.BalanceModel:
    """The model with the authored pan style's distances fitted on ``rows`` (the authors' pans)."""
    from workbench.mixing.rules.pan import pair_key

    paired = [r for r in rows if pair_key(r["name"])]
    single = [r for r in rows if not pair_key(r["name"])]
    return bm.BalanceModel.from_dict({
        **model.to_dict(),
        "pan_distance": bm.fit_pan_distance([r["author_pan"] for r in single]),
        "pan_pair_distance": bm.fit_pan_distance([r["author_pan"] for r in paired], default=0.5),
        "pan_fitted_on": {
            "stems": len(rows), "songs": len({r["song"] for r in rows}),
            "share_panned": float(np.mean([abs(r["author_pan"]) >= 0.05 for r in rows])) if rows else 0.0,
            "pair_stems": len(paired)}})


def balance_error_db(levels: Sequence[float], author: Sequence[float]) -> float:
    """Mean |level − author − median difference| (dB): :func:`workbench.evaluate.balance_error`."""
    zero = np.zeros(len(levels))
    return balance_error(zero, levels, zero, author).mean_abs_db


def loso(rows: Sequence[dict], which: str = "label", **kw) -> dict[str, float]:
    """Leave-one-song-out balance error per song: each song predicted by a model fitted without it."""
    out = {}
    for song in sorted({r["song"] for r in rows}):
        train = [r for r in rows if r["song"] != song]
        test = [r for r in rows if r["song"] == song]
        if len(test) < 2:
            continue
        m = fit_rows(train, which, **kw)
        pred = np.array([m.offset(r[f"{which}_role"], terms_of(r, which)) for r in test])
        out[song] = balance_error_db(pred, np.array([r["author_lufs"] for r in test]))
    return out


#: Hyperparameters tried, each chosen by leave-one-song-out on the songs a fit
#: is given (:func:`fit_tuned`): pseudo-stems of prior weight, scale of the
#: literature prior (0 = shrink toward equal loudness), ridge on the terms.
GRID = [{"prior_weight": w, "prior_scale": k, "ridge": r}
        for w in (1.0, 4.0, 16.0) for k in (0.0, 0.5, 1.0) for r in (2.0, 20.0)]


def fit_tuned(rows: Sequence[dict], which: str = "label") -> tuple[bm.BalanceModel, dict, float]:
    """Fit with the hyperparameters whose leave-one-song-out error on ``rows`` is lowest.

    Returns the model, the chosen hyperparameters and their LOSO error. Used
    inside the benchmark's outer leave-one-song-out, so the held-out song never
    takes part in the choice (nested cross-validation).
    """
    best = None
    for hp in GRID:
        errs = loso(rows, which, **hp)
        e = float(np.mean(list(errs.values()))) if errs else math.inf
        if best is None or e < best[2] - 1e-9:
            best = (hp, errs, e)
    hp, _, e = best
    return fit_rows(rows, which, **hp), hp, e


def write_table(rows: list[dict], path: Path = TABLE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"), help="made by make_training_corpus.py")
    ap.add_argument("--views", type=Path, default=None, help="session folders of level-offset copies "
                    "(default: CORPUS/../corpus_views)")
    ap.add_argument("--cache", type=Path, default=None, help="analysis cache (default: VIEWS/.cache)")
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--model", type=Path, default=bm.MODEL_PATH)
    ap.add_argument("--from-table", action="store_true", help="skip measuring: refit from --table")
    args = ap.parse_args(argv)

    if not args.from_table:
        views = args.views or args.corpus.parent / "corpus_views"
        cache = args.cache or views / ".cache"
        rows: list[dict] = []
        for song_dir in songs_in(args.corpus):
            print(f"measuring {song_dir.parent.name}/{song_dir.name}", file=sys.stderr)
            rows.extend(measure_song(song_dir, views, cache))
        write_table(rows, args.table)
    rows = read_table(args.table)
    model, hp, _ = fit_tuned(rows)
    errors = loso(rows, **hp)
    model = bm.BalanceModel.from_dict({**model.to_dict(), "fitted_on": {**model.fitted_on, "hyperparameters": hp,
                                                                         "grid": len(GRID)}})
    model = bm.BalanceModel.from_dict({**model.to_dict(), "loso_mean_abs_db": float(np.mean(list(errors.values())))})
    model.save(args.model)
    print(f"{len(rows)} stems, {len({r['song'] for r in rows})} songs; leave-one-song-out balance error "
          f"{np.mean(list(errors.values())):.2f} dB; model written to {args.model}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
