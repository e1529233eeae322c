"""Open-domain QA: TriviaQA (rc), scored by exact match and token F1 over answer aliases
(`generate` in difficulty.metrics).
"""

from __future__ import annotations

from datasets import Dataset, load_dataset

from difficulty.tasks import TaskDef, register_task

HUB = ("mandarjoshi/trivia_qa", "rc")
N_TRAIN = 138384  # TriviaQA rc training questions
QUESTION = ("question", "answer")  # the hub's columns that _question reads
EVIDENCE = ("entity_pages", "search_results")  # and those _evidence reads


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
    # only the columns a row function reads: `map` decodes every column it is given, and the
    # evidence documents (megabytes of text per question) are needed for validation only
    train = data["train"].select_columns(list(QUESTION))
    validation = data["validation"].select_columns([*QUESTION, *EVIDENCE])
    return (
        train.map(_question, remove_columns=train.column_names),
        validation.map(_with_evidence, remove_columns=validation.column_names),
    )


register_task(
    TaskDef(
        "triviaqa/rc",
        ("question", "context"),
        load_triviaqa,
        num_labels=0,
        metric="match",
        n_train=N_TRAIN,
        kind="qa",
        max_new_tokens=32,
    )
)
