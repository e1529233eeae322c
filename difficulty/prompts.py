"""Prompts for evaluation-only tasks: what a pretrained model is asked, at one difficulty level.

A question whose answer is generated (QA, free-form multiple choice) is asked in one of the
`TEMPLATES`, which a spec picks with `train.prompt`:
- `paper` (the default): the Junk DNA paper's own script. Closed book "Answer these
  questions:\\n\\nQ: ...\\nA:", open book "Based on these texts, answer these questions:\\n\\n
  <evidence>\\n\\nQ: ...\\nA:"; the answer is the first non-blank line of the greedy continuation
  (which may not end before its first token: an instruction-tuned model, asked without its chat
  template, often ends the turn at once).
- `lm-eval`: lm-evaluation-harness's TriviaQA format, "Question: ...\\nAnswer:", the answer cut
  at the first newline, period or comma.
Demonstrations (the `shots` axis) are solved questions in the same format before the question,
separated by blank lines; open-book evidence (the `context` axis) comes right before its question.
Multiple-choice options are not listed in the prompt: each is a continuation ` <option>` of
"Question: ...\\nAnswer:" whose log-likelihood is scored (the harness's ARC style).
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
class Template:
    """How a question with a generated answer is asked, and where its answer ends."""

    name: str
    closed_book: str  # the instruction before demonstrations and question
    open_book: str  # the instruction when the question has evidence
    question: str  # the question's format, with {question}
    stop: tuple[str, ...]  # the answer is the continuation up to the first of these
    skip_blank: bool  # ... after its leading blanks (newlines); it cannot end before it starts


TEMPLATES = {
    t.name: t
    for t in (
        Template(
            "paper",
            "Answer these questions:\n\n",
            "Based on these texts, answer these questions:\n\n",
            "Q: {question}\nA:",
            ("\n",),
            skip_blank=True,
        ),
        # the harness stops generating at its `until` strings, so a leading newline ends it
        Template("lm-eval", "", "", "Question: {question}\nAnswer:", ("\n", ".", ","), False),
    )
}
MULTIPLE_CHOICE = TEMPLATES["lm-eval"]  # options are scored after the harness's question format


def generates(kind: str, settings: PromptSettings) -> bool:
    """Whether a task of `kind` at a level with these settings generates its answers."""
    return kind == "qa" or (kind == "multiple_choice" and settings.free_form)


@dataclass(frozen=True)
class Prompts:
    """The evaluation set as prompts and what each is scored against.

    kind `generate`: answers generated greedily, scored by exact match / F1 against `targets`
    (the aliases); `choose`: `targets` are the options, `answers` the correct ones' indexes;
    `translate`: `contexts` are source sentences, `targets` their one reference each.
    `stop`, `skip_blank`: where a generated answer ends (workers.generate.cut).
    """

    kind: str
    contexts: list[str]
    targets: list[list[str]]
    answers: list[int]
    max_new_tokens: int
    languages: tuple[str, str] | None = None
    stop: tuple[str, ...] = ()
    skip_blank: bool = False


def question(template: Template, text: str, evidence: str = "") -> str:
    asked = template.question.format(question=text)
    return f"{evidence}\n\n{asked}" if evidence else asked


def demonstrations(
    train: Dataset, task: TaskDef, template: Template, shots: int | None, seed: int
) -> str:
    """`shots` solved training questions drawn with `seed` (nested: 1 shot lies within 3)."""
    if not shots:
        return ""
    rows = train.select(np.random.default_rng(seed).permutation(len(train))[:shots])
    if task.kind == "multiple_choice":
        solved = [(r["question"], r["choices"][r["answer"]]) for r in rows]
    else:
        solved = [(r["question"], r["answers"][0]) for r in rows]
    return "".join(f"{question(template, q)} {a}\n\n" for q, a in solved)


def build_prompts(
    task: TaskDef,
    train: Dataset,
    evaluation: Dataset,
    settings: PromptSettings,
    seed: int,
    template: str = "paper",
) -> Prompts:
    """The prompts of one trial: its task's evaluation set at its level, drawn with its seed;
    a generated answer is asked in `template` (one of TEMPLATES)."""
    if task.kind == "translation":
        return Prompts(
            "translate",
            list(evaluation["source"]),
            [[t] for t in evaluation["target"]],
            [],
            task.max_new_tokens,
            task.languages,
        )
    generating = generates(task.kind, settings)
    asked = TEMPLATES[template] if generating else MULTIPLE_CHOICE
    prefix = demonstrations(train, task, asked, settings.shots, seed)
    if task.kind == "qa" and settings.context:
        evidence = [e[: settings.context] for e in evaluation["context"]]
    else:
        evidence = [""] * len(evaluation)
    contexts = [
        (asked.open_book if e else asked.closed_book) + prefix + question(asked, q, e)
        for q, e in zip(evaluation["question"], evidence)
    ]
    if generating:  # QA's aliases, or free form's correct option
        if task.kind == "qa":
            correct = [list(a) for a in evaluation["answers"]]
        else:
            correct = [[c[a]] for c, a in zip(evaluation["choices"], evaluation["answer"])]
        return Prompts("generate", contexts, correct, [], task.max_new_tokens, stop=asked.stop,
                       skip_blank=asked.skip_blank)  # fmt: skip
    targets, answers = [], []
    for i, (choices, answer) in enumerate(zip(evaluation["choices"], evaluation["answer"])):
        k = settings.num_options or len(choices)
        picked, index = options(list(choices), answer, k, np.random.default_rng([seed, i]))
        targets.append(picked)
        answers.append(index)
    return Prompts("choose", contexts, targets, answers, task.max_new_tokens)
