"""Difficulty axes: how a trial's training data is made harder or easier, by level."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from datasets import Dataset


@dataclass(frozen=True)
class Axis:
    """A difficulty axis: which levels are valid, and how a level changes the training set."""

    name: str
    allowed: str  # for error messages
    valid: Callable[[float], bool]
    apply: Callable[[Dataset, float, int, str], Dataset]  # (train, level, seed, label column)


def data_fraction(train: Dataset, level: float, seed: int, label: str) -> Dataset:
    """A stratified subsample of `level` of the training set, nested across levels for one seed.

    Each class is shuffled once with the seed and its first ceil(level * n_class) examples are
    kept, so the 10% sample lies inside the 25% sample and the label mix matches the full set.
    """
    if level >= 1.0:
        return train
    labels = np.asarray(list(train[label]))
    if labels.dtype.kind == "f":  # regression: one stratum
        labels = np.zeros(len(labels), dtype=int)
    rng = np.random.default_rng(seed)
    keep = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        keep.append(rng.permutation(members)[: math.ceil(level * len(members))])
    return train.select(np.sort(np.concatenate(keep)))


AXES: dict[str, Axis] = {
    "data_fraction": Axis(
        "data_fraction", "fractions in (0, 1]", lambda v: 0 < v <= 1, data_fraction
    ),
}


def apply_axis(axis: str, train: Dataset, level: float, seed: int, label: str) -> Dataset:
    """The training set of one difficulty level."""
    return AXES[axis].apply(train, level, seed, label)
