"""Sequence metrics: language-model likelihoods, token accuracy, edit distances, BLEU, tagging.

Symbols: CE the mean cross-entropy per token in nats (what ``torch.nn.functional.cross_entropy``
returns), N_ref the total number of reference tokens, c and r the total hypothesis and
(effective) reference lengths of a corpus.

==================  ===============================================================
perplexity          exp(CE)
bits_per_character  CE / ln 2            (CE measured per character)
token_accuracy      Σ 1[ŷ_t = y_t] / Σ 1[y_t ≠ ignore_index]
edit_distance       Levenshtein distance: fewest insertions, deletions, substitutions
token_error_rate    Σ_i edit_distance(ref_i, hyp_i) / Σ_i |ref_i|   (WER on words)
exact_match         (1/n) Σ_i 1[hyp_i = ref_i]
corpus_bleu         BP · exp(Σ_n w_n log p_n),  BP = 1 if c > r else exp(1 − r/c)
tagging_metrics     one tag per token: the classification report of the flattened tags,
                    whole-sentence accuracy and the accuracy on out-of-vocabulary tokens
==================  ===============================================================

``p_n`` in BLEU is the corpus-level modified n-gram precision of Papineni et al. (2002):
hypothesis n-gram counts clipped by their maximum count in any one reference, summed over the
corpus, over the number of hypothesis n-grams (at least 1 per hypothesis, as in NLTK). ``r`` sums, for each hypothesis, the length of
the reference closest to it (the shorter one on a tie), as in NLTK.

Example:
    >>> edit_distance("kitten", "sitting")
    3
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics.classification import classification_report
from rnnkit.metrics.regression import _to_numpy

__all__ = [
    "bits_per_character",
    "character_error_rate",
    "corpus_bleu",
    "edit_distance",
    "exact_match",
    "perplexity",
    "tagging_metrics",
    "token_accuracy",
    "token_error_rate",
]

Tokens = Sequence[Hashable]


def _mean_ce(value: Any) -> float:
    array = _to_numpy("mean_cross_entropy", value)
    if array.size != 1:
        raise ShapeError(
            expected("mean_cross_entropy", "one number (the mean over tokens)", array.shape,
                     "average the per-token losses first")
        )
    ce = float(array.reshape(()))
    if ce < 0:
        raise DataError(expected("mean_cross_entropy", "a value >= 0 (nats)", ce))
    return ce


def perplexity(mean_cross_entropy: Any) -> float:
    """Perplexity ``exp(CE)`` of a mean per-token cross-entropy ``CE`` in nats.

    Overflows to ``inf`` for CE above ~709 rather than raising.
    """
    ce = _mean_ce(mean_cross_entropy)
    return math.exp(ce) if ce < 709.0 else math.inf


def bits_per_character(mean_cross_entropy: Any) -> float:
    """Bits per character ``CE / ln 2`` of a mean per-character cross-entropy ``CE`` in nats."""
    return _mean_ce(mean_cross_entropy) / math.log(2.0)


def token_accuracy(predictions: Any, targets: Any, *, ignore_index: int = -100) -> float:
    """Fraction of counted target tokens predicted exactly; targets equal to ``ignore_index``
    (padding) are not counted.

    Args:
        predictions: token ids of the shape of ``targets``, or scores (logits, probabilities)
            with one more trailing axis of size vocab, reduced with argmax.
        targets: integer token ids, any shape, e.g. (batch, timesteps).
        ignore_index: the target value that marks padding (PyTorch's default, -100).
    """
    y = _to_numpy("targets", targets, dtype=None)
    if y.dtype.kind not in "iub":
        raise DataError(expected("targets", "integer token ids", y.dtype))
    p = _to_numpy("predictions", predictions, dtype=None)
    if p.ndim == y.ndim + 1:
        p = p.argmax(axis=-1)  # (..., vocab) -> (...)
    if p.shape != y.shape:
        raise ShapeError(
            expected("predictions", f"shape {y.shape} (ids) or {(*y.shape, 'vocab')} (scores)",
                     p.shape)
        )
    counted = y != ignore_index
    n = int(counted.sum())
    if n == 0:
        raise DataError(
            expected("targets", "at least one token that is not ignore_index", "only padding",
                     f"ignore_index={ignore_index}")
        )
    return float(np.sum((p == y) & counted) / n)


def edit_distance(reference: Tokens, hypothesis: Tokens) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions (each cost 1)
    turning ``hypothesis`` into ``reference``.

    Works on any sequences of hashable tokens: strings (characters), lists of words, lists of
    ids. Dynamic programming in O(|ref| · |hyp|) time and O(min) memory, after stripping the
    common prefix and suffix (free for near-identical pairs).

    Recurrence, ``D[i][j]`` the distance between the first i reference and first j hypothesis
    tokens: ``D[i][j] = min(D[i−1][j] + 1, D[i][j−1] + 1, D[i−1][j−1] + 1[ref_i ≠ hyp_j])``.
    """
    a, b = list(reference), list(hypothesis)
    # strip the common prefix and suffix: they never need an edit
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a  # the row runs over the shorter sequence; the distance is symmetric
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, token_a in enumerate(a, start=1):
        current = [i]
        for j, token_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (token_a != token_b)))
        previous = current
    return previous[-1]


