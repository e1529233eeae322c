"""Prompts for k shots, k options, open/closed book and free-form answers, exactly as specified."""

from __future__ import annotations

import pytest

from difficulty.files import evaluation_task
from difficulty.prompts import PromptSettings, build_prompts
from tests.data import MC, mc_rows, qa_rows, write_jsonl


def local_task(tmp_path, name: str, kind: str, train: list[dict], eval: list[dict]):
    """A local-file task and its loaded (train, eval) data."""
    task = evaluation_task(
        {
            "name": name,
            "kind": kind,
            "train": write_jsonl(tmp_path / "train.jsonl", train),
            "eval": write_jsonl(tmp_path / "eval.jsonl", eval),
        }
    )
    return task, *task.load()


@pytest.fixture
def qa(tmp_path):
    return local_task(tmp_path, "my-qa", "qa", qa_rows(), qa_rows()[:2])


@pytest.fixture
def mc(tmp_path):
    return local_task(tmp_path, "my-mc", "multiple_choice", mc_rows(), mc_rows())


def test_the_papers_prompts_are_the_default(qa):
    closed = build_prompts(*qa, PromptSettings(), seed=7)
    assert closed.contexts[0] == "Answer these questions:\n\nQ: what is the capital of france\nA:"
    assert closed.stop == ("\n",) and closed.skip_blank  # the first line of the answer
    opened = build_prompts(*qa, PromptSettings(context=10), seed=7)
    assert opened.contexts[0] == (
        "Based on these texts, answer these questions:\n\n"
        "paris is t\n\n"
        "Q: what is the capital of france\nA:"
    )
    shots = build_prompts(*qa, PromptSettings(shots=1, context=10), seed=7)
    assert shots.contexts[0] == (
        "Based on these texts, answer these questions:\n\n"
        "Q: what is the capital of france\nA: Paris\n\n"
        "paris is t\n\n"
        "Q: what is the capital of france\nA:"
    )
    assert shots.contexts[0].endswith(opened.contexts[0].split("\n\n", 1)[1])


def test_multiple_choice_options_follow_the_harness_question_in_either_template(mc):
    paper, harness = (
        build_prompts(*mc, PromptSettings(), seed=7, template=t) for t in ("paper", "lm-eval")
    )
    assert paper == harness and paper.contexts[0] == "Question: which animal barks\nAnswer:"


def test_closed_book_zero_shot_question(qa):
    prompts = build_prompts(*qa, PromptSettings(), seed=7, template="lm-eval")
    assert prompts.kind == "generate"
    assert prompts.contexts == [
        "Question: what is the capital of france\nAnswer:",
        "Question: what colour is the sky\nAnswer:",
    ]
    assert prompts.targets == [["Paris", "the city of paris"], ["blue"]]  # every alias


def test_two_shots_and_ten_characters_of_evidence(qa):
    prompts = build_prompts(*qa, PromptSettings(shots=2, context=10), seed=7, template="lm-eval")
    assert prompts.contexts[0] == (
        "Question: what is the capital of france\nAnswer: Paris\n\n"
        "Question: how many legs has a spider\nAnswer: eight\n\n"
        "paris is t\n\n"
        "Question: what is the capital of france\nAnswer:"
    )


def test_shots_are_nested_and_drawn_by_the_seed(qa):
    one, three = (
        build_prompts(*qa, PromptSettings(shots=k), seed=7, template="lm-eval").contexts[1]
        for k in (1, 3)
    )
    demos = one.rsplit("Question: ", 1)[0]
    assert three.startswith(demos) and three.count("Question:") == 4
    assert (
        build_prompts(*qa, PromptSettings(shots=3), seed=8, template="lm-eval").contexts[1] != three
    )


def test_k_options_hold_the_answer_and_k_minus_1_distractors(mc):
    prompts = build_prompts(*mc, PromptSettings(num_options=3, shots=1), seed=7)
    assert prompts.kind == "choose"
    assert prompts.contexts[0] == (
        "Question: which animal barks\nAnswer: dog\n\nQuestion: which animal barks\nAnswer:"
    )
    assert prompts.targets == [
        ["fish", "bird", "dog"],
        ["cloud", "apple", "chair"],
        ["milk", "honey", "wool"],
        ["sun", "ice", "oven"],
    ]
    assert prompts.answers == [2, 1, 1, 1]
    for (_, choices, answer), options, index in zip(MC, prompts.targets, prompts.answers):
        assert options[index] == choices[answer] and set(options) <= set(choices)
    two = build_prompts(*mc, PromptSettings(num_options=2), seed=7)
    assert all(
        len(o) == 2 and o[i] == c[a] for o, i, (_, c, a) in zip(two.targets, two.answers, MC)
    )
    assert build_prompts(*mc, PromptSettings(num_options=3), seed=7).targets == prompts.targets
    assert build_prompts(*mc, PromptSettings(num_options=3), seed=9).targets != prompts.targets


def test_free_form_asks_the_same_question_without_options(mc):
    prompts = build_prompts(*mc, PromptSettings(free_form=True), seed=7, template="lm-eval")
    assert prompts.kind == "generate" and prompts.stop == ("\n", ".", ",")
    assert prompts.contexts[2] == "Question: what do bees make\nAnswer:"
    paper = build_prompts(*mc, PromptSettings(free_form=True), seed=7)
    assert paper.contexts[2] == "Answer these questions:\n\nQ: what do bees make\nA:"
    assert prompts.targets[2] == ["honey"]
