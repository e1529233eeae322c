"""Tiny random-init models for the tests, one factory per architecture family (seed 0 each).

In memory: `tiny_model(kind)` (vocabulary 100, eval mode) is what pruning is checked on;
`MODELS[kind]` (vocabulary 40, 32 positions) is what the workers' tests train on `batch_data`.
Saved where `from_pretrained` finds them, with a real tokenizer: `save_bert` (the built-in
tasks' words), `save_gpt2_lm`, `save_llama_lm` and `save_mbart` (every word of tests.data).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertTokenizerFast,
    GPT2Config,
    GPT2ForSequenceClassification,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MBartConfig,
    MBartForConditionalGeneration,
    OPTConfig,
    OPTForCausalLM,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

from difficulty.builtin import NEGATIVE, NOUNS, POSITIVE
from tests.data import MC, PAIRS, QA

VOCAB = 100  # the pruning tests' models
TRAIN_VOCAB = 40  # the models the workers' tests train


def bert_classifier(vocab_size: int, **config) -> torch.nn.Module:
    """A 2-layer BERT classifier (hidden 32, 2 heads, FFN 64)."""
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, **config))  # fmt: skip


def gpt2_config(vocab_size: int, **config) -> GPT2Config:
    """A 2-layer GPT-2 (hidden 32, 2 heads)."""
    return GPT2Config(vocab_size=vocab_size, n_embd=32, n_layer=2, n_head=2, **config)


def gpt2_lm(vocab_size: int, **config) -> torch.nn.Module:
    """`gpt2_config`'s LM; its projections are `Conv1D`: the weight is stored transposed (in, out)."""
    torch.manual_seed(0)
    return GPT2LMHeadModel(gpt2_config(vocab_size, **config))


def gpt2_classifier(vocab_size: int, **config) -> torch.nn.Module:
    """`gpt2_config`'s body with a classification head."""
    torch.manual_seed(0)
    return GPT2ForSequenceClassification(gpt2_config(vocab_size, **config))


def llama(vocab_size: int, layers: int = 2, hidden: int = 32, heads: int = 2) -> torch.nn.Module:
    """A LLaMA causal LM with FFN 2 × hidden and 2 key-value heads, in eval mode."""
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=2)).eval()  # fmt: skip


def opt(vocab_size: int, layers: int = 2, hidden: int = 32, heads: int = 2) -> torch.nn.Module:
    """An OPT causal LM with FFN 2 × hidden, in eval mode."""
    torch.manual_seed(0)
    return OPTForCausalLM(OPTConfig(
        vocab_size=vocab_size, hidden_size=hidden, ffn_dim=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=heads, word_embed_proj_dim=hidden)).eval()  # fmt: skip


def t5(vocab_size: int) -> torch.nn.Module:
    """A 2+2-layer T5 (d_model 32, 2 heads of 16, FFN 64), in eval mode."""
    torch.manual_seed(0)
    return T5ForConditionalGeneration(T5Config(
        vocab_size=vocab_size, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2)).eval()  # fmt: skip


def mbart(vocab_size: int, tok=None) -> torch.nn.Module:
    """A 1+1-layer mBART (d_model 32, 2 heads, FFN 64, 64 positions); decoding starts with </s>
    (the special tokens' ids are `tok`'s when given)."""
    pad, bos, eos = (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id) if tok else (0, 2, 3)
    torch.manual_seed(0)
    return MBartForConditionalGeneration(MBartConfig(
        vocab_size=vocab_size, d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=64, pad_token_id=pad, bos_token_id=bos,
        eos_token_id=eos, decoder_start_token_id=eos))  # fmt: skip


def tiny_model(kind: str) -> torch.nn.Module:
    """A 2-layer model of the given family (bert, gpt2, llama, opt, t5), in eval mode."""
    build = {
        "bert": lambda: bert_classifier(VOCAB, num_labels=3),
        "gpt2": lambda: gpt2_lm(VOCAB),
        "llama": lambda: llama(VOCAB),
        "opt": lambda: opt(VOCAB),
        "t5": lambda: t5(VOCAB),
    }
    if kind not in build:
        raise ValueError(kind)
    return build[kind]().eval()


