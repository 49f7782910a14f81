"""Quality benchmark: how close the automix gets to a musician's balance, and what each stage does.

Run::

    python benchmarks/quality.py --corpus DIR      # builds the corpus into DIR first if it is missing

On every session of the evaluation corpus (``scripts/make_eval_corpus.py``:
seven arrangements whose intended balance is known, stems offset by random
0…−12 dB) it renders, with the workbench's own renderer
(:func:`workbench.mixing.render.render`, 16-bit, −14 LUFS, −1 dBTP):

========================  ======================================================
variant                   what is rendered
========================  ======================================================
plain sum                 the stems at unity gain, centred, nothing else
equal loudness            every stem at the same integrated loudness, centred
musician's balance        the arranger's CC7 gains and CC10 pans (the reference)
automix                   the workbench's plan (``plan_mix``)
automix − eq / − compression / − panning / − reverb
                          the same plan with one stage bypassed
========================  ======================================================

Every variant goes through the same master stage (loudness normalisation to
the target and the true-peak limiter; the renderer always runs them, so every
version is compared at equal loudness). Then it measures, with
:mod:`workbench.evaluate`:

- loudness compliance of the rendered file (LUFS error, true peak, clipped samples);
- balance error against the musician: from the *fader* gains (the issue's
  definition: gain + measured stem loudness vs intended gain + reference
  loudness), and from the *rendered* stem contributions (each stem through its
  chain — gain, EQ, compression, pan — alone, integrated loudness);
- masking suffered by the high-importance stems (the lead): *planned* —
  :func:`workbench.mixing.planner.masking_for_plan` on the cached analysis
  (gains and EQ; compression, panning and reverb are not in it), and
  *rendered per channel* — ``compute_masking`` on the band powers of each
  stem's rendered contribution to the left and to the right channel,
  combined by energy (:func:`workbench.evaluate.channel_masking_share`; the
  reverb return is not a masker in it);
- spectral balance (RMS deviation from a pink reference over the 50 Hz–16 kHz
  third octaves, level-aligned) and stereo balance (|L − R| per octave band,
  energy-weighted mean) of the rendered file;
- the importance response: one medium stem per session (``focus`` in
  balance.json) raised to high, re-planned on the cached analysis: the rise
  of its loudness relative to the mix, the fall of its masking.

Results go to ``benchmarks/RESULTS.md`` between ``<!-- quality:start -->`` and
``<!-- quality:end -->`` (nothing else in the file is touched) and, in full,
to ``benchmarks/results/quality.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_JSON = ROOT / "benchmarks" / "results" / "quality.json"
DEFAULT_CORPUS = ROOT / "out" / "eval_corpus"
MARK = "quality"

#: (key, label, bypass) of the automix variants; the baselines are built separately.
AUTOMIX_VARIANTS = (
    ("automix", "automix", frozenset()),
    ("no_eq", "automix − eq", frozenset({"eq"})),
    ("no_compression", "automix − compression", frozenset({"compression"})),
    ("no_panning", "automix − panning", frozenset({"panning"})),
    ("no_reverb", "automix − reverb", frozenset({"reverb"})),
)
BASELINES = (("plain", "plain sum"), ("equal", "equal loudness"), ("musician", "musician's balance (reference)"))
ORDER = ("plain", "equal", "automix", "no_eq", "no_compression", "no_panning", "no_reverb", "musician")
LABELS = dict([(k, lab) for k, lab, _ in AUTOMIX_VARIANTS] + list(BASELINES))
#: Level every stem gets in the equal-loudness baseline (LUFS, before the master normalises).
EQUAL_LOUDNESS_LUFS = -20.0


# ----------------------------------------------------------------------------- corpus
def ensure_corpus(corpus: Path) -> list[Path]:
    """The session folders of the corpus, building the missing ones first."""
    import make_eval_corpus as mec

    names = [s.name for s in mec.SESSIONS]
    missing = [n for n in names if not (corpus / n / "balance.json").exists()]
    if missing:
        print(f"Building the evaluation corpus into {corpus} ({', '.join(missing)}) ...", flush=True)
        status = mec.main([str(corpus), "--sessions", ",".join(missing), "--quiet"])
        if status:
            sys.exit(f"quality: building the corpus failed (status {status})")
    return [corpus / n for n in names]


# ----------------------------------------------------------------------------- variants
def neutral_plan(plan, session, gains_db: dict[str, float], pans: dict[str, float] | None = None):
    """A copy of ``plan`` with the given gains (and pans), no EQ, compressor or send, true channel counts."""
    p = copy.deepcopy(plan)
    by_file = {s.file: s for s in session.stems}
    for name, sp in p.stems.items():
        sp.gain_db = float(gains_db[name])
        sp.gain_reason = "benchmark baseline"
        sp.eq = []
        sp.compressor = None
        sp.reverb_send_db = None
        sp.pan = float((pans or {}).get(name, 0.0))
        sp.width = 1.0
        sp.channels = int(by_file[sp.file].channels)
    p.master.glue = None
    return p


def effective_plan(plan, bypass: frozenset):
    """The plan as the renderer applies it with ``bypass``: bypassed stages neutralised (for planned measures)."""
    p = copy.deepcopy(plan)
    for sp in p.stems.values():
        if "gain" in bypass:
            sp.gain_db = 0.0
        if "eq" in bypass:
            sp.eq = []
        if "compression" in bypass:
            sp.compressor = None
        if "panning" in bypass:
            sp.pan, sp.width = 0.0, 1.0
        if "reverb" in bypass:
            sp.reverb_send_db = None
    return p


@dataclass
class Contributions:
    """Each stem's rendered contribution to the bus (its chain alone), measured."""

    lufs: np.ndarray          # (n,) integrated loudness of each contribution
    mix_lufs: float           # of the sum of the contributions (no reverb return, no master)
    band_power: np.ndarray    # (2, n, bands, frames) per output channel
    energy: np.ndarray        # (2, n) total band energy per channel


