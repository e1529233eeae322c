"""The metric registry: one `Metric` record per metric, grouped by the output it scores.

Outputs: `classify` (a classifier's logits against labels; one column = regression), `generate`
(generated answers against each question's aliases), `choose` (log-likelihoods of each question's
options against (options, correct indexes)), `translate` (translations against one reference
each) and `lm_eval` (what lm-evaluation-harness computed; registered for the analysis' chance
levels). Inputs are numpy arrays and Python lists; scipy, sklearn and sacrebleu are imported by the
functions that use them, so the registry imports light.

Over 300 lines on purpose: every metric of every task kind is one record here, so that
evaluation and analysis read one registry; splitting it by kind would scatter the facts.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

OUTPUTS = ("classify", "generate", "choose", "translate", "lm_eval")


def _always(predictions: Any, references: Any) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A metric: what it scores, how, which way is better, and what guessing scores."""

    name: str
    output: str  # one of OUTPUTS
    compute: Callable[[Any, Any], float]  # (predictions, references) -> value
    higher_is_better: bool
    chance: Callable[[Any, Any], float] | None  # the value of a uniform guess; None: undefined
    applies: Callable[[Any, Any], bool] = _always  # e.g. f1 only for two classes
    primary: bool = False  # the row's metric for this output when no task names one (prompts)
    # the entry of a row's `metrics` that holds this metric's chance level on the evaluated data
    # (a classifier's accuracy: the majority share; multiple choice: mean 1/options); None: the
    # analysis knows a chance level only where `chance` is 0 or undefined (then 0)
    recorded_chance: str | None = None
    bounds: tuple[float, float] = (0.0, 1.0)  # the values it can take; plots stay inside them

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ValueError(
                f"metric {self.name}: output {self.output!r}; allowed: {', '.join(OUTPUTS)}"
            )
        if not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"metric {self.name}: bounds {self.bounds} are not (low, high)")


METRICS: dict[str, dict[str, Metric]] = {output: {} for output in OUTPUTS}


def register_metric(metric: Metric) -> Metric:
    """Add a metric to the registry under its output and name."""
    METRICS[metric.output][metric.name] = metric
    return metric


def compute_metrics(output: str, predictions: Any, references: Any) -> dict[str, float]:
    """Every registered metric of `output` that applies to these predictions, by name."""
    return {
        name: metric.compute(predictions, references)
        for name, metric in METRICS[output].items()
        if metric.applies(predictions, references)
    }


def primary_metric(output: str) -> str:
    """The name of the metric a row reports for `output` when its task names none."""
    return next(name for name, metric in METRICS[output].items() if metric.primary)


# classify: logits (n × classes, or n × 1 for regression) against labels


def _classes(logits: np.ndarray, labels: np.ndarray) -> bool:
    return logits.shape[1] > 1


def _binary(logits: np.ndarray, labels: np.ndarray) -> bool:
    return logits.shape[1] == 2


def _regression(logits: np.ndarray, labels: np.ndarray) -> bool:
    return logits.shape[1] == 1


def zero_chance(predictions: Any, references: Any) -> float:
    return 0.0


