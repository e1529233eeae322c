"""Translation between English and majority or minority languages (the `language` axis).

Tasks `flores/<src>-<tgt>` translate FLORES+ sentences (openlanguagedata/flores_plus, a gated
hub dataset: accept its terms and log in). Every pair translates the same sentences, so pairs
differ by language only: `dev` (997) gives demonstrations, `devtest` (1,012) is evaluated.

A pair's level on the `language` axis is its resource size: the millions of tokens of its
non-English language in CC25, the corpus mBART-large-cc25 was pre-trained on (Liu et al. 2020,
"Multilingual Denoising Pre-training for Neural Machine Translation", arXiv 2001.08210,
Table 1); mBART-50, the translation checkpoint the example sweep uses, continues from that
pre-training (its 25 added languages are not among these pairs). Lower is harder. Language codes
are mBART-50's (de_DE, ru_RU, vi_VN, gu_IN, my_MM; the same as CC25's for these languages).
Scores: sacreBLEU's BLEU and chrF (`translate` in difficulty.metrics).
"""

from __future__ import annotations

from datasets import Dataset, load_dataset

from difficulty.tasks import TaskDef, register_task

HUB = "openlanguagedata/flores_plus"
# ISO 639-1: (FLORES+/NLLB code, mBART code, CC25 tokens in millions from mBART's Table 1)
LANGUAGES = {
    "en": ("eng_Latn", "en_XX", 55608),
    "de": ("deu_Latn", "de_DE", 10297),
    "ru": ("rus_Cyrl", "ru_RU", 23408),
    "vi": ("vie_Latn", "vi_VN", 24757),
    "gu": ("guj_Gujr", "gu_IN", 140),
    "my": ("mya_Mymr", "my_MM", 56),
}


def tokenizer_code(tokenizer, language: str) -> str | None:
    """The token a multilingual tokenizer names `language` by (mBART, NLLB, M2M-100), or None."""
    flores, mbart, _ = LANGUAGES.get(language, (None, None, None))
    vocab = tokenizer.get_vocab()
    for code in (mbart, flores, f"__{language}__", language):
        if code is not None and code in vocab and code in tokenizer.all_special_tokens:
            return code
    return None


def resource(source: str, target: str) -> float:
    """The pair's resource size: its non-English language's CC25 tokens (millions)."""
    return float(min(LANGUAGES[source][2], LANGUAGES[target][2]))


def _flores(source: str, target: str):
    def load() -> tuple[Dataset, Dataset]:
        splits = []
        for split in ("dev", "devtest"):
            src, tgt = (
                load_dataset(HUB, LANGUAGES[x][0], split=split).sort("id") for x in (source, target)
            )
            splits.append(Dataset.from_dict({"source": src["text"], "target": tgt["text"]}))
        return splits[0], splits[1]

    return load


for _other in ("de", "ru", "vi", "gu", "my"):
    for _src, _tgt in (("en", _other), (_other, "en")):
        register_task(
            TaskDef(
                f"flores/{_src}-{_tgt}",
                ("source",),
                _flores(_src, _tgt),
                num_labels=0,
                metric="bleu",
                kind="translation",
                max_new_tokens=256,
                languages=(_src, _tgt),
                resource=resource(_src, _tgt),
            )
        )
