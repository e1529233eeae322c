"""Evaluation batches stay within a token budget; out of memory halves the budget, once per error."""

import pytest
import torch
from transformers import LlamaConfig

from workers.budget import bytes_per_token, halving_on_oom, token_batches, token_budget


@pytest.mark.parametrize("budget", [1, 50, 100, 1000])
def test_batches_hold_every_item_once_within_the_budget(budget):
    lengths = [
        int(x) for x in torch.randint(1, 60, (200,), generator=torch.Generator().manual_seed(0))
    ]
    batches = token_batches(lengths, budget, max_batch=32)
    assert sorted(i for b in batches for i in b) == list(range(200))
    for batch in batches:
        padded = len(batch) * max(lengths[i] for i in batch)
        assert padded <= budget or len(batch) == 1  # a too-long item alone
        assert len(batch) <= 32


def test_batches_go_longest_first():
    lengths = [3, 9, 1, 7, 5]
    batches = token_batches(lengths, budget=10)
    assert [lengths[b[0]] for b in batches] == sorted(
        (lengths[b[0]] for b in batches), reverse=True
    )
    assert batches[0] == [1]  # 9 tokens: alone (2 × 9 > 10)


def test_out_of_memory_halves_the_budget_until_it_fits():
    calls = []

    def run(budget: int) -> str:
        calls.append(budget)
        if budget > 100:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return "done"

    assert halving_on_oom(run, 1000) == ("done", 62)
    assert calls == [1000, 500, 250, 125, 62]  # never the same failing budget twice


def test_other_errors_are_not_retried():
    calls = []

    def run(budget: int) -> None:
        calls.append(budget)
        raise ValueError("a bug, not memory")

    with pytest.raises(ValueError):
        halving_on_oom(run, 1000)
    assert calls == [1000]


def test_gives_up_when_one_sequence_does_not_fit():
    def run(budget: int) -> None:
        raise RuntimeError("CUDA error: out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        halving_on_oom(run, 64, smallest=16)


def test_bytes_per_token_of_a_7b_llama_in_bf16():
    """LLaMA-7B: 32 layers × 32 heads × 128 dims, keys and values in bf16 = 512 KiB a token."""
    config = LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                         num_attention_heads=32, vocab_size=32000)  # fmt: skip
    generating = bytes_per_token(config, torch.bfloat16, scoring=False)
    assert generating == 2 * 32 * 32 * 128 * 2 + (4 * 4096 + 11008) * 2
    assert bytes_per_token(config, torch.bfloat16, scoring=True) == generating + 32000 * 4


def test_the_cpu_budget_is_fixed():
    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, vocab_size=100)  # fmt: skip
    assert token_budget(config, torch.float32, torch.device("cpu"), scoring=True) == 65_536


def test_generation_under_a_small_budget_answers_as_one_batch_does(tiny_gpt2_lm):
    """Batches by token budget (longest first) still return each prompt's own answer, in order."""
    from transformers import AutoModelForCausalLM

    from workers.cache import tokenizer
    from workers.generate import answers

    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2_lm).eval()
    tok = tokenizer(tiny_gpt2_lm)
    prompts = ["what is the capital of france", "the sky", "who wrote hamlet , a spider has"]
    args = (model, tok, prompts, 8, 4, 60, ("\n",))
    assert answers(*args, budget=10) == answers(*args)
