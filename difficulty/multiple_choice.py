"""Multiple-choice QA (ARC, CommonsenseQA, MMLU) and the k-option subsets of the num_options axis.

Every task loads as columns question, choices (the option texts) and answer (the correct index).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from difficulty.tasks import TaskDef, register_task

if TYPE_CHECKING:
    from datasets import Dataset


def options(
    choices: list[str], answer: int, k: int, rng: np.random.Generator
) -> tuple[list[str], int]:
    """The correct option and k-1 distractors drawn by `rng`, shuffled; (options, answer index)."""
    others = [i for i in range(len(choices)) if i != answer]
    picked = [answer, *rng.choice(others, size=k - 1, replace=False).tolist()]
    order = rng.permutation(k)
    return [choices[picked[i]] for i in order], int(np.flatnonzero(order == 0)[0])


def _lettered(row: dict) -> dict:  # ARC and CommonsenseQA: choices {label, text}, answerKey
    labels = list(row["choices"]["label"])
    return {
        "question": row["question"],
        "choices": list(row["choices"]["text"]),
        "answer": labels.index(row["answerKey"]),
    }


def _hub(path: str, config: str | None, splits: tuple[str, str], convert=None):
    def load() -> tuple[Dataset, Dataset]:
        from datasets import load_dataset  # heavy: imported when the task is loaded

        data = load_dataset(path, config)
        out = []
        for split in splits:
            part = data[split]
            if convert is not None:
                part = part.map(convert, remove_columns=part.column_names)
            out.append(part.select_columns(["question", "choices", "answer"]))
        return out[0], out[1]

    return load


# name: (hub dataset, config, (demonstrations split, evaluation split), converter, fewest options)
HUB = {
    "arc/challenge": ("allenai/ai2_arc", "ARC-Challenge", ("train", "test"), _lettered, 3),
    "arc/easy": ("allenai/ai2_arc", "ARC-Easy", ("train", "test"), _lettered, 3),
    "commonsense_qa": ("tau/commonsense_qa", None, ("train", "validation"), _lettered, 5),
    "mmlu": ("cais/mmlu", "all", ("dev", "test"), None, 4),
}

for _name, (_path, _config, _splits, _convert, _fewest) in HUB.items():
    register_task(
        TaskDef(
            _name,
            ("question",),
            _hub(_path, _config, _splits, _convert),
            num_labels=0,
            metric="accuracy_norm_above_chance",
            kind="multiple_choice",
            n_options=_fewest,
        )
    )