def band_power_grid(x: np.ndarray, sample_rate: int, bands, n_frames: int) -> np.ndarray:
    """Band power ``(n_bands, n_frames)`` of a mono signal on the analysis frame grid.

    The arithmetic of :class:`workbench.analysis.spectrum.BandPowerAccumulator`
    (Hann, ``n_fft`` = frame length, two STFT frames centred in each analysis
    frame, Parseval scaling to mean square) without its centroid and roll-off
    summaries, in one vectorised pass: the benchmark needs it for every stem of
    every variant.
    """
    import scipy.fft

    from workbench.analysis.bands import band_matrix
    from workbench.analysis.spectrum import fft_size

    n_fft = fft_size(sample_rate)
    hop = n_fft // 2
    need = n_frames * n_fft + hop
    buf = np.zeros(need, np.float32)
    k = min(x.size, need - hop // 2)
    buf[hop // 2: hop // 2 + k] = x[:k]
    n = np.arange(n_fft)
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)
    weight = np.full(n_fft // 2 + 1, 2.0)
    weight[0] = weight[-1] = 1.0
    weight /= n_fft * float(np.sum(window.astype(np.float64) ** 2)) * 2.0
    matrix = (band_matrix(bands, n_fft, sample_rate) * weight[None, :]).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft)[::hop][: 2 * n_frames]
    spec = scipy.fft.rfft(frames * window, axis=-1, workers=1)
    power = (spec.real ** 2 + spec.imag ** 2).reshape(n_frames, 2, -1).sum(axis=1)
    return np.ascontiguousarray((power @ matrix.T).T, dtype=np.float32)


def contributions(plan, session, analysis, bypass: frozenset) -> Contributions:
    """Run every stem through its chain (``render_stem_chain``) and measure what comes out."""
    from workbench.audio_io import read
    from workbench.evaluate import integrated_lufs
    from workbench.mixing.render import render_stem_chain

    sr = int(plan.sample_rate)
    by_file = {s.file: s for s in session.stems}
    names = list(analysis.names)
    nf = analysis.n_frames
    lufs = np.zeros(len(names))
    bp = np.zeros((2, len(names), analysis.bands.n_bands, nf), np.float32)
    bus = None
    for i, (name, file) in enumerate(zip(names, analysis.files)):
        sp = plan.stems[name]
        audio = read(by_file[file].path, sample_rate=sr)
        dry, _send = render_stem_chain(sp, audio, sr, bypass=bypass)
        lufs[i] = integrated_lufs(dry, sr)
        bus = dry.astype(np.float64) if bus is None else bus + dry
        for c in range(2):
            bp[c, i] = band_power_grid(dry[c], sr, analysis.bands, nf)
    energy = bp.sum(axis=(2, 3), dtype=np.float64)
    return Contributions(lufs=lufs, mix_lufs=integrated_lufs(bus, sr), band_power=bp, energy=energy)


def rendered_masking(contrib: Contributions, analysis) -> np.ndarray:
    """Per stem, the masked share over both channels (each channel measured alone)."""
    from workbench.analysis.masking import compute_masking
    from workbench.evaluate import channel_masking_share

    shares = [compute_masking(contrib.band_power[c], analysis.activity, analysis.bands,
                              names=list(analysis.names)).by_mix_share for c in range(2)]
    return channel_masking_share(np.stack(shares), contrib.energy)


# ----------------------------------------------------------------------------- one session
def evaluate_session(folder: Path, tmp: Path, cache_dir: Path, log=print) -> dict:
    from workbench import evaluate as ev
    from workbench.mixing.planner import masking_for_plan, plan_mix
    from workbench.mixing.render import PLAIN_SUM, render
    from workbench.pipeline import prepare

    bal = json.loads((folder / "balance.json").read_text())
    stems_dir = folder / "stems"
    t0 = time.perf_counter()
    session, analysis = prepare(stems_dir, importance={s["file"]: s["importance"] for s in bal["stems"]},
                                category={s["file"]: s["category"] for s in bal["stems"]}, cache_dir=cache_dir)
    plan = plan_mix(session, analysis)
    t_plan = time.perf_counter() - t0
    by_file = {s["file"]: s for s in bal["stems"]}
    names = list(analysis.names)
    files = list(analysis.files)
    intended = np.array([by_file[f]["intended_gain_db"] for f in files])
    offsets = np.array([by_file[f]["offset_db"] for f in files])
    file_lufs = np.array([s.integrated_lufs for s in analysis.stems])
    ref_lufs = file_lufs - offsets
    high = [i for i, f in enumerate(files) if by_file[f]["importance"] == "high"]
    name_of = dict(zip(files, names))

    variants = []  # (key, plan, bypass)
    zero = {n: 0.0 for n in names}
    variants.append(("plain", neutral_plan(plan, session, zero), PLAIN_SUM))
    eq_gains = {n: (EQUAL_LOUDNESS_LUFS - l if math.isfinite(l) else 0.0) for n, l in zip(names, file_lufs)}
    base_bypass = frozenset({"eq", "compression", "panning", "reverb", "master"})
    variants.append(("equal", neutral_plan(plan, session, eq_gains), base_bypass))
    for key, _label, bypass in AUTOMIX_VARIANTS:
        variants.append((key, plan, bypass))
    mus_gains = {name_of[f]: by_file[f]["intended_gain_db"] - by_file[f]["offset_db"] for f in files}
    mus_pans = {name_of[f]: by_file[f]["intended_pan"] for f in files}
    variants.append(("musician", neutral_plan(plan, session, mus_gains, mus_pans),
                     frozenset({"eq", "compression", "reverb", "master"})))

    rows = {}
    contrib_auto = None
    dry_cache: dict = {}  # the reverb and the master do not change the dry contributions
    for key, vplan, bypass in variants:
        t1 = time.perf_counter()
        out = tmp / f"{folder.name}-{key}.wav"
        result = render(vplan, session, out, bypass=bypass)
        audio, rate = sf.read(str(out), dtype="float32", always_2d=True)
        audio = audio.T
        out.unlink()
        lc = ev.loudness_compliance(audio, rate, target_lufs=plan.master.target_lufs,
                                    ceiling_dbtp=plan.master.ceiling_dbtp)
        spec = ev.spectral_deviation(*ev.third_octave_levels(audio, rate))
        stereo = ev.stereo_balance(audio, rate)
        eff = effective_plan(vplan, bypass)
        fader = ev.balance_error([eff.stems[n].gain_db for n in names], file_lufs, intended, ref_lufs, names=names)
        dry_key = (id(vplan), bypass - {"reverb", "master"})
        if dry_key not in dry_cache:
            dry_cache[dry_key] = contributions(vplan, session, analysis, bypass)
        contrib = dry_cache[dry_key]
        if key == "automix":
            contrib_auto = contrib
        rendered = ev.balance_error(np.zeros(len(names)), contrib.lufs, intended, ref_lufs, names=names)
        planned_mask = masking_for_plan(eff, analysis).by_mix_share
        rend_mask = rendered_masking(contrib, analysis)
        rows[key] = {
            "integrated_lufs": lc.integrated_lufs, "lufs_error_lu": lc.lufs_error_lu,
            "true_peak_dbtp": lc.true_peak_dbtp, "clipped_samples": lc.clipped_samples,
            "renderer_lufs": result.integrated_lufs, "renderer_true_peak_dbtp": result.true_peak_dbtp,
            "balance_fader_db": fader.mean_abs_db, "balance_fader_max_db": fader.max_abs_db,
            "balance_rendered_db": rendered.mean_abs_db, "balance_rendered_max_db": rendered.max_abs_db,
            "balance_rendered_per_stem_db": dict(zip(names, rendered.error_db)),
            "masking_planned": ev.masking_suffered(planned_mask, high),
            "masking_rendered": ev.masking_suffered(rend_mask, high),
            "spectral_rms_db": spec.rms_db, "spectral_deviation_db": list(spec.deviation_db),
            "stereo_mean_abs_db": stereo.mean_abs_db, "stereo_max_abs_db": stereo.max_abs_db,
            "stereo_difference_db": list(stereo.difference_db),
            "render_s": result.seconds, "measure_s": time.perf_counter() - t1 - result.seconds,
        }
        log(f"  {LABELS[key]:32s} LUFS {lc.integrated_lufs:6.2f}  TP {lc.true_peak_dbtp:6.2f}  "
            f"bal {fader.mean_abs_db:4.1f}/{rendered.mean_abs_db:4.1f} dB  "
            f"mask {rows[key]['masking_planned']:.0%}/{rows[key]['masking_rendered']:.0%}  "
            f"spec {spec.rms_db:4.1f}  LR {stereo.mean_abs_db:4.2f}  ({time.perf_counter() - t1:.1f} s)")

    # Importance response: the focus stem medium -> high, re-planned on the cached analysis.
    focus_file = bal["focus"]
    fi = files.index(focus_file)
    focus = names[fi]
    response = None
    if by_file[focus_file]["importance"] == "medium":
        t2 = time.perf_counter()
        raised = session.with_settings(importance={focus_file: "high"})
        plan_hi = plan_mix(raised, analysis)
        t_replan = time.perf_counter() - t2
        contrib_hi = contributions(plan_hi, raised, analysis, frozenset())
        before_m = masking_for_plan(plan, analysis).by_mix_share[fi]
        after_m = masking_for_plan(plan_hi, analysis).by_mix_share[fi]
        r_loud = ev.importance_response(focus, contrib_auto.lufs[fi] - contrib_auto.mix_lufs,
                                        contrib_hi.lufs[fi] - contrib_hi.mix_lufs, before_m, after_m)
        r_mask = rendered_masking(contrib_auto, analysis)[fi] - rendered_masking(contrib_hi, analysis)[fi]
        response = {"stem": focus, "category": by_file[focus_file]["category"],
                    "gain_change_db": plan_hi.stems[focus].gain_db - plan.stems[focus].gain_db,
                    "relative_loudness_before_db": float(contrib_auto.lufs[fi] - contrib_auto.mix_lufs),
                    "loudness_rise_db": r_loud.loudness_rise_db,
                    "masking_planned_before": float(before_m), "masking_planned_fall": r_loud.masking_fall,
                    "masking_rendered_fall": float(r_mask), "replan_s": t_replan}
        log(f"  importance {focus}: medium→high: +{r_loud.loudness_rise_db:.2f} dB relative loudness, "
            f"masking −{r_loud.masking_fall:.1%} (planned), −{r_mask:.1%} (rendered)")
    return {"session": bal["session"], "title": bal["title"], "style": bal["style"], "stems": len(names),
            "seconds": bal["seconds"], "high_importance": [names[i] for i in high], "rows": rows,
            "importance": response, "analyse_plan_s": t_plan}


# ----------------------------------------------------------------------------- report
def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


def versions(debian=("fluidsynth", "fluid-soundfont-gm", "hydrogen-drumkits")) -> dict:
    from importlib import metadata

    out = {}
    for pkg in ("numpy", "scipy", "soundfile", "pedalboard", "pyebur128", "pyloudnorm", "mido", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    for pkg in debian:
        try:
            res = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
            out[pkg] = res.stdout.strip() or "not installed"
        except OSError:
            out[pkg] = "unknown"
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        out["workbench"] = f"{rev}{' + uncommitted changes' if dirty else ''}" if rev else "unknown"
    except OSError:
        out["workbench"] = "unknown"
    return out


def environment_line(m: dict, v: dict) -> str:
    pk = ", ".join(f"{k} {v[k]}" for k in v if k != "workbench")
    return (f"Machine: {m.get('nproc')} CPUs ({m.get('cpu', 'unknown CPU')}), {m.get('ram_gib', '?')} GiB RAM, "
            f"Python {m['python']}. Packages: {pk}. Workbench commit {v.get('workbench')}.")


def _f(x, fmt="{:.1f}", pct=False):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.0%}" if pct else fmt.format(x)


HEADER = ("| variant | LUFS err (LU) | true peak (dBTP) | clipped | balance err, faders (dB) | "
          "balance err, rendered (dB) | lead masked, planned | lead masked, rendered L/R | "
          "spectrum vs pink, RMS (dB) | stereo L/R difference (dB) |")
RULE = "|---|---|---|---|---|---|---|---|---|---|"


def _row(label: str, r: dict) -> str:
    return (f"| {label} | {_f(r['lufs_error_lu'], '{:+.2f}')} | {_f(r['true_peak_dbtp'], '{:.2f}')} | "
            f"{r['clipped_samples']} | {_f(r['balance_fader_db'])} | {_f(r['balance_rendered_db'])} | "
            f"{_f(r['masking_planned'], pct=True)} | {_f(r['masking_rendered'], pct=True)} | "
            f"{_f(r['spectral_rms_db'])} | {_f(r['stereo_mean_abs_db'], '{:.2f}')} |")


def overall(sessions: list[dict]) -> dict[str, dict]:
    """Mean over sessions per variant (worst case for peaks, total for clipped samples)."""
    out = {}
    for key in ORDER:
        rs = [s["rows"][key] for s in sessions if key in s["rows"]]
        if not rs:
            continue

        def mean(k):
            vals = [r[k] for r in rs if r[k] is not None and math.isfinite(r[k])]
            return float(np.mean(vals)) if vals else math.nan

        out[key] = {k: mean(k) for k in ("lufs_error_lu", "balance_fader_db", "balance_rendered_db",
                                          "masking_planned", "masking_rendered", "spectral_rms_db",
                                          "stereo_mean_abs_db")}
        out[key]["lufs_error_lu"] = max((r["lufs_error_lu"] for r in rs), key=abs)
        out[key]["true_peak_dbtp"] = max(r["true_peak_dbtp"] for r in rs)
        out[key]["clipped_samples"] = int(sum(r["clipped_samples"] for r in rs))
    return out


def tuned_on_corpus() -> list[str]:
    """Workbench source lines that say a constant was calibrated on this corpus (in-sample warning)."""
    hits = []
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        if path.name == "evaluate.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if "evaluation corpus" in line.lower() or "benchmarks/quality.py" in line:
                hits.append(f"`{path.relative_to(ROOT)}:{n}`")
    return hits


def report(sessions: list[dict], elapsed_s: float, command: str, m: dict, v: dict) -> str:
    tot = overall(sessions)
    tuned = tuned_on_corpus()
    n_stems = sum(s["stems"] for s in sessions)
    lines = [
        "## Quality", "",
        f"`{command}` — {len(sessions)} sessions, {n_stems} stems, "
        f"{sum(s['seconds'] for s in sessions):.0f} s of music; the whole run took {elapsed_s / 60:.1f} min.",
        environment_line(m, v), "",
        "The corpus (`scripts/make_eval_corpus.py`) is seven arrangements composed as MIDI and rendered dry "
        "through FluidR3_GM (one ColomboAcousticDrumkit session) at a fixed reference level, with the "
        "arranger's balance (CC7 → gain by the GM2 curve 40·log10(cc/127), CC10 → pan) stored beside the "
        "stems, and every stem file moved by a random 0…−12 dB. Every variant is rendered by the workbench's "
        "renderer through the same master (normalised to −14 LUFS, true-peak limited to −1 dBTP).", "",
        "Columns: **LUFS err** integrated loudness of the written file minus −14 (BS.1770-4; worst session "
        "in the overall table); **true peak** (BS.1770-4 Annex 2; highest session); **clipped** samples at "
        "16-bit full scale (total); **balance err** mean |stem level − musician's level| after removing the "
        "median, from the fader gains (gain + measured stem loudness) and from each stem's rendered "
        "contribution (its chain alone: gain, EQ, compression, pan); **lead masked** share of the "
        "high-importance stem's band energy masked by the rest — *planned*: `masking_for_plan` (gains + "
        "EQ on the analysis' band powers), *rendered L/R*: the same measure on each output channel's "
        "rendered contributions, energy-combined (an upper bound of what panning buys); **spectrum vs pink** "
        "RMS deviation of the 50 Hz–16 kHz third-octave spectrum from pink noise after level alignment; "
        "**stereo** energy-weighted mean of |10·log10(E_L/E_R)| over octave bands. Lower is better "
        "everywhere, except that the musician's reference mix is the yardstick for the spectrum and stereo "
        "columns (0 is not the goal there).", "",
        "### Overall (mean over sessions)", "", HEADER, RULE,
    ]
    lines += [_row(LABELS[k], tot[k]) for k in ORDER if k in tot]
    lines += ["", "### Importance response (one medium stem raised to high, re-planned on the cached analysis)", "",
              "| session | stem | planned gain change (dB) | relative loudness rise (dB) | "
              "masking fall, planned (points) | masking fall, rendered L/R (points) | re-plan (ms) |",
              "|---|---|---|---|---|---|---|"]
    resp = [s for s in sessions if s["importance"]]
    for s in resp:
        r = s["importance"]
        lines.append(f"| {s['session']} | {r['stem']} ({r['category']}) | {r['gain_change_db']:+.2f} | "
                     f"{r['loudness_rise_db']:+.2f} | {100 * r['masking_planned_fall']:+.1f} | "
                     f"{100 * r['masking_rendered_fall']:+.1f} | {1000 * r['replan_s']:.0f} |")
    if resp:
        lines.append(f"| **mean** | | {np.mean([s['importance']['gain_change_db'] for s in resp]):+.2f} | "
                     f"{np.mean([s['importance']['loudness_rise_db'] for s in resp]):+.2f} | "
                     f"{100 * np.mean([s['importance']['masking_planned_fall'] for s in resp]):+.1f} | "
                     f"{100 * np.mean([s['importance']['masking_rendered_fall'] for s in resp]):+.1f} | |")
    lines += ["", "### Per session", ""]
    for s in sessions:
        lines += [f"**{s['session']}** — {s['style']}, {s['stems']} stems, {s['seconds']:.0f} s; "
                  f"high importance: {', '.join(s['high_importance']) or '—'}", "", HEADER, RULE]
        lines += [_row(LABELS[k], s["rows"][k]) for k in ORDER if k in s["rows"]]
        worst = sorted(s["rows"]["automix"]["balance_rendered_per_stem_db"].items(),
                       key=lambda kv: -abs(kv[1]) if math.isfinite(kv[1]) else 0)[:3]
        lines += ["", "Automix stems furthest from the musician's level (rendered, dB, + = louder than "
                  "intended): " + ", ".join(f"{n} {e:+.1f}" for n, e in worst), ""]
    lines += [
        "### What these numbers do not show", "",
        "- **Whether it sounds good.** No listening test is behind any of them. The balance error measures "
        "distance from *one* arranger's balance (the corpus script's author, written per style after reading "
        "the workbench's loudness table), rendered from a General MIDI soundfont; a real engineer might "
        "disagree with it by as much as the automix does.",
        "- **Real recordings.** The stems are dry, clean, perfectly timed synthesiser renders with no bleed, "
        "noise, room or performance dynamics; the vocals are \"Voice Oohs\". Masking, EQ and compression "
        "decisions on real stems will differ.",
        "- **Masking as heard.** Both masking columns are our band-energy model "
        "(`workbench.analysis.masking`), not a listening measure; the planned one ignores compression, "
        "panning and reverb; the rendered one treats each channel as heard alone (overstates what panning "
        "buys on loudspeakers) and leaves the reverb return out.",
        "- **Spectral balance against a truth.** Pink noise is a convention, not a target: commercial mixes "
        "are darker at the top. Compare rows with each other and with the musician's reference.",
        "- **Loudness compliance beyond these files.** Each session is rendered once; the renderer re-measures "
        "and corrects its own output, so meeting the target here is partly by construction.",
        "- **Variance.** Seven short sessions, one seed each: differences of a few tenths of a dB or a few "
        "points of masking are within what another seed or arrangement would move.",
        ("- **Held-out performance.** Workbench constants have been calibrated on this very corpus "
         f"({', '.join(tuned)}): the numbers they affect (above all the rendered balance error, through the "
         "compressors' make-up gain) are in-sample. Before quoting them as general, measure on arrangements "
         "the constants were not tuned on.") if tuned else
        "- **Held-out performance.** No workbench constant says it was tuned on this corpus; keep it that way "
        "(or add held-out sessions) so that these numbers stay out-of-sample.",
        "- **The balance model is out of sample here.** Its levels were fitted on the authored songs of "
        "`scripts/make_training_corpus.py` (`benchmarks/data/training_features.csv`), never on these "
        "arrangements; the previous release's category table, written with this corpus at hand, scored "
        "1.7 dB here (in-sample).",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, marker: str, text: str, *, top: bool = False) -> None:
    """Replace the text between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` in ``path`` only.

    Creates the file (with empty Quality and Performance sections) when missing,
    and adds the markers when the file lacks them: at the end, or right under the
    title with ``top=True``. Written atomically.
    """
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if path.exists():
        doc = path.read_text(encoding="utf-8")
    else:
        doc = ("# Benchmark results\n\nGenerated by the scripts in `benchmarks/`; each section is rewritten "
               "only between its markers.\n\n<!-- quality:start -->\n<!-- quality:end -->\n\n"
               "<!-- perf:start -->\n<!-- perf:end -->\n")
    if start not in doc or end not in doc:
        title, sep, rest = doc.partition("\n")
        if top and title.startswith("# "):
            doc = f"{title}\n\n{start}\n{end}\n{sep}{rest}"
        else:
            doc = doc.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = doc.split(start, 1)
    _old, tail = rest.split(end, 1)
    new = f"{head}{start}\n{text.strip()}\n{end}{tail}"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)


