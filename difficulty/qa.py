"""Open-domain QA: TriviaQA (rc) and its metrics, exact match and token F1 over answer aliases.

The answer normalization is the SQuAD v1.1 / TriviaQA evaluation scripts': lower case, no
punctuation, no articles (a, an, the), single spaces. A prediction scores the best it gets
against any alias of the answer.
"""

from __future__ import annotations

import re
import string
from collections import Counter

from datasets import Dataset, load_dataset

from difficulty.tasks import TaskDef, register_task

HUB = ("mandarjoshi/trivia_qa", "rc")
N_TRAIN = 138384  # TriviaQA rc training questions


def normalize_answer(text: str) -> str:
    """SQuAD/TriviaQA normalization: lower case, drop punctuation and articles, squeeze spaces."""
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, aliases: list[str]) -> float:
    """1.0 if the normalized prediction equals a normalized alias."""
    guess = normalize_answer(prediction)
    return float(any(guess == normalize_answer(a) for a in aliases))


def token_f1(prediction: str, aliases: list[str]) -> float:
    """The best bag-of-tokens F1 between the normalized prediction and an alias."""
    guess = normalize_answer(prediction).split()
    best = 0.0
    for alias in aliases:
        truth = normalize_answer(alias).split()
        common = sum((Counter(guess) & Counter(truth)).values())
        if common:
            precision, recall = common / len(guess), common / len(truth)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def qa_metrics(predictions: list[str], answers: list[list[str]]) -> dict[str, float]:
    """Mean exact match and token F1 (0..1) of predictions against their answers' aliases."""
    n = max(len(predictions), 1)
    return {
        "exact_match": sum(map(exact_match, predictions, answers)) / n,
        "f1": sum(map(token_f1, predictions, answers)) / n,
    }


def _evidence(row: dict) -> str:
    """The evidence documents of a TriviaQA question, Wikipedia pages first, as one text."""
    return "\n".join(
        [*row["entity_pages"]["wiki_context"], *row["search_results"]["search_context"]]
    )


def _question(row: dict) -> dict:
    return {"question": row["question"], "answers": row["answer"]["aliases"]}


def _with_evidence(row: dict) -> dict:
    return {**_question(row), "context": _evidence(row)}


def load_triviaqa() -> tuple[Dataset, Dataset]:
    """TriviaQA rc: training questions (question, answers: the aliases) for demonstrations, and
    validation questions with their evidence as `context` (demonstrations are closed book)."""
    data = load_dataset(*HUB)
    columns = data["train"].column_names
    return (
        data["train"].map(_question, remove_columns=columns),
        data["validation"].map(_with_evidence, remove_columns=columns),
    )


register_task(
    TaskDef(
        "triviaqa/rc",
        ("question", "context"),
        load_triviaqa,
        num_labels=0,
        metric="exact_match",
        n_train=N_TRAIN,
        kind="qa",
        max_new_tokens=32,
    )
)
