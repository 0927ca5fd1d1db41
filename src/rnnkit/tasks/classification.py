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

Files (:meth:`SequenceClassifier.read_data`, what ``rnnkit train`` reads from ``data.path``):

* **text** (``data.kind = "text"``, or detected by a ``data.text_column`` column): a CSV file
  (or Parquet, by the ``.parquet`` suffix) with one row per text: the text in
  ``data.text_column`` (default ``"text"``) and its label in ``data.label_column`` (default
  ``"label"``); other columns are ignored::

      text,label
      "a gripping, funny film",positive
      "two hours I will not get back",negative

* **series** (``data.kind = "series"``, or detected by a ``data.id_column`` column): a
  long-format CSV or Parquet file, one row per time step: the series id in ``data.id_column``
  (default ``"id"``), the step or time in ``data.step_column`` (rows are sorted by it within
  each series; default: a column named ``step``, ``time``, ``timestamp`` or ``t`` if there is
  one, else the file's order), the features in ``data.feature_columns`` (default: every other
  column) and the label in ``data.label_column``, the same on every row of a series (an error
  names the series where it is not). Series may differ in length::

      id,step,accel_x,accel_y,label
      walk-01,0,0.12,-0.40,walking
      walk-01,1,0.15,-0.38,walking
      run-07,0,1.02,0.33,running

``read_data`` returns :class:`~rnnkit.tasks.base.Examples` (texts, or (T_i, F) float arrays,
and the labels). For prediction (``labelled=False``) the same files without the label column
are read. :meth:`SequenceClassifier.predict_frame` writes one row per text or series: its id
and text (or series id and step count), the ``prediction`` and one ``proba_<class>`` column
per class.

Configuration (TOML)::

    task = "classification"

    [data]
    path = "reviews.csv"      # relative to this file
    test = 0.2                # held out for evaluate (or test_path = "...")
    validation = 0.1          # held out by fit for early stopping

    [model]
    pooling = "attention"
    embedding_dim = 100
    encoder = { cell = "lstm", hidden_size = 64, bidirectional = true }

    [training]                # rnnkit.training.TrainerConfig
    epochs = 10

    [early_stopping]
    patience = 3

Example:
    >>> texts = ["good film", "bad film", "really good", "really bad"] * 8
    >>> labels = ["pos", "neg", "pos", "neg"] * 8
    >>> clf = SequenceClassifier({"model": {"pooling": "mean"},
    ...                           "training": {"epochs": 3, "device": "cpu"}})
    >>> clf.fit(texts, labels).predict(["good", "bad"]).shape
    (2,)
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import (
    Described,
    check_choice,
    check_positive_int,
    expected,
)
from rnnkit.bundle import Bundle
from rnnkit.config import Section
from rnnkit.data.padding import pad_sequences
from rnnkit.data.scalers import Scaler, make_scaler
from rnnkit.data.text import (
    UNK_ID,
    CharTokenizer,
    Vocabulary,
    WordTokenizer,
    tokenizer_from_dict,
)
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics.classification import accuracy, classification_report, f1
from rnnkit.nn.attention_pooling import AttentionPooling
from rnnkit.nn.heads import lengths_to_mask, pool
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks._batching import (
    as_series_list,
    eval_batch_size,
    make_loader,
    run_in_length_order,
    split_validation,
)
from rnnkit.tasks.base import EarlyStoppingSection, Examples, Report, Task, TaskConfig
from rnnkit.tasks.encoder import (
    DataFiles,
    EncoderSection,
    EvaluationSection,
    HistoryMetrics,
    check_pretrained_source,
    default_training,
    legacy_config,
    merge_training,
    resolve_data_paths,
)
from rnnkit.training import Callback, Trainer, TrainerConfig
from rnnkit.training.seeding import seed_everything

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

CLASSIFIER_POOLINGS = ("last", "mean", "max", "attention")
#: Step columns looked for, in this order, when ``data.step_column`` is not set.
STEP_COLUMNS = ("step", "time", "timestamp", "t")


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
class ClassifierData(DataFiles):
    """``[data]``: the user's file (see the module docstring for the two formats) and its split
    (``path``, ``test_path``, ``test``, ``validation``, ``seed``: :class:`DataFiles`).

    Attributes:
        kind: ``"text"``, ``"series"``, or ``"auto"`` (text if the file has ``text_column``,
            series if it has ``id_column``).
        text_column, label_column: the text and label columns.
        id_column: the series id column (series files).
        step_column: the step or time column rows are sorted by within a series (None: the
            first of ``step``, ``time``, ``timestamp``, ``t`` present, else the file order).
        feature_columns: the feature columns of a series file (None: every other column).
    """

    kind: Literal["auto", "text", "series"] = "auto"
    text_column: str = "text"
    label_column: str = "label"
    id_column: str = "id"
    step_column: str | None = None
    feature_columns: tuple[str, ...] | None = None


