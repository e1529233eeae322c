"""Metrics per task type, checked against values worked out by hand, and predictions in order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.workers.conftest import MODELS, batch_data
from workers.evaluate import evaluate, metrics, predict


def test_binary_classification_has_accuracy_f1_and_matthews():
    labels = np.array([1, 1, 1, 0, 0, 0])
    logits = np.eye(2)[[1, 1, 0, 0, 0, 1]]  # tp 2, fn 1, tn 2, fp 1
    got = metrics(logits, labels)
    assert got == pytest.approx({"accuracy": 4 / 6, "f1": 2 / 3, "matthews": 1 / 3})


def test_multiclass_has_accuracy_and_matthews_but_no_binary_f1():
    got = metrics(np.eye(3)[[0, 1, 2, 2]], np.array([0, 1, 2, 1]))
    assert set(got) == {"accuracy", "matthews"} and got["accuracy"] == 0.75


def test_regression_has_pearson_and_spearman():
    scores = np.array([[1.0], [2.0], [3.0], [10.0]])
    got = metrics(scores, np.array([1.0, 2.0, 3.0, 4.0]))
    assert got["spearman"] == pytest.approx(1.0) and 0.8 < got["pearson"] < 0.95


def test_predictions_keep_the_order_of_the_data_across_trimmed_batches():
    model, lm = MODELS["bert"][0](), False
    data = batch_data(lm, n=10)
    one_by_one = np.concatenate(
        [predict(model, {k: v[i : i + 1] for k, v in data.items()}, 1) for i in range(10)]
    )
    np.testing.assert_allclose(predict(model, data, 4), one_by_one, atol=1e-5)


def test_evaluate_names_the_primary_metric_and_returns_all():
    model = MODELS["bert"][0]()
    name, value, every = evaluate(model, batch_data(False, n=8), "matthews", batch_size=4)
    assert (
        name == "matthews"
        and value == every["matthews"]
        and set(every) == {"accuracy", "f1", "matthews"}
    )
    assert not model.training and torch.is_grad_enabled()
