"""Metrics for regression/forecasting, classification and sequences (NumPy in, floats out).

Every function takes NumPy arrays, PyTorch tensors or lists and returns plain Python numbers,
so results drop straight into a History or a JSON report.
"""

from __future__ import annotations

from rnnkit.metrics.classification import (
    accuracy,
    classification_metrics,
    classification_report,
    confusion_matrix,
    f1,
    precision,
    recall,
    roc_auc,
)
from rnnkit.metrics.regression import mae, mape, mase, mse, r2, regression_report, rmse, smape
from rnnkit.metrics.sequence import (
    bits_per_character,
    character_error_rate,
    corpus_bleu,
    edit_distance,
    exact_match,
    perplexity,
    tagging_metrics,
    token_accuracy,
    token_error_rate,
)

__all__ = [
    "accuracy",
    "bits_per_character",
    "character_error_rate",
    "classification_metrics",
    "classification_report",
    "confusion_matrix",
    "corpus_bleu",
    "edit_distance",
    "exact_match",
    "f1",
    "mae",
    "mape",
    "mase",
    "mse",
    "perplexity",
    "precision",
    "r2",
    "recall",
    "regression_report",
    "rmse",
    "roc_auc",
    "smape",
    "tagging_metrics",
    "token_accuracy",
    "token_error_rate",
]
