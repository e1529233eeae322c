"""Predictions in order, and the primary metric of an evaluation (the metrics: difficulty/)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from difficulty.prompts import Prompts
from tests.models import MODELS, batch_data
from workers.config import TrainConfig
from workers.evaluate import evaluate, evaluate_prompts, predict


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
        and set(every) == {"accuracy", "f1", "majority", "matthews"}
    )
    assert not model.training and torch.is_grad_enabled()


def test_generated_answers_and_translations_are_scored_by_the_registry(monkeypatch):
    model = torch.nn.Linear(2, 2)  # weights on the CPU: the evaluation's token budget is fixed
    model.config = SimpleNamespace(max_position_embeddings=64)
    monkeypatch.setattr("workers.evaluate.answers", lambda *a, **k: ["Paris", "London"])
    qa = Prompts("generate", ["q1", "q2"], [["paris"], ["Rome"]], [], 8)
    name, value, values = evaluate_prompts(model, None, qa, TrainConfig())
    assert (name, value) == ("match", 0.5)
    assert values == {"match": 0.5, "exact_match": 0.5, "f1": 0.5}

    monkeypatch.setattr("workers.evaluate.translations", lambda *a, **k: ["the cat sat on the mat"])
    mt = Prompts("translate", ["die Katze saß"], [["the cat sat on the mat"]], [], 8, ("de", "en"))
    name, value, values = evaluate_prompts(model, None, mt, TrainConfig())
    assert name == "bleu" and value == pytest.approx(100) and set(values) == {"bleu", "chrf"}
