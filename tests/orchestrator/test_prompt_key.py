"""The prompt template of a trial that generates answers is part of its key and its row."""

from __future__ import annotations

from orchestrator.spec import validate_spec


def spec(tmp_path, difficulty: dict, prompt: str | None = None, tasks=None) -> list:
    data = {
        "name": "p",
        "storage": str(tmp_path),
        "models": ["gpt2"],
        "tasks": tasks or ["builtin/factoid-qa", "builtin/factoid-mc"],
        "difficulty": difficulty,
        "pruning": [{"method": "magnitude"}],
        "sparsities": [0.5],
        "transfer": ["dense", "none"],
        "seeds": [1],
    }
    if prompt:
        data["train"] = {"prompt": prompt}
    return validate_spec(data, "sweep.yaml").expand()


def by_task(trials) -> dict:
    return {(t.task_name, t.difficulty_level, t.transfer): t for t in trials}


def test_only_trials_that_generate_carry_a_template(tmp_path):
    trials = by_task(spec(tmp_path, {"shots": [0, 1]}))
    assert {t.prompt for (task, *_), t in trials.items() if task.endswith("qa")} == {"paper"}
    assert {t.prompt for (task, *_), t in trials.items() if task.endswith("mc")} == {None}
    free = by_task(spec(tmp_path, {"answer_format": [0, 1]}, tasks=["builtin/factoid-mc"]))
    assert {level: t.prompt for (_, level, _), t in free.items()} == {0.0: None, 1.0: "paper"}


def test_another_template_changes_the_keys_of_generating_trials_only(tmp_path):
    paper = by_task(spec(tmp_path, {"shots": [0, 1]}))
    harness = by_task(spec(tmp_path, {"shots": [0, 1]}, prompt="lm-eval"))
    for point, trial in paper.items():
        changed = trial.trial_key != harness[point].trial_key
        assert changed == (trial.prompt is not None), point
    assert {t.prompt for t in harness.values()} == {"lm-eval", None}


def test_an_unknown_template_is_refused(tmp_path):
    import pytest

    from orchestrator.spec import SpecError

    with pytest.raises(SpecError, match="train.prompt"):
        spec(tmp_path, {"shots": [0]}, prompt="chat")
