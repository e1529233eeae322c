"""Tiny random-init models of each architecture family, and the reference magnitude rule."""

import pytest
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    OPTConfig,
    OPTForCausalLM,
    T5Config,
    T5ForConditionalGeneration,
)

VOCAB = 100


def tiny_model(kind: str) -> torch.nn.Module:
    """A 2-layer random-init model of the given family, in eval mode."""
    torch.manual_seed(0)
    if kind == "bert":
        config = BertConfig(
            vocab_size=VOCAB,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            num_labels=3,
        )
        model = BertForSequenceClassification(config)
    elif kind == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=2))
    elif kind == "llama":
        config = LlamaConfig(
            vocab_size=VOCAB,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
        )
        model = LlamaForCausalLM(config)
    elif kind == "opt":
        config = OPTConfig(
            vocab_size=VOCAB,
            hidden_size=32,
            ffn_dim=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            word_embed_proj_dim=32,
        )
        model = OPTForCausalLM(config)
    elif kind == "t5":
        config = T5Config(vocab_size=VOCAB, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2)
        model = T5ForConditionalGeneration(config)
    else:
        raise ValueError(kind)
    return model.eval()


def layer_inputs(model: torch.nn.Module, layer: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """The inputs `layer` sees when `model` runs on `ids`, as rows of features."""
    seen = []
    handle = layer.register_forward_pre_hook(
        lambda m, a: seen.append(a[0].reshape(-1, a[0].shape[-1]))
    )
    with torch.no_grad():
        model(input_ids=ids)
    handle.remove()
    return torch.cat(seen)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from threads, and a shared machine makes them costly."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def bert() -> torch.nn.Module:
    return tiny_model("bert")


def reference_masks(
    params: dict[str, torch.Tensor], sparsity: float, scope: str
) -> dict[str, torch.Tensor]:
    """The paper's seed code: topk over the concatenated |w|, keep |w| > k-th largest."""
    groups = [params] if scope == "global" else [{n: p} for n, p in params.items()]
    masks = {}
    for group in groups:
        scores = torch.cat([p.detach().float().abs().reshape(-1) for p in group.values()])
        k = int(scores.numel() * (1 - sparsity))
        threshold = torch.topk(scores, k, sorted=True)[0][-1]
        masks.update({n: p.detach().float().abs() > threshold for n, p in group.items()})
    return masks
