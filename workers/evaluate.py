"""Evaluation: predictions on the evaluation set and the task's metrics (classifiers and LMs)."""

from __future__ import annotations

import numpy as np
import torch

from difficulty.metrics import compute_metrics, primary_metric
from difficulty.prompts import Prompts
from workers.budget import halving_on_oom, token_budget
from workers.config import TrainConfig
from workers.generate import answers, translations
from workers.scoring import loglikelihoods
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


def evaluate(model: torch.nn.Module, data: dict[str, torch.Tensor], metric: str,
             batch_size: int) -> tuple[str, float, dict[str, float]]:  # fmt: skip
    """(primary metric name, its value, all metrics) on the evaluation set."""
    values = compute_metrics("classify", predict(model, data, batch_size), data["labels"].numpy())
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

    Answers (qa, free-form): greedy, cut at the prompts' stop strings (their template's).
    Options: the log-likelihood of each. Translations: beam search. The metrics of the prompts'
    kind (difficulty.metrics) score them; the primary one is the row's metric.
    """
    window = cfg.prompt_length or context_window(model)
    new_tokens = cfg.max_new_tokens or prompts.max_new_tokens
    weights = next(model.parameters())
    budget = token_budget(model.config, weights.dtype, weights.device, prompts.kind == "choose")
    if prompts.kind == "choose":
        requests = [
            (c, f" {o}") for c, opts in zip(prompts.contexts, prompts.targets) for o in opts
        ]
        scores, _ = halving_on_oom(
            lambda b: loglikelihoods(model, tokenizer, requests, cfg.eval_batch_size, window, b),
            budget,
        )
        flat = iter(scores)
        predicted = [[next(flat) for _ in opts] for opts in prompts.targets]
        references = (prompts.targets, prompts.answers)
    elif prompts.kind == "generate":
        predicted, _ = halving_on_oom(lambda b: answers(
            model, tokenizer, prompts.contexts, cfg.eval_batch_size, new_tokens, window,
            stop=prompts.stop, budget=b, skip_blank=prompts.skip_blank,
        ), budget)  # fmt: skip
        references = prompts.targets
    else:
        predicted, _ = halving_on_oom(lambda b: translations(
            model, tokenizer, prompts.contexts, prompts.languages, cfg.eval_batch_size,
            new_tokens, window, cfg.num_beams or 5, budget=b,
        ), budget)  # fmt: skip
        references = [t[0] for t in prompts.targets]
    values = compute_metrics(prompts.kind, predicted, references)
    name = primary_metric(prompts.kind)
    return name, values[name], values
