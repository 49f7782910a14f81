"""The platform turn-down table: documented figures only, Spotify's own worked example reproduced."""

from __future__ import annotations

import pytest

from workbench.platforms import PLATFORMS, markdown_lines, turn_down


def test_spotify_documented_example():
    """Spotify's page: −20 LUFS with a −5 dBFS true peak is lifted only to −16 LUFS."""
    normal = turn_down(-20.0, -5.0)[0]
    assert normal.platform.name.startswith("Spotify (Normal")
    assert normal.gain_db == pytest.approx(4.0) and normal.plays_at_lufs == pytest.approx(-16.0)


@pytest.mark.parametrize("lufs,gain", [(-8.0, -6.0), (-14.0, 0.0)])
def test_spotify_turns_loud_masters_down_to_minus_14(lufs, gain):
    assert turn_down(lufs, -0.5)[0].gain_db == pytest.approx(gain)


def test_loud_setting_lifts_regardless_of_true_peak():
    loud = next(r for r in turn_down(-14.0, -1.0) if "Loud" in r.platform.name)
    assert loud.gain_db == pytest.approx(3.0) and "limiter" in loud.what


def test_platforms_without_a_published_figure_get_no_number():
    rows = {r.platform.name: r for r in turn_down(-14.0, -1.0)}
    for name in ("Apple Music (Sound Check)", "YouTube", "Amazon Music", "TIDAL", "Deezer"):
        assert rows[name].gain_db is None and "not published" in rows[name].what
    assert {p.name.split(" (")[0] for p in PLATFORMS} >= {"Spotify", "Apple Music", "YouTube", "Amazon Music",
                                                          "TIDAL", "Deezer"}


def test_markdown_has_a_row_per_platform():
    lines = markdown_lines(-14.0, -1.3)
    assert sum(1 for line in lines if line.startswith("| ") and "Platform" not in line) == len(PLATFORMS)


def test_a_master_at_the_target_is_played_as_it_is():
    r = turn_down(-14.02, -1.3)[0]
    assert r.gain_db == 0.0 and r.what.startswith("played as it is")
