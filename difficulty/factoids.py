"""Built-in LLM tasks, offline: the same general-knowledge facts asked two ways.

`builtin/factoid-qa`: a question with its answer's aliases and one evidence sentence, for
open- vs closed-book QA (the `context` axis: 0 asks closed book, a level > 0 puts that many
characters of the evidence before the question) and k-shot prompting (`shots`).
`builtin/factoid-mc`: the same questions with five options each, for the `num_options` axis
(2 to 5 options: the correct one and distractors drawn per question) and `shots`.

The facts are in `data/factoids.jsonl`, written for junkdna. A fixed permutation (seed 0) sets
`DEMONSTRATIONS` questions apart as the training split that `shots` draws its solved examples
from; the rest, at least 200, are the evaluation set, so a level's accuracy is known to about
±0.07 (95 %).
"""

from __future__ import annotations

import json
from importlib.resources import files

import numpy as np
from datasets import Dataset

from difficulty.tasks import TaskDef, register_task

DEMONSTRATIONS = 40  # questions kept apart for k-shot demonstrations


def _facts() -> tuple[list[dict], list[dict]]:
    """(demonstration facts, evaluation facts), split by a fixed permutation."""
    text = files("difficulty").joinpath("data/factoids.jsonl").read_text(encoding="utf-8")
    facts = [json.loads(line) for line in text.splitlines() if line.strip()]
    order = np.random.default_rng(0).permutation(len(facts))
    return [facts[i] for i in order[:DEMONSTRATIONS]], [facts[i] for i in order[DEMONSTRATIONS:]]


def _loader(columns: dict[str, str]):
    """A task's loader: (demonstrations, evaluation) with `columns` (column: the facts' field)."""

    def load() -> tuple[Dataset, Dataset]:
        splits = _facts()
        return tuple(
            Dataset.from_dict({col: [f[field] for f in facts] for col, field in columns.items()})
            for facts in splits
        )

    return load


register_task(
    TaskDef(
        "builtin/factoid-qa",
        ("question", "context"),
        _loader({"question": "question", "answers": "answers", "context": "evidence"}),
        num_labels=0,
        metric="match",
        n_train=DEMONSTRATIONS,
        kind="qa",
        max_new_tokens=32,
    )
)
register_task(
    TaskDef(
        "builtin/factoid-mc",
        ("question",),
        _loader({"question": "question", "choices": "choices", "answer": "answer"}),
        num_labels=0,
        metric="accuracy_norm_above_chance",
        n_train=DEMONSTRATIONS,
        kind="multiple_choice",
        n_options=5,
    )
)
