"""Offline tasks generated in code: sentence polarity, with negation and distractors as the knob.

`builtin/polarity-easy`: "the film was wonderful." — one polar word decides the label.
`builtin/polarity-medium`: half the sentences negate it ("the film was not wonderful.").
`builtin/polarity-hard`: "the film was not wonderful, although the cast was awful." — the label
is the main clause's polarity flipped by "not", with a distractor clause of random polarity.
The data are fixed by a generator seed, so every trial and machine sees the same task; the knob
(chance of negation, number of distractor clauses) is `polarity`'s arguments. A person labels
every sentence correctly, so the human baseline of each is 1.0 (for the human_gap axis).
"""

from __future__ import annotations

import random

from datasets import Dataset

from difficulty.tasks import TaskDef, register_task

POSITIVE = (
    "wonderful", "great", "excellent", "delightful", "brilliant", "superb", "charming",
    "pleasant", "moving", "fantastic", "lovely", "remarkable", "enjoyable", "splendid",
)  # fmt: skip
NEGATIVE = (
    "awful", "terrible", "dreadful", "boring", "dull", "horrible", "tedious", "mediocre",
    "disappointing", "painful", "clumsy", "bland", "poor", "weak",
)  # fmt: skip
NOUNS = (
    "film", "plot", "cast", "music", "ending", "script", "dialogue", "story", "director",
    "soundtrack", "acting", "pacing", "camera work", "finale", "lead actor", "premise",
)  # fmt: skip
LINKS = ("although", "even though", "while", "but")


def polarity(n: int, negation: float, distractors: int, seed: int) -> Dataset:
    """`n` labelled sentences (1 = positive); `negation`: chance of "not"."""
    rng = random.Random(seed)
    sentences, labels = [], []
    for _ in range(n):
        label = rng.randrange(2)
        negated = rng.random() < negation
        word = rng.choice(POSITIVE if label != negated else NEGATIVE)
        text = f"the {rng.choice(NOUNS)} was {'not ' if negated else ''}{word}"
        for _ in range(distractors):
            other = rng.choice(POSITIVE + NEGATIVE)
            text += f", {rng.choice(LINKS)} the {rng.choice(NOUNS)} was {other}"
        sentences.append(text + ".")
        labels.append(label)
    return Dataset.from_dict({"sentence": sentences, "label": labels})


def _loader(negation: float, distractors: int):
    def load() -> tuple[Dataset, Dataset]:
        return (
            polarity(2000, negation, distractors, seed=1),
            polarity(500, negation, distractors, seed=2),
        )

    return load


# name: (chance of "not", distractor clauses) — easy to hard
LEVELS = {"easy": (0.0, 0), "medium": (0.5, 0), "hard": (0.5, 1)}

for _name, (_negation, _distractors) in LEVELS.items():
    register_task(
        TaskDef(
            f"builtin/polarity-{_name}",
            ("sentence",),
            _loader(_negation, _distractors),
            n_train=2000,
            human_baseline=1.0,
        )
    )
