"""The seq2seq configuration: one validated, serializable description of a model and its run.

A :class:`Seq2SeqConfig` composes sections, each a frozen pydantic model that rejects unknown
keys with a suggestion::

    task = "seq2seq"
    [data]            the user's TSV file: columns, token units, validation and test parts
    [model]           embeddings, the encoder and decoder stacks, attention, teacher forcing,
                      vocabulary caps, length buckets
    [decoding]        beam width, length penalty, decoding limit
    [evaluation]      the headline metric and whether the baselines run
    [training]        rnnkit.training.TrainerConfig itself (keys left out keep this task's
                      defaults: 10 epochs, batches of 64, lr 2e-3, clipnorm 1, seed 0)
    [early_stopping]  on the validation loss (only when there is validation data)

The encoder and decoder are recurrent stacks described by the fields of
:class:`~rnnkit.nn.spec.RecurrentSpec` (taken from it, never copied), with ``cell`` a name
(``"lstm"``, ``"gru"``, ``"rnn"``) or, in Python, a :class:`~rnnkit.nn.RecurrentCell`
subclass of your own (saved as ``"module:Class"`` and imported again on load).

Example::

    >>> cfg = Seq2SeqConfig.from_dict({"model": {"attention": "bahdanau",
    ...                                          "encoder": {"cell": "gru"}}})
    >>> cfg.model.encoder.cell, cfg.model.encoder.hidden_size, cfg.training.epochs
    ('gru', 128, 10)
    >>> Seq2SeqConfig.from_toml_string(cfg.to_toml()) == cfg
    True
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from rnnkit._validation import Described, expected
from rnnkit.config import Section
from rnnkit.tasks.base import TaskConfig
from rnnkit.tasks.recurrent_section import RecurrentSection

__all__ = [
    "UNITS",
    "DataSection",
    "DecoderSection",
    "DecodingSection",
    "EncoderSection",
    "EvaluationSection",
    "ModelSection",
    "Seq2SeqConfig",
]

#: How text is cut into tokens: characters, words (and punctuation), or sub-words (BPE
#: pieces learned on the training pairs; read and scored as words).
UNITS = ("char", "word", "bpe")
#: the headline metrics :meth:`Seq2Seq.evaluate` can report as ``primary``
METRICS = ("bleu", "token_error_rate", "character_error_rate", "exact_match")


# -----------------------------------------------------------------------------------------
# the recurrent stacks (RecurrentSection: cell by name or class)
# -----------------------------------------------------------------------------------------
class EncoderSection(RecurrentSection):
    """The encoder stack (:class:`~rnnkit.tasks.recurrent_section.RecurrentSection`; default a
    bidirectional LSTM of 128 units per direction)."""

    hidden_size: int = Field(128, ge=1)
    bidirectional: bool = True


class DecoderSection(RecurrentSection):
    """The decoder stack (:class:`~rnnkit.tasks.recurrent_section.RecurrentSection`; default
    an LSTM of 256 units; never bidirectional)."""

    hidden_size: int = Field(256, ge=1)


# -----------------------------------------------------------------------------------------
# sections
# -----------------------------------------------------------------------------------------
class DataSection(Section):
    """The user's pairs: a TSV file, one (source, target) pair per line.

    Attributes:
        path: the TSV file (relative paths are resolved against the config file's folder).
        source_column, target_column: column names; when set, the first line is a header
            naming the columns. Unset: the first two columns, no header.
        units: how a text becomes tokens: ``"char"`` (characters, e.g. spelling to sounds),
            ``"word"`` (words and punctuation) or ``"bpe"`` (read as words, then sub-word
            pieces learned on the training pairs feed the model; outputs are scored as
            words). Also how :meth:`Seq2Seq.predict` splits a ``str``.
        target_units: the targets' units when they differ (e.g. ``"word"`` for a target
            column of space-separated phonemes); None: ``units``.
        lower: lower-case the texts first.
        validation: the fraction of the fitted pairs :meth:`Seq2Seq.fit` holds out for the
            validation loss (and early stopping); None: none, as in Python by default.
        test: the fraction :meth:`Seq2Seq.split` holds out for the test.
        seed: the seed of both random splits.
    """

    path: str | None = None
    source_column: str | None = None
    target_column: str | None = None
    units: Literal["char", "word", "bpe"] = "char"
    target_units: Literal["char", "word", "bpe"] | None = None
    lower: bool = False
    validation: float | None = Field(None, gt=0.0, lt=1.0)
    test: float = Field(0.1, ge=0.0, lt=1.0)
    seed: int = 0

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.source_column is None) != (self.target_column is None):
            raise ValueError(expected("source_column/target_column", "both or neither",
                                      Described("only one"),
                                      "name both columns of a file with a header line"))
        if "bpe" in (self.units, self.target_units) and {self.units, self.target_units} - {
                "bpe", None}:
            raise ValueError(expected("target_units", "the same units as 'units' with bpe",
                                      self.target_units))
        return self

    @property
    def output_units(self) -> str:
        """The targets' units."""
        return self.target_units or self.units


