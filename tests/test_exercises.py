"""Exercises: a seeded example with a hidden answer; a right prediction scores, a wrong one does not."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import ParameterError
from workbench.exercises import (
    BOOST_CHOICES_HZ,
    MASK_BANDS,
    RATIO_CHOICES,
    band_levels_db,
    boosted_frequency,
    compression_ratio,
    masked_band,
    static_compress,
)

GENERATORS = [boosted_frequency, masked_band, compression_ratio]


@pytest.mark.parametrize("make", GENERATORS, ids=lambda g: g.__name__)
def test_right_answer_scores_wrong_does_not(make):
    ex = make(5)
    right = ex.check(ex._answer)
    assert right.correct and right.score == 1 and right.answer == ex._answer
    wrong_choice = next(c for c in ex.choices if c != ex._answer)
    wrong = ex.check(wrong_choice)
    assert not wrong.correct and wrong.score == 0
    assert ex._answer in wrong.explanation  # the explanation gives the answer and the measurement
    assert "Not quite" in wrong._repr_html_() and "Right" in right._repr_html_()


@pytest.mark.parametrize("make", GENERATORS, ids=lambda g: g.__name__)
def test_same_seed_same_example(make):
    a, b = make(11), make(11)
    assert a._answer == b._answer and np.array_equal(a.after, b.after)
    answers = {make(s)._answer for s in range(12)}
    assert len(answers) > 1, "the hidden answer should depend on the seed"


def test_boost_is_where_the_answer_says():
    for seed in range(6):
        ex = boosted_frequency(seed)
        bands = {str(c): (c / np.sqrt(2), c * np.sqrt(2)) for c in BOOST_CHOICES_HZ}
        b = band_levels_db(ex.before, ex.sample_rate, bands)
        a = band_levels_db(ex.after, ex.sample_rate, bands)
        assert max(b, key=lambda k: a[k] - b[k]) == ex._answer
        assert f"the largest is at {ex._answer} Hz" in ex.check(ex._answer).explanation


def test_exaggerate_scales_the_boost():
    plain, big = boosted_frequency(2), boosted_frequency(2, exaggerate=2.0)
    f = float(plain._answer)
    band = {"b": (f / np.sqrt(2), f * np.sqrt(2))}
    gain = [band_levels_db(e.after, e.sample_rate, band)["b"] - band_levels_db(e.before, e.sample_rate, band)["b"]
            for e in (plain, big)]
    assert gain[1] > gain[0] + 4.0


def test_masker_is_in_the_hidden_band_only():
    ex = masked_band(4)
    masker = ex.after - ex.before
    levels = band_levels_db(masker, ex.sample_rate, MASK_BANDS)
    target = band_levels_db(ex.before, ex.sample_rate, MASK_BANDS)
    assert levels[ex._answer] - target[ex._answer] == pytest.approx(15.0, abs=0.5)
    assert all(levels[k] < target[k] - 60 for k in MASK_BANDS if k != ex._answer)


def test_compression_measured_ratio_matches():
    for seed in range(4):
        ex = compression_ratio(seed)
        text = ex.check(ex._answer).explanation
        measured = float(text.rsplit("= ", 1)[1].rstrip("."))
        assert measured == pytest.approx(float(ex._answer), rel=0.1)
    assert static_compress(np.array([-40.0, -10.0]), -30.0, 4.0).tolist() == [-40.0, -25.0]
    assert set(RATIO_CHOICES) >= {float(compression_ratio(s)._answer) for s in range(8)}


def test_answers_are_normalised_and_bad_ones_refused():
    ex = boosted_frequency(1)
    assert ex.check(f"{ex._answer} Hz").correct and ex.check(int(ex._answer)).correct
    r = compression_ratio(1)
    assert r.check(f"{r._answer}:1").correct
    with pytest.raises(ParameterError, match="Answer with one of"):
        ex.check(1234)
