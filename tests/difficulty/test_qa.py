"""TriviaQA (rc) from the hub, with load_dataset mocked at the network boundary: the row
functions see only the columns they read, the evidence documents only for validation."""

from __future__ import annotations

from datasets import Dataset, DatasetDict

import difficulty.qa as qa


def hub_row(i: int) -> dict:
    """One row of mandarjoshi/trivia_qa "rc" with the hub's columns (dataset card)."""
    return {
        "question": f"q{i}?",
        "question_id": f"tc_{i}",
        "question_source": "http://www.triviacountry.com/",
        "entity_pages": {"doc_source": ["TagMe"], "filename": [f"P{i}.txt"], "title": [f"P{i}"],
                         "wiki_context": [f"wiki {i}"]},
        "search_results": {"description": ["d"], "filename": [f"s{i}.txt"], "rank": [0],
                           "title": ["t"], "url": ["http://x"], "search_context": [f"web {i}"]},
        "answer": {"aliases": [f"a{i}", f"A{i}"], "normalized_aliases": [f"a{i}"],
                   "matched_wiki_entity_name": "", "normalized_matched_wiki_entity_name": "",
                   "normalized_value": f"a{i}", "type": "WikipediaEntity", "value": f"A{i}"},
    }  # fmt: skip


def test_triviaqa_maps_only_the_columns_it_reads(monkeypatch):
    calls, seen, inside = [], {"train": set(), "validation": set()}, []

    def load_dataset(*args, **kwargs):  # the network boundary
        calls.append(args)
        rows = [hub_row(i) for i in range(3)]
        return DatasetDict({s: Dataset.from_list(rows) for s in ("train", "validation", "test")})

    question, with_evidence = qa._question, qa._with_evidence

    def spy_question(row):
        if not inside:  # called by map, not by _with_evidence
            seen["train"].update(row)
        return question(row)

    def spy_with_evidence(row):
        seen["validation"].update(row)
        inside.append(1)
        try:
            return with_evidence(row)
        finally:
            inside.pop()

    monkeypatch.setattr(qa, "load_dataset", load_dataset)
    monkeypatch.setattr(qa, "_question", spy_question)
    monkeypatch.setattr(qa, "_with_evidence", spy_with_evidence)

    train, validation = qa.load_triviaqa()

    assert calls == [qa.HUB]
    assert seen["train"] == {"question", "answer"}  # no evidence text decoded for demonstrations
    assert seen["validation"] == {"question", "answer", "entity_pages", "search_results"}
    assert train.column_names == ["question", "answers"]
    assert train[1] == {"question": "q1?", "answers": ["a1", "A1"]}
    assert validation.column_names == ["question", "answers", "context"]
    assert validation[2] == {"question": "q2?", "answers": ["a2", "A2"], "context": "wiki 2\nweb 2"}
