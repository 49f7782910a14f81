"""Release check on audio the tests make: each row warns for the fault it looks for and passes a clean file."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.analysis.loudness import measure
from workbench.errors import ParameterError
from workbench.release_check import (
    BROADCAST_TOLERANCE_LU,
    ReleaseTarget,
    check_release,
    clip_runs,
    correlation,
    markdown_table,
    mono_fold_loss_db,
    summary_lines,
)

SR = 48000
BROADCAST = ReleaseTarget("broadcast", -23.0, BROADCAST_TOLERANCE_LU, -1.0)


def _music(seconds: float = 12.0, seed: int = 0) -> np.ndarray:
    """A stereo test signal with dynamics: a mono-ish bass, wide-ish noise, louder and quieter halves."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    bass = 0.3 * np.sin(2 * np.pi * 60 * t)
    common = rng.standard_normal(n) * 0.05
    left = bass + common + rng.standard_normal(n) * 0.02
    right = bass + common + rng.standard_normal(n) * 0.02
    env = np.where(t < seconds / 2, 1.0, 0.25)         # some loudness range
    return np.vstack([left, right]) * env


def _at(x: np.ndarray, lufs: float) -> np.ndarray:
    return x * 10 ** ((lufs - measure(x.astype(np.float32), SR).integrated_lufs) / 20)


def _row(check, name):
    return next(r for r in check.rows if r.name == name)


def test_a_minus_23_lufs_file_passes_broadcast():
    c = check_release(_at(_music(), -23.0), SR, BROADCAST)
    assert _row(c, "Integrated loudness").status == "pass"
    assert _row(c, "True peak").status == "pass"
    assert c.passed, [r for r in c.rows if r.status != "pass"]


def test_a_minus_20_lufs_file_warns_broadcast_loudness():
    c = check_release(_at(_music(), -20.0), SR, BROADCAST)
    row = _row(c, "Integrated loudness")
    assert row.status == "warn" and "+3.0 LU" in row.reason


def test_a_clipped_file_warns():
    x = np.clip(_music() * 20, -1.0, 1.0)
    assert clip_runs(x) > 0
    c = check_release(x, SR, BROADCAST)
    assert _row(c, "Clipping").status == "warn"
    assert _row(c, "True peak").status == "warn"
    assert _row(c, "Clipping").status == "warn"


def test_dc_warns():
    x = _at(_music(), -23.0) + 0.02
    assert _row(check_release(x, SR, BROADCAST), "DC offset").status == "warn"
    assert _row(check_release(x - 0.02, SR, BROADCAST), "DC offset").status == "pass"


def test_out_of_phase_stereo_warns_on_mono():
    x = _at(_music(), -23.0)
    x[1] = -x[1]
    assert correlation(x) < -0.9
    c = check_release(x, SR, BROADCAST)
    assert _row(c, "Mono correlation").status == "warn"
    assert _row(c, "Mono fold").status == "warn"
    assert _row(c, "Low-end mono").status == "warn"     # the bass is now all side


@pytest.mark.parametrize("corr_in,loss_db", [(1.0, 0.0), (0.0, 3.01)])
def test_mono_fold_loss_physics(corr_in, loss_db):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(SR * 4)
    b = a if corr_in == 1.0 else rng.standard_normal(SR * 4)
    assert mono_fold_loss_db(np.vstack([a, b])) == pytest.approx(loss_db, abs=0.05)


def test_over_limited_file_warns_plr_and_lra():
    rng = np.random.default_rng(2)
    x = np.tanh(rng.standard_normal((2, SR * 10)) * 8) * 0.89     # square-ish, crest ~1 dB, flat
    c = check_release(x, SR, ReleaseTarget("streaming", -14.0))
    assert _row(c, "PLR").status == "warn"
    assert _row(c, "Loudness range").status == "warn"


def test_tonal_distance_row_only_with_a_measure():
    x = _at(_music(), -23.0)
    assert all(r.name != "Tonal distance to reference" for r in check_release(x, SR, BROADCAST).rows)
    far = check_release(x, SR, BROADCAST, tonal_distance=lambda a, sr: 5.0)
    near = check_release(x, SR, BROADCAST, tonal_distance=lambda a, sr: 1.0)
    assert _row(far, "Tonal distance to reference").status == "warn"
    assert _row(near, "Tonal distance to reference").status == "pass"


def test_tables_have_a_line_per_row_with_its_reason():
    c = check_release(_at(_music(), -23.0), SR, BROADCAST, label="broadcast.wav")
    lines = markdown_table([c])
    assert len(lines) == 2 + len(c.rows)
    assert all(line.count("|") >= 6 for line in lines[2:])
    assert summary_lines([c]) == ["broadcast.wav: all checks pass"]


def test_bad_audio_is_refused():
    with pytest.raises(ParameterError, match="NaN"):
        check_release(np.full((2, 100), np.nan), SR, BROADCAST)
    with pytest.raises(ParameterError, match="shape"):
        check_release(np.zeros((3, 100)), SR, BROADCAST)


def test_dashboard_html_escapes_and_marks_warnings():
    from workbench.ui.release import release_check_html

    x = _at(_music(), -23.0)
    x[1] = -x[1]
    html = release_check_html([check_release(x, SR, BROADCAST, label="<b>tv.wav")])
    assert "&lt;b&gt;tv.wav" in html and "<b>tv" not in html
    assert 'class="warn"' in html and 'class="pass"' in html
    assert html.count("<tr>") == 1 + len(check_release(x, SR, BROADCAST).rows)


def test_check_file_reads_back_a_written_file(tmp_path):
    import soundfile as sf

    from workbench.release_check import check_file

    sf.write(str(tmp_path / "b.wav"), _at(_music(), -23.0).T, SR, subtype="PCM_24")
    c = check_file(tmp_path / "b.wav", BROADCAST)
    assert c.label == "b.wav" and c.passed
