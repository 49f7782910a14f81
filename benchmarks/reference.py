"""Mixing toward a reference, against a peer: automix, automix + matchering, and our reference mode.

Run::

    python benchmarks/reference.py --corpus /work/corpus            # every song of the authored corpus
    python benchmarks/reference.py --songs DirtyLove GM_kit_Jazzy    # a subset

For every song of the corpus of authored mixes (the stems copied at seeded random input levels by
``scripts/fit_balance_model.py`` into ``corpus_views``), with **the author's own mix as the
reference**:

=========================  ===================================================================
variant                    what
=========================  ===================================================================
automix                    the planner with the balance model fitted on every *other* song
                           (leave-one-song-out, as ``benchmarks/authored.py``), no reference
automix + matchering       that mix mastered to the reference by matchering 2.0 (PyPI
                           ``matchering``, the peer a user would otherwise pick), defaults
ours (reference, 100 %)    the same planner and model with ``--reference`` the author's mix,
                           tone, dynamics and width at 100 % — what matchering does — and
                           loudness at 0 %: the master stays at −14 LUFS with its −1 dBTP
                           ceiling (the corpus' mixes are float renders that peak up to
                           +6 dBTP; reaching their loudness under our ceiling means heavy
                           limiting, which a release would not do)
ours (reference, default)  the default amounts (tone 70, dynamics 50, width 100, loudness 0)
=========================  ===================================================================

Each rendered file is measured like the reference (:func:`workbench.analysis.reference.measure_audio`:
the loud section, 40 ERB bands) and compared with it: tonal distance (RMS dB difference of the
tonal balances over 50 Hz–16 kHz, mean removed), |Δ| integrated loudness, crest, PLR, side share
above 120 Hz ("width") and L/R imbalance; and each stem's level against the author's (balance error,
:func:`workbench.evaluate.balance_error`'s measure; matchering works on the stereo mix, so its
balance is the automix's).

What is in and out of sample: the balance model never saw the song (LOSO). The reference *is* the
author's mix — that is the test's design (mix toward a known target); the tonal moves are fitted to
it, so the tonal distance measures how well the mix reaches a target it was given, not a
generalisation. The audio category model heard 29 of the 42 songs when it was trained (categories
are detected as a new user gets them).

Results: ``benchmarks/results/reference.json`` and the section between ``<!-- reference:start -->`` and
``<!-- reference:end -->`` at the top of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quality import write_section  # noqa: E402  (benchmarks/ is on the path from here)

RESULTS = ROOT / "benchmarks" / "results" / "reference.json"
VARIANTS = ("automix", "automix + matchering", "ours (reference, 100 %)", "ours (reference, default)")
#: The like-with-like amounts: all the way on tone, dynamics and width; loudness stays at −14 LUFS (see INTRO).
FULL = (100, 100, 100, 0)
MEASURES = ("tonal_db", "loudness_lu", "crest_db", "plr_db", "width", "imbalance_db", "balance_db")


def compare(m, ref) -> dict:
    """Per-descriptor distances of a measured file ``m`` from the reference ``ref``."""
    from workbench.analysis.reference import LOW_END_HZ, tonal_distance_db

    return {"tonal_db": tonal_distance_db(m, ref),
            "loudness_lu": abs(m.integrated_lufs - ref.integrated_lufs),
            "crest_db": abs(m.crest_db - ref.crest_db), "plr_db": abs(m.plr_db - ref.plr_db),
            "width": abs(m.region_side_share(LOW_END_HZ, 20000) - ref.region_side_share(LOW_END_HZ, 20000)),
            "imbalance_db": abs(m.imbalance_db - ref.imbalance_db)}


def measure_file(path: Path):
    from workbench.analysis.reference import MEASURE_RATE, load_reference, measure_audio

    return measure_audio(load_reference(path, MEASURE_RATE), MEASURE_RATE, source=path.name)


def song_folder(corpus: Path, family: str, song: str) -> Path:
    """The corpus folder of ``song`` (folder names are file-safe forms of the song names: read song.json)."""
    plain = corpus / family / song
    if plain.is_dir():
        return plain
    for meta in sorted((corpus / family).glob("*/song.json")):
        if json.loads(meta.read_text(encoding="utf-8")).get("song") == song:
            return meta.parent
    raise FileNotFoundError(f"no folder for the song {song!r} in {corpus / family}")


def evaluate_song(song_rows: list[dict], views: Path, corpus: Path, cache: Path, all_rows: list[dict],
                  work: Path) -> dict:
    import matchering as mg
    from authored import balance, loso_model

    from workbench.analysis import analyse
    from workbench.analysis.reference import measure_reference
    from workbench.mixing.planner import plan_mix
    from workbench.mixing.reference_match import MatchAmounts
    from workbench.pipeline import measure_plan_mix, refine_toward, render_plan
    from workbench.session import load_session

    song, family = song_rows[0]["song"], song_rows[0]["family"]
    session = load_session(views / family / song, max_stems=128)
    analysis = analyse(session, cache_dir=cache)
    lufs = {f: s.integrated_lufs for f, s in zip(analysis.files, analysis.stems)}
    rows = [r for r in song_rows if r["file"] in lufs and math.isfinite(lufs[r["file"]])]
    author = {r["file"]: r["author_lufs"] for r in rows}
    ref_path = song_folder(corpus, family, song) / "mix.wav"
    ref = measure_reference(ref_path)
    model = loso_model([r for r in all_rows if r["song"] != song], song)
    auto = plan_mix(session, analysis, model=model)
    measured = measure_plan_mix(auto, session)        # as `workbench mix --reference` does
    plans = {"automix": auto}
    for name, amounts in (("ours (reference, 100 %)", MatchAmounts(*FULL)),
                          ("ours (reference, default)", MatchAmounts())):
        first = plan_mix(session, analysis, model=model, target=ref, match=amounts, mix=measured)
        plans[name] = refine_toward(first, session, ref, measured, amounts)
    out: dict = {"song": song, "family": family, "stems": len(rows), "reference": ref.to_dict(), "variants": {}}
    for name, plan in plans.items():
        path = work / f"{name.split()[0]}_{len(out['variants'])}.wav"
        t0 = time.perf_counter()
        render_plan(plan, session, path)
        by_file = {p.file: p for p in plan.stems.values()}
        res = compare(measure_file(path), ref)
        res["balance_db"] = balance({f: by_file[f].gain_db + lufs[f] for f in author}, author)
        res["seconds"] = time.perf_counter() - t0
        res["master"] = {"eq": [[b.kind, b.freq_hz, b.gain_db] for b in plan.master.eq], "width": plan.master.width,
                         "mono_below_hz": plan.master.mono_below_hz, "target_lufs": plan.master.target_lufs,
                         "stem_eq_moves": sum(1 for s in plan.stems.values() for b in s.eq if "reference" in b.reason)}
        out["variants"][name] = res
        if name == "automix":
            t0 = time.perf_counter()
            mastered = work / "matchering.wav"
            mg.process(target=str(path), reference=str(ref_path), results=[mg.pcm16(str(mastered))])
            m = compare(measure_file(mastered), ref)
            m["balance_db"] = res["balance_db"]       # matchering does not touch the balance
            m["seconds"] = time.perf_counter() - t0
            out["variants"]["automix + matchering"] = m
    return out


def summarise(songs: list[dict]) -> dict:
    out = {}
    for v in VARIANTS:
        vals = [s["variants"][v] for s in songs if v in s["variants"]]
        if vals:
            out[v] = {k: (float(np.mean([x[k] for x in vals])), float(np.std([x[k] for x in vals]))) for k in MEASURES}
    return out


INTRO = """## Mixing toward a reference, against matchering (the author's own mix as the reference)

