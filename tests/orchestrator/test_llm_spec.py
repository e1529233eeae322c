"""Bad input to the LLM and translation settings: one clear line, exit 2, before any trial starts."""

from __future__ import annotations

import json

import pytest

from orchestrator.cli import main
from orchestrator.spec import load_spec
from tests.data import mc_rows, pair_rows, qa_rows, write_jsonl


@pytest.fixture
def files(tmp_path):
    rows = {"qa": qa_rows(), "mc": mc_rows(), "pairs": pair_rows(),
            "no-answers": [{"question": r["question"]} for r in qa_rows()]}  # fmt: skip
    out = {k: write_jsonl(tmp_path / f"{k}.jsonl", v) for k, v in rows.items()}
    (tmp_path / "calibration.txt").write_text("paris is the capital of france " * 10)
    out["calibration"] = str(tmp_path / "calibration.txt")
    return out


def task(kind: str, data: str, **extra) -> str:
    return json.dumps({"name": f"my-{kind}", "kind": kind, "train": data, "eval": data, **extra})


def spec(tmp_path, model: str, task_text: str, difficulty: str = "{data_fraction: [1.0]}",
         transfer: str = "[dense, none]", pruning: str = "[{method: magnitude}]") -> str:  # fmt: skip
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: t\nstorage: {tmp_path / 'store'}\nmodels: [{model}]\ntasks: [{task_text}]\n"
        f"difficulty: {difficulty}\ntransfer: {transfer}\npruning: {pruning}\nsparsities: [0.5]\nseeds: [1]\n"
    )
    return str(path)


CASES = {
    "qa on an encoder-decoder": (
        "mbart", lambda f: task("qa", f["qa"]), {}, "not a causal (decoder-only) language model"),
    "translation on a causal LM": (
        "gpt2", lambda f: task("translation", f["pairs"], languages=["en", "de"], resource=1), {},
        "not an encoder-decoder (seq2seq) translation model"),
    "a language the tokenizer does not know": (
        "mbart", lambda f: task("translation", f["pairs"], languages=["en", "yo"], resource=1),
        {}, "its tokenizer has no language code for 'yo'"),
    "qa without answers": (
        "gpt2", lambda f: task("qa", f["no-answers"]), {},
        "no column 'answers', which qa tasks need (question, answers)"),
    "more options than the questions have": (
        "gpt2", lambda f: task("multiple_choice", f["mc"]), {"difficulty": "{num_options: [2, 5]}"},
        "num_options 5 is more than the 4 options"),
    "more shots than training questions": (
        "gpt2", lambda f: task("qa", f["qa"]), {"difficulty": "{shots: [0, 5]}"},
        "shots 5 is more than its 4 training examples"),
    "an axis of another kind": (
        "gpt2", lambda f: task("multiple_choice", f["mc"]), {"difficulty": "{context: [0]}"},
        "axis context does not apply to multiple_choice tasks; it applies to qa"),
    "fine-tuning an evaluation-only task": (
        "gpt2", lambda f: task("qa", f["qa"]), {"transfer": "[dense, sparse]"},
        "evaluated without fine-tuning: transfer must be dense (unpruned) or none, not sparse"),
    "wanda without calibration": (
        "gpt2", lambda f: task("qa", f["qa"]), {"pruning": "[{method: wanda}]"},
        "pruning[0] (wanda): wanda needs calibration text"),
    "a calibration file that is not there": (
        "gpt2", lambda f: task("qa", f["qa"]),
        {"pruning": "[{method: sparsegpt, calibration: {file: nope.txt}}]"},
        "calibration.file = 'nope.txt': no such file"),
    "calibration longer than the model's window": (
        "gpt2", lambda f: task("qa", f["qa"]),
        {"pruning": "[{method: wanda, calibration: {dataset: allenai/c4}}]"},
        "pruning[0] (wanda): models[0] calibration windows of 2048 tokens exceed its 128 positions"),
    "wanda scope": (
        "gpt2", lambda f: task("qa", f["qa"]), {"pruning": "[{method: wanda, scope: global}]"},
        "wanda takes scope row, not 'global'"),
    "a translation file task without languages": (
        "mbart", lambda f: task("translation", f["pairs"], resource=1), {},
        "a translation task needs languages: [source, target]"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_llm_input_is_one_line_and_exit_2(case, files, tmp_path, tiny_gpt2_lm, tiny_mbart,
                                              capsys):  # fmt: skip
    model, make_task, options, expected = CASES[case]
    model = {"gpt2": tiny_gpt2_lm, "mbart": tiny_mbart}[model]
    path = spec(tmp_path, model, make_task(files), **options)
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err and expected in err, err
    assert not (tmp_path / "store").exists()


def test_good_llm_specs_validate_with_their_grid(files, tmp_path, tiny_gpt2_lm, tiny_mbart):
    wanda = f"[{{method: wanda, calibration: {{file: {files['calibration']}, n: 2, length: 8}}}}]"
    qa = load_spec(spec(tmp_path, tiny_gpt2_lm, task("qa", files["qa"]), "{context: [0, 64]}",
                        pruning=wanda))  # fmt: skip
    trials = qa.expand()
    assert len(trials) == 2 * (1 + 1)  # levels × (dense + wanda at 0.5)
    assert {t.scope for t in trials if t.transfer == "none"} == {"row"}
    mt = load_spec(spec(tmp_path, tiny_mbart, task("translation", files["pairs"],
                                                    languages=["de", "en"], resource=3),
                        "{language: []}"))  # fmt: skip
    assert {t.difficulty_level for t in mt.expand()} == {3.0}


def test_hub_models_and_tasks_validate_offline(tmp_path):
    # a hub model not on this machine cannot be inspected offline: its trials check it on load
    path = spec(tmp_path, "lmsys/vicuna-7b-v1.3", "triviaqa/rc", "{context: [0, 3072]}")
    assert len(load_spec(path).expand()) == 2 * 2
    path = spec(tmp_path, "facebook/mbart-large-cc25", "flores/en-my", "{language: []}")
    assert {t.difficulty_level for t in load_spec(path).expand()} == {56.0}


def test_an_unknown_task_kind_names_the_value(tmp_path, capsys):
    path = spec(tmp_path, "gpt2", "{name: x, kind: summary, train: a.jsonl, eval: a.jsonl}")
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert "tasks[0].kind = 'summary': allowed: 'classification', 'qa'" in err, err