class ModelSection(Section):
    """The encoder-decoder (equations in :mod:`rnnkit.tasks.seq2seq.network`).

    Attributes:
        encoder: the encoder stack (usually bidirectional).
        decoder: the decoder stack (unidirectional).
        attention: ``"bahdanau"``, ``"dot"`` or ``"general"``; ``attn_size``: Bahdanau's A.
        input_feeding: feed o_{t-1} to the decoder with the previous token (Luong attention
            only).
        src_embedding_dim, tgt_embedding_dim: embedding sizes.
        dropout: on embeddings and on the attentional output o_t (training only).
        teacher_forcing: the probability of reading the gold previous token (1 = always).
        teacher_forcing_final: if set, the ratio decays linearly to it by the last epoch
            (scheduled sampling).
        min_freq: tokens seen fewer times in the training pairs map to ``<unk>``.
        max_src_vocab, max_tgt_vocab: caps on the vocabularies, reserved tokens included
            (the most frequent tokens are kept; None: no cap); with ``data.units = "bpe"``
            the number of sub-word pieces learned (None: 8000). A word-level target
            vocabulary sets the softmax width, the largest cost of a translation model.
        bucket: batch pairs of similar length together (saves most of the padding when
            lengths vary, as sentences do).
    """

    encoder: EncoderSection = Field(default_factory=EncoderSection)  # type: ignore[valid-type]
    decoder: DecoderSection = Field(default_factory=DecoderSection)  # type: ignore[valid-type]
    attention: Literal["bahdanau", "dot", "general"] = "general"
    attn_size: int | None = Field(None, ge=1)
    input_feeding: bool = False
    src_embedding_dim: int = Field(64, ge=1)
    tgt_embedding_dim: int = Field(64, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    teacher_forcing: float = Field(1.0, ge=0.0, le=1.0)
    teacher_forcing_final: float | None = Field(None, ge=0.0, le=1.0)
    min_freq: int = Field(1, ge=1)
    max_src_vocab: int | None = Field(None, ge=5)
    max_tgt_vocab: int | None = Field(None, ge=5)
    bucket: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.decoder.bidirectional:  # type: ignore[attr-defined]
            raise ValueError(expected("decoder.bidirectional", "False", True,
                                      "a decoder writes left to right"))
        if self.input_feeding and self.attention == "bahdanau":
            raise ValueError(expected(
                "input_feeding", "False with attention='bahdanau'", True,
                "input feeding is Luong's ('dot' or 'general'); Bahdanau attention already "
                "queries with the previous state"))
        dec, enc = self.decoder.hidden_size, self.encoder.output_size  # type: ignore[attr-defined]
        if self.attention == "dot" and dec != enc:
            raise ValueError(expected(
                "attention", "'general' or 'bahdanau' for these sizes", "dot",
                f"dot needs decoder.hidden_size ({dec}) equal to the encoder's output size "
                f"({enc})"))
        return self


class DecodingSection(Section):
    """How :meth:`Seq2Seq.predict` and :meth:`Seq2Seq.evaluate` decode.

    Attributes:
        beam_width: 1: greedy; k > 1: beam search of width k.
        length_penalty: alpha of the beam score sum(log p) / len^alpha (0: none).
        max_len: the longest output; None: the longest training target + 5.
    """

    beam_width: int = Field(1, ge=1)
    length_penalty: float = Field(0.0, ge=0.0)
    max_len: int | None = Field(None, ge=1)


class EvaluationSection(Section):
    """What :meth:`Seq2Seq.evaluate` reports.

    Attributes:
        primary: the headline metric; ``"auto"``: ``bleu`` for word and sub-word units,
            ``token_error_rate`` (edits per reference token: the phoneme error rate of g2p)
            for characters.
        baselines: also score the translation memory and, when sources and targets share
            their tokens, the identity (copy the source).
    """

    primary: Literal["auto", "bleu", "token_error_rate", "character_error_rate",
                     "exact_match"] = "auto"
    baselines: bool = True


#: The seq2seq ``[training]`` defaults: 10 epochs of Adam at 2e-3, batches of 64, gradient norm
#: clipped at 1, seed 0.
SEQ2SEQ_TRAINING: dict[str, Any] = {"epochs": 10, "batch_size": 64, "lr": 2e-3,
                                    "clipnorm": 1.0, "seed": 0}


# -----------------------------------------------------------------------------------------
# the whole configuration
# -----------------------------------------------------------------------------------------
class Seq2SeqConfig(TaskConfig):
    """A complete seq2seq task; see the module docstring for the sections."""

    task: Literal["seq2seq"] = "seq2seq"
    data: DataSection = Field(default_factory=DataSection)
    model: ModelSection = Field(default_factory=ModelSection)
    decoding: DecodingSection = Field(default_factory=DecodingSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    section_defaults: ClassVar[dict[str, dict[str, Any]]] = {"training": SEQ2SEQ_TRAINING}

    @property
    def primary(self) -> str:
        """The headline metric (``evaluation.primary`` with ``"auto"`` resolved)."""
        if self.evaluation.primary != "auto":
            return self.evaluation.primary
        return "bleu" if self.data.units in ("word", "bpe") else "token_error_rate"

