r"""Sequence classification: one label per sequence (sentiment of a sentence, speaker of an
utterance), binary or multi-class.

Texts, token lists or numeric multivariate series of any length go in; labels come out::

    text / tokens ──tokenize, Vocabulary──▶ ids (B, T) ──Embedding(padding_idx=0)──▶ (B, T, E) ─┐
    series (T_i, F) ──fitted scaler──▶ (B, T, F) ─────────────────────────────────────────────┤
                                                                                               ▼
          (Bi)LSTM / GRU encoder (RecurrentSpec, lengths) ──▶ (B, T, D·H) ──pool──▶ (B, D·H)
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

The API is symmetric: ``fit(X, y, validation=...)``, ``predict``, ``predict_proba``,
``evaluate`` (accuracy, macro / micro / weighted F1, ROC AUC, confusion matrix),
``save(path)`` and ``SequenceClassifier.load(path)``. A saved model is an rnnkit bundle
(:mod:`rnnkit.bundle`): safetensors weights plus JSON for the configuration, the vocabulary
or the fitted scaler and the class labels, so loading executes no pickled code. With a fixed
``TrainerConfig.seed`` two fits give the same predictions, and a saved then loaded model
predicts exactly what the original did.

Example:
    >>> texts = ["good film", "bad film", "really good", "really bad"] * 8
    >>> labels = ["pos", "neg", "pos", "neg"] * 8
    >>> clf = SequenceClassifier(ClassifierConfig(pooling="mean"),
    ...                          TrainerConfig(epochs=3, seed=0, device="cpu"))
    >>> clf.fit(texts, labels).predict(["good", "bad"]).shape
    (2,)
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import (
    Described,
    check_choice,
    check_positive_int,
    check_probability,
    expected,
)
from rnnkit.bundle import load_bundle, save_bundle
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
from rnnkit.training import Callback, EarlyStopping, History, Trainer, TrainerConfig
from rnnkit.training.seeding import seed_everything

__all__ = [
    "CLASSIFIER_POOLINGS",
    "TASK",
    "ClassifierConfig",
    "ClassifierNet",
    "HistoryMetrics",
    "SequenceClassifier",
    "SequenceInputs",
    "classification_metrics",
    "config_from_dict",
    "default_training",
    "make_loader",
    "run_in_length_order",
    "split_validation",
]

#: The task name written into bundles.
TASK = "sequence_classification"
CLASSIFIER_POOLINGS = ("last", "mean", "max", "attention")
_TOKENIZERS = ("word", "char")


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
def _default_encoder() -> RecurrentSpec:
    return RecurrentSpec(cell="lstm", hidden_size=64, bidirectional=True)


def _spec_from(value: Any, name: str = "encoder") -> RecurrentSpec:
    if isinstance(value, RecurrentSpec):
        return value
    if isinstance(value, Mapping):
        known = {f.name for f in dataclasses.fields(RecurrentSpec)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ConfigError(expected(f"{name} keys", f"a subset of {sorted(known)}", unknown))
        return RecurrentSpec(**value)
    raise ConfigError(expected(name, "a RecurrentSpec or a dict of its fields",
                               type(value).__name__))


def config_from_dict(cls: type, data: Mapping[str, Any] | None, name: str) -> Any:
    """Build the frozen dataclass ``cls`` from a dict (a TOML table), refusing unknown keys
    and turning a nested ``encoder`` table into a :class:`RecurrentSpec`."""
    data = dict(data or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(expected(f"{name} keys", f"a subset of {sorted(known)}", unknown))
    if "encoder" in data:
        data["encoder"] = _spec_from(data["encoder"], f"{name}.encoder")
    return cls(**data)


def check_pretrained_source(value: Any, name: str = "pretrained_embeddings") -> None:
    """None, or a non-empty str (a vector-set name or a file path; resolved in ``fit``)."""
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(expected(name, "a vector-set name or a file path", value))


def _check_optional_int(name: str, value: Any, minimum: int = 1) -> None:
    if value is not None:
        check_positive_int(name, value, minimum)


class EncoderTaskConfig:
    """JSON round trip and a short repr for the frozen dataclass configs of the tasks that
    hold an ``encoder`` :class:`RecurrentSpec` (decorate subclasses with
    ``@dataclass(frozen=True, repr=False)`` so that this repr is kept)."""

    encoder: RecurrentSpec

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)  # type: ignore[call-overload]
        out["encoder"] = self.encoder.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Any:
        return config_from_dict(cls, data, cls.__name__)

    def __repr__(self) -> str:
        """Only the fields that differ from the defaults."""
        blank = type(self)()
        changed = [f"{f.name}={getattr(self, f.name)!r}"
                   for f in dataclasses.fields(self)  # type: ignore[arg-type]
                   if getattr(self, f.name) != getattr(blank, f.name)]
        return f"{type(self).__name__}({', '.join(changed)})"


@dataclass(frozen=True, repr=False)
class ClassifierConfig(EncoderTaskConfig):
    """What a :class:`SequenceClassifier` builds and how it preprocesses; JSON-serializable.

    Attributes:
        encoder: the recurrent encoder (default: a bidirectional LSTM, 64 units each way).
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
        patience: early-stopping patience in epochs when validation data is given (None: off);
            the best epoch's weights are restored.
        monitor: the History key early stopping watches (``"val_loss"``, ``"val_accuracy"``).
        bucket: batch sequences of similar length together during training.
        pretrained_embeddings: initialize the embedding rows of the vocabulary's words from
            pretrained word vectors (token inputs only): a name of
            :data:`~rnnkit.data.embeddings.PRETRAINED_VECTORS` (``"glove-6b-100d"``) or the
            path of a word-vector file (see :func:`~rnnkit.data.embeddings.load_word_vectors`).
            ``embedding_dim`` must equal the vectors' size. Only ``fit`` reads the vectors: a
            saved model carries its trained embedding and loads without them.
        freeze_embeddings: keep the embedding fixed during training (with pretrained vectors).
    """

    encoder: RecurrentSpec = field(default_factory=_default_encoder)
    pooling: str = "attention"
    attention_size: int | None = None
    embedding_dim: int = 100
    dropout: float = 0.2
    tokenizer: str = "word"
    lowercase: bool = True
    min_freq: int = 1
    max_vocab: int | None = 30_000
    max_length: int | None = None
    scaler: str = "standard"
    patience: int | None = 5
    monitor: str = "val_loss"
    bucket: bool = True
    pretrained_embeddings: str | None = None
    freeze_embeddings: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.encoder, RecurrentSpec):
            object.__setattr__(self, "encoder", _spec_from(self.encoder))
        check_choice("pooling", self.pooling, CLASSIFIER_POOLINGS)
        _check_optional_int("attention_size", self.attention_size)
        check_positive_int("embedding_dim", self.embedding_dim)
        check_probability("dropout", self.dropout)
        check_choice("tokenizer", self.tokenizer, _TOKENIZERS)
        check_positive_int("min_freq", self.min_freq)
        _check_optional_int("max_vocab", self.max_vocab, 5)
        _check_optional_int("max_length", self.max_length)
        make_scaler(self.scaler)  # validates the name
        _check_optional_int("patience", self.patience)
        if not isinstance(self.monitor, str) or not self.monitor:
            raise ConfigError(expected("monitor", "a History key such as 'val_loss'", self.monitor))
        check_pretrained_source(self.pretrained_embeddings)


def task_configs(config_cls: type, config: Any, training: Any) -> tuple[Any, TrainerConfig]:
    """A task's ``(config, training)``: ``config_cls()`` and :func:`default_training` where
    None, each checked for its type, the training loss set to cross-entropy (recorded; the
    classifier and the tagger train with their own)."""
    config = config_cls() if config is None else config
    if not isinstance(config, config_cls):
        name = config_cls.__name__
        raise ConfigError(expected("config", f"a {name}", type(config).__name__,
                                   f"build one with {name}.from_dict(table)"))
    training = default_training() if training is None else training
    if not isinstance(training, TrainerConfig):
        raise ConfigError(expected("training", "a TrainerConfig", type(training).__name__))
    return config, training.replace(loss="cross_entropy")


def default_training(**changes: Any) -> TrainerConfig:
    """The TrainerConfig the tasks use when none is given: 10 epochs of Adam (lr 2e-3), batches
    of 32, gradient norm clipped at 5, seed 0."""
    base = {"epochs": 10, "batch_size": 32, "lr": 2e-3, "clipnorm": 5.0, "seed": 0}
    return TrainerConfig(**{**base, **changes})


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

    def __init__(self, kind: str, *, config: ClassifierConfig) -> None:
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
    def from_dict(cls, data: Mapping[str, Any], config: ClassifierConfig) -> SequenceInputs:
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
        encoder: the :class:`RecurrentSpec` of the encoder.
        vocab_size: embedding rows for token inputs (row 0, <pad>, stays zero); or
        n_features: F for numeric inputs (exactly one of the two).
        pooling, attention_size, embedding_dim, dropout: as in :class:`ClassifierConfig`.

    Forward: ``x`` (B, T) long or (B, T, F) float, ``lengths`` (B,) -> logits (B, C).
    """

    def __init__(self, n_classes: int, encoder: RecurrentSpec, *, vocab_size: int | None = None,
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


class HistoryMetrics(Callback):
    """Adds ``val_<name>`` entries from ``compute() -> {name: value}`` to every History row
    (place it before callbacks that monitor them, such as EarlyStopping).

    The classification and tagging tasks validate through this callback because their
    validation metrics (accuracy, macro F1, token accuracy) need the decoded predictions
    (Viterbi for the CRF), not only the loss that ``Trainer.fit(val_data=...)`` computes; the
    callable runs the model in eval mode.
    """

    def __init__(self, compute: Callable[[], dict[str, float]]) -> None:
        self.compute = compute

    def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
        for k, v in self.compute().items():
            trainer.history.record(f"val_{k}", v)


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


def _json_label(value: Any) -> Any:
    """A label as a JSON value: numpy scalars to Python, str/int/float/bool kept."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, (str, int, float, bool)):
        return value
    raise DataError(expected("y", "labels that are str, int, float or bool", type(value).__name__))


# ---------------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------------
class SequenceClassifier:
    """Classify whole sequences: texts, token lists or numeric multivariate series.

    Args:
        config: the model and preprocessing (:class:`ClassifierConfig`; defaults if None).
        training: the training run (:class:`~rnnkit.training.TrainerConfig`; defaults to
            :func:`default_training`). Its ``loss`` is ignored: classification is trained
            with cross-entropy.

    Attributes (after ``fit`` or ``load``):
        classes_: the sorted class labels; column c of :meth:`predict_proba` is ``classes_[c]``.
        model_: the :class:`ClassifierNet`.
        inputs_: the fitted :class:`SequenceInputs`.
        history_: the training :class:`~rnnkit.training.History` (empty after ``load``).
        fit_seconds_: wall time of the last ``fit``.
        embedding_coverage_: the fraction of vocabulary words that pretrained vectors
            initialized in the last ``fit`` (None without ``pretrained_embeddings``).
    """

    def __init__(self, config: ClassifierConfig | None = None,
                 training: TrainerConfig | None = None) -> None:
        self.config, self.training = task_configs(ClassifierConfig, config, training)
        self.classes_: list[Any] | None = None
        self.model_: ClassifierNet | None = None
        self.inputs_: SequenceInputs | None = None
        self.history_ = History()
        self.fit_seconds_ = 0.0
        self.embedding_coverage_: float | None = None

    def __repr__(self) -> str:
        return f"SequenceClassifier({self.config!r}, {self.training!r})"

    # -- fit --------------------------------------------------------------------------
    def _labels(self, y: Any, n: int, name: str = "y") -> list[Any]:
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
        labels = [_json_label(v) for v in (y.tolist() if isinstance(y, np.ndarray) else list(y))]
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

    def fit(self, X: Any, y: Any, *, lengths: Any = None,
            validation: tuple[Any, ...] | float | None = None) -> Self:
        """Fit the preprocessing and train the network.

        Args:
            X: texts, token lists, a list of (T_i, F) arrays, or an (N, T, F) array.
            y: N labels (str, int, ...), two classes or more.
            lengths: (N,) real lengths for an (N, T, F) array with padding.
            validation: ``(X_val, y_val)`` (or ``(X_val, y_val, lengths_val)``), or a fraction
                of the training data to hold out (stratified by class), or None. With
                validation data the History gets ``val_loss``, ``val_accuracy`` and
                ``val_f1_macro``, and early stopping (``config.patience``) is on.

        Returns:
            self.
        """
        t0 = time.perf_counter()
        kind = SequenceInputs.detect(X)
        n = len(X)
        labels = self._labels(y, n)
        if isinstance(validation, float):
            tr, va = split_validation(n, validation, self.training.seed or 0, stratify=labels)
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
        self.inputs_ = SequenceInputs(kind, config=self.config).fit(X, lengths)
        x, lens = self.inputs_.transform(X, lengths)
        yt = self._encode_labels(labels)

        cfg, tcfg = self.config, self.training
        seed = 0 if tcfg.seed is None else tcfg.seed
        if tcfg.seed is not None:
            seed_everything(tcfg.seed)  # the initial weights depend on the seed too
        self.model_ = self._build()
        self.embedding_coverage_ = self._init_pretrained(seed)
        train = make_loader(x, yt, lens, tcfg.batch_size, shuffle=tcfg.shuffle,
                            bucket=cfg.bucket, seed=seed)
        callbacks: list[Callback] = []
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
                raise ConfigError(expected("validation", "(X_val, y_val), (X_val, y_val, "
                                           "lengths_val), a fraction or None",
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

            callbacks.append(HistoryMetrics(val_metrics))
            if cfg.patience is not None:
                callbacks.append(EarlyStopping(monitor=cfg.monitor, patience=cfg.patience))
        trainer = Trainer(self.model_, tcfg, loss="cross_entropy", callbacks=callbacks)
        self.history_ = trainer.fit(train)
        self.model_.eval()
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _init_pretrained(self, seed: int) -> float | None:
        """Copy pretrained word vectors into the embedding (``config.pretrained_embeddings``);
        returns the fraction of the vocabulary's words they covered (None without vectors)."""
        cfg, model = self.config, self.model_
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
        cfg, inp = self.config, self.inputs_
        token = inp.kind != "numeric"  # type: ignore[union-attr]
        return ClassifierNet(len(self.classes_), cfg.encoder,  # type: ignore[arg-type]
                             vocab_size=inp.input_size if token else None,  # type: ignore[union-attr]
                             n_features=None if token else inp.input_size,  # type: ignore[union-attr]
                             pooling=cfg.pooling, attention_size=cfg.attention_size,
                             embedding_dim=cfg.embedding_dim, dropout=cfg.dropout)

    # -- predict ----------------------------------------------------------------------
    def _require_fitted(self) -> tuple[ClassifierNet, SequenceInputs]:
        if self.model_ is None or self.inputs_ is None:
            raise ConfigError(expected("SequenceClassifier", "a fitted classifier",
                                       Described("an unfitted one"),
                                       "call fit(X, y) or SequenceClassifier.load(path) first"))
        return self.model_, self.inputs_

    @torch.no_grad()
    def _logits_of(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits (N, C) of encoded inputs, computed in eval mode (the mode is restored)."""
        model, _ = self._require_fitted()
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        try:
            rows = run_in_length_order(
                lambda xb, lb: model(xb.to(device), lb.to(device)).float().cpu(),
                x, lengths, eval_batch_size(self.training))
        finally:
            model.train(was_training)
        return torch.stack(rows)  # (N, C)

    def _logits(self, X: Any, lengths: Any = None) -> torch.Tensor:
        _, inputs = self._require_fitted()
        return self._logits_of(*inputs.transform(X, lengths))

    def predict_proba(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """Class probabilities (N, C) (softmax of the logits); column c is ``classes_[c]``."""
        return torch.softmax(self._logits(X, lengths), dim=-1).double().numpy()

    def predict(self, X: Any, *, lengths: Any = None) -> np.ndarray:
        """The most probable class label of every sample, (N,)."""
        idx = self._logits(X, lengths).argmax(-1).numpy()
        return np.asarray(self.classes_)[idx]

    @torch.no_grad()
    def attention(self, X: Any, *, lengths: Any = None) -> list[np.ndarray]:
        """Attention weights of every sample over its real steps (each sums to 1); needs
        ``pooling="attention"``."""
        model, inputs = self._require_fitted()
        if model.attention is None:
            raise ConfigError(expected("pooling", "'attention' to get attention weights",
                                       self.config.pooling))
        x, lens = inputs.transform(X, lengths)
        device = next(model.parameters()).device
        model.eval()
        rows = run_in_length_order(lambda xb, lb: model.encode(xb.to(device), lb.to(device))[1].cpu(),
                                   x, lens, eval_batch_size(self.training))
        return [r[: int(n)].double().numpy() for r, n in zip(rows, lens)]

    def evaluate(self, X: Any, y: Any, *, lengths: Any = None) -> dict[str, Any]:
        """Metrics on labelled data (see :func:`classification_metrics`)."""
        labels = self._labels(y, len(X))
        proba = self.predict_proba(X, lengths=lengths)
        pred = [self.classes_[i] for i in proba.argmax(1)]  # type: ignore[index]
        return classification_metrics(labels, pred, proba, labels=self.classes_)

    # -- persistence ------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, metrics: dict[str, Any] | None = None) -> Path:
        """Write an rnnkit bundle (weights as safetensors, everything else as JSON)."""
        model, inputs = self._require_fitted()
        return save_bundle(
            path, task=TASK, model=model,
            config={"model": self.config.to_dict(), "training": self.training.to_dict(),
                    "n_classes": len(self.classes_)},  # type: ignore[arg-type]
            preprocessing={"inputs": inputs.to_dict(), "classes": self.classes_},
            metrics=metrics or _history_summary(self.history_))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SequenceClassifier:
        """Rebuild a classifier saved with :meth:`save` (no pickled code is executed)."""
        bundle = load_bundle(path, task=TASK)
        self = cls(ClassifierConfig.from_dict(bundle.config["model"]),
                   TrainerConfig.from_dict(bundle.config["training"]))
        self.classes_ = list(bundle.preprocessing["classes"])
        self.inputs_ = SequenceInputs.from_dict(bundle.preprocessing["inputs"], self.config)
        self.model_ = self._build()
        self.model_.load_state_dict(bundle.state_dict)
        self.model_.eval()
        return self


def _history_summary(history: History) -> dict[str, Any]:
    """The last epoch's row and the number of epochs, for a bundle's metrics.json."""
    if not len(history):
        return {}
    last = {k: v for k, v in history[-1].items()
            if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))}
    return {"epochs": len(history), "last_epoch": last}
