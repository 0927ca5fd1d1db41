"""The language model's configuration: ``[data]``, ``[model]`` (with ``encoder``),
``[training]`` (a :class:`~rnnkit.training.TrainerConfig` over the language model's own
defaults), ``[early_stopping]``, ``[generation]`` and ``[evaluation]``; and the reading of
configs saved before the Task API.

Example::

    >>> cfg = LanguageModelConfig.from_dict({"training": {"lr": 1e-3}})
    >>> cfg.training.lr, cfg.training.tbptt_steps, cfg.model.encoder.hidden_size
    (0.001, 100, 256)
    >>> LanguageModelConfig.from_toml_string(cfg.to_toml()) == cfg
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from rnnkit._validation import expected
from rnnkit.config import Section
from rnnkit.nn import Recurrent
from rnnkit.tasks.base import TaskConfig
from rnnkit.tasks.recurrent_section import RecurrentSection

__all__ = [
    "LEVELS",
    "LM_CELLS",
    "LM_TRAINING",
    "DataSection",
    "EncoderSection",
    "EvaluationSection",
    "GenerationSection",
    "LanguageModelConfig",
    "ModelSection",
    "legacy_config",
]

LEVELS = ("char", "word")
#: the cells a language model takes by name (a RecurrentCell subclass is also accepted)
LM_CELLS = ("lstm", "gru")


# -----------------------------------------------------------------------------------------
# the configuration
# -----------------------------------------------------------------------------------------
class DataSection(Section):
    """The text and how it is cut.

    Attributes:
        path: a plain UTF-8 text file (for ``rnnkit train``; relative to the config file's
            folder). Optional in Python, where ``fit`` takes the text itself.
        validation: the fraction of the fitting text, from its end, that ``fit`` holds out to
            validate on (None: validate only on an explicit ``fit(..., validation=text)``).
        test: the fraction of the whole text, from its end, that :meth:`LanguageModel.split`
            keeps for the test (0: none).
        epochs_per_pass: Trainer epochs per pass over the training text (each epoch trains on
            the next slice of every stream, then validates).
        val_tokens: validate on at most this many tokens of the validation text.
    """

    path: str | None = None
    validation: float | None = Field(None, gt=0.0, lt=1.0)
    test: float = Field(0.1, ge=0.0, lt=1.0)
    epochs_per_pass: int = Field(1, ge=1)
    val_tokens: int | None = Field(50_000, ge=2)


class EncoderSection(RecurrentSection):
    """The recurrent stack (:class:`~rnnkit.tasks.recurrent_section.RecurrentSection`, 256
    units by default). ``cell`` is ``"lstm"`` or ``"gru"`` (:data:`LM_CELLS`), or in Python a
    :class:`~rnnkit.nn.RecurrentCell` subclass. ``bidirectional`` must stay False: a
    next-token model may not read the future.
    """

    hidden_size: int = Field(256, ge=1)

    @model_validator(mode="after")
    def _left_to_right(self) -> Self:
        if isinstance(self.cell, str) and self.cell not in LM_CELLS:
            raise ValueError(expected("cell", f"one of {list(LM_CELLS)} or a RecurrentCell "
                                      "subclass", self.cell))
        if self.bidirectional:
            raise ValueError(expected("bidirectional", "False for a language model", True,
                                      "a next-token model may not read the future"))
        return self

    def build(self, input_size: int, **overrides: Any) -> Recurrent:
        """The stack for ``input_size`` features per step (no finiteness check: the inputs are
        embeddings)."""
        return super().build(input_size, **{"check_finite": False, **overrides})


class ModelSection(Section):
    """The network and its vocabulary.

    Attributes:
        level: ``"char"`` (characters) or ``"word"`` (:class:`~rnnkit.data.text.WordTokenizer`).
        lower: lower-case the text first.
        max_vocab: cap on the vocabulary size (reserved tokens included); rarer tokens become
            ``<unk>``. ``min_freq``: keep tokens seen at least this often.
        embedding_dim: D. ``encoder``: the recurrent stack (:class:`EncoderSection`).
        tie_weights: share the embedding matrix with the softmax head.
        dropout: dropout on the embeddings and before the head (training only).
    """

    level: Literal["char", "word"] = "char"
    lower: bool = False
    max_vocab: int | None = Field(None, ge=5)
    min_freq: int = Field(1, ge=1)
    embedding_dim: int = Field(64, ge=1)
    encoder: EncoderSection = Field(default_factory=EncoderSection)
    tie_weights: bool = False
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class GenerationSection(Section):
    """What :meth:`LanguageModel.predict` (and ``rnnkit predict``) generates per prompt: see
    :meth:`LanguageModel.generate`. Prompt i is sampled with seed ``seed + i``."""

    max_new_tokens: int = Field(200, ge=1)
    greedy: bool = False
    temperature: float = Field(1.0, gt=0.0)
    top_k: int | None = Field(None, ge=1)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    seed: int = Field(0, ge=0)


class EvaluationSection(Section):
    """The baselines :meth:`LanguageModel.evaluate` reports: unigram, bigram add-k and
    bigram Witten-Bell, counted on the training tokens (``baselines = false``: none); ``k``
    is the add-k constant."""

    baselines: bool = True
    k: float = Field(1.0, gt=0.0)


#: The language model's ``[training]`` defaults: TBPTT over 100-token segments of 32 streams,
#: Adam at 2e-3 with a cosine decay to 1e-4, gradient norm clipped at 1, seed 0.
LM_TRAINING: dict[str, Any] = {"epochs": 1, "batch_size": 32, "shuffle": False, "lr": 2e-3,
                               "clipnorm": 1.0, "schedule": "cosine", "min_lr": 1e-4,
                               "loss": "cross_entropy", "tbptt_steps": 100, "seed": 0}


class LanguageModelConfig(TaskConfig):
    """A language model's configuration (the sections are documented in the module doc).

    A ``[training]`` table is laid over :data:`LM_TRAINING`, key by key: the keys it leaves
    out keep the language model's defaults (not TrainerConfig's).
    """

    task: Literal["language_model"] = "language_model"
    data: DataSection = Field(default_factory=DataSection)
    model: ModelSection = Field(default_factory=ModelSection)
    generation: GenerationSection = Field(default_factory=GenerationSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    section_defaults: ClassVar[dict[str, dict[str, Any]]] = {"training": LM_TRAINING}

    @model_validator(mode="after")
    def _trainable(self) -> Self:
        t = self.training
        if t.loss != "cross_entropy":
            raise ValueError(expected("training.loss", "'cross_entropy' for a language model",
                                      t.loss))
        if t.tbptt_steps is None:
            raise ValueError(expected("training.tbptt_steps", "the segment length (an integer "
                                      ">= 1) for a language model", None))
        return self

def legacy_config(old: Mapping[str, Any]) -> dict[str, Any]:
    """The sections of a config saved before the Task API (one flat dict, ``rnn`` a
    RecurrentSpec dict, training in rounds)."""
    rnn = dict(old.get("rnn") or {})
    encoder = {k: v for k, v in rnn.items() if k in EncoderSection.model_fields}
    rounds = int(old.get("rounds_per_epoch", 10))
    training: dict[str, Any] = {
        "epochs": max(1, math.ceil(float(old.get("epochs", 1.0)) * rounds)),
        "batch_size": old.get("batch_size", 32), "tbptt_steps": old.get("seq_len", 100),
        "optimizer": old.get("optimizer", "adam"), "lr": old.get("lr", 2e-3),
        "weight_decay": old.get("weight_decay", 0.0), "clipnorm": old.get("clipnorm", 1.0),
        "seed": old.get("seed", 0), "device": old.get("device", "auto"),
        "max_time": old.get("time_budget_s"),
        "schedule": "cosine" if old.get("lr_decay") == "cosine" else None,
    }
    if training["schedule"] == "cosine":
        training["min_lr"] = old.get("min_lr", 1e-4)
    model = {k: old[k] for k in ("level", "lower", "max_vocab", "min_freq", "embedding_dim",
                                 "tie_weights", "dropout") if k in old}
    return {"task": "language_model", "model": {**model, "encoder": encoder},
            "data": {"epochs_per_pass": rounds, "val_tokens": old.get("val_tokens", 50_000)},
            "training": training}


