r"""Sequence classification: one label per sequence (sentiment of a sentence, speaker of an
utterance, activity of a sensor recording), binary or multi-class.

Texts, token lists or numeric multivariate series of any length go in; labels come out::

    text / tokens ──tokenize, Vocabulary──▶ ids (B, T) ──Embedding(padding_idx=0)──▶ (B, T, E) ─┐
    series (T_i, F) ──fitted scaler──▶ (B, T, F) ─────────────────────────────────────────────┤
                                                                                               ▼
          (Bi)LSTM / GRU encoder (EncoderSection, lengths) ──▶ (B, T, D·H) ──pool──▶ (B, D·H)
                                                            ──dropout, Linear──▶ logits (B, C)

Symbols: B batch, T padded steps, E ``embedding_dim``, F numeric features, H hidden units,
D = 2 if bidirectional else 1, C classes. Padding is carried as ``lengths`` to the encoder and
to the pooling, so padded steps never influence a prediction; pooling is ``"last"`` (the final
state of each direction: the forward one after the last real step, the backward one after
reading back to the first), ``"mean"``, ``"max"`` (over real steps) or ``"attention"``
(:class:`~rnnkit.nn.attention_pooling.AttentionPooling`; :meth:`SequenceClassifier.attention`
returns the weights). Training minimizes the cross-entropy of the C logits (binary included,
C = 2) with :class:`~rnnkit.training.Trainer`; batches group sequences of similar length
(:class:`~rnnkit.data.padding.BucketSampler`) and are cut to their longest member.

The task answers the one task interface (:class:`~rnnkit.tasks.base.Task`): ``fit(data)`` or
``fit(X, y, validation=...)`` -> self, ``predict``, ``predict_proba``, ``evaluate`` -> a
:class:`~rnnkit.tasks.base.Report` (accuracy, macro / micro / weighted F1, ROC AUC; the
confusion matrix and per-class scores in its details) beside the baselines (the most frequent
class, and bag of words for texts or bag of features for series), ``save(path)`` /
``SequenceClassifier.load(path)`` (safetensors weights plus JSON for the configuration, the
vocabulary or the fitted scaler and the class labels: loading executes no pickled code).
With a fixed ``training.seed`` two fits give the same predictions, and a saved then loaded
model predicts exactly what the original did.

One concept per module:

==============================  =========================================================
:mod:`.config`                  :class:`ClassifierConfig` and its sections (the TOML file)
:mod:`.inputs`                  :class:`SequenceInputs`: texts, tokens or series -> tensors
:mod:`.network`                 :class:`ClassifierNet`: embedding, encoder, pooling, head
:mod:`.files`                   the CSV / Parquet formats: texts, long-format series
:mod:`.task`                    :class:`SequenceClassifier`, the task
==============================  =========================================================

Example:
    >>> texts = ["good film", "bad film", "really good", "really bad"] * 8
    >>> labels = ["pos", "neg", "pos", "neg"] * 8
    >>> clf = SequenceClassifier({"model": {"pooling": "mean"},
    ...                           "training": {"epochs": 3, "device": "cpu"}})
    >>> clf.fit(texts, labels).predict(["good", "bad"]).shape
    (2,)
"""

from rnnkit.data.examples import json_label
from rnnkit.metrics.classification import classification_metrics
from rnnkit.tasks._batching import split_validation
from rnnkit.tasks.classification.config import ClassifierConfig, ClassifierData, ClassifierModel
from rnnkit.tasks.classification.files import InputList, read_series_frame, read_text_frame
from rnnkit.tasks.classification.inputs import SequenceInputs
from rnnkit.tasks.classification.network import CLASSIFIER_POOLINGS, ClassifierNet
from rnnkit.tasks.classification.task import SequenceClassifier

__all__ = [
    "CLASSIFIER_POOLINGS",
    "ClassifierConfig",
    "ClassifierData",
    "ClassifierModel",
    "ClassifierNet",
    "InputList",
    "SequenceClassifier",
    "SequenceInputs",
    "classification_metrics",
    "json_label",
    "read_series_frame",
    "read_text_frame",
    "split_validation",
]
