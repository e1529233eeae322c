"""Difficulty axes: how a trial's task is made harder or easier, by level.

An axis is one `Axis` record, registered in AXES by `register_axis`. It may change the training
rows and labels (`apply`, on a small Dataset of labels and row indices), the tokenized length
(`max_length`), the prompt of an evaluation-only task (`prompt`), or take its levels from each
task instead of the spec (`task_levels`); `check` refuses a task the axis cannot serve. The
analysis reads `harder_when`, `cross_task` and `label` from the same record.

Over 300 lines on purpose: the registry's point is that every axis is one record in this
file (nine of them, each with the small functions it names), so a reader opens one file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from difficulty.human_gap import normalized_gap
from difficulty.prompts import PromptSettings
from difficulty.sources import get_task
from difficulty.tasks import CLASSIFICATION, KINDS, LM_EVAL, TaskDef, TaskError

if TYPE_CHECKING:
    from datasets import Dataset

DIRECTIONS = ("higher", "lower")


def _unchanged(train: Dataset, level: float, seed: int, label: str) -> Dataset:
    return train


def _spec_max_length(level: float, max_length: int) -> int:
    return max_length


def _any_task(task: TaskDef, levels: list[float]) -> None:
    return None


def _no_prompt(level: float) -> PromptSettings:
    return PromptSettings()


@dataclass(frozen=True)
class Measured:
    """A difficulty the analysis computes from a level and the level's dense metric."""

    value: Callable[[Any, Any], Any]  # (levels, dense metrics) -> difficulty; Series or floats
    text: Callable[[float, float], str]  # (level, difficulty) -> how tables and legends show it


@dataclass(frozen=True, kw_only=True)
class Axis:
    """A difficulty axis: its levels, which end is hard, what a level does to a task, its label."""

    name: str
    allowed: str  # the valid levels in words, for error messages
    valid: Callable[[float], bool]
    harder_when: str  # "higher" or "lower": which levels are the harder ones
    label: str  # how the report and the plots name the axis
    cross_task: bool = False  # levels are properties of different tasks, compared across tasks
    apply: Callable[[Dataset, float, int, str], Dataset] = _unchanged  # (train, level, seed, label)
    max_length: Callable[[float, int], int] = _spec_max_length  # (level, spec's) -> tokens
    check: Callable[[TaskDef, list[float]], None] = _any_task  # raises TaskError
    task_levels: Callable[[TaskDef], list[float]] | None = None  # levels set by the task itself
    kinds: tuple[str, ...] = (CLASSIFICATION,)  # the task kinds it applies to
    prompt: Callable[[float], PromptSettings] = _no_prompt  # evaluation-only tasks: the prompt
    # the analysis: a level turned into the difficulty it orders and shows, from the level and
    # its dense metric (human_gap: the gap), and that value's text; None: the level itself
    measured: Measured | None = None

    def __post_init__(self) -> None:
        if self.harder_when not in DIRECTIONS:
            raise ValueError(
                f"axis {self.name}: harder_when = {self.harder_when!r}; allowed: "
                f"{', '.join(DIRECTIONS)}"
            )


AXES: dict[str, Axis] = {}


def register_axis(axis: Axis) -> Axis:
    """Add a difficulty axis to the registry under its name."""
    AXES[axis.name] = axis
    return axis


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


def _enough_examples(task: TaskDef, levels: list[float]) -> None:
    if task.kind != CLASSIFICATION and min(levels) < 1:
        raise TaskError(
            f"data_fraction {min(levels):g} subsamples training data, and {task.kind} tasks are "
            "evaluated without training (use n_eval to subsample the evaluation set)"
        )
    if task.n_train is None:
        return
    smallest = min(levels)
    kept = math.floor(smallest * task.n_train)
    needed = max(task.num_labels, 2)
    if kept < needed:
        labels = f"its {task.num_labels} labels" if task.num_labels > 1 else "a regression"
        raise TaskError(
            f"data_fraction {smallest:g} of {task.n_train} training examples keeps {kept}, "
            f"too few for {labels} (at least {needed})"
        )


def label_noise(train: Dataset, level: float, seed: int, label: str) -> Dataset:
    """The training set with a seeded `level` of its labels replaced by another label.

    One permutation and one replacement per example are drawn from the seed whatever the level,
    so the examples noised at 10% are noised at 20% too, with the same wrong labels.
    """
    labels = np.asarray(list(train[label]))
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    shift = rng.integers(1, len(classes), size=len(labels)) if len(classes) > 1 else 0
    noisy = order[: round(level * len(labels))]
    position = np.searchsorted(classes, labels)
    flipped = labels.copy()
    flipped[noisy] = classes[(position + shift)[noisy] % len(classes)]
    return train.remove_columns(label).add_column(label, flipped.tolist())


def _classification(task: TaskDef, levels: list[float]) -> None:
    if task.num_labels < 2:
        raise TaskError("label_noise needs class labels, and this task is a regression")


def _truncate(level: float, max_length: int) -> int:
    return int(level)


def _gap_text(human: float, gap: float) -> str:
    return f"gap {'–' if math.isnan(gap) else f'{gap:.3f}'}, human {human:g}"


