import pytest

from pruning import PruningError, prunable_parameters
from tests.models import tiny_model

PER_LAYER = {
    "bert": [
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    ],
    "gpt2": ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"],
    "llama": [
        "self_attn.q_proj",
        "self_attn.k_proj",
        "self_attn.v_proj",
        "self_attn.o_proj",
        "mlp.gate_proj",
        "mlp.up_proj",
        "mlp.down_proj",
    ],
    "opt": [
        "self_attn.k_proj",
        "self_attn.v_proj",
        "self_attn.q_proj",
        "self_attn.out_proj",
        "fc1",
        "fc2",
    ],
}
PREFIX = {
    "bert": "bert.encoder.layer",
    "gpt2": "transformer.h",
    "llama": "model.layers",
    "opt": "model.decoder.layers",
}


@pytest.mark.parametrize("kind", list(PER_LAYER))
def test_default_selection_is_the_block_linear_weights(kind):
    names = list(prunable_parameters(tiny_model(kind)))
    expected = [f"{PREFIX[kind]}.{i}.{leaf}.weight" for i in range(2) for leaf in PER_LAYER[kind]]
    assert sorted(names) == sorted(expected)


def test_t5_selection_covers_encoder_and_decoder_attention_and_feed_forward():
    names = set(prunable_parameters(tiny_model("t5")))
    attention = ["q", "k", "v", "o"]
    expected = set()
    for stack in ("encoder", "decoder"):
        for i in range(2):
            block = f"{stack}.block.{i}.layer"
            expected |= {f"{block}.0.SelfAttention.{x}.weight" for x in attention}
            ff = 1 if stack == "encoder" else 2
            expected |= {f"{block}.{ff}.DenseReluDense.{x}.weight" for x in ("wi", "wo")}
            if stack == "decoder":
                expected |= {f"{block}.1.EncDecAttention.{x}.weight" for x in attention}
    assert names == expected


def test_include_replaces_and_exclude_removes():
    model = tiny_model("bert")
    exclude = ["*.intermediate.*", "*.output.dense.*", "*.intermediate.dense.*"]
    attention = prunable_parameters(model, exclude=exclude)
    assert len(attention) == 6 and all(".attention.self." in n for n in attention)
    embeddings = prunable_parameters(model, include=["*embeddings.word_embeddings.weight"])
    assert list(embeddings) == ["bert.embeddings.word_embeddings.weight"]


@pytest.mark.parametrize("options", [{"include": ["*.nothing.*"]}, {"exclude": ["*.nothing.*"]}])
def test_pattern_matching_nothing_is_an_error_naming_it(options):
    option = next(iter(options))
    with pytest.raises(PruningError, match=rf"{option} pattern '\*\.nothing\.\*'"):
        prunable_parameters(tiny_model("bert"), **options)


def _tiny_mbart():
    from transformers import MBartConfig, MBartForConditionalGeneration

    config = MBartConfig(vocab_size=40, d_model=16, encoder_layers=1, decoder_layers=1,
                         encoder_attention_heads=2, decoder_attention_heads=2,
                         encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=32)  # fmt: skip
    return MBartForConditionalGeneration(config)


def test_targets_all_is_every_matrix_with_tied_embeddings_once():
    model = _tiny_mbart()
    blocks, every = prunable_parameters(model), prunable_parameters(model, targets="all")
    assert set(blocks) < set(every)
    assert set(every) == {n for n, p in model.named_parameters() if p.dim() == 2}
    # shared embeddings = encoder/decoder embed_tokens = lm_head: one tensor, pruned once
    assert model.lm_head.weight is model.model.shared.weight
    outside = set(every) - set(blocks)
    assert "model.shared.weight" in outside and not any("lm_head" in n for n in every)
    assert {
        "model.encoder.embed_positions.weight",
        "model.decoder.embed_positions.weight",
    } < outside
    assert not any("layer_norm" in n or n.endswith(".bias") for n in every)


def test_unknown_targets_is_an_error_naming_the_choices():
    with pytest.raises(PruningError, match="targets 'heads' is not one of blocks, all"):
        prunable_parameters(tiny_model("bert"), targets="heads")
