"""XNLI by language (`xnli/<lang>`): MNLI's task in 15 languages, through `datasets.load_dataset`.

Trained on the language's (machine-translated) training set and evaluated on its validation set,
so `xnli/de` is German NLI end to end; for zero-shot transfer use a local-file task.
"""

from __future__ import annotations

from datasets import Dataset, load_dataset

from difficulty.tasks import TaskDef, register_task

HUB = "facebook/xnli"
LANGUAGES = (
    "ar",
    "bg",
    "de",
    "el",
    "en",
    "es",
    "fr",
    "hi",
    "ru",
    "sw",
    "th",
    "tr",
    "ur",
    "vi",
    "zh",
)


def _loader(language: str):
    def load() -> tuple[Dataset, Dataset]:
        data = load_dataset(HUB, language)
        return data["train"], data["validation"]

    return load


for _lang in LANGUAGES:
    # labels: 0 entailment, 1 neutral, 2 contradiction (as MNLI); 392,702 training pairs each
    register_task(
        TaskDef(f"xnli/{_lang}", ("premise", "hypothesis"), _loader(_lang), 3, n_train=392702)
    )
