"""Translation on a tiny random mBART-50: the source is tagged with its language code and the
target's code is forced as the first generated token, following the task's language pair."""

import pytest


@pytest.mark.parametrize("pair", [("en", "de"), ("de", "en"), ("en", "my")])
def test_source_code_and_forced_target_code_follow_the_pair(tiny_mbart, pair):
    from transformers import AutoTokenizer, MBartForConditionalGeneration

    from workers.generate import translations

    tok = AutoTokenizer.from_pretrained(tiny_mbart)
    model = MBartForConditionalGeneration.from_pretrained(tiny_mbart)
    seen = {}
    generate = model.generate

    def spy(**kwargs):
        seen["input_ids"], seen["ids"] = kwargs["input_ids"], generate(**kwargs)
        return seen["ids"]

    model.generate = spy
    codes = {"en": "en_XX", "de": "de_DE", "my": "my_MM"}
    source, target = (tok.convert_tokens_to_ids(codes[x]) for x in pair)
    out = translations(model, tok, ["the cat sleeps", "a red house"], pair, batch_size=2,
                       max_new_tokens=4, max_length=16, num_beams=2)  # fmt: skip
    assert len(out) == 2
    assert (seen["input_ids"][:, 0] == source).all()  # mBART-50: [src_code] X </s>
    assert (seen["ids"][:, 0] == model.config.decoder_start_token_id).all()  # </s>
    assert model.config.decoder_start_token_id == tok.eos_token_id
    assert (seen["ids"][:, 1] == target).all()  # the forced target code comes first
    assert tok.src_lang == codes[pair[0]]