TRAIN_GPT2 = dict(n_positions=32, bos_token_id=0, eos_token_id=0, pad_token_id=0, num_labels=2)


# kind -> (factory, whether it is a language model)
MODELS = {
    "bert": (lambda: bert_classifier(TRAIN_VOCAB, max_position_embeddings=32, num_labels=2), False),
    "gpt2-lm": (lambda: gpt2_lm(TRAIN_VOCAB, **TRAIN_GPT2), True),
    "gpt2": (lambda: gpt2_classifier(TRAIN_VOCAB, **TRAIN_GPT2), False),
}


def batch_data(lm: bool, n: int = 32, length: int = 12, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random token ids; an LM learns to predict them (labels = input_ids), a classifier 0/1."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, TRAIN_VOCAB, (n, length), generator=g)
    mask = torch.ones(n, length, dtype=torch.long)
    mask[: n // 2, length - 3 :] = 0  # some padding, so batches are trimmed to different widths
    labels = ids.clone() if lm else torch.randint(0, 2, (n,), generator=g)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


# --- saved models with tokenizers -------------------------------------------------------------

BERT_WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "was", "not", ",", ".",
              "although", "even", "though", "while", "but", *POSITIVE, *NEGATIVE,
              *sorted({w for n in NOUNS for w in n.split()})]  # fmt: skip
LANGUAGE_CODES = ["en_XX", "de_DE"]


def save_bert(path: Path) -> str:
    """`bert_classifier` (64 positions) and a word-level vocabulary for the built-in tasks."""
    (path / "vocab.txt").write_text("\n".join(BERT_WORDS) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    bert_classifier(len(BERT_WORDS), max_position_embeddings=64).save_pretrained(path)
    return str(path)


def _words() -> list[str]:
    text = " ".join([*(q + " " + c + " " + " ".join(a) for q, a, c in QA),
                     *(q + " " + " ".join(c) for q, c, _ in MC),
                     *(s + " " + t for s, t in PAIRS), "Question Answer calibration text : . , ?"])  # fmt: skip
    return sorted(set(re.findall(r"\w+|[^\w\s]", text.lower() + " " + text)))


def word_tokenizer(extra: list[str] = ()) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over every word of tests.data (punctuation split off)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    special = ["<pad>", "<unk>", "<s>", "</s>", *extra]
    vocab = {w: i for i, w in enumerate([*special, *_words()])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", eos_token="</s>",
                                   additional_special_tokens=list(extra))  # fmt: skip


def save_gpt2_lm(path: Path) -> str:
    """`gpt2_lm` (128 positions, <s> 2, </s> 3, <pad> 0) with `word_tokenizer`."""
    tok = word_tokenizer()
    tok.save_pretrained(path)
    gpt2_lm(
        len(tok), n_positions=128, bos_token_id=2, eos_token_id=3, pad_token_id=0
    ).save_pretrained(path)
    return str(path)


def save_llama_lm(path: Path) -> str:
    """`llama` (2 layers, hidden 32) with `word_tokenizer` (<s> 2, </s> 3, <pad> 0)."""
    tok = word_tokenizer()
    tok.save_pretrained(path)
    model = llama(len(tok))
    model.config.update(dict(bos_token_id=2, eos_token_id=3, pad_token_id=0))
    model.generation_config.update(bos_token_id=2, eos_token_id=3, pad_token_id=0)
    model.save_pretrained(path)
    return str(path)


def mbart50_tokenizer():
    """A real mBART-50 tokenizer (every mBART-50 language code) over a word-level Unigram vocab."""
    from transformers import MBart50TokenizerFast

    special = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    words = [("\u2581" + w, -1.0) for w in _words()]
    letters = [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyzäöüß"]  # spells unknown words
    return MBart50TokenizerFast(vocab=special + words + letters, src_lang="en_XX")


def save_mbart(path: Path) -> str:
    """`mbart` with an mBART-50 tokenizer; decoding starts with </s>, as mBART-50's does."""
    tok = mbart50_tokenizer()
    tok.save_pretrained(path)
    mbart(len(tok), tok).save_pretrained(path)
    return str(path)
