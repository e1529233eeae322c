"""Tiny question-answering, multiple-choice and translation data for the evaluation-only settings."""

from __future__ import annotations

import json
from pathlib import Path

QA = [
    ("what is the capital of france", ["Paris", "the city of paris"], "paris is the capital of france"),
    ("what colour is the sky", ["blue"], "the sky is blue on a clear day"),
    ("how many legs has a spider", ["eight", "8"], "a spider has eight legs and no wings"),
    ("who wrote hamlet", ["Shakespeare", "William Shakespeare"], "hamlet was written by shakespeare"),
]  # fmt: skip
MC = [
    ("which animal barks", ["dog", "cat", "fish", "bird"], 0),
    ("which one is a fruit", ["stone", "apple", "chair", "cloud"], 1),
    ("what do bees make", ["milk", "silk", "honey", "wool"], 2),
    ("which is the coldest", ["fire", "sun", "oven", "ice"], 3),
]
PAIRS = [("the cat sleeps", "die katze schläft"), ("the dog runs", "der hund läuft"),
         ("a red house", "ein rotes haus"), ("the sun shines", "die sonne scheint")]  # fmt: skip


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def qa_rows() -> list[dict]:
    return [{"question": q, "answers": a, "context": c} for q, a, c in QA]


def mc_rows() -> list[dict]:
    return [{"question": q, "choices": c, "answer": a} for q, c, a in MC]


def pair_rows() -> list[dict]:
    return [{"source": s, "target": t} for s, t in PAIRS]
