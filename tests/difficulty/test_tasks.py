"""The task registry: GLUE and XNLI entries (no network), GLUE's TSV folders, local files."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from difficulty import TASKS, TaskError, get_task
from difficulty.glue import GLUE, HUB

# The hub's nyu-mll/glue configs as published (dataset card): text columns, label names, splits.
NLI2 = ["entailment", "not_entailment"]
HUB_GLUE = {
    "cola": (["sentence"], ["unacceptable", "acceptable"], "validation"),
    "sst2": (["sentence"], ["negative", "positive"], "validation"),
    "mrpc": (["sentence1", "sentence2"], ["not_equivalent", "equivalent"], "validation"),
    "qqp": (["question1", "question2"], ["not_duplicate", "duplicate"], "validation"),
    "stsb": (["sentence1", "sentence2"], None, "validation"),
    "mnli": (["premise", "hypothesis"], ["entailment", "neutral", "contradiction"], "validation_matched"),
    "qnli": (["question", "sentence"], NLI2, "validation"),
    "rte": (["sentence1", "sentence2"], NLI2, "validation"),
    "wnli": (["sentence1", "sentence2"], ["not_entailment", "entailment"], "validation"),
}  # fmt: skip
METRICS = {"cola": "matthews", "sst2": "accuracy", "mrpc": "f1", "qqp": "f1", "stsb": "pearson",
           "mnli": "accuracy", "qnli": "accuracy", "rte": "accuracy", "wnli": "accuracy"}  # fmt: skip


def hub_copy(config: str) -> DatasetDict:
    """A tiny stand-in for load_dataset("nyu-mll/glue", config): the hub's columns and splits."""
    text, names, _ = HUB_GLUE[config]
    label = Value("float32") if names is None else ClassLabel(names=names)
    features = Features(
        {**{c: Value("string") for c in text}, "label": label, "idx": Value("int32")}
    )
    splits = ["train", "test"] + (["validation_matched", "validation_mismatched", "test_matched",
              "test_mismatched"] if config == "mnli" else ["validation"])  # fmt: skip

    def split(name: str) -> Dataset:
        rows = {c: [f"{name} {c} {i}" for i in range(4)] for c in text}
        labels = (
            [0.5 * i for i in range(4)] if names is None else [i % len(names) for i in range(4)]
        )
        return Dataset.from_dict(
            {**rows, "label": labels, "idx": list(range(4))}, features=features
        )

    return DatasetDict({s: split(s) for s in splits})


@pytest.mark.parametrize("config", sorted(HUB_GLUE))
def test_glue_entry_loads_the_hub_config_with_its_columns_labels_metric_and_eval_split(
    config, monkeypatch
):
    calls = []

    def load_dataset(path, name=None, **kwargs):  # the network boundary
        calls.append((path, name))
        return hub_copy(name)

    monkeypatch.setattr("datasets.load_dataset", load_dataset)  # the loader imports it when called
    task = get_task({"name": f"glue/{config}"})
    text, names, eval_split = HUB_GLUE[config]
    assert task.text == tuple(text) and task.label == "label"
    assert task.num_labels == (1 if names is None else len(names))
    assert task.metric == METRICS[config]
    train, evaluation = task.load()
    assert calls == [(HUB, config)]
    assert train[0][text[0]].startswith("train ") and evaluation[0][text[0]].startswith(eval_split)
    assert set(task.text) | {task.label} <= set(evaluation.column_names)
    assert task.human_baseline is not None and 0 < task.human_baseline <= 1


def test_stsb_is_a_regression_and_the_others_classify():
    assert [n for n in GLUE if TASKS[f"glue/{n}"].num_labels == 1] == ["stsb"]


@pytest.mark.parametrize("language", ["de", "sw", "zh"])
def test_xnli_by_language(language, monkeypatch):
    calls = []

    def load_dataset(path, name=None, **kwargs):
        calls.append((path, name))
        row = {"premise": ["p"], "hypothesis": ["h"], "label": [2]}
        return DatasetDict({s: Dataset.from_dict(row) for s in ("train", "validation", "test")})

    monkeypatch.setattr("difficulty.xnli.load_dataset", load_dataset)
    task = get_task({"name": f"xnli/{language}"})
    assert (task.text, task.num_labels, task.metric) == (("premise", "hypothesis"), 3, "accuracy")
    task.load()
    assert calls == [("facebook/xnli", language)]


