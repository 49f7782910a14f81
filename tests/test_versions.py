"""Versions of one mix (vocal up/down, instrumental, a cappella, TV) on the sample stems."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf

from workbench.analysis.loudness import measure
from workbench.errors import ParameterError
from workbench.pipeline import mix_session, render_plan
from workbench.session import load_session
from workbench.versions import MIX_VERSIONS, parse_versions, split_parts, version_bus, vocal_stems

from .conftest import SAMPLE_STEMS


@pytest.fixture(scope="module")
def versions_mix(tmp_path_factory):
    out = tmp_path_factory.mktemp("versions")
    result = mix_session(SAMPLE_STEMS, out, versions="all")
    return out, result


def test_all_writes_every_version(versions_mix):
    out, result = versions_mix
    for name in MIX_VERSIONS:
        info = sf.info(str(out / "versions" / f"{name}.wav"))
        assert info.frames == sf.info(str(out / "mix.wav")).frames
        assert info.samplerate == result.plan.sample_rate
    assert len(list((out / "stems").glob("*.wav"))) == len(result.render.stem_files)
    # No scratch or temporary bus left behind.
    assert not list((out / "versions").glob(".*"))


def test_vocal_roles_come_from_the_plan(versions_mix):
    _, result = versions_mix
    lead, backing = vocal_stems(result.plan)
    assert lead == ("Lead Vocal",) and backing == ("Backing Vocals",)


def _bus(stem_files, like: np.ndarray) -> np.ndarray:
    """The bus a render wrote, summed from its processed stems (a mono file is one side of the centre pan)."""
    bus = np.zeros_like(like)
    for p in stem_files:
        x = sf.read(str(p), always_2d=True, dtype="float64")[0].T
        bus[:, :x.shape[1]] += np.vstack([x, x]) if x.shape[0] == 1 else x
    return bus


def _render_muted(result, mute, path):
    """The same plan rendered for real with the stems in ``mute`` muted (their sends go too), with its stems."""
    stems = {n: dataclasses.replace(s, mute=True) if n in mute else s for n, s in result.plan.stems.items()}
    r = render_plan(dataclasses.replace(result.plan, stems=stems), load_session(SAMPLE_STEMS), path / "m.wav",
                    stems_dir=path / "s")
    return r


@pytest.fixture(scope="module")
def muted_buses(versions_mix, tmp_path_factory):
    """Real renders of the plan without its vocals and with only its vocals: the instrumental and a cappella."""
    _, result = versions_mix
    parts = split_parts(result.plan, result.session, result.render.stem_files)
    vocals = set(parts.lead_stems + parts.backing_stems)
    others = set(result.plan.stems) - vocals
    instrumental = _render_muted(result, vocals, tmp_path_factory.mktemp("instrumental"))
    a_cappella = _render_muted(result, others, tmp_path_factory.mktemp("a_cappella"))
    return parts, _bus(instrumental.stem_files, parts.full), _bus(a_cappella.stem_files, parts.full)


def test_instrumental_plus_a_cappella_nulls_against_the_full_bus(versions_mix, muted_buses):
    """Rendered apart for real (each with its own reverb sends), the two halves sum to the full mix's bus."""
    _, result = versions_mix
    parts, instrumental, a_cappella = muted_buses
    full = _bus(result.render.stem_files, parts.full)        # the bus as the main render wrote it
    # Within float32 reverb arithmetic and 24-bit stems: far below the vocals' level.
    err = np.max(np.abs(instrumental + a_cappella - full))
    assert err < 1e-5
    assert np.max(np.abs(a_cappella)) > 1e4 * err                       # the vocals are really in it
    # and the versions written from the processed stems are those halves
    assert np.max(np.abs(version_bus(parts, "a-cappella") - a_cappella)) < 1e-5


def test_instrumental_equals_a_render_with_the_vocals_muted(muted_buses):
    """The vocals' reverb goes with them: the instrumental's bus is the bus of the plan with the vocals muted."""
    parts, bus, _ = muted_buses
    instrumental = version_bus(parts, "instrumental")
    # Within float32 reverb arithmetic and 24-bit stems: far below the vocals' reverb it removed.
    err = np.max(np.abs(instrumental - bus))
    assert err < 1e-5
    assert np.max(np.abs(parts.lead_reverb + parts.backing_reverb)) > 100 * err
    assert np.max(np.abs(parts.rest_reverb)) > 0


def _share_db(mastered, lead, rest) -> float:
    """The lead's gain relative to the rest in a mastered file: least squares of file ≈ a·lead + b·rest."""
    a = np.stack([lead.ravel(), rest.ravel()], axis=1)
    (ga, gb), *_ = np.linalg.lstsq(a, mastered.ravel(), rcond=None)
    return 20 * np.log10(abs(ga) / abs(gb))


@pytest.mark.parametrize("name,sign", [("vocal-up", 1), ("vocal-down", -1)])
def test_vocal_up_raises_the_lead_share_by_the_step(versions_mix, name, sign):
    out, result = versions_mix
    parts = split_parts(result.plan, result.session, result.render.stem_files)
    lead = parts.lead + parts.lead_reverb
    rest = parts.full - lead
    mix = sf.read(str(out / "mix.wav"), always_2d=True, dtype="float64")[0].T
    version = sf.read(str(out / "versions" / f"{name}.wav"), always_2d=True, dtype="float64")[0].T
    n = min(mix.shape[1], lead.shape[1])
    step = _share_db(version[:, :n], lead[:, :n], rest[:, :n]) - _share_db(mix[:, :n], lead[:, :n], rest[:, :n])
    assert step == pytest.approx(sign * 1.0, abs=0.3)


def test_versions_share_the_master_decisions(versions_mix):
    """Not re-normalised: the instrumental is quieter than the mix, the a cappella quieter still."""
    out, result = versions_mix
    lufs = {n: measure(sf.read(str(out / "versions" / f"{n}.wav"), always_2d=True)[0].T,
                       result.plan.sample_rate).integrated_lufs for n in ("instrumental", "a-cappella")}
    main = measure(sf.read(str(out / "mix.wav"), always_2d=True)[0].T, result.plan.sample_rate).integrated_lufs
    assert lufs["instrumental"] < main - 0.5
    assert lufs["a-cappella"] < main - 0.5


def test_parse_versions():
    assert parse_versions("all") == ("vocal-up", "vocal-down", "instrumental", "a-cappella", "tv", "stems")
    assert parse_versions("tv, instrumental") == ("instrumental", "tv")
    with pytest.raises(ParameterError, match="karaoke"):
        parse_versions("karaoke")


def test_report_has_a_release_check_row_set_per_file(versions_mix):
    out, result = versions_mix
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Release check" in report
    assert "lead vocal = Lead Vocal; backing vocals = Backing Vocals" in report
    for label in ["mix.wav"] + [f"versions/{n}.wav" for n in MIX_VERSIONS]:
        assert f"| {label} | True peak |" in report
    assert [c.label for c in result.release] == ["mix.wav"] + [f"versions/{n}.wav" for n in MIX_VERSIONS]
