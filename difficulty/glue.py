"""The nine GLUE tasks by hub name, loaded with `datasets.load_dataset("glue", ...)`."""

from __future__ import annotations

from datasets import Dataset, load_dataset

from difficulty.tasks import TaskDef, register_task

# name: (text columns, num_labels, primary metric, evaluation split)
GLUE = {
    "cola": (("sentence",), 2, "matthews", "validation"),
    "sst2": (("sentence",), 2, "accuracy", "validation"),
    "mrpc": (("sentence1", "sentence2"), 2, "f1", "validation"),
    "qqp": (("question1", "question2"), 2, "f1", "validation"),
    "stsb": (("sentence1", "sentence2"), 1, "pearson", "validation"),
    "mnli": (("premise", "hypothesis"), 3, "accuracy", "validation_matched"),
    "qnli": (("question", "sentence"), 2, "accuracy", "validation"),
    "rte": (("sentence1", "sentence2"), 2, "accuracy", "validation"),
    "wnli": (("sentence1", "sentence2"), 2, "accuracy", "validation"),
}


def _loader(config: str, eval_split: str):
    def load() -> tuple[Dataset, Dataset]:
        data = load_dataset("glue", config)
        return data["train"], data[eval_split]

    return load


for _name, (_text, _labels, _metric, _split) in GLUE.items():
    register_task(
        TaskDef(f"glue/{_name}", _text, _loader(_name, _split), num_labels=_labels, metric=_metric)
    )
