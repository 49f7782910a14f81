"""The A/B versions and their stem-cache policy (workbench.mixing.variants)."""

from __future__ import annotations

import pytest

from workbench import WorkbenchError
from workbench.mixing.plan import STAGES
from workbench.mixing.planner import plan_mix
from workbench.mixing.preview import choose_section
from workbench.mixing.render import PLAIN_SUM, StemCache, StemChain, render
from workbench.mixing.variants import AB_VARIANTS, render_ab, render_variant, variant
from workbench.pipeline import prepare

from .synth import write_session


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = write_session(tmp_path_factory.mktemp("ab") / "stems", ["Kick", "Snare", "Bass", "Keys", "Lead Vocal"],
                           seconds=4.0, stereo=("Keys",))
    session, analysis = prepare(folder)
    plan = plan_mix(session, analysis)
    section = choose_section(analysis, 2.0, plan.sample_rate)
    return session, plan, section


def test_the_versions():
    keys = [v.key for v in AB_VARIANTS]
    assert keys[0] == "automix" and len(set(keys)) == len(keys)
    assert variant("automix").bypass == frozenset() and variant("plain").bypass == PLAIN_SUM
    assert all(v.bypass <= set(STAGES) for v in AB_VARIANTS)
    assert variant(AB_VARIANTS[2]) is AB_VARIANTS[2]
    with pytest.raises(WorkbenchError) as e:
        variant("no-everything")
    assert e.value.code == "unknown_variant" and "no-reverb" in e.value.fix


def test_cache_policy_matches_what_the_chains_compute(planned):
    """A version shares the cache exactly when every stem's chain core (the cached part) is the automix's."""
    session, plan, _ = planned
    stems = {s.name: s for s in session.stems}
    automix = {n: StemChain(sp, plan.sample_rate, stems[n].channels).core_key for n, sp in plan.stems.items()}
    for v in AB_VARIANTS:
        keys = {n: StemChain(sp, plan.sample_rate, stems[n].channels, bypass=v.bypass).core_key
                for n, sp in plan.stems.items()}
        assert (keys == automix) == v.shares_chains, v.key
    assert {v.key for v in AB_VARIANTS if v.shares_chains} == {"automix", "no-panning", "no-reverb"}


def test_render_by_name_is_the_render_with_its_bypass_and_follows_the_policy(planned, tmp_path):
    session, plan, section = planned
    sec = dict(section=(section.start_frame, section.frames), preroll_frames=section.preroll_frames)
    cache = StemCache()
    render_variant(plan, session, "automix", tmp_path / "automix.wav", section=section, cache=cache)
    assert len(cache) == len(plan.stems) and cache.hits == 0
    for v in AB_VARIANTS[1:]:
        hits, misses, held = cache.hits, cache.misses, len(cache)
        got = render_variant(plan, session, v.key, tmp_path / f"{v.key}.wav", section=section, cache=cache)
        want = render(plan, session, tmp_path / f"{v.key}-plain.wav", bypass=v.bypass, **sec)
        assert got.bypass == v.bypass
        assert got.path.read_bytes() == want.path.read_bytes()
        if v.shares_chains:
            assert (cache.hits, cache.misses) == (hits + len(plan.stems), misses)
        else:                                  # never reads nor fills the cache
            assert (cache.hits, cache.misses, len(cache)) == (hits, misses, held)


def test_render_ab_writes_the_chosen_versions_in_order(planned, tmp_path):
    session, plan, section = planned
    done, fractions = [], []
    results = render_ab(plan, session, section, tmp_path / "ab", variants=["no-reverb", "automix"],
                        progress=lambda what, f: fractions.append(f), on_done=lambda v, r: done.append(v.key))
    assert list(results) == done == ["no-reverb", "automix"]
    assert sorted(p.name for p in (tmp_path / "ab").iterdir()) == ["preview-automix.wav", "preview-no-reverb.wav"]
    assert all(r.frames == section.frames for r in results.values())
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] == pytest.approx(1.0)
