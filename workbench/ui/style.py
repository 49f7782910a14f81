"""Look of the workbench widgets: one style sheet and small HTML helpers.

Every text that reaches an HTML widget goes through :func:`esc` — stem names
come from file names, and file names come from users.
"""

from __future__ import annotations

import html
import re

#: CSS for the ``wb-*`` classes the widgets carry (also the test selectors).
CSS = """
.wb-app { font-size: 14px; max-width: 1280px; }
.wb-app .widget-html-content { line-height: 1.4; }
.wb-look .lm-TabBar-tab { flex: 0 1 190px !important; max-width: 190px !important; }
.wb-app h2 { margin: 4px 0 0 0; font-size: 22px; }
.wb-app h3.wb-h { margin: 14px 0 4px 0; font-size: 16px; border-bottom: 1px solid #ddd; padding-bottom: 2px; }
.wb-sub { color: #555; margin: 2px 0 6px 0; }
.wb-meta { color: #666; font-size: 12px; }
.wb-hint { color: #555; font-size: 12px; line-height: 1.35; }
.wb-badge { display: inline-block; padding: 0 7px; margin: 1px 3px 1px 0; border-radius: 9px;
            font-size: 11.5px; line-height: 18px; cursor: help; white-space: nowrap; }
.wb-badge-error { background: #c62828; color: #fff; }
.wb-badge-warning { background: #f2b01e; color: #222; }
.wb-badge-note { background: #9e9e9e; color: #fff; }
.wb-badge-ok { background: #e6f2e6; color: #2e7d32; }
.wb-findings details summary { cursor: pointer; list-style: none; }
.wb-findings details summary::-webkit-details-marker { display: none; }
.wb-findings details[open] summary { margin-bottom: 3px; }
.wb-fix { font-size: 12px; color: #333; margin: 2px 0 4px 0; line-height: 1.3; }
.wb-fix b { text-transform: capitalize; }
.wb-stem-row { border-bottom: 1px solid #eee; padding: 3px 0; align-items: center; flex-wrap: wrap; }
.wb-importance .widget-toggle-buttons, .wb-importance { flex-wrap: nowrap !important; white-space: nowrap; }
.wb-importance button { padding: 0 4px !important; }
.wb-auto-cell .wb-confirm { margin: 2px 0 0 0; }
.wb-stem-head { border-bottom: 2px solid #ccc; font-weight: 600; color: #444; }
.wb-auto { font-size: 12px; color: #555; }
.wb-auto-user { color: #1565c0; }
.wb-status { min-height: 22px; }
.wb-status .wb-ok { color: #2e7d32; }
.wb-status .wb-warn { color: #8a5a00; }
.wb-status .wb-err { color: #c62828; }
.wb-notices .wb-notice { background: #fff4e0; border-left: 4px solid #f2b01e; padding: 4px 8px; margin: 3px 0; }
.wb-notices .wb-notice-error { background: #fdecea; border-left-color: #c62828; }
.wb-notices .wb-notice-ok { background: #e8f5e9; border-left-color: #2e7d32; }
.wb-stale-banner { background: #fff4e0; border-left: 4px solid #f2b01e; padding: 4px 8px; margin: 4px 0; }
.wb-card { border: 1px solid #ddd; border-radius: 6px; padding: 6px 8px; margin: 0 8px 8px 0; }
.wb-card-title { font-weight: 600; }
.wb-card .wb-meta { min-height: 32px; }
.wb-ab.wb-stale .wb-card { opacity: 0.55; }
.wb-decisions-table { max-height: 560px; overflow-y: auto; }
table.wb-decisions { border-collapse: collapse; font-size: 12.5px; width: 100%; }
table.wb-decisions th { text-align: left; background: #f3f3f3; padding: 3px 6px; position: sticky; top: 0; }
table.wb-decisions td { padding: 2px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
table.wb-decisions td.wb-where { font-weight: 600; white-space: nowrap; }
table.wb-decisions td.wb-what { white-space: nowrap; }
.wb-downloads td { padding: 2px 8px 2px 0; }
.wb-downloads a.wb-link { display: inline-block; font-weight: 600; padding: 2px 10px; border: 1px solid #1565c0;
                          border-radius: 4px; color: #1565c0; text-decoration: none; max-width: 270px;
                          overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: middle; }
.wb-downloads a.wb-link:hover { background: #e3f2fd; }
.wb-downloads .wb-stale-note { color: #8a5a00; font-size: 12px; }
abbr.wb-term { text-decoration: underline dotted #888; cursor: help; }
.wb-unsure-q { color: #8a5a00; font-weight: 600; }
.wb-stem-row.wb-row-unsure { background: #fff8e8; }
.wb-confirm button { font-size: 12px; }
.wb-upload-progress { font-size: 12.5px; }
.wb-upload-progress table { border-collapse: collapse; }
.wb-upload-progress td { padding: 1px 8px 1px 0; }
.wb-outcome-added { color: #2e7d32; }
.wb-outcome-replaced { color: #1565c0; }
.wb-outcome-refused { color: #c62828; }
.wb-locked { opacity: 0.6; pointer-events: none; }
/* Below ~1100 px each stem becomes a card: the cells wrap, every control stays on screen,
   and a finding's fixes open full-width under the stem. */
@media (max-width: 1100px) {
  .wb-app { max-width: 100%; }
  .wb-stem-head { display: none !important; }
  .wb-stem-row { flex-wrap: wrap !important; border: 1px solid #ddd; border-radius: 6px; padding: 6px 8px;
                 margin: 0 0 8px 0; row-gap: 4px; }
  .wb-stem-row > .wb-stem-name { flex: 1 1 60% !important; width: auto !important; }
  .wb-stem-row > .wb-remove { order: 2; margin-left: auto; }
  .wb-stem-row > .wb-stem-player { order: 3; }
  .wb-stem-row > .wb-category { order: 4; }
  .wb-stem-row > .wb-auto-cell { order: 5; }
  .wb-stem-row > .wb-importance { order: 7; }
  .wb-stem-row > .wb-stem-findings { order: 8; flex: 1 1 100% !important; width: 100% !important;
                                     min-width: 0 !important; }
  .wb-source-row { flex-wrap: wrap !important; row-gap: 6px; }
  .wb-mix-row { flex-wrap: wrap !important; row-gap: 6px; }
}
"""


