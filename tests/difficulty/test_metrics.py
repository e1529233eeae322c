"""The metric registry on hand-computed cases: classification, answers, options, translations."""

from __future__ import annotations

import numpy as np
import pytest

from difficulty.metrics import (
    METRICS,
    compute_metrics,
    exact_match,
    lenient_match,
    normalize_answer,
    primary_metric,
    token_f1,
)
from tests.imports import light_import


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


def test_lenient_match_is_containment_either_way_over_aliases():
    # the paper's scoring: an instruction-tuned model answers in sentences
    assert lenient_match("The capital city of France is Paris.", ["Paris"]) == 1.0
    assert exact_match("The capital city of France is Paris.", ["Paris"]) == 0.0
    assert lenient_match("Shakespeare", ["William Shakespeare"]) == 1.0  # answer within alias
    assert lenient_match("Lyon", ["Paris", "City of Light"]) == 0.0
    # an empty answer contains nothing and lies within everything: it matches nothing
    assert lenient_match("", ["Paris"]) == 0.0
    assert lenient_match("The.", ["Paris"]) == 0.0  # empty once normalized
    assert lenient_match("Paris", ["The"]) == 0.0  # an alias empty once normalized is skipped


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
    got = compute_metrics("generate", ["Paris", "the city of paris"], [["paris"], ["Paris"]])
    assert got == {"match": 1.0, "exact_match": 0.5, "f1": pytest.approx((1 + 0.5) / 2)}
    assert primary_metric("generate") == "match"  # the paper's, not the strict one


def test_binary_classification_has_accuracy_f1_and_matthews():
    labels = np.array([1, 1, 1, 0, 0, 0])
    logits = np.eye(2)[[1, 1, 0, 0, 0, 1]]  # tp 2, fn 1, tn 2, fp 1
    got = compute_metrics("classify", logits, labels)
    assert got == pytest.approx(
        {"accuracy": 4 / 6, "f1": 2 / 3, "matthews": 1 / 3, "majority": 0.5}
    )


def test_multiclass_has_accuracy_and_matthews_but_no_binary_f1():
    got = compute_metrics("classify", np.eye(3)[[0, 1, 2, 2]], np.array([0, 1, 2, 1]))
    assert set(got) == {"accuracy", "majority", "matthews"} and got["accuracy"] == 0.75


def test_regression_has_pearson_and_spearman():
    scores = np.array([[1.0], [2.0], [3.0], [10.0]])
    got = compute_metrics("classify", scores, np.array([1.0, 2.0, 3.0, 4.0]))
    assert got["spearman"] == pytest.approx(1.0) and 0.8 < got["pearson"] < 0.95


def test_length_normalisation_divides_by_the_options_characters():
    # option 0 is likelier in total (-6 > -8) but less per character (-6/4 < -8/9)
    scores, options = [[-6.0, -8.0]], [["abc", "abcdefgh"]]
    got = compute_metrics("choose", scores, (options, [1]))
    assert got["accuracy"] == 0.0 and got["accuracy_norm"] == 1.0
    assert got["accuracy_norm_above_chance"] == 1.0 and got["accuracy_above_chance"] == -1.0


def test_bleu_of_a_hand_checked_pair():
    # hypothesis "the cat sat on a mat" against "the cat sat on the mat": n-gram precisions
    # 5/6, 3/5, 2/4, 1/3, same length (no brevity penalty): BLEU = (1/12) ** (1/4) = 53.73
    got = compute_metrics("translate", ["the cat sat on a mat"], ["the cat sat on the mat"])
    assert got["bleu"] == pytest.approx(100 * (1 / 12) ** 0.25, abs=1e-6)
    assert 0 < got["chrf"] < 100
    same = compute_metrics("translate", ["the cat sat on the mat"], ["the cat sat on the mat"])
    assert same == {"bleu": pytest.approx(100), "chrf": pytest.approx(100)}


def test_every_metric_says_which_way_is_better_and_each_prompt_output_has_a_primary():
    assert primary_metric("generate") == "match" and primary_metric("translate") == "bleu"
    assert primary_metric("choose") == "accuracy_norm_above_chance"
    assert METRICS["translate"]["bleu"].chance is None  # no chance level for free text
    logits, labels = np.eye(2)[[1, 0, 0, 0]], np.array([1, 1, 0, 0])
    assert METRICS["classify"]["accuracy"].chance(logits, labels) == 0.5
    assert METRICS["classify"]["f1"].chance(logits, labels) == pytest.approx(0.5)  # p=1/2
    assert METRICS["classify"]["matthews"].chance(logits, labels) == 0.0


def test_the_registry_imports_without_torch_datasets_or_sacrebleu():
    heavy = light_import("difficulty.metrics")
    assert heavy == [], f"import difficulty.metrics loaded {heavy}"