def _json_safe(x):
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        return _json_safe(x.item())
    return x


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                    help=f"evaluation corpus folder (built there if missing; default {DEFAULT_CORPUS})")
    ap.add_argument("--sessions", help="comma-separated subset of session names")
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch RESULTS.md")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    folders = ensure_corpus(args.corpus)
    if args.sessions:
        wanted = {n.strip() for n in args.sessions.split(",")}
        folders = [f for f in folders if f.name in wanted]
    results = []
    with tempfile.TemporaryDirectory(prefix="mw-quality-") as tmp:
        for folder in folders:
            print(f"{folder.name}:", flush=True)
            results.append(evaluate_session(folder, Path(tmp), Path(tmp) / "cache",
                                            log=lambda *a: print(*a, flush=True)))
    elapsed = time.perf_counter() - started
    command = "python benchmarks/quality.py --corpus " + (str(args.corpus) if args.corpus != DEFAULT_CORPUS
                                                           else "out/eval_corpus")
    if args.sessions:
        command += f" --sessions {args.sessions}"
    m, v = machine(), versions()
    text = report(results, elapsed, command, m, v)
    print(text)
    if not args.no_write:
        write_section(RESULTS_MD, MARK, text)
        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(_json_safe({"machine": m, "versions": v, "elapsed_s": elapsed,
                                                       "overall": overall(results), "sessions": results}),
                                           indent=1) + "\n", encoding="utf-8")
    print(f"\nquality benchmark: {elapsed / 60:.1f} min", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