def test_unknown_task_names_the_registered_ones():
    with pytest.raises(TaskError, match=r"unknown task 'glue/qnlii'; registered: .*glue/qnli"):
        get_task({"name": "glue/qnlii"})


# GLUE's own TSV files (gluebenchmark.com), a few lines each, in the layout and header they ship.
GLUE_FILES = {
    "CoLA": (None, "gj04\t1\t\tOur friends won't buy this analysis.\ngj04\t0\t*\tThey drank the pub.\n"),
    "SST-2": ("sentence\tlabel", "a gripping film \t1\nit 's dull \t0\n"),
    "MRPC": ("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String", "1\t1\t2\tHe said \"yes\".\tHe agreed.\n0\t3\t4\tA cat.\tA dog.\n"),
    "QQP": ("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate", "1\t1\t2\tWhy?\tHow come?\t1\n2\t3\t4\tWho?\tWhere?\t0\n"),
    "STS-B": ("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore",
              "0\tmain\tf\t2012\t1\tnone\tnone\tA plane takes off.\tAn air plane is taking off.\t5.000\n"
              "1\tmain\tf\t2012\t4\tnone\tnone\tA man plays.\tA dog runs.\t0.500\n"),
    "MNLI": ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
             "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label",
             "0\t1\t1n\tgov\t(\t(\t(\t(\tThe sky is blue.\tThe sky has a colour.\tentailment\tentailment\n"
             "1\t2\t2c\tgov\t(\t(\t(\t(\tIt rains.\tIt is dry.\tcontradiction\tcontradiction\n"
             "2\t3\t3n\tgov\t(\t(\t(\t(\tHe ran.\tHe was late.\tneutral\tneutral\n"),
    "QNLI": ("index\tquestion\tsentence\tlabel", "0\tWho ran?\tBob ran.\tentailment\n1\tWho ran?\tIt rained.\tnot_entailment\n"),
    "RTE": ("index\tsentence1\tsentence2\tlabel", "0\tBob ran home.\tBob ran.\tentailment\n1\tBob ran.\tBob swam.\tnot_entailment\n"),
    "WNLI": ("index\tsentence1\tsentence2\tlabel", "0\tThe cup fell; it broke.\tThe cup broke.\t1\n1\tA.\tB.\t0\n"),
}  # fmt: skip
FOLDER = {"cola": "CoLA", "sst2": "SST-2", "mrpc": "MRPC", "qqp": "QQP", "stsb": "STS-B",
          "mnli": "MNLI", "qnli": "QNLI", "rte": "RTE", "wnli": "WNLI"}  # fmt: skip


def write_glue_folder(root: Path, folder: str) -> Path:
    """One task's folder as the GLUE download has it: train.tsv and dev.tsv (MNLI: dev_matched)."""
    header, body = GLUE_FILES[folder]
    directory = root / folder
    directory.mkdir(parents=True, exist_ok=True)
    text = (header + "\n" if header else "") + body
    for name in ("train.tsv", "dev_matched.tsv" if folder == "MNLI" else "dev.tsv"):
        (directory / name).write_text(text)
    return directory


@pytest.mark.parametrize("config", sorted(FOLDER))
def test_glue_folder_loads_with_the_hub_columns_and_label_ids(config, tmp_path):
    from orchestrator.spec import task_ref, validate_spec

    directory = write_glue_folder(tmp_path, FOLDER[config])
    spec = validate_spec(
        {"name": "g", "models": ["m"], "tasks": [{"name": f"glue/{config}", "dir": str(directory)}]}
    )
    ref = task_ref(spec.tasks[0])
    task = get_task(ref)
    assert task.name == f"glue/{config}" and task.metric == METRICS[config]
    train, evaluation = task.load()
    assert set(task.text) <= set(train.column_names) and len(evaluation) == len(train) > 1
    assert all(isinstance(train[0][c], str) and train[0][c] for c in task.text)
    expected = {
        "cola": [1, 0], "sst2": [1, 0], "mrpc": [1, 0], "qqp": [1, 0], "stsb": [5.0, 0.5],
        "mnli": [0, 2, 1], "qnli": [0, 1], "rte": [0, 1], "wnli": [1, 0],
    }[config]  # fmt: skip
    assert train["label"] == expected


