"""The configuration of a :class:`~rnnkit.tasks.classification.SequenceClassifier`
(:class:`ClassifierConfig`): ``[data]`` (:class:`ClassifierData`), ``[model]``
(:class:`ClassifierModel`, with its ``encoder``), ``[training]``, ``[early_stopping]`` and
``[evaluation]``.

A TOML file::

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
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from rnnkit.tasks.base import TaskConfig
from rnnkit.tasks.encoder import (
    ENCODER_TRAINING,
    DataFiles,
    EncoderSection,
    EvaluationSection,
    PretrainedEmbeddings,
    cross_entropy,
)
from rnnkit.training import TrainerConfig

__all__ = ["ClassifierConfig", "ClassifierData", "ClassifierModel"]


class ClassifierData(DataFiles):
    """``[data]``: the user's file (see :mod:`.files` for the two formats) and its split
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


class ClassifierModel(PretrainedEmbeddings):
    """``[model]``: what a :class:`SequenceClassifier` builds and how it preprocesses.

    Attributes:
        encoder: the recurrent encoder (:class:`~rnnkit.tasks.encoder.EncoderSection`;
            default: a bidirectional LSTM, 64 units each way); ``cell`` takes a name or, in
            Python, a :class:`~rnnkit.nn.RecurrentCell` subclass.
        pooling: ``"last"``, ``"mean"``, ``"max"`` or ``"attention"`` (see :mod:`.network`).
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
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    section_defaults: ClassVar[dict[str, dict[str, Any]]] = {"training": ENCODER_TRAINING}

    @field_validator("training", mode="after")
    @classmethod
    def _cross_entropy(cls, value: TrainerConfig) -> TrainerConfig:
        return cross_entropy(value)

