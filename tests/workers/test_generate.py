"""Greedy answers of a causal LM: cut at stop strings, the same in batches as one at a time."""

from __future__ import annotations

import pytest
import torch

from tests.data import QA
from workers.budget import halving_on_oom
from workers.generate import answers, cut, encode

PROMPTS = [f"Question: {q}\nAnswer:" for q, _, _ in QA]  # of different lengths: batches pad


def test_cut_keeps_the_text_before_the_first_stop_string_stripped():
    assert cut(" Paris\nQuestion: what", ("\n",)) == "Paris"
    assert cut("blue . the sky\nis", ("\n", ".")) == "blue"
    assert cut("eight legs ", ("\n",)) == "eight legs"
    assert cut("", ("\n",)) == ""
    # the paper's first line of the answer: a leading newline is skipped, not the answer
    assert cut("\nParis\nQ:", ("\n",)) == "" and cut("\nParis\nQ:", ("\n",), True) == "Paris"


@pytest.fixture(scope="module")
def lm(tiny_gpt2_lm):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    return GPT2LMHeadModel.from_pretrained(tiny_gpt2_lm), AutoTokenizer.from_pretrained(
        tiny_gpt2_lm
    )


def greedy(model, tokenizer, prompt: str, max_new_tokens: int) -> str:
    """The reference: the most likely next token, one at a time, until </s>."""
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(max_new_tokens):
            token = int(
                model(torch.cat([ids, torch.tensor([new], dtype=torch.long)], 1))
                .logits[0, -1]
                .argmax()
            )
            if token == tokenizer.eos_token_id:
                break
            new.append(token)
    return tokenizer.decode(new, skip_special_tokens=True).strip()


def test_answers_are_the_greedy_continuations(lm):
    model, tok = lm
    got = answers(model, tok, PROMPTS, batch_size=1, max_new_tokens=6, max_length=128, stop=())
    assert got == [greedy(model, tok, p, 6) for p in PROMPTS]
    assert any(got)  # something was generated to compare


def test_batches_answer_as_one_prompt_at_a_time(lm):
    model, tok = lm
    one = answers(model, tok, PROMPTS, batch_size=1, max_new_tokens=6, max_length=128, stop=())
    assert (
        answers(model, tok, PROMPTS, batch_size=3, max_new_tokens=6, max_length=128, stop=()) == one
    )
    stop = " " + next(a for a in one if len(a.split()) > 1).split()[-1]  # ends a longer answer
    stopped = answers(
        model, tok, PROMPTS, batch_size=3, max_new_tokens=6, max_length=128, stop=(stop,)
    )
    assert stopped == [cut(a, (stop,)) for a in one] and stopped != one


def test_generation_stops_once_every_answer_has_ended(lm):
    """Stop strings end a sequence's generation (same answers, fewer forward passes)."""
    model, tok = lm
    calls = []
    hook = model.register_forward_hook(lambda *_: calls.append(1))
    kwargs = dict(batch_size=1, max_new_tokens=12, max_length=128)
    try:
        full = answers(model, tok, PROMPTS, **kwargs, stop=())
        full_passes = len(calls)
        calls.clear()
        stop = " " + full[0].split()[1]  # the second word of the first answer ends it early
        stopped = answers(model, tok, PROMPTS, **kwargs, stop=(stop,))
    finally:
        hook.remove()
    assert stopped == [cut(a, (stop,)) for a in full]
    assert len(calls) < full_passes  # the batches ended before max_new_tokens


def test_a_long_prompt_loses_its_start(lm):
    model, tok = lm
    head, tail = PROMPTS[0], PROMPTS[2]

    def answer(prompt: str, max_length: int = 128) -> list[str]:
        return answers(model, tok, [prompt], 1, max_new_tokens=4, max_length=max_length, stop=())

    assert answer(head) != answer(tail)  # so which part was kept shows in the answer
    assert answer(f"{head} {tail}", max_length=len(tok(tail)["input_ids"]) + 4) == answer(tail)


# Translation on a tiny random mBART-50: the source is tagged with its language code and the
# target's code is forced as the first generated token, following the task's language pair.
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


def test_an_out_of_memory_retry_does_not_tokenize_the_prompts_again(lm, monkeypatch):
    model, tok = lm
    encode.cache_clear()
    calls, failed = [], []
    tokenize = type(tok).__call__
    monkeypatch.setattr(type(tok), "__call__", lambda self, *a, **k: calls.append(a) or tokenize(self, *a, **k))  # fmt: skip
    generate = model.generate

    def out_of_memory_once(**kwargs):
        if not failed:
            failed.append(1)
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return generate(**kwargs)

    monkeypatch.setattr(model, "generate", out_of_memory_once)
    run = lambda b: answers(model, tok, PROMPTS, 3, 6, 128, stop=(), budget=b)  # noqa: E731
    got, budget = halving_on_oom(run, 4096)
    assert budget == 2048 and len(calls) == 1  # one tokenization for both attempts
    monkeypatch.setattr(model, "generate", generate)
    assert got == answers(model, tok, PROMPTS, 1, 6, 128, stop=())


def test_the_papers_answer_cannot_end_before_it_starts(lm):
    """skip_blank (the paper's first non-blank line): end-of-sequence is barred as the first token."""
    model, tok = lm
    seen = []
    generate = model.generate

    def spy(**kwargs):
        seen.append(kwargs.get("min_new_tokens"))
        return generate(**kwargs)

    model.generate = spy
    try:
        for skip_blank in (True, False):
            answers(model, tok, PROMPTS[:1], 1, 4, 128, stop=("\n",), skip_blank=skip_blank)
    finally:
        del model.generate
    assert seen == [1, None]
