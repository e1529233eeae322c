"""Predictions in order, and the primary metric of an evaluation (the metrics: difficulty/)."""

from __future__ import annotations

import numpy as np
import torch

from tests.workers.conftest import MODELS, batch_data
from workers.evaluate import evaluate, predict


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