class ClassifierModel(Section):
    """``[model]``: what a :class:`SequenceClassifier` builds and how it preprocesses.

    Attributes:
        encoder: the recurrent encoder (:class:`~rnnkit.tasks.encoder.EncoderSection`;
            default: a bidirectional LSTM, 64 units each way); ``cell`` takes a name or, in
            Python, a :class:`~rnnkit.nn.RecurrentCell` subclass.
        pooling: ``"last"``, ``"mean"``, ``"max"`` or ``"attention"`` (see the module doc).
        attention_size: width of the attention scorer (default: the encoder's output size).
        embedding_dim: E, the token embedding size (token inputs only).
        dropout: dropout on the embeddings and on the pooled vector (training only).
        tokenizer: ``"word"`` or ``"char"``, for raw-text inputs.
        lowercase: lower-case texts and tokens before the vocabulary lookup.
        min_freq: keep tokens seen at least this often in training; rarer ones map to <unk>.
        max_vocab: cap on the vocabulary size, the 4 reserved tokens included (None: no cap).
        max_length: keep at most this many steps of each sequence (its beginning; None: all).
        scaler: feature scaler of numeric inputs, fitted on the training steps
            (``"standard"``, ``"minmax"``, ``"robust"`` or ``"none"``).
        bucket: batch sequences of similar length together during training.
        pretrained_embeddings: initialize the embedding rows of the vocabulary's words from
            pretrained word vectors (token inputs only): a name of
            :data:`~rnnkit.datasets.word_vectors.PRETRAINED_VECTORS` (``"glove-6b-100d"``) or
            the path of a word-vector file. ``embedding_dim`` must equal the vectors' size.
            Only ``fit`` reads the vectors: a saved model carries its trained embedding and
            loads without them.
        freeze_embeddings: keep the embedding fixed during training (with pretrained vectors).
    """

    encoder: EncoderSection = Field(default_factory=EncoderSection)
    pooling: Literal["last", "mean", "max", "attention"] = "attention"
    attention_size: int | None = Field(None, ge=1)
    embedding_dim: int = Field(100, ge=1)
    dropout: float = Field(0.2, ge=0.0, lt=1.0)
    tokenizer: Literal["word", "char"] = "word"
    lowercase: bool = True
    min_freq: int = Field(1, ge=1)
    max_vocab: int | None = Field(30_000, ge=5)
    max_length: int | None = Field(None, ge=1)
    scaler: Literal["standard", "minmax", "robust", "none"] = "standard"
    bucket: bool = True
    pretrained_embeddings: str | None = None
    freeze_embeddings: bool = False

    @model_validator(mode="before")
    @classmethod
    def _check_vectors(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            check_pretrained_source(data.get("pretrained_embeddings"))
        return data


class ClassifierConfig(TaskConfig):
    """The whole configuration of a :class:`SequenceClassifier` (a TOML file's tables).

    Attributes:
        data: :class:`ClassifierData`, the user's file and its split.
        model: :class:`ClassifierModel`.
        training: :class:`~rnnkit.training.TrainerConfig` (defaults:
            :func:`~rnnkit.tasks.encoder.default_training`; a table overrides them key by key;
            the loss is always cross-entropy).
        early_stopping: patience (default 5) and the monitored key (``val_loss``,
            ``val_accuracy``, ``val_f1_macro``), used when there is validation data.
        evaluation: whether ``fit`` also fits the baselines that ``evaluate`` reports.
    """

    task: Literal["classification"] = "classification"
    data: ClassifierData = Field(default_factory=ClassifierData)
    model: ClassifierModel = Field(default_factory=ClassifierModel)
    training: TrainerConfig = Field(default_factory=default_training)
    early_stopping: EarlyStoppingSection = Field(default_factory=EarlyStoppingSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    @model_validator(mode="before")
    @classmethod
    def _training_defaults(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "training" in data:
            data = {**data, "training": merge_training(data["training"], default_training())}
        return data

    def resolve_paths(self, folder: Path) -> ClassifierConfig:
        """Relative ``data.path`` / ``data.test_path`` are resolved against ``folder``."""
        changed = resolve_data_paths(self.data, folder)
        return self.with_overrides({"data": changed}) if changed else self


# ---------------------------------------------------------------------------------------------
# inputs: texts, token lists or numeric series -> padded tensors and lengths
# ---------------------------------------------------------------------------------------------
def _is_text_like(first: Any) -> str | None:
    if isinstance(first, str):
        return "text"
    if isinstance(first, (list, tuple)) and (not first or isinstance(first[0], str)):
        return "tokens"
    return None


class SequenceInputs:
    """The fitted input pipeline: raw samples -> ``(x, lengths)`` tensors, and back to JSON.

    * ``"text"``: strings, tokenized (word or char), looked up in a :class:`Vocabulary`;
    * ``"tokens"``: lists of string tokens, looked up in a :class:`Vocabulary`;
    * ``"numeric"``: (T_i, F) arrays (or (N, T, F) with ``lengths``), scaled per feature by a
      scaler fitted on every real training step.

    ``x`` is (N, T) long ids, 0 on padding, or (N, T, F) float32; ``lengths`` (N,) long.
    An empty text becomes the single token <unk> (every sequence needs a step).
    """

    def __init__(self, kind: str, *, config: ClassifierModel) -> None:
        self.kind = check_choice("input kind", kind, ("text", "tokens", "numeric"))
        self.config = config
        self.tokenizer: WordTokenizer | CharTokenizer | None = None
        self.vocab: Vocabulary | None = None
        self.scaler: Scaler | None = None
        self.n_features: int | None = None

    @staticmethod
    def detect(X: Any, name: str = "X") -> str:
        if isinstance(X, (str, bytes)):
            raise DataError(expected(name, "a list of samples", "a single str",
                                     "wrap one text in a list: [text]"))
        if isinstance(X, (np.ndarray, torch.Tensor)) and (not isinstance(X, np.ndarray) or X.dtype != object):
            return "numeric"
        try:
            n = len(X)
        except TypeError as exc:
            raise DataError(expected(name, "a sequence of samples", type(X).__name__)) from exc
        if n == 0:
            raise DataError(expected(name, "at least one sample", "an empty sequence"))
        return _is_text_like(X[0]) or "numeric"

    # -- fit / transform ----------------------------------------------------------------
    def _tokens(self, X: Sequence[Any], name: str) -> list[list[str]]:
        cfg = self.config
        out: list[list[str]] = []
        for i, sample in enumerate(X):
            if self.kind == "text":
                if not isinstance(sample, str):
                    raise DataError(expected(f"{name}[{i}]", "a str like the training texts",
                                             type(sample).__name__))
                toks = self.tokenizer.tokenize(sample)  # type: ignore[union-attr]
            else:
                if isinstance(sample, str) or not all(isinstance(t, str) for t in sample):
                    raise DataError(expected(f"{name}[{i}]", "a list of str tokens like the "
                                             "training samples", type(sample).__name__))
                toks = [t.lower() for t in sample] if cfg.lowercase else list(sample)
            if cfg.max_length is not None:
                toks = toks[: cfg.max_length]
            out.append(toks)
        return out

    def fit(self, X: Any, lengths: Any = None) -> SequenceInputs:
        cfg = self.config
        if self.kind == "numeric":
            seqs = as_series_list(X, lengths)
            F = seqs[0].shape[1]
            self._check_features(seqs, F)
            self.n_features = F
            self.scaler = make_scaler(cfg.scaler).fit(np.concatenate(seqs, axis=0))
            return self
        if self.kind == "text":
            self.tokenizer = (WordTokenizer(lower=cfg.lowercase) if cfg.tokenizer == "word"
                              else CharTokenizer(lower=cfg.lowercase))
        self.vocab = Vocabulary.build(self._tokens(X, "X"), min_freq=cfg.min_freq,
                                      max_size=cfg.max_vocab)
        return self

    def _check_features(self, seqs: list[np.ndarray], F: int, name: str = "X") -> None:
        for i, s in enumerate(seqs):
            if s.shape[1] != F:
                raise ShapeError(expected(f"{name}[{i}]", f"{F} features (as in fit)",
                                          Described(f"{s.shape[1]} (shape {s.shape})")))
            if not np.isfinite(s).all():
                raise DataError(expected(f"{name}[{i}]", "finite values",
                                         Described(f"{int((~np.isfinite(s)).sum())} NaN/inf"),
                                         "impute or drop missing values first"))

    def transform(self, X: Any, lengths: Any = None, name: str = "X") -> tuple[torch.Tensor, torch.Tensor]:
        if self.kind == "numeric":
            seqs = as_series_list(X, lengths, name)
            self._check_features(seqs, self.n_features, name)  # type: ignore[arg-type]
            cut = self.config.max_length
            scaled = [torch.as_tensor(self.scaler.transform(s[:cut] if cut else s),  # type: ignore[union-attr]
                                      dtype=torch.float32) for s in seqs]
            x, lens = pad_sequences(scaled)  # (N, T, F), (N,)
            return x, lens
        if lengths is not None:
            raise ConfigError(expected("lengths", "None for text or token inputs",
                                       Described("lengths")))
        if self.detect(X, name) == "numeric":
            raise DataError(expected(name, f"{self.kind} samples like the training data",
                                     Described("numeric arrays")))
        ids = [self.vocab.encode(toks) or [UNK_ID] for toks in self._tokens(X, name)]  # type: ignore[union-attr]
        return pad_sequences(ids)  # (N, T) long, (N,)

    # -- persistence --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "numeric":
            out.update(n_features=self.n_features, scaler=self.scaler.to_dict())  # type: ignore[union-attr]
        else:
            out["vocabulary"] = self.vocab.to_dict()  # type: ignore[union-attr]
            if self.tokenizer is not None:
                out["tokenizer"] = self.tokenizer.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], config: ClassifierModel) -> SequenceInputs:
        self = cls(data["kind"], config=config)
        if self.kind == "numeric":
            self.n_features = int(data["n_features"])
            self.scaler = Scaler.from_dict(data["scaler"])
        else:
            self.vocab = Vocabulary.from_dict(data["vocabulary"])
            if "tokenizer" in data:
                self.tokenizer = tokenizer_from_dict(data["tokenizer"])  # type: ignore[assignment]
        return self

    @property
    def input_size(self) -> int:
        """Embedding rows (vocabulary size) for tokens, features for numeric inputs."""
        return len(self.vocab) if self.vocab is not None else int(self.n_features)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------------------------
class ClassifierNet(nn.Module):
    """Embedding (token inputs) -> recurrent encoder -> pooling -> dropout -> linear.

    Args:
        n_classes: C.
        encoder: the encoder's :class:`~rnnkit.tasks.encoder.EncoderSection` (or a
            :class:`~rnnkit.nn.spec.RecurrentSpec`).
        vocab_size: embedding rows for token inputs (row 0, <pad>, stays zero); or
        n_features: F for numeric inputs (exactly one of the two).
        pooling, attention_size, embedding_dim, dropout: as in :class:`ClassifierModel`.

    Forward: ``x`` (B, T) long or (B, T, F) float, ``lengths`` (B,) -> logits (B, C).
    """

    def __init__(self, n_classes: int, encoder: EncoderSection | RecurrentSpec, *, vocab_size: int | None = None,
                 n_features: int | None = None, pooling: str = "attention",
                 attention_size: int | None = None, embedding_dim: int = 100,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if (vocab_size is None) == (n_features is None):
            raise ConfigError(expected("vocab_size/n_features", "exactly one of them",
                                       (vocab_size, n_features)))
        self.n_classes = check_positive_int("n_classes", n_classes, 2)
        self.pooling = check_choice("pooling", pooling, CLASSIFIER_POOLINGS)
        self.embedding = (nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
                          if vocab_size is not None else None)
        in_size = embedding_dim if vocab_size is not None else int(n_features)  # type: ignore[arg-type]
        self.encoder = encoder.build(in_size, return_sequences=pooling != "last")
        width = encoder.output_size
        self.attention = AttentionPooling(width, attention_size) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The pooled vector (B, D·H) and the attention weights (B, T) (None unless attention)."""
        if lengths is not None:
            x = x[:, : int(lengths.max())]  # cut the batch to its longest sequence
        B, T = x.shape[:2]
        if self.embedding is not None:
            x = self.dropout(self.embedding(x))  # (B, T) -> (B, T, E)
        h, _ = self.encoder(x, lengths=lengths)  # (B, T, D·H), or (B, D·H) for "last"
        if self.pooling == "last":
            return h, None
        mask = None if lengths is None else lengths_to_mask(lengths, T)  # (B, T)
        if self.attention is not None:
            return self.attention(h, mask)
        return pool(h, self.pooling, mask), None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        pooled, _ = self.encode(x, lengths)
        return self.head(self.dropout(pooled))  # (B, C)


def _take(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, (np.ndarray, torch.Tensor)):
        return X[idx]
    return [X[int(i)] for i in idx]


# ---------------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------------
def classification_metrics(y_true: Sequence[Any], y_pred: Sequence[Any],
                           proba: np.ndarray | None = None,
                           labels: Sequence[Any] | None = None) -> dict[str, Any]:
    """Accuracy, macro / micro / weighted F1, macro precision and recall, ROC AUC (binary, or
    macro one-vs-rest; NaN where undefined), the confusion matrix and per-class scores.

    ``proba`` columns follow ``labels`` (the classifier's ``classes_``).
    """
    rep = classification_report(np.asarray(y_true), np.asarray(y_pred), proba, labels=labels)
    return {
        "n": len(y_true),
        "accuracy": rep["accuracy"],
        "f1_macro": rep["macro"]["f1"],
        "f1_micro": rep["micro"]["f1"],
        "f1_weighted": rep["weighted"]["f1"],
        "precision_macro": rep["macro"]["precision"],
        "recall_macro": rep["macro"]["recall"],
        "roc_auc": rep.get("roc_auc", float("nan")),
        "labels": rep["labels"],
        "confusion_matrix": rep["confusion_matrix"],
        "per_class": rep["per_class"],
    }


def json_label(value: Any) -> Any:
    """A label as a JSON value: numpy scalars to Python, str/int/float/bool kept."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, (str, int, float, bool)):
        return value
    raise DataError(expected("y", "labels that are str, int, float or bool", type(value).__name__))


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
class InputList(list):  # type: ignore[type-arg]
    """A list of inputs (texts, (T_i, F) arrays) that also holds their ids from the file
    (``ids``), so :meth:`SequenceClassifier.predict_frame` can name each row."""

    def __init__(self, items: Sequence[Any] = (), ids: Sequence[Any] | None = None) -> None:
        super().__init__(items)
        self.ids = list(range(len(self))) if ids is None else list(ids)


def _read_frame(path: str | os.PathLike[str] | None, name: str = "data.path") -> Any:
    import pandas as pd

    if path is None:
        raise ConfigError(expected(name, "the path of a CSV or Parquet file", None,
                                   "set data.path in the config or pass read_data(path)"))
    p = Path(path)
    if not p.is_file():
        raise DataError(expected(name, "an existing CSV or Parquet file", str(p)))
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    return pd.read_csv(p)


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def _column(frame: Any, column: str, what: str, source: str, key: str) -> Any:
    if column not in frame.columns:
        raise DataError(expected(source, f"a {what} column {column!r}",
                                 Described(f"the columns {list(frame.columns)}"),
                                 f"set {key} to the name of that column"))
    return frame[column]


def _file_labels(frame: Any, column: str, source: str, key: str) -> list[Any]:
    values = _column(frame, column, "label", source, key)
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        raise DataError(expected(f"{source} row {int(missing[0]) + 1}", "a label",
                                 Described("an empty cell")))
    return [json_label(v) for v in values.tolist()]


def read_text_frame(frame: Any, *, text_column: str = "text", label_column: str = "label",
                    id_column: str = "id", labelled: bool = True, source: str = "data"
                    ) -> Examples:
    """Texts (and labels) of a frame with one row per text; ``ids`` from ``id_column`` when
    the frame has one, else the row numbers."""
    texts = _column(frame, text_column, "text", source, "data.text_column")
    ids = frame[id_column].tolist() if id_column in frame.columns else None
    inputs = InputList([str(t) for t in texts.fillna("").tolist()],
                       None if ids is None else [_python(i) for i in ids])
    labels = _file_labels(frame, label_column, source, "data.label_column") if labelled else None
    return Examples(inputs, labels)


def read_series_frame(frame: Any, *, id_column: str = "id", step_column: str | None = None,
                      feature_columns: Sequence[str] | None = None, label_column: str = "label",
                      labelled: bool = True, source: str = "data") -> Examples:
    """Series of a long-format frame (one row per step; see the module docstring): a list of
    (T_i, F) float arrays in the order the series first appear, and their labels."""
    columns = list(frame.columns)
    _column(frame, id_column, "series id", source, "data.id_column")
    if step_column is not None:
        _column(frame, step_column, "step", source, "data.step_column")
    step = step_column or next((c for c in STEP_COLUMNS if c in columns), None)
    if labelled:
        _column(frame, label_column, "label", source, "data.label_column")
    skip = {id_column, step, label_column}
    features = (list(feature_columns) if feature_columns is not None
                else [c for c in columns if c not in skip])
    if not features:
        raise DataError(expected(source, "at least one feature column",
                                 Described(f"the columns {columns}"), "set data.feature_columns"))
    for c in features:
        col = _column(frame, c, "feature", source, "data.feature_columns")
        if col.dtype.kind not in "biuf":
            raise DataError(expected(f"{source} column {c!r}", "numbers (a feature)",
                                     Described(f"dtype {col.dtype}"),
                                     "list the feature columns in data.feature_columns"))
    inputs, labels, ids = [], [], []
    for sid, rows in frame.groupby(id_column, sort=False):
        if step is not None:
            rows = rows.sort_values(step, kind="stable")
        inputs.append(rows[features].to_numpy(dtype=np.float64))  # (T_i, F)
        ids.append(_python(sid))
        if labelled:
            values = rows[label_column].dropna().unique()
            if len(values) != 1:
                raise DataError(expected(f"{source} series {_python(sid)!r}",
                                         "one label on all its rows",
                                         Described(f"labels {sorted(map(str, values))}")))
            labels.append(json_label(values[0]))
    return Examples(InputList(inputs, ids), labels if labelled else None)


def _unpack(data: Any, y: Any, name: str = "y") -> tuple[Any, Any]:
    """``(X, y)`` of ``data`` (Examples, or X with ``y`` beside it)."""
    if isinstance(data, Examples):
        if y is not None:
            raise ConfigError(expected(name, "None when the data are Examples (they hold the "
                                       "labels)", Described(type(y).__name__)))
        return data.inputs, data.targets
    return data, y


def _take_examples(X: Sequence[Any], labels: list[Any], index: np.ndarray) -> Examples:
    """The examples at ``index``; an :class:`InputList` keeps the ids of the rows it keeps."""
    part = Examples(X, labels).take(index)
    if isinstance(X, InputList):
        return Examples(InputList(part.inputs, [X.ids[int(i)] for i in index]), part.targets)
    return part


def _as_text(X: Sequence[Any]) -> list[str]:
    return [x if isinstance(x, str) else " ".join(x) for x in X]


# ---------------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------------
class SequenceClassifier(Task):
    """Classify whole sequences: texts, token lists or numeric multivariate series.

    Args:
        config: the whole configuration (:class:`ClassifierConfig`, or a dict of its tables,
            or None for the defaults).

    Attributes (after ``fit`` or ``load``):
        classes_: the sorted class labels; column c of :meth:`predict_proba` is ``classes_[c]``.
        class_counts_: training examples per class (the most-frequent-class baseline).
        model_: the :class:`ClassifierNet`.
        inputs_: the fitted :class:`SequenceInputs`.
        history_: the training :class:`~rnnkit.training.History`.
        fit_seconds_: wall time of the last ``fit``.
        baselines_: the baselines fitted beside the model (not saved).
        embedding_coverage_: the fraction of vocabulary words that pretrained vectors
            initialized in the last ``fit`` (None without ``pretrained_embeddings``).
    """

    name: ClassVar[str] = "classification"
    config_class: ClassVar[type[TaskConfig]] = ClassifierConfig
    legacy_names: ClassVar[tuple[str, ...]] = ("sequence_classification",)
    config: ClassifierConfig

    def __init__(self, config: ClassifierConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.classes_: list[Any] | None = None
        self.class_counts_: list[int] | None = None
        self.model_: ClassifierNet | None = None
        self.inputs_: SequenceInputs | None = None
        self.baselines_: dict[str, Any] = {}
        self.embedding_coverage_: float | None = None

    # -- files ------------------------------------------------------------------------
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Examples:
        """Texts or series (and labels) of a CSV or Parquet file in one of the two formats of
        the module docstring (``path``, else ``data.path``); ``labelled=False`` reads the
        inputs only."""
        d = self.config.data
        source = str(path if path is not None else d.path)
        frame = _read_frame(path if path is not None else d.path)
        kind = d.kind
        if kind == "auto":
            if d.text_column in frame.columns:
                kind = "text"
            elif d.id_column in frame.columns:
                kind = "series"
            else:
                raise DataError(expected(
                    source, f"a text column {d.text_column!r} or a series id column "
                    f"{d.id_column!r}", Described(f"the columns {list(frame.columns)}"),
                    "set data.kind and data.text_column or data.id_column"))
        if kind == "text":
            return read_text_frame(frame, text_column=d.text_column, id_column=d.id_column,
                                   label_column=d.label_column, labelled=labelled,
                                   source=source)
        return read_series_frame(frame, id_column=d.id_column, step_column=d.step_column,
                                 feature_columns=d.feature_columns, label_column=d.label_column,
                                 labelled=labelled, source=source)

    def split(self, data: Examples) -> tuple[Examples, Examples]:
        """``(fit_data, test_data)``: ``data.test_path`` read as the test part, else a seeded
        ``data.test`` fraction of ``data`` held out, stratified by class."""
        d = self.config.data
        if d.test_path is not None:
            return data, self.read_data(d.test_path)
        X, y = _unpack(data, None)
        if y is None:
            raise DataError(expected("data", "labelled Examples to split", Described("no labels")))
        labels = [json_label(v) for v in y]
        rest, test = split_validation(len(labels), float(d.test), d.seed, stratify=labels)
        return _take_examples(X, labels, rest), _take_examples(X, labels, test)

    def predict_frame(self, data: Any, *, lengths: Any = None) -> Any:
        """One row per input: its id and text (for series: id and number of steps), the true
        ``label`` when ``data`` has labels, the ``prediction`` and ``proba_<class>`` columns."""
        import pandas as pd

        X, y = _unpack(data, None)
        _, inputs = self._fitted()
        proba = self.predict_proba(X, lengths=lengths)
        ids = X.ids if isinstance(X, InputList) else list(range(len(proba)))
        columns: dict[str, Any] = {self.config.data.id_column: ids}
        if inputs.kind == "numeric":
            columns["steps"] = [len(s) for s in as_series_list(X, lengths)]
        else:
            columns[self.config.data.text_column] = _as_text(X)
        if y is not None:
            columns[self.config.data.label_column] = list(y)
        columns["prediction"] = [self.classes_[i] for i in proba.argmax(1)]  # type: ignore[index]
        for c, label in enumerate(self.classes_):  # type: ignore[arg-type]
            columns[f"proba_{label}"] = proba[:, c]
        return pd.DataFrame(columns)

    # -- fit --------------------------------------------------------------------------
    def _labels(self, y: Any, n: int, name: str = "y") -> list[Any]:
        if y is None:
            raise DataError(expected(name, "labels (one per sample of X)", None,
                                     "call fit(X, y), or fit(examples) with labelled Examples"))
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
        labels = [json_label(v) for v in (y.tolist() if isinstance(y, np.ndarray) else list(y))]
        if len(labels) != n:
            raise ShapeError(expected(name, f"{n} labels (one per sample of X)", len(labels)))
        return labels

    def _encode_labels(self, labels: list[Any], name: str = "y") -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.classes_)}  # type: ignore[arg-type]
        unknown = sorted({str(v) for v in labels if v not in index})
        if unknown:
            raise DataError(expected(name, f"labels among the classes seen in fit {self.classes_}",
                                     unknown[:5]))
        return torch.tensor([index[v] for v in labels], dtype=torch.long)

    def fit(self, data: Any, y: Any = None, *, lengths: Any = None,
            validation: Any = None, callbacks: Sequence[Callback] = ()) -> Self:
        """Fit the preprocessing and train the network.

        Args:
            data: the :class:`~rnnkit.tasks.base.Examples` of :meth:`read_data`, or X: texts,
                token lists, a list of (T_i, F) arrays, or an (N, T, F) array.
            y: N labels (str, int, ...), two classes or more (with X).
            lengths: (N,) real lengths for an (N, T, F) array with padding.
            validation: Examples, ``(X_val, y_val)`` (or ``(X_val, y_val, lengths_val)``), a
                fraction of the training data to hold out (stratified by class), or None:
                ``data.validation`` of the config (None there too: no validation). With
                validation data the History gets ``val_loss``, ``val_accuracy`` and
                ``val_f1_macro``, and early stopping (``[early_stopping]``) is on.
            callbacks: extra :class:`~rnnkit.training.Callback` instances for the Trainer
                (after the task's own, so they see the validation metrics).

        Returns:
            self.
        """
        t0 = time.perf_counter()
        X, y = _unpack(data, y)
        kind = SequenceInputs.detect(X)
        n = len(X)
        labels = self._labels(y, n)
        cfg, tcfg = self.config.model, self.config.training
        if validation is None:
            validation = self.config.data.validation
        if isinstance(validation, Examples):
            validation = (validation.inputs, validation.targets)
        if isinstance(validation, float):
            seed = self.config.data.seed
            tr, va = split_validation(n, validation, seed, stratify=labels)
            validation = (_take(X, va), [labels[i] for i in va],
                          *(() if lengths is None else (_take(lengths, va),)))
            X, labels = _take(X, tr), [labels[i] for i in tr]
            lengths = None if lengths is None else _take(lengths, tr)
        try:
            classes = sorted(set(labels))
        except TypeError as exc:
            raise DataError(expected("y", "labels of one type (all str or all numbers)",
                                     sorted({type(v).__name__ for v in labels}))) from exc
        if len(classes) < 2:
            raise DataError(expected("y", "at least two classes", classes))
        self.classes_ = classes
        counts = Counter(labels)
        self.class_counts_ = [counts[c] for c in classes]
        self.inputs_ = SequenceInputs(kind, config=cfg).fit(X, lengths)
        x, lens = self.inputs_.transform(X, lengths)
        yt = self._encode_labels(labels)

        seed = 0 if tcfg.seed is None else tcfg.seed
        if tcfg.seed is not None:
            seed_everything(tcfg.seed)  # the initial weights depend on the seed too
        self.model_ = self._build()
        self.embedding_coverage_ = self._init_pretrained(seed)
        train = make_loader(x, yt, lens, tcfg.batch_size, shuffle=tcfg.shuffle,
                            bucket=cfg.bucket, seed=seed)
        own: list[Callback] = []
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
                raise ConfigError(expected("validation", "(X_val, y_val), (X_val, y_val, "
                                           "lengths_val), Examples, a fraction or None",
                                           type(validation).__name__))
            Xv, yv = validation[0], validation[1]
            lv = validation[2] if len(validation) == 3 else None
            xv, lenv = self.inputs_.transform(Xv, lv, name="validation X")
            yvt = self._encode_labels(self._labels(yv, len(lenv), "validation y"), "validation y")

            def val_metrics() -> dict[str, float]:
                logits = self._logits_of(xv, lenv)  # (N_val, C), in eval mode
                pred = logits.argmax(-1)
                return {"loss": float(F.cross_entropy(logits, yvt)),
                        "accuracy": accuracy(yvt, pred),
                        "f1_macro": f1(yvt, pred, average="macro")}

            own.append(HistoryMetrics(val_metrics))
            stopping = self.config.early_stopping.callback()
            if stopping is not None:
                own.append(stopping)
        trainer = Trainer(self.model_, tcfg, loss="cross_entropy", callbacks=[*own, *callbacks])
        self.history_ = trainer.fit(train)
        self.model_.eval()
        self.baselines_ = self._fit_baselines(X, labels, lengths)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _fit_baselines(self, X: Any, labels: list[Any], lengths: Any) -> dict[str, Any]:
        """The bag-of-words (texts, tokens) or bag-of-features (series) baseline, fitted on
        the same training data (``evaluation.baselines``)."""
        if not self.config.evaluation.baselines:
            return {}
        from rnnkit.baselines.text import BagOfFeaturesClassifier, BagOfWordsClassifier

        if self.inputs_.kind == "numeric":  # type: ignore[union-attr]
            return {"bag_of_features": BagOfFeaturesClassifier().fit(X, labels, lengths=lengths)}
        return {"bag_of_words": BagOfWordsClassifier().fit(_as_text(X), labels)}

    def _init_pretrained(self, seed: int) -> float | None:
        """Copy pretrained word vectors into the embedding (``model.pretrained_embeddings``);
        returns the fraction of the vocabulary's words they covered (None without vectors)."""
        cfg, model = self.config.model, self.model_
        if cfg.pretrained_embeddings is None:
            return None
        if model.embedding is None:  # type: ignore[union-attr]
            raise ConfigError(expected("pretrained_embeddings", "None for numeric inputs "
                                       "(word vectors need text or token inputs)",
                                       cfg.pretrained_embeddings))
        from rnnkit.datasets.word_vectors import init_embedding

        return init_embedding(model.embedding, self.inputs_.vocab,  # type: ignore[union-attr, arg-type]
                              cfg.pretrained_embeddings, freeze=cfg.freeze_embeddings, seed=seed)

    def _build(self) -> ClassifierNet:
        cfg, inp = self.config.model, self.inputs_
        token = inp.kind != "numeric"  # type: ignore[union-attr]
        return ClassifierNet(len(self.classes_), cfg.encoder,  # type: ignore[arg-type]
                             vocab_size=inp.input_size if token else None,  # type: ignore[union-attr]
                             n_features=None if token else inp.input_size,  # type: ignore[union-attr]
                             pooling=cfg.pooling, attention_size=cfg.attention_size,
                             embedding_dim=cfg.embedding_dim, dropout=cfg.dropout)

    # -- predict ----------------------------------------------------------------------
    def _fitted(self) -> tuple[ClassifierNet, SequenceInputs]:
        if self.model_ is None or self.inputs_ is None:
            raise ConfigError(expected("SequenceClassifier", "a fitted classifier",
                                       Described("an unfitted one"),
                                       "call fit(X, y) or SequenceClassifier.load(path) first"))
        return self.model_, self.inputs_

    @torch.no_grad()
    def _logits_of(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits (N, C) of encoded inputs, computed in eval mode (the mode is restored)."""
        model, _ = self._fitted()
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        try:
            rows = run_in_length_order(
                lambda xb, lb: model(xb.to(device), lb.to(device)).float().cpu(),
                x, lengths, eval_batch_size(self.config.training))
        finally:
            model.train(was_training)
        return torch.stack(rows)  # (N, C)

    def _logits(self, X: Any, lengths: Any = None) -> torch.Tensor:
        _, inputs = self._fitted()
        X, _ = _unpack(X, None)
        return self._logits_of(*inputs.transform(X, lengths))

    def predict_proba(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Class probabilities (N, C) (softmax of the logits); column c is ``classes_[c]``."""
        return torch.softmax(self._logits(X, lengths), dim=-1).double().numpy()

    def predict(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """The most probable class label of every sample, (N,) (X: inputs or Examples)."""
        idx = self._logits(X, lengths).argmax(-1).numpy()
        return np.asarray(self.classes_)[idx]

    @torch.no_grad()
    def attention(self, X: Any, *, lengths: Any = None) -> list[np.ndarray]:
        """Attention weights of every sample over its real steps (each sums to 1); needs
        ``pooling="attention"``."""
        model, inputs = self._fitted()
        if model.attention is None:
            raise ConfigError(expected("pooling", "'attention' to get attention weights",
                                       self.config.model.pooling))
        x, lens = inputs.transform(X, lengths)
        device = next(model.parameters()).device
        model.eval()
        rows = run_in_length_order(lambda xb, lb: model.encode(xb.to(device), lb.to(device))[1].cpu(),
                                   x, lens, eval_batch_size(self.config.training))
        return [r[: int(n)].double().numpy() for r, n in zip(rows, lens)]

    def evaluate(self, data: Any, y: Any = None, *, lengths: Any = None) -> Report:
        """The model's metrics on labelled data (:func:`classification_metrics`) beside the
        baselines': the most frequent training class, and the bag of words (texts) or of
        features (series) when fitted (``evaluation.baselines``).

        Returns:
            a :class:`~rnnkit.tasks.base.Report`: ``accuracy`` (primary), macro / micro /
            weighted F1, macro precision and recall, ROC AUC per model; ``n``, ``labels``,
            ``confusion_matrix`` and ``per_class`` (the model's) in its details, so
            ``report["confusion_matrix"]`` works as it did.
        """
        X, y = _unpack(data, y)
        labels = self._labels(y, len(X))
        proba = self.predict_proba(X, lengths=lengths)
        pred = [self.classes_[i] for i in proba.argmax(1)]  # type: ignore[index]
        model_m = classification_metrics(labels, pred, proba, labels=self.classes_)
        baselines: dict[str, dict[str, Any]] = {}
        if self.class_counts_ is not None:
            prior = np.asarray(self.class_counts_, dtype=np.float64)
            prior /= prior.sum()
            top = self.classes_[int(prior.argmax())]  # type: ignore[index]
            baselines["most_frequent"] = _scalars(classification_metrics(
                labels, [top] * len(labels), np.tile(prior, (len(labels), 1)),
                labels=self.classes_))
        for name, baseline in self.baselines_.items():
            if name == "bag_of_features":
                m = baseline.evaluate(X, labels, lengths=lengths)
            else:
                m = baseline.evaluate(_as_text(X), labels)
            baselines[name] = _scalars(m)
        details = {k: model_m[k] for k in _DETAILS}
        return Report(self.name, _scalars(model_m), baselines=baselines, primary="accuracy",
                      higher_is_better=True, details=details)

    # -- the bundle -------------------------------------------------------------------
    def _preprocessing(self) -> dict[str, Any]:
        _, inputs = self._fitted()
        return {"inputs": inputs.to_dict(), "classes": self.classes_,
                "class_counts": self.class_counts_}

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.classes_ = list(preprocessing["classes"])
        counts = preprocessing.get("class_counts")
        self.class_counts_ = None if counts is None else [int(c) for c in counts]
        self.inputs_ = SequenceInputs.from_dict(preprocessing["inputs"], self.config.model)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> ClassifierConfig:
        """The saved config; bundles written before the one task interface kept the model
        fields (``patience`` and ``monitor`` among them) and the training apart."""
        if "config" in bundle.config:
            return ClassifierConfig.from_dict(bundle.config["config"])
        return ClassifierConfig.from_dict(legacy_config(bundle.config))


#: The model's scalar metrics in a Report; the rest of :func:`classification_metrics` goes to
#: its details.
_SCALARS = ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "precision_macro",
            "recall_macro", "roc_auc")
_DETAILS = ("n", "labels", "confusion_matrix", "per_class")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in _SCALARS if k in metrics}


# kept for the baselines that import it by its former name
_json_label = json_label
