"""SQuAD/TriviaQA answer normalization, exact match and token F1 on hand-computed cases."""

from __future__ import annotations

import pytest

from difficulty.qa import exact_match, normalize_answer, qa_metrics, token_f1


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("an apple, a pear", "apple pear"),
        ("  Theatre  of   the Absurd ", "theatre of absurd"),  # "the" only as a whole word
        ("U.S.A.", "usa"),
        ("Anna's", "annas"),
    ],
)
def test_normalization_drops_case_punctuation_and_articles(text, normalized):
    assert normalize_answer(text) == normalized


def test_exact_match_takes_the_best_alias():
    aliases = ["William Shakespeare", "Shakespeare", "The Bard"]
    assert exact_match("shakespeare.", aliases) == 1.0
    assert exact_match("bard", aliases) == 1.0  # "The Bard" -> "bard"
    assert exact_match("Will Shakespeare", aliases) == 0.0


def test_token_f1_is_the_best_over_aliases():
    # "william shakespeare" vs "shakespeare": common 1, p 1/2, r 1 -> 2/3;
    # vs "william shakespeare": p 1, r 1 -> 1
    assert token_f1("William Shakespeare", ["Shakespeare"]) == pytest.approx(2 / 3)
    assert token_f1("William Shakespeare", ["Shakespeare", "william  shakespeare"]) == 1.0
    # "the city of paris" -> [city, of, paris] vs [paris]: p 1/3, r 1 -> 0.5
    assert token_f1("the city of Paris", ["Paris"]) == pytest.approx(0.5)
    assert token_f1("London", ["Paris"]) == 0.0
    assert token_f1("", ["Paris"]) == 0.0


def test_metrics_average_over_questions():
    got = qa_metrics(["Paris", "the city of paris"], [["paris"], ["Paris"]])
    assert got == {"exact_match": 0.5, "f1": pytest.approx((1 + 0.5) / 2)}
