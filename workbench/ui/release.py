"""The release check as a small self-contained HTML table for the dashboard (no mixing logic here)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..release_check import PASS, ReleaseCheck

_STYLE = ("<style>.wb-release table{border-collapse:collapse;font-size:13px}"
          ".wb-release td,.wb-release th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
          ".wb-release .pass{color:#17692a}.wb-release .warn{color:#a15c00;font-weight:bold}</style>")


def release_check_html(checks: Sequence[ReleaseCheck]) -> str:
    """An HTML table of release checks: a row per file and measure, pass/warn and the reason.

    Parameters
    ----------
    checks : sequence of ReleaseCheck
        From :func:`workbench.release_check.check_release` / ``check_file``.

    Returns
    -------
    str
        A ``<div class="wb-release">`` holding its own style and the table; every text escaped.
    """
    rows = []
    for c in checks:
        for r in c.rows:
            ok = r.status == PASS
            rows.append(f"<tr><td>{html.escape(c.label)}</td><td>{html.escape(r.name)}</td>"
                        f"<td>{html.escape(r.value)}</td><td class=\"{'pass' if ok else 'warn'}\">"
                        f"{'✓ pass' if ok else '! warn'}</td><td>{html.escape(r.reason)}</td></tr>")
    if not rows:
        return f'<div class="wb-release">{_STYLE}<p>No delivered file to check.</p></div>'
    head = "<tr><th>File</th><th>Check</th><th>Value</th><th>Result</th><th>Why</th></tr>"
    return f'<div class="wb-release">{_STYLE}<table>{head}{"".join(rows)}</table></div>'