def _human_baseline(task: TaskDef, levels: list[float]) -> None:
    if task.human_baseline is None:
        raise TaskError(
            f"human_gap needs a human baseline for {task.metric}, and this task has none "
            "(GLUE, the built-in tasks and lm-eval's winogrande, commonsense_qa, hellaswag, piqa "
            "and boolq have one)"
        )


def _has_context(task: TaskDef, levels: list[float]) -> None:
    if max(levels) > 0 and "context" not in task.text:
        raise TaskError(
            "context > 0 needs evidence text (a `context` column), and this task has none"
        )


def _enough_options(task: TaskDef, levels: list[float]) -> None:
    if task.n_options is not None and max(levels) > task.n_options:
        raise TaskError(
            f"num_options {max(levels):g} is more than the {task.n_options} options "
            "some of its questions have"
        )


def _enough_demonstrations(task: TaskDef, levels: list[float]) -> None:
    if task.n_train is not None and max(levels) > task.n_train:
        raise TaskError(f"shots {max(levels):g} is more than its {task.n_train} training examples")


def _has_resource(task: TaskDef, levels: list[float]) -> None:
    if task.resource is None:
        raise TaskError("language needs the pair's resource size (`resource:` on a file task)")


def _whole(low: float):
    return lambda v: v >= low and float(v).is_integer()


register_axis(
    Axis(
        name="data_fraction",
        allowed="fractions in (0, 1]",
        valid=lambda v: 0 < v <= 1,
        harder_when="lower",
        label="fraction of training data",
        apply=data_fraction,
        check=_enough_examples,
        kinds=KINDS,
    )
)
register_axis(
    Axis(
        name="label_noise",
        allowed="fractions of flipped training labels in [0, 1)",
        valid=lambda v: 0 <= v < 1,
        harder_when="higher",
        label="fraction of flipped training labels",
        apply=label_noise,
        check=_classification,
    )
)
register_axis(
    Axis(
        name="max_length",
        allowed="whole numbers of tokens >= 2 (inputs truncated to that many tokens)",
        valid=lambda v: v >= 2 and float(v).is_integer(),
        harder_when="lower",
        label="input tokens kept",
        max_length=_truncate,
    )
)
register_axis(
    Axis(
        name="human_gap",
        allowed="no levels (write human_gap: []): each task's level is its human baseline",
        valid=lambda v: False,
        harder_when="higher",  # of the gap (human - dense) / human, which the analysis orders
        label="human baseline",
        cross_task=True,
        check=_human_baseline,
        task_levels=lambda task: [task.human_baseline],
        kinds=(CLASSIFICATION, LM_EVAL),
        measured=Measured(value=normalized_gap, text=_gap_text),
    )
)
register_axis(
    Axis(
        name="context",
        allowed="whole numbers of evidence characters >= 0 (0 = closed book)",
        valid=_whole(0),
        harder_when="lower",
        label="evidence characters",
        check=_has_context,
        kinds=("qa",),
        prompt=lambda v: PromptSettings(context=int(v)),
    )
)
register_axis(
    Axis(
        name="shots",
        allowed="whole numbers of demonstrations >= 0",
        valid=_whole(0),
        harder_when="lower",
        label="demonstrations",
        check=_enough_demonstrations,
        kinds=("qa", "multiple_choice", LM_EVAL),  # lm-eval: its num_fewshot
        prompt=lambda v: PromptSettings(shots=int(v)),
    )
)
register_axis(
    Axis(
        name="num_options",
        allowed="whole numbers of answer options >= 2",
        valid=_whole(2),
        harder_when="higher",
        label="answer options",
        check=_enough_options,
        kinds=("multiple_choice",),
        prompt=lambda v: PromptSettings(num_options=int(v)),
    )
)
register_axis(
    Axis(
        name="answer_format",
        allowed="0 (multiple choice, all options) or 1 (free-form answer, lenient match)",
        valid=lambda v: v in (0, 1),
        harder_when="higher",  # 0 multiple choice, 1 free-form answer
        label="answer format (0 choice, 1 free form)",
        kinds=("multiple_choice",),
        prompt=lambda v: PromptSettings(free_form=v == 1),
    )
)
register_axis(
    Axis(
        name="language",
        allowed="no levels (write language: []): each pair's level is its resource size",
        valid=lambda v: False,
        harder_when="lower",  # the pair's resource size: fewer pre-training tokens, harder
        label="language resource (M tokens)",
        cross_task=True,
        check=_has_resource,
        task_levels=lambda task: [task.resource],
        kinds=("translation",),
    )
)


def check_axis(axis: str, task: TaskDef, levels: list[float]) -> None:
    """Raise TaskError if `axis` at `levels` cannot serve `task`."""
    if task.kind not in AXES[axis].kinds:
        raise TaskError(
            f"axis {axis} does not apply to {task.kind} tasks; it applies to "
            f"{', '.join(AXES[axis].kinds)}"
        )
    AXES[axis].check(task, levels)


def apply_axis(axis: str, train: Dataset, level: float, seed: int, label: str) -> Dataset:
    """The training set of one difficulty level."""
    return AXES[axis].apply(train, level, seed, label)


def axis_levels(axis: str, task: dict[str, Any], levels: list[float]) -> list[float]:
    """The levels of a task reference on an axis: the spec's, or the task's own (human_gap)."""
    own = AXES[axis].task_levels
    return levels if own is None else own(get_task(task))
