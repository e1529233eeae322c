"""The built-in factoid tasks: enough questions, evidence that answers, options that hold it."""

from __future__ import annotations

from difficulty import get_task
from difficulty.metrics import lenient_match, normalize_answer


def test_qa_and_multiple_choice_ask_the_same_facts_with_200_or_more_evaluated():
    qa_train, qa_eval = get_task({"name": "builtin/factoid-qa"}).load()
    mc_train, mc_eval = get_task({"name": "builtin/factoid-mc"}).load()
    assert len(qa_eval) >= 200 and len(qa_train) == 40
    assert (
        qa_eval["question"] == mc_eval["question"] and qa_train["question"] == mc_train["question"]
    )
    assert not set(qa_train["question"]) & set(qa_eval["question"])  # demonstrations apart
    assert len(set(qa_eval["question"])) == len(qa_eval)


def test_each_evidence_sentence_answers_its_question_and_the_options_hold_the_answer():
    _, qa = get_task({"name": "builtin/factoid-qa"}).load()
    _, mc = get_task({"name": "builtin/factoid-mc"}).load()
    for q, answers, evidence, choices, answer in zip(
        qa["question"], qa["answers"], qa["context"], mc["choices"], mc["answer"]
    ):
        assert len(evidence) <= 200 and any(a in evidence for a in answers), q
        assert len(choices) == 5 and len({normalize_answer(c) for c in choices}) == 5, q
        assert lenient_match(choices[answer], answers) == 1.0, q  # free-form scores the option
        wrong = [c for i, c in enumerate(choices) if i != answer]
        assert not any(normalize_answer(w) in map(normalize_answer, answers) for w in wrong), q