def test_glue_folder_trial_key_follows_content_not_place(tmp_path):
    from orchestrator.spec import validate_spec

    def key(root: Path) -> str:
        directory = write_glue_folder(root, "RTE")
        spec = {"name": "g", "models": ["m"], "tasks": [{"name": "glue/rte", "dir": str(directory)}],
                "transfer": ["dense"], "seeds": [1]}  # fmt: skip
        (trial,) = validate_spec(spec).expand()
        assert trial.task["layout"] == "glue" and trial.task["eval"].endswith("RTE/dev.tsv")
        return trial.trial_key

    assert key(tmp_path / "a") == key(tmp_path / "b")


def write_files(tmp_path: Path, suffix: str, rows: list[dict]) -> tuple[str, str]:
    import pandas as pd

    frame = pd.DataFrame(rows)
    paths = []
    for split in ("train", "dev"):
        path = tmp_path / f"{split}.{suffix}"
        if suffix in ("csv", "tsv"):
            frame.to_csv(path, sep="\t" if suffix == "tsv" else ",", index=False)
        elif suffix == "jsonl":
            frame.to_json(path, orient="records", lines=True)
        else:
            frame.to_parquet(path)
        paths.append(str(path))
    return paths[0], paths[1]


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "parquet"])
def test_local_files_of_each_format_with_string_labels(suffix, tmp_path):
    rows = [
        {"q": f"question {i}", "a": f"answer {i}", "gold": ["no", "yes", "maybe"][i % 3]}
        for i in range(9)
    ]
    train, dev = write_files(tmp_path, suffix, rows)
    task = get_task(
        {"name": "mine", "train": train, "eval": dev, "text": ["q", "a"], "label": "gold"}
    )
    assert task.num_labels == 3 and task.n_train == 9 and task.text == ("q", "a")
    loaded, evaluation = task.load()
    assert loaded["gold"][:3] == [1, 2, 0]  # sorted label names: maybe, no, yes
    assert evaluation["gold"] == loaded["gold"]


def test_local_file_with_float_labels_is_a_regression(tmp_path):
    train, dev = write_files(tmp_path, "csv", [{"s": "a", "y": 0.5}, {"s": "b", "y": 3.0}])
    assert (
        get_task({"name": "r", "train": train, "eval": dev, "text": "s", "label": "y"}).num_labels
        == 1
    )


def test_local_file_without_a_column_names_file_and_columns(tmp_path):
    train, dev = write_files(tmp_path, "csv", [{"s": "a", "label": 0}, {"s": "b", "label": 1}])
    with pytest.raises(TaskError, match=rf"^{train}: no column 'text'; columns are s, label$"):
        get_task({"name": "r", "train": train, "eval": dev, "text": "text"})


def test_a_tasks_kind_is_known_from_its_reference_as_get_task_resolves_it(tmp_path):
    from difficulty.sources import task_kind
    from tests.data import qa_rows, write_jsonl

    data = write_jsonl(tmp_path / "qa.jsonl", qa_rows())
    local = {"name": "my-qa", "kind": "qa", "train": data, "eval": data}
    for ref in ({"name": "builtin/factoid-qa"}, {"name": "builtin/polarity-easy"}, local):
        assert task_kind(ref) == get_task(ref).kind
    (tmp_path / "qa.jsonl").unlink()  # a moved sweep: its files are gone, its kind is not
    assert task_kind(local) == "qa"
    assert task_kind({"name": "lm_eval/x", "lm_eval": "x"}) == "lm_eval"
