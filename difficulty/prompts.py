"""Prompts for evaluation-only tasks: what a pretrained model is asked, at one difficulty level.

The formats are lm-evaluation-harness's: a question is `Question: ...\\nAnswer:`; demonstrations
(the `shots` axis) are solved questions before it, separated by blank lines; open-book evidence
(the `context` axis) comes right before its question, after the demonstrations.
Multiple-choice options are not listed in the prompt: each is
a continuation ` <option>` whose log-likelihood is scored (the harness's ARC style).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from difficulty.multiple_choice import options
from difficulty.tasks import TaskDef

if TYPE_CHECKING:
    from datasets import Dataset


@dataclass(frozen=True)
class PromptSettings:
    """What a difficulty level sets: evidence characters, demonstrations, options, answer format."""

    context: int = 0  # characters of evidence before the question; 0 = closed book
    shots: int | None = None  # solved training questions before it; None: 0 (lm-eval: the task's)
    num_options: int | None = None  # options per multiple-choice question; None = all
    free_form: bool = False  # ask a multiple-choice question without its options


@dataclass(frozen=True)
class Prompts:
    """The evaluation set as prompts and what each is scored against.

    kind `generate`: answers generated greedily, scored by exact match / F1 against `targets`
    (the aliases); `choose`: `targets` are the options, `answers` the correct ones' indexes;
    `translate`: `contexts` are source sentences, `targets` their one reference each.
    """

    kind: str
    contexts: list[str]
    targets: list[list[str]]
    answers: list[int]
    max_new_tokens: int
    languages: tuple[str, str] | None = None


def question(text: str, evidence: str = "") -> str:
    return f"{evidence}\n\nQuestion: {text}\nAnswer:" if evidence else f"Question: {text}\nAnswer:"


def demonstrations(train: Dataset, task: TaskDef, shots: int | None, seed: int) -> str:
    """`shots` solved training questions drawn with `seed` (nested: 1 shot lies within 3)."""
    if not shots:
        return ""
    rows = train.select(np.random.default_rng(seed).permutation(len(train))[:shots])
    if task.kind == "multiple_choice":
        solved = [(r["question"], r["choices"][r["answer"]]) for r in rows]
    else:
        solved = [(r["question"], r["answers"][0]) for r in rows]
    return "".join(f"{question(q)} {a}\n\n" for q, a in solved)


def build_prompts(
    task: TaskDef, train: Dataset, evaluation: Dataset, settings: PromptSettings, seed: int
) -> Prompts:
    """The prompts of one trial: its task's evaluation set at its level, drawn with its seed."""
    if task.kind == "translation":
        return Prompts(
            "translate",
            list(evaluation["source"]),
            [[t] for t in evaluation["target"]],
            [],
            task.max_new_tokens,
            task.languages,
        )
    prefix = demonstrations(train, task, settings.shots, seed)
    if task.kind == "qa":
        evidence = list(evaluation["context"]) if settings.context else [""] * len(evaluation)
        contexts = [
            prefix + question(q, e[: settings.context])
            for q, e in zip(evaluation["question"], evidence)
        ]
        return Prompts(
            "generate", contexts, [list(a) for a in evaluation["answers"]], [], task.max_new_tokens
        )
    contexts = [prefix + question(q) for q in evaluation["question"]]
    if settings.free_form:
        correct = [[c[a]] for c, a in zip(evaluation["choices"], evaluation["answer"])]
        return Prompts("generate", contexts, correct, [], task.max_new_tokens)
    targets, answers = [], []
    for i, (choices, answer) in enumerate(zip(evaluation["choices"], evaluation["answer"])):
        k = settings.num_options or len(choices)
        picked, index = options(list(choices), answer, k, np.random.default_rng([seed, i]))
        targets.append(picked)
        answers.append(index)
    return Prompts("choose", contexts, targets, answers, task.max_new_tokens)
