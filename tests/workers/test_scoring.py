"""Multiple-choice scoring: log-likelihoods as lm-evaluation-harness computes them, and accuracy."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from difficulty.prompts import Prompts
from tests.data import MC
from tests.models import word_tokenizer
from workers.budget import halving_on_oom
from workers.config import TrainConfig
from workers.evaluate import evaluate_prompts
from workers.scoring import loglikelihoods, split_pair, split_pairs


class Favouring(torch.nn.Module):
    """A 'language model' that, after any token, predicts `words` far more than anything else."""

    def __init__(self, tokenizer, words: list[str]):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(len(tokenizer)))
        with torch.no_grad():
            self.bias[tokenizer.convert_tokens_to_ids(words)] = 10.0
        self.config = SimpleNamespace(max_position_embeddings=64)

    def forward(self, input_ids, attention_mask):
        return SimpleNamespace(logits=self.bias.expand(*input_ids.shape, -1))


def mc_prompts() -> Prompts:
    return Prompts(
        "choose",
        [f"Question: {q}\nAnswer:" for q, _, _ in MC],
        [c for _, c, _ in MC],
        [a for _, _, a in MC],
        8,
    )


def test_the_option_with_the_highest_likelihood_scores_100_percent():
    tok = word_tokenizer()
    prompts = mc_prompts()
    correct = [c[a] for _, c, a in MC]
    cfg = TrainConfig(eval_batch_size=3)  # batches that split questions' options
    name, value, metrics = evaluate_prompts(Favouring(tok, correct), tok, prompts, cfg)
    assert (name, value) == ("accuracy_norm_above_chance", 1.0)
    assert metrics["accuracy"] == metrics["accuracy_norm"] == 1.0 and metrics["chance"] == 0.25

    wrong = [c[(a + 1) % 4] for _, c, a in MC]
    _, value, metrics = evaluate_prompts(Favouring(tok, wrong), tok, prompts, cfg)
    assert metrics["accuracy"] == 0.0 and value == pytest.approx(-1 / 3)  # below chance


def test_batched_loglikelihoods_equal_one_request_at_a_time(tiny_gpt2_lm):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    tok = AutoTokenizer.from_pretrained(tiny_gpt2_lm)
    model = GPT2LMHeadModel.from_pretrained(tiny_gpt2_lm).eval()
    requests = [(f"Question: {q}\nAnswer:", f" {o}") for q, c, _ in MC for o in c[:2]]
    requests.append(("Question: who wrote hamlet\nAnswer: ", "william shakespeare"))
    batched = loglikelihoods(model, tok, requests, batch_size=4, max_length=128)
    for (context, continuation), got in zip(requests, batched):
        head, tail = split_pair(tok, context, continuation)
        ids = torch.tensor([head + tail])
        logp = model(ids).logits[0, :-1].log_softmax(-1)
        want = sum(logp[len(head) - 1 + j, t].item() for j, t in enumerate(tail))
        assert got == pytest.approx(want, abs=1e-4)
    # a trailing space of the context moves to the continuation, which then has two words
    assert len(split_pair(tok, *requests[-1])[1]) == 2
    # truncation keeps the end: the continuation is still scored
    short = loglikelihoods(model, tok, requests[:1], batch_size=1, max_length=4)
    assert len(short) == 1 and short[0] < 0


def test_token_budget_batches_give_the_same_scores_in_the_same_order():
    """Longest-first batches under a small budget score each request as one big batch does."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    class Tokenizer:  # characters as token ids
        pad_token_id = 0

        def __call__(self, text):
            return type("Encoding", (), {"input_ids": [1 + ord(c) % 40 for c in text]})()

    torch.manual_seed(0)
    model = GPT2LMHeadModel(
        GPT2Config(vocab_size=48, n_embd=16, n_layer=1, n_head=2, n_positions=64)
    )
    requests = [("ab" * n, " c" * (1 + n % 3)) for n in range(1, 12)]
    together = loglikelihoods(model, Tokenizer(), requests, batch_size=64, max_length=60)
    budgeted = loglikelihoods(model, Tokenizer(), requests, batch_size=64, max_length=60, budget=30)
    assert budgeted == pytest.approx(together, abs=1e-4)


def test_an_out_of_memory_retry_does_not_tokenize_the_requests_again(monkeypatch):
    tok = word_tokenizer(["Paris", "Rome"])
    model = Favouring(tok, ["Paris"])
    split_pairs.cache_clear()
    calls = []
    tokenize = type(tok).__call__
    monkeypatch.setattr(type(tok), "__call__", lambda self, *a, **k: calls.append(a) or tokenize(self, *a, **k))  # fmt: skip
    forward = model.forward

    def out_of_memory_once(**kwargs):
        monkeypatch.setattr(model, "forward", forward)
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(model, "forward", out_of_memory_once)
    requests = [("The capital is", " Paris"), ("The capital is", " Rome")]
    scores, budget = halving_on_oom(lambda b: loglikelihoods(model, tok, requests, 2, 64, b), 64)
    assert budget == 32 and len(calls) == 2 * len(requests)  # split_pair: two calls, once
    assert scores[0] > scores[1]
