"""The nine GLUE tasks: by hub name through `datasets.load_dataset`, or from GLUE's own TSV files.

`glue/<task>` downloads the hub copy (nyu-mll/glue, the canonical `glue` dataset). The same task
also loads from a directory of the files the GLUE site distributes (train.tsv, dev.tsv; MNLI's
dev_matched.tsv), named in a spec as `{name: glue/rte, dir: data/RTE}`: the TSV columns are
renamed to the hub's and string labels mapped to the hub's ids, so both give the same task.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from difficulty.files import label_ids, read_file
from difficulty.human_gap import glue_human_baselines
from difficulty.tasks import TASKS, TaskDef, TaskError, register_task

if TYPE_CHECKING:
    from datasets import Dataset

HUB = "nyu-mll/glue"


@dataclass(frozen=True)
class Glue:
    """One GLUE task: its hub columns and metric, and the layout of its original TSV files."""

    text: tuple[str, ...]
    num_labels: int
    metric: str  # the primary metric, as in the GLUE paper (F1 for MRPC/QQP, MCC for CoLA)
    n_train: int
    tsv: dict[str, str]  # hub column -> column of the original TSV file (label included)
    label_names: tuple[str, ...] = ()  # TSV label strings in hub id order; () = already numbers
    eval_split: str = "validation"
    dev_file: str = "dev.tsv"
    header: tuple[str, ...] = ()  # column names of a headerless file (CoLA)


PAIR = {"sentence1": "sentence1", "sentence2": "sentence2", "label": "label"}
NLI = ("entailment", "not_entailment")

GLUE = {
    "cola": Glue(("sentence",), 2, "matthews", 8551, {"sentence": "sentence", "label": "label"},
                 header=("source", "label", "original_label", "sentence")),
    "sst2": Glue(("sentence",), 2, "accuracy", 67349, {"sentence": "sentence", "label": "label"}),
    "mrpc": Glue(("sentence1", "sentence2"), 2, "f1", 3668,
                 {"sentence1": "#1 String", "sentence2": "#2 String", "label": "Quality"}),
    "qqp": Glue(("question1", "question2"), 2, "f1", 363846,
                {"question1": "question1", "question2": "question2", "label": "is_duplicate"}),
    "stsb": Glue(("sentence1", "sentence2"), 1, "pearson", 5749, {**PAIR, "label": "score"}),
    "mnli": Glue(("premise", "hypothesis"), 3, "accuracy", 392702,
                 {"premise": "sentence1", "hypothesis": "sentence2", "label": "gold_label"},
                 ("entailment", "neutral", "contradiction"), "validation_matched",
                 "dev_matched.tsv"),
    "qnli": Glue(("question", "sentence"), 2, "accuracy", 104743,
                 {"question": "question", "sentence": "sentence", "label": "label"}, NLI),
    "rte": Glue(("sentence1", "sentence2"), 2, "accuracy", 2490, PAIR, NLI),
    "wnli": Glue(("sentence1", "sentence2"), 2, "accuracy", 635, PAIR),
}  # fmt: skip


def _hub_loader(config: str, eval_split: str):
    def load() -> tuple[Dataset, Dataset]:
        from datasets import load_dataset  # heavy: imported when the task is loaded

        data = load_dataset(HUB, config)
        return data["train"], data[eval_split]

    return load


for _name, _task in GLUE.items():
    register_task(
        TaskDef(
            f"glue/{_name}",
            _task.text,
            _hub_loader(_name, _task.eval_split),
            num_labels=_task.num_labels,
            metric=_task.metric,
            n_train=_task.n_train,
            human_baseline=glue_human_baselines().get((f"glue/{_name}", _task.metric)),
        )
    )


def glue_files(name: str, directory: str) -> tuple[str, str]:
    """(train, dev) file paths of a GLUE task in the GLUE site's directory layout."""
    task = _glue(name)
    return str(Path(directory, "train.tsv")), str(Path(directory, task.dev_file))


def read_tsv(path: str, task: Glue) -> Dataset:
    """One of GLUE's original TSV files, with the hub's column names and label ids."""
    headerless = {"column_names": list(task.header), "header": None} if task.header else {}
    data = read_file(path, **headerless)
    missing = [c for c in task.tsv.values() if c not in data.column_names]
    if missing:
        raise TaskError(
            f"{path}: no column {missing[0]!r} of GLUE's layout; "
            f"columns are {', '.join(data.column_names)}"
        )
    data = data.select_columns(list(task.tsv.values()))
    data = data.rename_columns({v: k for k, v in task.tsv.items() if k != v})
    if task.label_names:
        ids = {name: i for i, name in enumerate(task.label_names)}
        data = label_ids(data, "label", ids)  # drops unlabelled rows ("-")
    return data


def _glue(name: str) -> Glue:
    if not name.startswith("glue/") or name.removeprefix("glue/") not in GLUE:
        raise TaskError(
            f"a task with `dir` (GLUE's TSV files) is a GLUE task; "
            f"allowed: {', '.join(f'glue/{n}' for n in GLUE)}"
        )
    return GLUE[name.removeprefix("glue/")]


def glue_dir_task(ref: dict[str, Any]) -> TaskDef:
    """The registered GLUE task `ref["name"]`, loaded from GLUE's TSV files instead of the hub."""
    task = _glue(ref["name"])
    train, evaluation = read_tsv(ref["train"], task), read_tsv(ref["eval"], task)
    return dataclasses.replace(
        TASKS[ref["name"]], load=lambda: (train, evaluation), n_train=len(train)
    )
