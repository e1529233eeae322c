"""A model kept loaded across trials: restore() gives back the pretrained tensors bit for bit."""

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from pruning import apply_masks, compute_masks, prunable_parameters
from workers.restore import CleanCopy


def _llama() -> torch.nn.Module:
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=64, intermediate_size=128,
                                        num_hidden_layers=2, num_attention_heads=4,
                                        num_key_value_heads=2)).eval()  # fmt: skip


def _anon_mib() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no RssAnon")


def test_restore_after_pruning_and_a_weight_rewrite_is_bit_exact():
    model = _llama()
    pretrained = {k: v.clone() for k, v in model.state_dict().items()}
    names = list(prunable_parameters(model))
    clean = CleanCopy(model, names)
    assert clean.placement == "mapped"  # a CPU-only node
    for sparsity in (0.5, 0.9):
        apply_masks(model, compute_masks(model, "magnitude", sparsity, "global"))
        with torch.no_grad():  # what SparseGPT does: the kept weights change too
            model.get_parameter(names[0]).add_(1.0)
        clean.restore(model)
        for key, value in model.state_dict().items():
            assert torch.equal(value, pretrained[key]), key


def test_the_clean_copy_is_not_the_workers_own_memory():
    """On the CPU the copy is a shared file mapping: the worker's anonymous memory stays put."""
    model = torch.nn.Linear(4096, 8192, bias=False)  # 128 MiB of fp32
    before = _anon_mib()
    clean = CleanCopy(model, ["weight"])
    clean.restore(model)
    assert clean.nbytes == 128 * 2**20
    assert _anon_mib() - before < 32