Each song of the authored corpus is mixed from its stems (copied at seeded random input levels) with
the balance model fitted on every *other* song (leave-one-song-out: out of sample for the balance), and
the author's own mix given as the reference. **automix** has no reference; **automix + matchering** is
that mix mastered to the reference by matchering 2.0.6 (defaults); **ours (reference, 100 %)** is our
reference mode with tone, dynamics and width at 100 % (matchering matches fully) and loudness at 0 %:
our master keeps −14 LUFS and its −1 dBTP ceiling, while the corpus' mixes are float renders that
peak up to +6 dBTP, so reaching their loudness would take heavy limiting (matchering matches the
loudness; the Δ loudness column shows it);
**ours (reference, default)** uses the default amounts (tone 70, dynamics 50, width 100, loudness 0 —
so its loudness stays at −14 LUFS by design). Every file is measured as the reference is
(`workbench.analysis.reference.measure_audio`: loud section, 40 ERB bands) and compared with it:
*tonal distance* (RMS dB difference of the tonal balances 50 Hz–16 kHz, mean removed), |Δ| loudness
(LU), crest (dB), PLR (dB), width (side share above 120 Hz) and L/R imbalance (dB); *balance error*:
stem levels against the author's (mean |error| after removing the median; matchering does not change
the balance, so it inherits the automix's). The reference is the target the mix is moved toward —
the tonal figures measure how well a given target is reached (in-sample for the target by design),
not how well a style generalises."""


def report(songs: list[dict], command: str, elapsed: float) -> str:
    summ = summarise(songs)
    families = sorted({s["family"] for s in songs})
    lines = [INTRO, "", f"Command: `{command}` ({elapsed:.0f} s). {len(songs)} songs: "
             + ", ".join(f"{f} {sum(1 for s in songs if s['family'] == f)}" for f in families)
             + ". Mean over songs (± standard deviation); lower is better everywhere.", "",
             "| variant | tonal distance (dB) | Δ loudness (LU) | Δ crest (dB) | Δ PLR (dB) | Δ width | "
             "Δ imbalance (dB) | balance error (dB) |", "|---|---|---|---|---|---|---|---|"]
    for v, m in summ.items():
        lines.append(f"| {v} | " + " | ".join(f"{m[k][0]:.2f} ± {m[k][1]:.2f}" if k != "width" else
                                             f"{m[k][0]:.3f} ± {m[k][1]:.3f}" for k in MEASURES) + " |")
    lines.append("")

    def per_song(a: str, b: str, key: str, strict: bool = True) -> tuple[int, int]:
        pairs = [(s["variants"][a][key], s["variants"][b][key]) for s in songs
                 if a in s["variants"] and b in s["variants"]]
        return sum(1 for x, y in pairs if (x < y if strict else x <= y + 1e-9)), len(pairs)

    for ours in ("ours (reference, 100 %)", "ours (reference, default)"):
        w, n = per_song(ours, "automix", "tonal_db")
        lines.append(f"- {ours}: tonal distance lower than the automix's on {w} of {n} songs")
        w, n = per_song(ours, "automix + matchering", "tonal_db", strict=False)
        lines.append(f"- {ours}: tonal distance at most matchering's on {w} of {n} songs")
        w, n = per_song(ours, "automix", "balance_db", strict=False)
        lines.append(f"- {ours}: balance error not worse than the automix's on {w} of {n} songs")
    lines += ["", "| song | automix | + matchering | ours 100 % | ours default |", "|---|---|---|---|---|"]
    for s in songs:
        lines.append(f"| {s['song']} | " + " | ".join(f"{s['variants'][v]['tonal_db']:.2f}" if v in s["variants"]
                                                      else "—" for v in VARIANTS) + " |")
    lines.append("")
    lines.append("(per-song tonal distance in dB)")
    return "\n".join(lines)



def main(argv: list[str] | None = None) -> int:
    from authored import TABLE, read_table

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--views", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--songs", nargs="*", default=None)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--resume", action="store_true", help="keep the songs already in --out, run the others")
    ap.add_argument("--merge", nargs="+", type=Path, metavar="PART.json",
                    help="join the outputs of runs over parts of the corpus into --out and the report")
    args = ap.parse_args(argv)
    command = "python benchmarks/reference.py --corpus " + str(args.corpus) + (
        " --songs " + " ".join(args.songs) if args.songs else "")
    if args.merge:
        parts = [json.loads(p.read_text(encoding="utf-8")) for p in args.merge]
        songs = sorted((s for part in parts for s in part["songs"]), key=lambda s: s["song"])
        data = {"command": " and ".join(f"`{part['command']}`" for part in parts).strip("`"),
                "seconds": max(part["seconds"] for part in parts), "songs": songs}
        args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        args.report_only = True
    if args.report_only:
        data = json.loads(args.out.read_text(encoding="utf-8"))
        write_section(ROOT / "benchmarks" / "RESULTS.md", "reference",
                      report(data["songs"], data["command"], data["seconds"]), top=True)
        return 0
    views = args.views or args.corpus.parent / "corpus_views"
    cache = args.cache or views / ".cache"
    rows = read_table(TABLE)
    by_song = defaultdict(list)
    for r in rows:
        by_song[r["song"]].append(r)
    t0 = time.perf_counter()
    songs = []
    if args.resume and args.out.exists():
        data = json.loads(args.out.read_text(encoding="utf-8"))
        songs = data["songs"]
        t0 -= data["seconds"]
    done = {s["song"] for s in songs}
    for song in sorted(by_song):
        if (args.songs and song not in args.songs) or song in done:
            continue
        print(song, file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="refbench-") as tmp:
            songs.append(evaluate_song(by_song[song], views, args.corpus, cache, rows, Path(tmp)))
        # Written after every song, so that a long run can be read (and reported) while it goes.
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"command": command, "seconds": time.perf_counter() - t0, "songs": songs},
                                       indent=1) + "\n", encoding="utf-8")
    elapsed = time.perf_counter() - t0
    text = report(songs, command, elapsed)
    write_section(ROOT / "benchmarks" / "RESULTS.md", "reference", text, top=True)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
