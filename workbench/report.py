"""Plain-text and JSON views of a session's check report (no printing here)."""

from __future__ import annotations

import math

from .checks import summarise

_MARK = {"error": "✗", "warning": "!", "note": "·"}


def check_dict(session) -> dict:
    """The check report as JSON-ready data.

    Shape: ``{"stems": [{"file", "category", "confidence", "sample_rate", "subtype",
    "channels", "duration_s"}], "findings": [{"stem", "severity", "code", "value",
    "message", "fix"}]}``.
    """
    stems = []
    for s in session.stems:
        d = s.duration_s
        stems.append({
            "file": s.file,
            "category": s.category,
            "confidence": round(float(s.confidence), 3),
            "sample_rate": s.sample_rate,
            "subtype": s.subtype,
            "channels": s.channels,
            "duration_s": None if d is None or not math.isfinite(d) else round(d, 3),
        })
    return {"stems": stems, "findings": [f.to_dict() for f in session.findings]}


def check_table(session) -> str:
    """A readable table: one row per stem, its findings beneath it, then a verdict."""
    rows = [("Stem", "Category (suggested)", "Conf.", "Format", "Length")]
    for s in session.stems:
        fmt = (f"{s.sample_rate / 1000:g} kHz {s.bit_depth or '?'}-bit "
               f"{'mono' if s.channels == 1 else 'stereo' if s.channels == 2 else s.channels}"
               if s.readable else "—")
        cat = (s.category or "— (pick one)") + (" (heard, unsure: please check)" if s.unsure else
                                                 " (heard)" if s.category_source == "audio" else "")
        rows.append((s.file, cat, f"{s.confidence:.0%}" if s.category else "",
                     fmt, f"{s.duration_s:.2f} s" if s.duration_s is not None else "—"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    by_stem: dict = {}
    for f in session.findings:
        by_stem.setdefault(f.stem, []).append(f)
    for f in by_stem.get(None, []):
        lines.append(f"{_MARK[f.severity]} {f.severity.upper()}: {f.message}\n    fix: {f.fix}")
    if lines:
        lines.append("")
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
            continue
        stem = session.stems[i - 1]
        for f in by_stem.get(stem.file, []):
            lines.append(f"    {_MARK[f.severity]} {f.severity}: {f.message}")
            lines.append(f"      fix: {f.fix}")
    counts = summarise(session.findings)
    lines.append("")
    verdict = ("Ready to mix." if counts["error"] == 0 else
               "Cannot mix yet: fix the errors above (✗) and check again.")
    lines.append(f"{len(session.stems)} stems · {counts['error']} errors · {counts['warning']} "
                 f"warnings · {counts['note']} notes. {verdict}")
    return "\n".join(lines)


def analysis_table(analysis) -> str:
    """Per-stem measurements and the strongest masking pairs, as text."""

    def lv(x, unit=""):
        return "—" if x is None or not math.isfinite(x) else f"{x:.1f}{unit}"

    rows = [("Stem", "LUFS", "LRA", "Peak", "TruePk", "Crest", "Active", "Centroid", "Low end", "Width")]
    for s in analysis.stems:
        rows.append((s.name, lv(s.integrated_lufs), lv(s.loudness_range_lu), lv(s.sample_peak_dbfs),
                     lv(s.true_peak_dbtp), lv(s.crest_db), f"{s.active_fraction:.0%}",
                     "—" if not math.isfinite(s.centroid_hz) else f"{s.centroid_hz:.0f} Hz",
                     f"{s.low_end_share:.0%}", f"{s.stereo_width:.2f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    m = analysis.masking
    pairs = sorted(((m.share[i, j], i, j) for i in range(m.n_stems) for j in range(m.n_stems) if i != j),
                   reverse=True)[:8]
    lines += ["", "Strongest masking, at the levels the stems arrived at (masker → target: share of the "
                  "target's energy masked, mean depth):"]
    for share, i, j in pairs:
        if share <= 0:
            break
        lines.append(f"  {m.names[i]} → {m.names[j]}: {share:.0%}, {m.depth_db[i, j]:.1f} dB")
    return "\n".join(lines)