def esc(text) -> str:
    """HTML-escape any value (quotes too, for attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def term(name: str, label: str | None = None) -> str:
    """A jargon word with its glossary definition as a tooltip (``<abbr class="wb-term">``).

    ``label`` is the text shown (default: the term's name); see :mod:`workbench.glossary`.
    """
    from ..glossary import define

    t = define(name)
    long = f" ({t.long_name})" if t.long_name else ""
    title = f"{t.name}{long}: {t.definition}" + (f" Source: {t.source}." if t.source else "")
    return f'<abbr class="wb-term" title="{esc(title)}">{esc(label or t.name)}</abbr>'


#: Jargon linked to its glossary definition wherever :func:`with_terms` shows text.
_TERM_RE = re.compile(r"(?<![\w-])(LUFS|dBTP|dBFS|LU|true peak|crest factor|ERB|Bark|TPDF dither|TPDF|"
                      r"pan law|glue|centroid|Q)(?![\w-])")


def with_terms(text) -> str:
    """Escape ``text`` and turn the jargon in it into :func:`term` tooltips ("−14.0 LUFS" → LUFS explained)."""
    out, pos = [], 0
    plain = "" if text is None else str(text)
    for m in _TERM_RE.finditer(plain):
        out.append(esc(plain[pos:m.start()]))
        word = m.group(1)
        out.append(term("TPDF dither" if word == "TPDF" else word, word))
        pos = m.end()
    out.append(esc(plain[pos:]))
    return "".join(out)


def style_html() -> str:
    return f"<style>{CSS}</style>"


def badge(severity: str, label: str, title: str = "") -> str:
    """A coloured finding badge; ``title`` becomes its tooltip."""
    kind = severity if severity in ("error", "warning", "note", "ok") else "note"
    return f'<span class="wb-badge wb-badge-{kind}" title="{esc(title)}">{esc(label)}</span>'


def findings_html(findings, *, empty: str = "") -> str:
    """Badges for a stem's findings, in a ``<details>`` that opens to show each fix."""
    findings = list(findings)
    if not findings:
        return badge("ok", empty, "No problems found") if empty else ""
    order = {"error": 0, "warning": 1, "note": 2}
    findings.sort(key=lambda f: order.get(f.severity, 3))
    badges = "".join(badge(f.severity, f.code.replace("_", " "), f"{f.message} Fix: {f.fix}") for f in findings)
    fixes = "".join(f'<div class="wb-fix"><b>{esc(f.severity)}</b>: {esc(f.message)} '
                    f'<i>Fix:</i> {esc(f.fix)}</div>' for f in findings)
    return (f'<div class="wb-findings"><details><summary title="Click for the details and fixes">'
            f'{badges}</summary>{fixes}</details></div>')