def _as_tokens(value: Any) -> list[Hashable]:
    """A str is split on whitespace (words); any other sequence is taken as tokens."""
    return value.split() if isinstance(value, str) else list(value)


def _paired(references: Sequence[Any], hypotheses: Sequence[Any]) -> None:
    if isinstance(references, str) or isinstance(hypotheses, str):
        raise ConfigError(
            expected("references", "a sequence of sequences (one per example)", "a single str",
                     "wrap it in a list: [reference]")
        )
    if len(references) != len(hypotheses):
        raise ShapeError(
            expected("hypotheses", f"{len(references)} items (one per reference)",
                     len(hypotheses))
        )
    if len(references) == 0:
        raise DataError(expected("references", "at least one example", "an empty sequence"))


def _error_rate(references: list[list[Hashable]], hypotheses: list[list[Hashable]]) -> float:
    n_ref = sum(len(r) for r in references)
    if n_ref == 0:
        raise DataError(
            expected("references", "at least one reference token", "only empty references")
        )
    edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    return edits / n_ref


def token_error_rate(references: Sequence[Any], hypotheses: Sequence[Any]) -> float:
    """Corpus token error rate ``Σ_i edit_distance(ref_i, hyp_i) / Σ_i |ref_i|``.

    Each item is a sequence of tokens; a ``str`` item is split on whitespace, which makes this
    the word error rate (WER). Can exceed 1 when hypotheses insert many tokens.
    """
    _paired(references, hypotheses)
    return _error_rate([_as_tokens(r) for r in references], [_as_tokens(h) for h in hypotheses])


