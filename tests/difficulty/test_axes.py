"""Difficulty axes: data_fraction (nested, stratified), label_noise (nested), max_length, human_gap."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from datasets import Dataset

from difficulty import AXES, Axis, apply_axis
from difficulty.axes import axis_levels

LEVELS = [0.1, 0.25, 0.5, 0.75, 1.0]


def labels_dataset(counts: dict[int, int], seed: int = 0) -> Dataset:
    """(label, _idx) rows, as workers.cache hands them to an axis, shuffled."""
    labels = np.random.default_rng(seed).permutation(
        [c for c, n in counts.items() for _ in range(n)]
    )
    return Dataset.from_dict({"label": labels.tolist(), "_idx": list(range(len(labels)))})


@pytest.mark.parametrize("seed", [41, 42, 43])
def test_data_fraction_is_nested_across_levels_for_one_seed(seed):
    train = labels_dataset({0: 700, 1: 250, 2: 53})
    samples = [set(apply_axis("data_fraction", train, x, seed, "label")["_idx"]) for x in LEVELS]
    for smaller, larger in zip(samples, samples[1:]):
        assert smaller < larger
    assert samples[-1] == set(range(len(train)))
    other = set(apply_axis("data_fraction", train, 0.25, seed + 1, "label")["_idx"])
    assert other != samples[1]  # another seed draws another sample


@pytest.mark.parametrize("level", LEVELS)
def test_data_fraction_keeps_label_proportions_within_one_example(level):
    counts = {0: 700, 1: 250, 2: 53}
    sample = apply_axis("data_fraction", labels_dataset(counts), level, 7, "label")
    n = len(sample)
    assert abs(n - level * sum(counts.values())) <= len(counts)
    got = Counter(sample["label"])
    for label, count in counts.items():
        expected = n * count / sum(counts.values())  # the full set's proportion, at this size
        assert abs(got[label] - expected) <= 1, (label, got[label], expected)


def test_data_fraction_of_a_regression_is_a_plain_subsample():
    train = Dataset.from_dict({"label": np.linspace(0, 5, 200).tolist(), "_idx": list(range(200))})
    assert len(apply_axis("data_fraction", train, 0.1, 1, "label")) == 20


NOISE = [0.0, 0.1, 0.2, 0.4]


def test_label_noise_flips_the_level_of_labels_nested_with_the_same_wrong_labels():
    train = labels_dataset({0: 300, 1: 300, 2: 400})
    clean = np.asarray(train["label"])
    noised = [np.asarray(apply_axis("label_noise", train, x, 5, "label")["label"]) for x in NOISE]
    for level, labels in zip(NOISE, noised):
        assert len(np.flatnonzero(labels != clean)) == round(level * len(train))  # always changed
        assert set(labels) <= {0, 1, 2}
    for lower, higher in zip(noised, noised[1:]):
        changed = lower != clean
        assert (higher[changed] == lower[changed]).all()  # noised below: same wrong label above


def test_label_noise_refuses_a_regression_and_data_fraction_too_small_a_fraction():
    from difficulty import TASKS, TaskError

    with pytest.raises(TaskError, match="regression"):
        AXES["label_noise"].check(TASKS["glue/stsb"], [0.1])
    with pytest.raises(TaskError, match="data_fraction 0.001 of 635 training examples keeps 0"):
        AXES["data_fraction"].check(TASKS["glue/wnli"], [0.5, 0.001])
    AXES["data_fraction"].check(TASKS["glue/wnli"], [0.01])  # 6 examples for 2 labels


def test_max_length_level_is_the_token_count_and_other_axes_keep_the_spec_length():
    assert AXES["max_length"].max_length(16.0, 128) == 16
    assert AXES["data_fraction"].max_length(0.5, 128) == 128
    assert AXES["max_length"].valid(64) and not AXES["max_length"].valid(12.5)


def test_human_gap_levels_are_each_task_human_baseline():
    assert axis_levels("human_gap", {"name": "glue/rte"}, []) == [0.936]
    assert axis_levels("human_gap", {"name": "glue/cola"}, []) == [0.664]  # MCC, its metric
    assert axis_levels("human_gap", {"name": "builtin/polarity-hard"}, []) == [1.0]
    assert axis_levels("data_fraction", {"name": "glue/rte"}, [0.5, 1.0]) == [0.5, 1.0]


def trial(tiny_bert: str, axis: str, level: float):
    from workers.config import TrainConfig, TrialConfig

    return TrialConfig(
        sweep="s", results_dir="/tmp/none/results", model=tiny_bert,
        task={"name": "builtin/polarity-hard"}, difficulty_axis=axis, difficulty_level=level,
        method="none", scope="none", pruning_options={}, sparsity=0.0, transfer="dense", seed=3,
        train=TrainConfig(max_length=24),
    )  # fmt: skip


def test_task_data_applies_each_axis_to_the_tokenized_task(tiny_bert):
    from workers.cache import task_data

    full = task_data(trial(tiny_bert, "data_fraction", 1.0))
    assert full.train["input_ids"].shape == (2000, 24) and full.eval["input_ids"].shape[1] == 24
    short = task_data(trial(tiny_bert, "max_length", 8))
    assert short.train["input_ids"].shape == (2000, 8) and short.eval["input_ids"].shape == (500, 8)
    assert (short.train["input_ids"] == full.train["input_ids"][:, :8]).sum() > 0.9 * 2000 * 7
    noisy = task_data(trial(tiny_bert, "label_noise", 0.2))
    assert (noisy.train["input_ids"] == full.train["input_ids"]).all()
    assert (noisy.train["labels"] != full.train["labels"]).sum() == 400
    assert (noisy.eval["labels"] == full.eval["labels"]).all()  # evaluation stays clean
    half = task_data(trial(tiny_bert, "data_fraction", 0.5))
    assert abs(len(half.train["labels"]) - 1000) <= 2  # ceil per class


def test_an_axis_must_say_which_end_is_harder():
    facts = {"name": "toy", "allowed": "any", "valid": lambda v: True, "label": "toy"}
    with pytest.raises(TypeError, match="harder_when"):
        Axis(**facts)
    with pytest.raises(ValueError, match="harder_when = 'up'; allowed: higher, lower"):
        Axis(**facts, harder_when="up")
    assert all(axis.harder_when in ("higher", "lower") and axis.label for axis in AXES.values())
