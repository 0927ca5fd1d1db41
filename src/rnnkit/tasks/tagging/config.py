"""The configuration of a :class:`~rnnkit.tasks.tagging.SequenceTagger` (:class:`TaggerConfig`):
``[data]`` (:class:`TaggerData`), ``[model]`` (:class:`TaggerModel`, with its ``encoder``),
``[training]``, ``[early_stopping]`` and ``[evaluation]``.

A TOML file::

    task = "tagging"

    [data]
    path = "train.conll"        # relative to this file
    test_path = "test.conll"    # or test = 0.1 (a fraction of the sentences)
    validation = 0.05

    [model]
    crf = true
    encoder = { cell = "lstm", hidden_size = 64, bidirectional = true }

    [training]                  # rnnkit.training.TrainerConfig
    epochs = 5
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

__all__ = ["TaggerConfig", "TaggerData", "TaggerModel"]


class TaggerData(DataFiles):
    """``[data]``: the CoNLL file (``path``), the test part (``test_path``, else a seeded
    ``test`` fraction of the sentences) and the validation fraction ``fit`` holds out
    (:class:`~rnnkit.tasks.encoder.DataFiles`)."""


class TaggerModel(PretrainedEmbeddings):
    """``[model]``: what a :class:`SequenceTagger` builds and how it reads tokens.

    Attributes:
        encoder: the recurrent encoder (:class:`~rnnkit.tasks.encoder.EncoderSection`;
            default: a bidirectional LSTM, 64 units each way); ``cell`` takes a name or, in
            Python, a :class:`~rnnkit.nn.RecurrentCell` subclass.
        embedding_dim: E_w, word embedding size.
        lowercase: look words up lower-cased (the shape feature keeps the case information).
        min_freq: words seen fewer times in training map to <unk> (2 trains <unk> on the
            words seen once).
        max_vocab: cap on the word vocabulary, reserved tokens included (None: no cap).
        suffix_length: k, the suffix feature is the last k characters (0: no suffix feature).
        suffix_dim: E_s.
        shape_dim: E_h, the shape embedding size (0: no shape feature).
        crf: decode with a CRF (Viterbi) and train on the sequence log-likelihood.
        dropout: on the token features and on the encoder output (training only).
        bucket: batch sentences of similar length together during training.
        pretrained_embeddings: start the word embedding from pretrained vectors (a name such
            as ``"glove-6b-100d"`` or a word-vector file; see
            :func:`rnnkit.datasets.word_vectors.init_embedding`); ``embedding_dim`` must match.
            Only ``fit`` reads them: a saved tagger loads without them.
        freeze_embeddings: keep the word embedding fixed during training.
    """

    encoder: EncoderSection = Field(default_factory=EncoderSection)
    embedding_dim: int = Field(100, ge=1)
    lowercase: bool = True
    min_freq: int = Field(2, ge=1)
    max_vocab: int | None = Field(50_000, ge=5)
    suffix_length: int = Field(3, ge=0)
    suffix_dim: int = Field(32, ge=1)
    shape_dim: int = Field(8, ge=0)
    crf: bool = True
    dropout: float = Field(0.25, ge=0.0, lt=1.0)
    bucket: bool = True


class TaggerConfig(TaskConfig):
    """The whole configuration of a :class:`SequenceTagger` (a TOML file's tables).

    Attributes:
        data: :class:`TaggerData`.
        model: :class:`TaggerModel`.
        training: :class:`~rnnkit.training.TrainerConfig` (defaults:
            :func:`~rnnkit.tasks.encoder.default_training`; a table overrides them key by key).
        early_stopping: patience (default 3) and the monitored key (``val_loss`` or
            ``val_token_accuracy``), used when there is validation data.
        evaluation: whether ``fit`` also fits the most-frequent-tag baseline.
    """

    task: Literal["tagging"] = "tagging"
    data: TaggerData = Field(default_factory=TaggerData)
    model: TaggerModel = Field(default_factory=TaggerModel)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    section_defaults: ClassVar[dict[str, dict[str, Any]]] = {
        "training": ENCODER_TRAINING, "early_stopping": {"patience": 3}}

    @field_validator("training", mode="after")
    @classmethod
    def _cross_entropy(cls, value: TrainerConfig) -> TrainerConfig:
        return cross_entropy(value)

