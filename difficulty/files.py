"""Tasks from a user's local files: csv, tsv, jsonl or parquet, columns named in the spec."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difficulty.tasks import COLUMNS, TaskDef, TaskError

if TYPE_CHECKING:
    from datasets import Dataset

FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def file_format(path: str) -> str:
    """The `datasets` builder for a data file, by its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise TaskError(f"{path}: unsupported file type {suffix!r}; allowed: {', '.join(FORMATS)}")
    return FORMATS[suffix]


@contextmanager
def quiet() -> Iterator[None]:
    """No `datasets` progress bars: a spec check prints one line, or nothing."""
    import datasets  # heavy: imported when data is read, not with the task registry

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def read_file(path: str, **options: Any) -> Dataset:
    """A local data file as a Dataset (tsv: tab-separated, quotes are text), quietly."""
    from datasets import load_dataset

    if path.lower().endswith(".tsv"):
        options = {"delimiter": "\t", "quoting": 3, **options}
    with quiet():
        return load_dataset(file_format(path), data_files=path, split="train", **options)


def label_ids(data: Dataset, column: str, ids: dict[Any, int]) -> Dataset:
    """The rows whose label is one of `ids`, with each label replaced by its id."""
    data = data.select([i for i, v in enumerate(data[column]) if v in ids])
    values = [ids[v] for v in data[column]]
    return data.remove_columns(column).add_column(column, values)


def _as_list(row: dict) -> dict:
    return {"answers": [row["answers"]] if isinstance(row["answers"], str) else row["answers"]}


def evaluation_task(ref: dict[str, Any]) -> TaskDef:
    """A TaskDef for local files of an evaluation-only kind, in its columns (tasks.COLUMNS)."""
    kind = ref["kind"]
    train, evaluation = read_file(ref["train"]), read_file(ref["eval"])
    for path, data in ((ref["train"], train), (ref["eval"], evaluation)):
        missing = [c for c in COLUMNS[kind] if c not in data.column_names]
        if missing:
            raise TaskError(
                f"{path}: no column {missing[0]!r}, which {kind} tasks need "
                f"({', '.join(COLUMNS[kind])}); columns are {', '.join(data.column_names)}"
            )
        if len(data) == 0:
            raise TaskError(f"{path}: no examples")
    if kind == "translation" and "languages" not in ref:
        raise TaskError("a translation task needs languages: [source, target] (e.g. [en, de])")
    if kind == "qa":
        with quiet():
            train, evaluation = train.map(_as_list), evaluation.map(_as_list)
    has_context = "context" in train.column_names and "context" in evaluation.column_names
    languages = tuple(ref["languages"]) if "languages" in ref else None
    return TaskDef(
        ref["name"],
        ("question", "context") if has_context else tuple(COLUMNS[kind][:1]),
        lambda: (train, evaluation),
        num_labels=0,
        metric={"qa": "match", "translation": "bleu"}.get(kind, "accuracy_norm_above_chance"),
        n_train=len(train),
        kind=kind,
        max_new_tokens=ref.get("max_new_tokens", 256 if kind == "translation" else 32),
        n_options=min(map(len, evaluation["choices"])) if kind == "multiple_choice" else None,
        languages=languages,
        resource=ref.get("resource"),
    )


def file_task(ref: dict[str, Any]) -> TaskDef:
    """A TaskDef for a local-file task reference (string labels are mapped to ids)."""
    if ref.get("kind", "classification") != "classification":
        return evaluation_task(ref)
    text = tuple([ref["text"]] if isinstance(ref["text"], str) else ref["text"])
    label = ref.get("label", "label")
    train, evaluation = read_file(ref["train"]), read_file(ref["eval"])
    for path, data in ((ref["train"], train), (ref["eval"], evaluation)):
        missing = [c for c in (*text, label) if c not in data.column_names]
        if missing:
            raise TaskError(
                f"{path}: no column {missing[0]!r}; columns are {', '.join(data.column_names)}"
            )
    if len(train) == 0 or len(evaluation) == 0:
        raise TaskError(f"{ref['train'] if len(train) == 0 else ref['eval']}: no examples")
    values = sorted(set(train[label]), key=str)
    if all(isinstance(v, float) for v in values):
        num_labels = 1  # regression
    elif len(values) < 2:
        raise TaskError(f"{ref['train']}: column {label!r} has one label, {values[0]!r}; need two")
    else:
        ids = {v: i for i, v in enumerate(values)}
        train, evaluation = label_ids(train, label, ids), label_ids(evaluation, label, ids)
        num_labels = len(values)
    return TaskDef(
        ref["name"],
        text,
        lambda: (train, evaluation),
        num_labels=num_labels,
        label=label,
        n_train=len(train),
    )
