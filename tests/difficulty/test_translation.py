"""sacreBLEU and chrF on hand-checked pairs; language codes as tokenizers spell them."""

from __future__ import annotations

import pytest

from difficulty import TASKS
from difficulty.translation import tokenizer_code, translation_metrics
from tests.conftest import LANGUAGE_CODES, word_tokenizer


def test_bleu_of_a_hand_checked_pair():
    # hypothesis "the cat sat on a mat" against "the cat sat on the mat": n-gram precisions
    # 5/6, 3/5, 2/4, 1/3, same length (no brevity penalty): BLEU = (1/12) ** (1/4) = 53.73
    got = translation_metrics(["the cat sat on a mat"], ["the cat sat on the mat"])
    assert got["bleu"] == pytest.approx(100 * (1 / 12) ** 0.25, abs=1e-6)
    assert 0 < got["chrf"] < 100
    same = translation_metrics(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert same == {"bleu": pytest.approx(100), "chrf": pytest.approx(100)}


def test_tokenizer_codes_and_the_language_levels():
    tok = word_tokenizer(LANGUAGE_CODES)
    assert tokenizer_code(tok, "en") == "en_XX" and tokenizer_code(tok, "de") == "de_DE"
    assert tokenizer_code(tok, "gu") is None
    assert tokenizer_code(word_tokenizer(), "en") is None  # no language codes at all
    # minority languages have less pre-training text than majority ones, both directions
    levels = {name: TASKS[name].resource for name in TASKS if name.startswith("flores/")}
    assert len(levels) == 10 and levels["flores/en-gu"] == levels["flores/gu-en"]
    assert max(levels["flores/en-gu"], levels["flores/en-my"]) < min(
        levels["flores/en-de"], levels["flores/en-ru"], levels["flores/en-vi"]
    )
