"""Shared fixtures: a tiny random-init BERT with a real tokenizer, saved where `from_pretrained` finds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from difficulty.builtin import NEGATIVE, NOUNS, POSITIVE

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "was", "not", ",", ".",
         "although", "even", "though", "while", "but", *POSITIVE, *NEGATIVE,
         *{w for n in NOUNS for w in n.split()}]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer BERT classifier (hidden 32) and a word-level vocabulary for the built-in tasks."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny-bert")
    (path / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt")).save_pretrained(path)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(path)
    return str(path)


def write_spec(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- tiny language models for the evaluation-only (LLM and translation) settings -------------

QA = [
    ("what is the capital of france", ["Paris", "the city of paris"], "paris is the capital of france"),
    ("what colour is the sky", ["blue"], "the sky is blue on a clear day"),
    ("how many legs has a spider", ["eight", "8"], "a spider has eight legs and no wings"),
    ("who wrote hamlet", ["Shakespeare", "William Shakespeare"], "hamlet was written by shakespeare"),
]  # fmt: skip
MC = [
    ("which animal barks", ["dog", "cat", "fish", "bird"], 0),
    ("which one is a fruit", ["stone", "apple", "chair", "cloud"], 1),
    ("what do bees make", ["milk", "silk", "honey", "wool"], 2),
    ("which is the coldest", ["fire", "sun", "oven", "ice"], 3),
]
PAIRS = [("the cat sleeps", "die katze schläft"), ("the dog runs", "der hund läuft"),
         ("a red house", "ein rotes haus"), ("the sun shines", "die sonne scheint")]  # fmt: skip
LANGUAGE_CODES = ["en_XX", "de_DE"]


def write_jsonl(path: Path, rows: list[dict]) -> str:
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def qa_rows() -> list[dict]:
    return [{"question": q, "answers": a, "context": c} for q, a, c in QA]


def mc_rows() -> list[dict]:
    return [{"question": q, "choices": c, "answer": a} for q, c, a in MC]


def pair_rows() -> list[dict]:
    return [{"source": s, "target": t} for s, t in PAIRS]


def _words() -> list[str]:
    import re

    text = " ".join([*(q + " " + c + " " + " ".join(a) for q, a, c in QA),
                     *(q + " " + " ".join(c) for q, c, _ in MC),
                     *(s + " " + t for s, t in PAIRS), "Question Answer calibration text : . , ?"])  # fmt: skip
    return sorted(set(re.findall(r"\w+|[^\w\s]", text.lower() + " " + text)))


def word_tokenizer(extra: list[str] = ()):
    """A word-level tokenizer over every word of the test data (punctuation split off)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<unk>", "<s>", "</s>", *extra]
    vocab = {w: i for i, w in enumerate([*special, *_words()])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", eos_token="</s>",
                                   additional_special_tokens=list(extra))  # fmt: skip


@pytest.fixture(scope="session")
def tiny_gpt2_lm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer GPT-2 causal LM (hidden 32, 128 positions), saved with a word-level tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    path = tmp_path_factory.mktemp("tiny-gpt2")
    tok = word_tokenizer()
    tok.save_pretrained(path)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=2, n_head=2, n_positions=128,
                        bos_token_id=2, eos_token_id=3, pad_token_id=0)  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(path)
    return str(path)


def mbart50_tokenizer():
    """A real mBART-50 tokenizer (every mBART-50 language code) over a word-level Unigram vocab."""
    from transformers import MBart50TokenizerFast

    special = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    words = [("\u2581" + w, -1.0) for w in _words()]
    letters = [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyzäöüß"]  # spells unknown words
    return MBart50TokenizerFast(vocab=special + words + letters, src_lang="en_XX")


@pytest.fixture(scope="session")
def tiny_mbart(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 1+1-layer mBART-50 (d_model 32) with an mBART-50 tokenizer; decoding starts with </s>."""
    import torch
    from transformers import MBartConfig, MBartForConditionalGeneration

    path = tmp_path_factory.mktemp("tiny-mbart")
    tok = mbart50_tokenizer()
    tok.save_pretrained(path)
    torch.manual_seed(0)
    config = MBartConfig(vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1,
                         encoder_attention_heads=2, decoder_attention_heads=2,
                         encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
                         pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id,
                         decoder_start_token_id=tok.eos_token_id)  # fmt: skip
    MBartForConditionalGeneration(config).save_pretrained(path)
    return str(path)
