"""The task record and its registry: a task is a name plus a description of its data and metric.

Light on purpose (no `datasets`): the modules that register tasks import it, and
`difficulty.sources` resolves a spec's task reference against this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets import Dataset


class TaskError(ValueError):
    """A task that cannot be resolved or loaded; the message is meant for the user."""


CLASSIFICATION = "classification"
# evaluated by lm-evaluation-harness, with its prompts and metrics (difficulty.lm_eval_tasks)
LM_EVAL = "lm_eval"
# the kinds a local-file task may have
FILE_KINDS = (CLASSIFICATION, "qa", "multiple_choice", "translation")
# evaluated without fine-tuning (transfer `none`), by prompting a pretrained language model
EVALUATION_ONLY = (*FILE_KINDS[1:], LM_EVAL)
KINDS = (CLASSIFICATION, *EVALUATION_ONLY)
# the columns each evaluation-only kind's (train, eval) datasets hold, after loading (an lm_eval
# task's data is lm-eval's to load)
COLUMNS = {
    "qa": ("question", "answers"),  # answers: every alias; an optional `context` (evidence text)
    "multiple_choice": ("question", "choices", "answer"),  # answer: index into choices
    "translation": ("source", "target"),
}


@dataclass(frozen=True)
class TaskDef:
    """A task and how to load it: classification (regression if num_labels=1) or evaluation-only."""

    name: str
    text: tuple[str, ...]  # one column, or two for sentence pairs
    load: Callable[[], tuple[Dataset, Dataset]]  # -> (train, eval), labels already 0..num_labels-1
    num_labels: int = 2
    label: str = "label"
    metric: str = "accuracy"  # the primary metric: accuracy | f1 | matthews | pearson
    n_train: int | None = None  # size of the training set, where known without loading it
    human_baseline: float | None = None  # human score on `metric` (0..1), for the human_gap axis
    kind: str = CLASSIFICATION  # one of KINDS; evaluation-only kinds load COLUMNS[kind]
    max_new_tokens: int = 32  # generation cap (qa, translation)
    n_options: int | None = None  # multiple_choice: the fewest options any question has
    languages: tuple[str, str] | None = None  # translation: (source, target) ISO 639-1 codes
    resource: float | None = None  # translation: the pair's resource size, for the language axis


TASKS: dict[str, TaskDef] = {}


def register_task(task: TaskDef) -> TaskDef:
    """Add a task to the registry under its name."""
    TASKS[task.name] = task
    return task
