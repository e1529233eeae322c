"""Built-in tasks: the same data on every machine, and a knob that makes them harder."""

from __future__ import annotations

import pytest

from difficulty import TASKS
from difficulty.builtin import LEVELS, polarity

NAMES = [f"builtin/polarity-{name}" for name in LEVELS]  # easy to hard


def test_built_in_tasks_are_reproducible_by_seed():
    assert polarity(50, 0.5, 1, seed=3)[:] == polarity(50, 0.5, 1, seed=3)[:]
    assert polarity(50, 0.5, 1, seed=3)["sentence"] != polarity(50, 0.5, 1, seed=4)["sentence"]
    for name in NAMES:
        (train, evaluation), (again, _) = TASKS[name].load(), TASKS[name].load()
        assert train[:] == again[:] and len(train) == TASKS[name].n_train == 2000
        assert len(evaluation) == 500 and not set(train["sentence"]) >= set(evaluation["sentence"])
        assert 0.45 < sum(train["label"]) / len(train) < 0.55  # balanced


def test_the_knob_adds_negation_then_distractors():
    easy, medium, hard = (TASKS[n].load()[0]["sentence"] for n in NAMES)
    negated = [sum(" not " in s for s in data) / len(data) for data in (easy, medium, hard)]
    assert negated[0] == 0 and 0.4 < negated[1] < 0.6 and 0.4 < negated[2] < 0.6
    assert all("," not in s for s in medium) and all("," in s for s in hard)


@pytest.mark.slow
def test_the_knob_orders_dense_minilm_accuracy(tmp_path):
    from orchestrator.spec import validate_spec
    from workers.trial import run_trial

    spec = validate_spec({
        "name": "knob", "storage": str(tmp_path), "models": ["minilm"], "tasks": NAMES,
        "transfer": ["dense"], "seeds": [1],
        "train": {"epochs": 2, "lr": 1e-4, "batch_size": 32, "max_length": 32, "n_train": 400, "n_eval": 400},
    })  # fmt: skip
    accuracy = [run_trial(t.to_dict())["metric"] for t in spec.expand()]
    assert accuracy[0] > accuracy[1] > accuracy[2], accuracy
    assert accuracy[0] > 0.9  # the easy task is learnt; the hard one is not solved