def character_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus character error rate ``Σ_i edit_distance(ref_i, hyp_i) / Σ_i len(ref_i)`` over
    the characters of each string (spaces included)."""
    _paired(references, hypotheses)
    return _error_rate([list(r) for r in references], [list(h) for h in hypotheses])


def exact_match(references: Sequence[Any], hypotheses: Sequence[Any]) -> float:
    """Fraction of hypotheses equal to their reference token for token, ``(1/n) Σ 1[hyp_i = ref_i]``.

    Strings are compared whole; other sequences element-wise after ``list()``.
    """
    _paired(references, hypotheses)
    hits = sum(
        (r == h) if isinstance(r, str) and isinstance(h, str) else (list(r) == list(h))
        for r, h in zip(references, hypotheses)
    )
    return hits / len(references)


def _ngrams(tokens: list[Hashable], n: int) -> Counter[tuple[Hashable, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    references: Sequence[Sequence[Tokens]],
    hypotheses: Sequence[Tokens],
    *,
    max_n: int = 4,
    weights: Sequence[float] | None = None,
    smoothing: Literal["none", "method1"] = "none",
    epsilon: float = 0.1,
) -> float:
    """Corpus BLEU (Papineni et al., 2002) in [0, 1].

    ``BLEU = BP · exp(Σ_{n=1}^{N} w_n log p_n)`` with ``p_n`` the corpus modified n-gram
    precision (clipped counts; module docstring), ``BP = 1`` if ``c > r`` else
    ``exp(1 − r/c)``, and ``w_n = 1/N`` unless ``weights`` is given.

    The score is 0 when no hypothesis unigram matches, and, without smoothing, when any
    ``p_n`` is 0 (no matching n-gram of some order: common for short sentences).
    ``smoothing="method1"`` (Chen & Cherry, 2014) replaces a zero numerator by ``epsilon``:
    ``p_n = epsilon / (number of hypothesis n-grams)``.

    One convention follows NLTK rather than the paper: a hypothesis shorter than n adds one
    (unmatched) n-gram to the denominator of ``p_n`` instead of none, which penalizes very short
    hypotheses. With it, scores equal ``nltk.translate.bleu_score.corpus_bleu`` (and, for
    ``"method1"``, with ``SmoothingFunction().method1``); it changes nothing when every
    hypothesis has at least ``max_n`` tokens.

    Args:
        references: for each hypothesis, a list of one or more reference token sequences.
        hypotheses: token sequences (lists of words or ids; a str counts as characters).
        max_n: the highest n-gram order N.
        weights: N non-negative weights w_n; default uniform.
        smoothing: ``"none"`` or ``"method1"``.
        epsilon: the numerator used for a zero count by ``"method1"``.
    """
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise ConfigError(expected("max_n", "an integer >= 1", max_n))
    w = [1.0 / max_n] * max_n if weights is None else [float(x) for x in weights]
    if len(w) != max_n or any(x < 0 for x in w):
        raise ConfigError(expected("weights", f"{max_n} non-negative numbers (max_n)", weights))
    if smoothing not in ("none", "method1"):
        raise ConfigError(expected("smoothing", "'none' or 'method1'", smoothing))
    if not epsilon > 0:
        raise ConfigError(expected("epsilon", "a number > 0", epsilon))
    _paired(references, hypotheses)

    matches = [0] * max_n  # clipped n-gram matches per order, summed over the corpus
    totals = [0] * max_n  # hypothesis n-grams per order
    hyp_len = ref_len = 0
    for i, (refs, hyp) in enumerate(zip(references, hypotheses)):
        if isinstance(refs, str) or len(refs) == 0:
            raise ConfigError(
                expected(f"references[{i}]", "a list of one or more reference token sequences",
                         refs, "wrap a single reference in a list: [[ref] for ref in refs]")
            )
        hyp_tokens = list(hyp)
        ref_tokens = [list(r) for r in refs]
        hyp_len += len(hyp_tokens)
        ref_len += min((len(r) for r in ref_tokens),
                       key=lambda length: (abs(length - len(hyp_tokens)), length))
        for n in range(1, max_n + 1):
            counts = _ngrams(hyp_tokens, n)
            max_ref: Counter[tuple[Hashable, ...]] = Counter()
            for r in ref_tokens:
                max_ref |= _ngrams(r, n)  # element-wise max over references
            matches[n - 1] += sum(min(c, max_ref[g]) for g, c in counts.items())
            totals[n - 1] += max(1, sum(counts.values()))  # NLTK: a too-short hypothesis counts 1

    if matches[0] == 0 or hyp_len == 0:
        return 0.0
    log_sum = 0.0
    for n in range(max_n):
        denominator = totals[n]
        numerator: float = matches[n]
        if numerator == 0:
            if smoothing == "none":
                return 0.0
            numerator = epsilon
        log_sum += w[n] * math.log(numerator / denominator)
    bp = 1.0 if hyp_len > ref_len else math.exp(1.0 - ref_len / hyp_len)
    return bp * math.exp(log_sum)


def tagging_metrics(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]],
                    known: Sequence[Sequence[bool]] | None = None,
                    labels: Sequence[str] | None = None) -> dict[str, Any]:
    """Token accuracy, per-class precision / recall / F1, macro / micro / weighted F1, the
    confusion matrix, whole-sentence accuracy and, given ``known`` (a flag per token), the
    accuracy on out-of-vocabulary tokens (``oov_accuracy``)."""
    if len(true_tags) != len(pred_tags):
        raise ShapeError(expected("pred_tags", f"{len(true_tags)} sentences", len(pred_tags)))
    for i, (t, p) in enumerate(zip(true_tags, pred_tags)):
        if len(t) != len(p):
            raise ShapeError(expected(f"pred_tags[{i}]", f"{len(t)} tags like the sentence", len(p)))
    t_flat = np.asarray([tag for s in true_tags for tag in s])
    p_flat = np.asarray([tag for s in pred_tags for tag in s])
    rep = classification_report(t_flat, p_flat, labels=labels)
    out: dict[str, Any] = {
        "n_sentences": len(true_tags),
        "n_tokens": int(t_flat.size),
        "token_accuracy": rep["accuracy"],
        "sentence_accuracy": float(np.mean([list(t) == list(p) for t, p in zip(true_tags, pred_tags)])),
        "f1_macro": rep["macro"]["f1"],
        "f1_micro": rep["micro"]["f1"],
        "f1_weighted": rep["weighted"]["f1"],
        "labels": rep["labels"],
        "per_class": rep["per_class"],
        "confusion_matrix": rep["confusion_matrix"],
    }
    if known is not None:
        k_flat = np.asarray([flag for s in known for flag in s], dtype=bool)
        if k_flat.size != t_flat.size:
            raise ShapeError(expected("known", f"{t_flat.size} flags, one per token", k_flat.size))
        oov = ~k_flat
        out["n_oov"] = int(oov.sum())
        out["oov_accuracy"] = float(np.mean(t_flat[oov] == p_flat[oov])) if oov.any() else float("nan")
    return out
