"""Language codes as tokenizers spell them, and the language levels of the FLORES+ pairs."""

from __future__ import annotations

from difficulty import TASKS
from difficulty.translation import tokenizer_code
from tests.models import LANGUAGE_CODES, word_tokenizer


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