def uniform_chance(logits: np.ndarray, labels: np.ndarray) -> float:
    """1 / classes (a uniform guess; the analysis reads the majority share instead)."""
    return 1 / logits.shape[1]


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of examples whose highest logit is their label."""
    return float((logits.argmax(1) == labels).mean())


def matthews(logits: np.ndarray, labels: np.ndarray) -> float:
    """Matthews correlation of the predicted classes with the labels."""
    from sklearn.metrics import matthews_corrcoef

    return float(matthews_corrcoef(labels, logits.argmax(1)))


def binary_f1(logits: np.ndarray, labels: np.ndarray) -> float:
    """F1 of class 1."""
    from sklearn.metrics import f1_score

    return float(f1_score(labels, logits.argmax(1)))


def _f1_chance(logits: np.ndarray, labels: np.ndarray) -> float:
    """F1 of a fair coin: p / (p + 1/2) for a positive rate p."""
    # a fair coin: precision is the positive rate p, recall 1/2, so F1 = p / (p + 1/2)
    positive = float(np.mean(labels == 1))
    return positive / (positive + 0.5)


def majority(logits: np.ndarray, labels: np.ndarray) -> float:
    """The share of the most frequent label: the accuracy of always guessing it."""
    return float(np.unique(labels, return_counts=True)[1].max() / len(labels))


def pearson(logits: np.ndarray, labels: np.ndarray) -> float:
    """Pearson r of the regression outputs with the labels."""
    from scipy.stats import pearsonr

    return float(pearsonr(logits[:, 0], labels)[0])


def spearman(logits: np.ndarray, labels: np.ndarray) -> float:
    """Spearman ρ of the regression outputs with the labels."""
    from scipy.stats import spearmanr

    return float(spearmanr(logits[:, 0], labels)[0])


register_metric(
    Metric(
        name="accuracy",
        output="classify",
        compute=accuracy,
        higher_is_better=True,
        chance=uniform_chance,
        applies=_classes,
        recorded_chance="majority",
    )
)
register_metric(
    Metric(
        name="majority",  # recorded beside the accuracy: the chance level the analysis reads
        output="classify",
        compute=majority,
        higher_is_better=False,
        chance=None,
        applies=_classes,
    )
)
register_metric(
    Metric(
        name="matthews",
        output="classify",
        compute=matthews,
        higher_is_better=True,
        chance=zero_chance,
        applies=_classes,
        bounds=(-1.0, 1.0),
    )
)
register_metric(
    Metric(
        name="f1",
        output="classify",
        compute=binary_f1,
        higher_is_better=True,
        chance=_f1_chance,
        applies=_binary,
    )
)
register_metric(
    Metric(
        name="pearson",
        output="classify",
        compute=pearson,
        higher_is_better=True,
        chance=zero_chance,
        applies=_regression,
        bounds=(-1.0, 1.0),
    )
)
register_metric(
    Metric(
        name="spearman",
        output="classify",
        compute=spearman,
        higher_is_better=True,
        chance=zero_chance,
        applies=_regression,
        bounds=(-1.0, 1.0),
    )
)


# generate: answers against every alias of each question's answer. The normalization is the
# SQuAD v1.1 / TriviaQA evaluation scripts': lower case, no punctuation, no articles (a, an, the),
# single spaces; a prediction scores the best it gets against any alias.


def normalize_answer(text: str) -> str:
    """SQuAD/TriviaQA normalization: lower case, drop punctuation and articles, squeeze spaces."""
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def lenient_match(prediction: str, aliases: list[str]) -> float:
    """1.0 if the normalized prediction contains a normalized alias or lies within one (the Junk
    DNA paper's TriviaQA scoring: "The capital of France is Paris." matches "Paris"). An empty
    prediction matches nothing."""
    guess = normalize_answer(prediction)
    if not guess:
        return 0.0
    truths = (normalize_answer(a) for a in aliases)
    return float(any(t and (t in guess or guess in t) for t in truths))


def exact_match(prediction: str, aliases: list[str]) -> float:
    """1.0 if the normalized prediction equals a normalized alias."""
    guess = normalize_answer(prediction)
    return float(any(guess == normalize_answer(a) for a in aliases))


def token_f1(prediction: str, aliases: list[str]) -> float:
    """The best bag-of-tokens F1 between the normalized prediction and an alias."""
    guess = normalize_answer(prediction).split()
    best = 0.0
    for alias in aliases:
        truth = normalize_answer(alias).split()
        common = sum((Counter(guess) & Counter(truth)).values())
        if common:
            precision, recall = common / len(guess), common / len(truth)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def _mean_over_questions(score: Callable[[str, list[str]], float]):
    def compute(predictions: list[str], answers: list[list[str]]) -> float:
        return sum(map(score, predictions, answers)) / max(len(predictions), 1)

    return compute


register_metric(
    Metric(
        name="match",  # the paper's lenient exact match
        output="generate",
        compute=_mean_over_questions(lenient_match),
        higher_is_better=True,
        chance=None,  # a free-form answer has no set of outcomes to guess among
        primary=True,
    )
)
register_metric(
    Metric(
        name="exact_match",  # strict: the normalized answer equals an alias (SQuAD's EM)
        output="generate",
        compute=_mean_over_questions(exact_match),
        higher_is_better=True,
        chance=None,
    )
)
register_metric(
    Metric(
        name="f1",
        output="generate",
        compute=_mean_over_questions(token_f1),
        higher_is_better=True,
        chance=None,
    )
)


# choose: each question's options scored by log-likelihood, as lm-evaluation-harness does;
# references are (options, correct indexes). `accuracy_norm` divides a score by the characters
# of its option (the harness's acc_norm); above-chance accuracy, (acc - 1/k) / (1 - 1/k), makes
# levels with different numbers of options k comparable: 0 is guessing, 1 is perfect.

Choices = tuple[list[list[str]], list[int]]


def _picked(scores: list[list[float]], answers: list[int]) -> float:
    return np.mean([int(np.argmax(s)) == a for s, a in zip(scores, answers)])


def _raw(scores: list[list[float]], references: Choices) -> float:
    return _picked(scores, references[1])


def _norm(scores: list[list[float]], references: Choices) -> float:
    options, answers = references
    per_char = [[s / len(" " + o) for s, o in zip(row, opts)] for row, opts in zip(scores, options)]
    return _picked(per_char, answers)


def choice_chance(scores: list[list[float]], references: Choices) -> float:
    """The accuracy of a uniform guess: the mean of 1/k over questions of k options."""
    return float(np.mean([1 / len(opts) for opts in references[0]]))


def _above_chance(accuracy: Callable[[list[list[float]], Choices], float]):
    def compute(scores: list[list[float]], references: Choices) -> float:
        chance = choice_chance(scores, references)
        return float((accuracy(scores, references) - chance) / (1 - chance))

    return compute


register_metric(
    Metric(
        name="accuracy",
        output="choose",
        compute=lambda scores, references: float(_raw(scores, references)),
        higher_is_better=True,
        chance=choice_chance,
        recorded_chance="chance",
    )
)
register_metric(
    Metric(
        name="accuracy_norm",
        output="choose",
        compute=lambda scores, references: float(_norm(scores, references)),
        higher_is_better=True,
        chance=choice_chance,
        recorded_chance="chance",
    )
)
register_metric(
    Metric(
        name="chance",  # reported beside the accuracies: the accuracy of a uniform guess
        output="choose",
        compute=choice_chance,
        higher_is_better=False,
        chance=None,
    )
)
register_metric(
    Metric(
        name="accuracy_above_chance",
        output="choose",
        compute=_above_chance(_raw),
        higher_is_better=True,
        chance=zero_chance,
        bounds=(-1.0, 1.0),  # below chance: down to -1/(k - 1)
    )
)
register_metric(
    Metric(
        name="accuracy_norm_above_chance",
        output="choose",
        compute=_above_chance(_norm),
        higher_is_better=True,
        chance=zero_chance,
        primary=True,
        bounds=(-1.0, 1.0),  # below chance: down to -1/(k - 1)
    )
)


# lm_eval: the multiple-choice accuracies lm-evaluation-harness reports (acc; acc_norm divides
# each option's log-likelihood by its characters), with `chance` (the mean 1/options) recorded
# beside them by workers.harness; every metric has its `<name>_stderr`, which the analysis
# ignores. Other lm-eval metrics are not registered: their chance level is unknown.


def _computed_by_lm_eval(predictions: Any, references: Any) -> float:
    raise NotImplementedError("lm-evaluation-harness computes this metric")


for _name in ("acc", "acc_norm"):
    register_metric(
        Metric(
            name=_name,
            output="lm_eval",
            compute=_computed_by_lm_eval,
            higher_is_better=True,
            chance=choice_chance,
            recorded_chance="chance",
        )
    )
register_metric(
    Metric(
        name="chance",
        output="lm_eval",
        compute=_computed_by_lm_eval,
        higher_is_better=False,
        chance=None,
    )
)


# translate: sacreBLEU's corpus BLEU (13a tokens) and chrF, both 0..100, one reference each


def bleu(hypotheses: list[str], references: list[str]) -> float:
    """sacreBLEU corpus BLEU."""
    import sacrebleu

    return sacrebleu.corpus_bleu(hypotheses, [references]).score


def chrf(hypotheses: list[str], references: list[str]) -> float:
    """sacreBLEU corpus chrF."""
    import sacrebleu

    return sacrebleu.corpus_chrf(hypotheses, [references]).score


register_metric(
    Metric(
        name="bleu",
        output="translate",
        compute=bleu,
        higher_is_better=True,
        chance=None,
        primary=True,
        bounds=(0.0, 100.0),
    )
)
register_metric(
    Metric(
        name="chrf",
        output="translate",
        compute=chrf,
        higher_is_better=True,
        chance=None,
        bounds=(0.0, 100.0),
    )
)
