"""Evaluation: predictions on the evaluation set and the task's metrics (classifiers and LMs)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score, matthews_corrcoef

from difficulty.prompts import Prompts
from difficulty.qa import qa_metrics
from difficulty.translation import translation_metrics
from workers.config import TrainConfig
from workers.generate import answers, translations
from workers.scoring import choice_metrics, loglikelihoods
from workers.train import autocast, batches


@torch.no_grad()
def predict(model: torch.nn.Module, data: dict[str, torch.Tensor], batch_size: int) -> np.ndarray:
    """Logits (or regression outputs) for every evaluation example, in order."""
    model.eval()
    device = next(model.parameters()).device
    order = torch.arange(len(data["labels"]))
    outputs = []
    for batch in batches(data, batch_size, order):
        batch.pop("labels")
        with autocast(device):
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits
        outputs.append(logits.float().cpu())
    return torch.cat(outputs).numpy()


def metrics(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Every metric that applies: classification (accuracy, f1, matthews) or regression."""
    if logits.shape[1] == 1:
        scores = logits[:, 0]
        return {"pearson": float(pearsonr(scores, labels)[0]),
                "spearman": float(spearmanr(scores, labels)[0])}  # fmt: skip
    predicted = logits.argmax(1)
    out = {
        "accuracy": float((predicted == labels).mean()),
        "matthews": float(matthews_corrcoef(labels, predicted)),
    }
    if logits.shape[1] == 2:
        out["f1"] = float(f1_score(labels, predicted))
    return out


def evaluate(model: torch.nn.Module, data: dict[str, torch.Tensor], metric: str,
             batch_size: int) -> tuple[str, float, dict[str, float]]:  # fmt: skip
    """(primary metric name, its value, all metrics) on the evaluation set."""
    values = metrics(predict(model, data, batch_size), data["labels"].numpy())
    return metric, values[metric], values


def context_window(model: torch.nn.Module) -> int:
    """The most tokens the model attends to (its position embeddings), 2048 if it does not say."""
    config = model.config
    for name in ("max_position_embeddings", "n_positions"):
        if isinstance(getattr(config, name, None), int):
            return getattr(config, name)
    return 2048


def evaluate_prompts(model: torch.nn.Module, tokenizer, prompts: Prompts,
                     cfg: TrainConfig) -> tuple[str, float, dict[str, float]]:  # fmt: skip
    """(primary metric name, its value, all metrics) of a pretrained model on prompts.

    Answers (qa, free-form): greedy, cut at a newline, period or comma (the harness's TriviaQA),
    exact match and F1. Options: log-likelihood accuracy. Translations: beam search, BLEU, chrF.
    """
    window = cfg.prompt_length or context_window(model)
    new_tokens = cfg.max_new_tokens or prompts.max_new_tokens
    if prompts.kind == "choose":
        requests = [
            (c, f" {o}") for c, opts in zip(prompts.contexts, prompts.targets) for o in opts
        ]
        flat = iter(loglikelihoods(model, tokenizer, requests, cfg.eval_batch_size, window))
        scores = [[next(flat) for _ in opts] for opts in prompts.targets]
        values = choice_metrics(scores, prompts.targets, prompts.answers)
        return "accuracy_norm_above_chance", values["accuracy_norm_above_chance"], values
    if prompts.kind == "generate":
        predicted = answers(
            model, tokenizer, prompts.contexts, cfg.eval_batch_size, new_tokens, window,
            stop=("\n", ".", ","),
        )  # fmt: skip
        values = qa_metrics(predicted, prompts.targets)
        return "exact_match", values["exact_match"], values
    beams = cfg.num_beams or 5
    translated = translations(
        model, tokenizer, prompts.contexts, prompts.languages, cfg.eval_batch_size, new_tokens,
        window, beams,
    )  # fmt: skip
    values = translation_metrics(translated, [t[0] for t in prompts.targets])
    return "bleu", values["bleu"], values
