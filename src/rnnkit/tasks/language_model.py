r"""Language modeling: predict the next token of a text, score held-out text, generate.

The model reads tokens (characters or words) and predicts the next one at every step:

.. math::
    \begin{aligned}
    e_t &= E[x_t] \\
    h_t, s_t &= \mathrm{RNN}(e_t, s_{t-1}) \\
    p(x_{t+1} \mid x_{\le t}) &= \mathrm{softmax}(W h_t + b)
    \end{aligned}

with an embedding E (V, D), a recurrent stack (``model.encoder``: LSTM or GRU by name, or a
:class:`~rnnkit.nn.RecurrentCell` subclass of your own) and a softmax head W (V, H),
optionally tied to E (Press & Wolf 2017; a linear projection H -> D comes first when
H != D). Symbols: V vocabulary size, D embedding size, H hidden size, B parallel streams,
T steps.

Training is teacher forcing on a contiguous stream: the text is cut into B =
``training.batch_size`` parallel streams and run by one :class:`~rnnkit.training.Trainer`
fit in truncated-BPTT mode (``training.tbptt_steps``, the segment length): one optimizer step
per segment, the state carried detached into the next one. A Trainer *epoch* is one
``1/data.epochs_per_pass`` slice of every stream (the state starts from zeros at each), so
with ``epochs_per_pass = 20`` and ``training.epochs = 60`` the run makes 3 passes over the
text, validating, stepping the learning-rate schedule and checking ``training.max_time``
(the time budget) 20 times per pass. The History has one row per epoch, written by the
Trainer; besides its keys, each row has ``bits_per_token`` (and ``val_bits_per_token``),
``tokens`` (seen so far), ``passes`` and ``elapsed`` seconds.

Evaluation is the mean cross-entropy per token in nats (``cross_entropy``; ``loss`` is the
same number), ``perplexity`` = exp(cross-entropy) and ``bits_per_token`` = cross-entropy /
ln 2, which for a character model is ``bits_per_character``; the unigram and bigram models of
:mod:`rnnkit.baselines.language_model` (add-k and Witten-Bell smoothed), counted on the
training tokens, are scored on exactly the same next tokens.

Generation reads the prompt once, then carries the recurrent state from token to token
(``stateful=True``), which equals re-reading the whole prefix at every step (the
``stateful=False`` reference) at a fraction of the cost. :meth:`LanguageModel.predict` is
generation with the ``[generation]`` settings: one continuation per prompt.

The configuration file (``rnnkit train lm.toml``)::

    task = "language_model"

    [data]
    path = "corpus.txt"      # a plain UTF-8 text file
    validation = 0.05        # the last 5% of the fitting text validates (default: none)
    test = 0.1               # the last 10% of the file is the test text (split())
    epochs_per_pass = 20     # Trainer epochs per pass over the text

    [model]
    level = "char"           # or "word"
    embedding_dim = 64
    encoder = { cell = "lstm", hidden_size = 256 }

    [training]               # rnnkit.training.TrainerConfig
    epochs = 60
    tbptt_steps = 100        # the truncated-BPTT segment length
    lr = 3e-3
    max_time = 580.0

    [generation]
    max_new_tokens = 200
    temperature = 0.8

Example:
    >>> lm = LanguageModel({"model": {"embedding_dim": 8, "encoder": {"hidden_size": 16}},
    ...                     "training": {"tbptt_steps": 16, "batch_size": 4}})
    >>> lm.fit("hello world, " * 50)                                # doctest: +SKIP
    >>> lm.generate("hel", max_new_tokens=10, seed=0)               # doctest: +SKIP
    >>> lm.evaluate("hello world, hello")["bits_per_character"]     # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import importlib
import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import torch
from pydantic import Field, field_serializer, field_validator, model_validator
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, IterableDataset

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.baselines.language_model import BigramLM, UnigramLM
from rnnkit.bundle import Bundle, save_bundle
from rnnkit.config import Section
from rnnkit.data.text import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    CharTokenizer,
    Vocabulary,
    WordTokenizer,
    tokenizer_from_dict,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.nn import Recurrent, RecurrentCell
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.base import Report, Task, TaskConfig
from rnnkit.training import Callback, Trainer, TrainerConfig, seed_everything

__all__ = [
    "LEVELS",
    "DataSection",
    "EncoderSection",
    "EvaluationSection",
    "GenerationSection",
    "LMNet",
    "LanguageModel",
    "LanguageModelConfig",
    "ModelSection",
    "sample_logits",
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
            validate on (None: validate only on an explicit ``val_text``).
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


class EncoderSection(Section):
    """The recurrent stack: the fields of :class:`~rnnkit.nn.spec.RecurrentSpec` that a
    left-to-right model uses.

    ``cell`` is ``"lstm"`` or ``"gru"``, or in Python a :class:`~rnnkit.nn.RecurrentCell`
    subclass (written to files as ``"module:QualifiedName"``, imported again when read; the
    class must live in an importable module). ``bidirectional`` must stay False: a next-token
    model may not read the future.
    """

    cell: str | type[RecurrentCell] = "lstm"
    hidden_size: int = Field(256, ge=1)
    num_layers: int = Field(1, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    bidirectional: bool = False
    recurrent_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    weight_drop: float = Field(0.0, ge=0.0, lt=1.0)
    zoneout: float = Field(0.0, ge=0.0, lt=1.0)
    layer_norm: bool = False
    recurrent_init: str = "orthogonal"
    unit_forget_bias: bool = True
    reset_after: bool = True
    backend: Literal["auto", "fused", "loop"] = "auto"

    # model validators (not field validators), so that messages name the key once
    @model_validator(mode="before")
    @classmethod
    def _cell_class(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "cell" not in data:
            return data
        value = data["cell"]
        if isinstance(value, type):
            if not issubclass(value, RecurrentCell):
                raise ValueError(expected("cell", "'lstm', 'gru' or a RecurrentCell subclass",
                                          Described(value.__name__)))
        elif isinstance(value, str) and ":" in value:
            return {**data, "cell": _import_cell(value)}
        elif value not in LM_CELLS:
            raise ValueError(expected("cell", f"one of {list(LM_CELLS)} or a RecurrentCell "
                                      "subclass", value))
        return data

    @model_validator(mode="after")
    def _left_to_right(self) -> Self:
        if self.bidirectional:
            raise ValueError(expected("bidirectional", "False for a language model", True,
                                      "a next-token model may not read the future"))
        return self

    @field_serializer("cell")
    def _cell_name(self, cell: str | type[RecurrentCell]) -> str:
        return cell if isinstance(cell, str) else f"{cell.__module__}:{cell.__qualname__}"

    def build(self, input_size: int) -> Recurrent:
        """The stack for ``input_size`` features per step (no finiteness check: the inputs are
        embeddings)."""
        if isinstance(self.cell, str):
            names = set(RecurrentSpec.__dataclass_fields__)
            spec = RecurrentSpec(**{k: v for k, v in self.model_dump().items() if k in names})
            return spec.build(input_size, check_finite=False)
        kwargs: dict[str, Any] = {}
        for name in ("recurrent_dropout", "weight_drop", "zoneout", "layer_norm",
                     "recurrent_init"):  # the RecurrentCell arguments, only when changed
            if getattr(self, name) != type(self).model_fields[name].default:
                kwargs[name] = getattr(self, name)
        return Recurrent(self.cell, input_size, self.hidden_size, self.num_layers,
                         dropout=self.dropout, backend=self.backend, check_finite=False,
                         **kwargs)


def _import_cell(path: str) -> type[RecurrentCell]:
    """``"module:QualifiedName"`` -> the RecurrentCell subclass it names."""
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise ValueError(expected("cell", "an importable 'module:Class' RecurrentCell", path,
                                  "import the module that defines the cell first")) from None
    if not (isinstance(obj, type) and issubclass(obj, RecurrentCell)):
        raise ValueError(expected("cell", "a RecurrentCell subclass", path))
    return obj


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


def default_training() -> TrainerConfig:
    """The language model's ``[training]`` defaults: TBPTT over 100-token segments of 32
    streams, Adam at 2e-3 with a cosine decay to 1e-4, gradient norm clipped at 1, seed 0."""
    return TrainerConfig(epochs=1, batch_size=32, shuffle=False, lr=2e-3, clipnorm=1.0,
                         schedule="cosine", min_lr=1e-4, loss="cross_entropy",
                         tbptt_steps=100, seed=0)


def _training_keys() -> list[str]:
    fields = getattr(TrainerConfig, "model_fields", None) or TrainerConfig.__dataclass_fields__
    return sorted(fields)


class LanguageModelConfig(TaskConfig):
    """A language model's configuration (the sections are documented in the module doc).

    A ``[training]`` table is laid over :func:`default_training`, key by key: the keys it
    leaves out keep the language model's defaults (not TrainerConfig's).
    """

    task: Literal["language_model"] = "language_model"
    data: DataSection = Field(default_factory=DataSection)
    model: ModelSection = Field(default_factory=ModelSection)
    training: TrainerConfig = Field(default_factory=default_training)
    generation: GenerationSection = Field(default_factory=GenerationSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    @field_validator("training", mode="before")
    @classmethod
    def _over_lm_defaults(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        known = _training_keys()
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                raise ValueError(expected(str(key), f"one of the keys {known}",
                                          Described("an unknown key"),
                                          f"did you mean {close[0]!r}?" if close else None))
        return default_training().replace(**dict(value))

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

    def resolve_paths(self, folder: Path) -> Self:
        """A relative ``data.path`` is resolved against ``folder`` (the config file's)."""
        if self.data.path is not None and not Path(self.data.path).is_absolute():
            return self.with_overrides({"data": {"path": str((folder / self.data.path).resolve())}})
        return self


# -----------------------------------------------------------------------------------------
# the network and sampling
# -----------------------------------------------------------------------------------------
class LMNet(nn.Module):
    """Embedding -> recurrent stack -> softmax head (the module inside :class:`LanguageModel`).

    ``forward(x, state=None) -> (logits, state)``: ``x`` (B, T) token ids (or (B, T, 1), the
    trainer's stream layout), ``logits`` (B, T, V), ``state`` the stack's final state.

    Args:
        vocab_size: V. ``embedding_dim``: D.
        rnn: the recurrent stack, built for D input features (``EncoderSection.build``).
        tie_weights: share the embedding matrix with the head. ``dropout``: on the
            embeddings and before the head.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, rnn: Recurrent, *,
                 tie_weights: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = rnn
        self.drop = nn.Dropout(dropout)
        hidden = self.rnn.output_size  # H
        untied_size = embedding_dim if tie_weights else hidden
        self.proj = nn.Linear(hidden, embedding_dim) if untied_size != hidden else None
        self.head = nn.Linear(untied_size, vocab_size)
        if tie_weights:
            self.head.weight = self.embedding.weight  # (V, D), shared

    def forward(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        if x.dim() == 3:
            x = x.squeeze(-1)  # (B, T, 1) -> (B, T)
        if x.dim() != 2 or x.is_floating_point():
            raise DataError(expected("x", "token ids of shape (batch, steps)", tuple(x.shape)))
        e = self.drop(self.embedding(x))  # (B, T, D)
        h, state = self.rnn(e, state)  # (B, T, H)
        h = self.drop(h)
        if self.proj is not None:
            h = self.proj(h)  # (B, T, D)
        return self.head(h), state  # (B, T, V)


def sample_logits(
    logits: torch.Tensor,
    *,
    greedy: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pick one token per row of ``logits`` (B, V): argmax, or a sample from
    softmax(logits / temperature) restricted to the ``top_k`` most likely tokens and to the
    smallest set whose probability reaches ``top_p`` (nucleus sampling, Holtzman et al. 2020).

    Tokens outside the support get probability exactly 0; the most likely token is always in
    it. Returns (B,) int64 ids.
    """
    if logits.dim() != 2:
        raise DataError(expected("logits", "shape (batch, vocab)", tuple(logits.shape)))
    if greedy:
        return logits.argmax(-1)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or \
            not temperature > 0:
        raise ConfigError(expected("temperature", "a number > 0 (or greedy=True)", temperature))
    V = logits.shape[-1]
    scores = logits.float() / temperature
    if top_k is not None:
        check_positive_int("top_k", top_k)
        if top_k < V:
            kept = scores.topk(top_k, dim=-1).indices  # (B, k)
            keep = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, kept, True)
            scores = scores.masked_fill(~keep, float("-inf"))
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or \
                not 0 < top_p <= 1:
            raise ConfigError(expected("top_p", "a probability in (0, 1]", top_p))
        probs, order = torch.softmax(scores, -1).sort(dim=-1, descending=True)  # (B, V)
        before = probs.cumsum(-1) - probs  # mass of the more likely tokens
        drop_sorted = before >= top_p
        drop_sorted[:, 0] = False
        drop = torch.zeros_like(drop_sorted).scatter_(1, order, drop_sorted)
        scores = scores.masked_fill(drop, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


# -----------------------------------------------------------------------------------------
# training pieces: the epochs' slices of the streams, the History's stream columns
# -----------------------------------------------------------------------------------------
class _Slices(IterableDataset):  # type: ignore[type-arg]
    """The training streams, one slice per Trainer epoch: iterating yields the next slice
    ``(x (B, chunk, 1), y (B, chunk))`` of every stream, cycling through the text."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, chunk: int) -> None:
        self.x, self.y, self.chunk = x, y, chunk
        self.starts = list(range(0, x.shape[1], chunk))
        self.served = 0  # slices handed out so far

    def __len__(self) -> int:  # batches per epoch, for the progress display
        return 1

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        s = self.starts[self.served % len(self.starts)]
        self.served += 1
        yield self.x[:, s : s + self.chunk].unsqueeze(-1), self.y[:, s : s + self.chunk]


class _StreamColumns(Callback):
    """Adds the stream's columns to each History row: ``bits_per_token`` (and
    ``val_bits_per_token``), ``tokens`` seen so far, ``passes`` over the text and
    ``elapsed`` seconds since ``fit`` began."""

    def __init__(self, slices: _Slices) -> None:
        self.slices = slices
        self.tokens = 0
        self.t0 = time.perf_counter()

    def on_fit_begin(self, trainer: Any, **context: Any) -> None:
        self.tokens, self.t0 = 0, time.perf_counter()

    def on_epoch_end(self, trainer: Any, **context: Any) -> None:
        logs, sl = context["logs"], self.slices
        s = sl.starts[(sl.served - 1) % len(sl.starts)]
        self.tokens += int(sl.y[:, s : s + sl.chunk].numel())
        record = trainer.history.record
        record("bits_per_token", logs["loss"] / math.log(2))
        if "val_loss" in logs:
            record("val_bits_per_token", logs["val_loss"] / math.log(2))
        record("tokens", self.tokens)
        record("passes", sl.served / len(sl.starts))
        record("elapsed", time.perf_counter() - self.t0)


class _NgramCounts:
    """The unigram and bigram counts of the training tokens, from which the baselines of
    :meth:`LanguageModel.evaluate` are built with any smoothing (saved in the bundle)."""

    def __init__(self, vocab_size: int, unigram: np.ndarray, pair_keys: np.ndarray,
                 pair_counts: np.ndarray) -> None:
        self.vocab_size = vocab_size
        self.unigram = unigram  # (V,) c(w)
        self.pair_keys = pair_keys  # (P,) v * V + w, sorted
        self.pair_counts = pair_counts  # (P,) c(v, w)

    @classmethod
    def count(cls, ids: np.ndarray, vocab_size: int) -> _NgramCounts:
        keys, counts = np.unique(ids[:-1] * vocab_size + ids[1:], return_counts=True)
        return cls(vocab_size, np.bincount(ids, minlength=vocab_size), keys, counts)

    def to_dict(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "unigram": self.unigram.tolist(),
                "pair_keys": self.pair_keys.tolist(), "pair_counts": self.pair_counts.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _NgramCounts:
        return cls(int(data["vocab_size"]), np.asarray(data["unigram"], dtype=np.int64),
                   np.asarray(data["pair_keys"], dtype=np.int64),
                   np.asarray(data["pair_counts"], dtype=np.int64))

    def unigram_lm(self, k: float) -> UnigramLM:
        lm = UnigramLM(k)
        lm.vocab_size = self.vocab_size
        lm.counts = self.unigram.astype(np.float64)
        lm.total = float(lm.counts.sum())
        return lm

    def bigram_lm(self, k: float, smoothing: str) -> BigramLM:
        """A :class:`BigramLM` in the state its ``fit`` leaves (the same fields, from the
        saved counts rather than the tokens)."""
        V = self.vocab_size
        lm = BigramLM(k, smoothing)
        lm.vocab_size = V
        lm.unigram = self.unigram_lm(k)
        lm.pair_keys = self.pair_keys
        lm.pair_counts = self.pair_counts.astype(np.float64)
        lm.context_counts = np.bincount(self.pair_keys // V, weights=lm.pair_counts,
                                        minlength=V)
        lm.types_after = np.bincount(self.pair_keys // V, minlength=V).astype(np.float64)
        return lm


# -----------------------------------------------------------------------------------------
# the task
# -----------------------------------------------------------------------------------------
class LanguageModel(Task):
    """A character- or word-level language model: fit / evaluate / generate / save / load.

    Args:
        config: a :class:`LanguageModelConfig`, a dict of its sections, or None (defaults).

    Fitted state: ``model_`` (the :class:`LMNet`), ``history_``, ``fit_seconds_``,
    ``vocab_`` (the :class:`~rnnkit.data.text.Vocabulary`) and ``ngram_counts_`` (the
    training tokens' counts, for the baselines). ``tokenizer`` follows ``model.level`` and
    ``model.lower``.
    """

    name = "language_model"
    config_class = LanguageModelConfig
    config: LanguageModelConfig

    def __init__(self, config: LanguageModelConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        m = self.config.model
        self.tokenizer: CharTokenizer | WordTokenizer = (
            CharTokenizer(lower=m.lower) if m.level == "char" else WordTokenizer(lower=m.lower))
        self.vocab_: Vocabulary | None = None
        self.ngram_counts_: _NgramCounts | None = None

    # ------------------------------------------------------------------------------ data
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Any:
        """The text of a plain UTF-8 file (``path``, else ``data.path``). With
        ``labelled=False`` (prompts for :meth:`predict`): its non-empty lines, one prompt
        each."""
        if path is None:
            path = self.config.data.path
        if path is None:
            raise ConfigError(expected("data.path", "a text file", None,
                                       "set [data] path in the config or pass a path"))
        p = Path(path)
        if not p.is_file():
            raise DataError(expected("path", "an existing UTF-8 text file", str(p)))
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise DataError(expected("path", "a UTF-8 text file", str(p),
                                     f"it is not UTF-8 ({err.reason} at byte {err.start})")
                            ) from None
        if labelled:
            return text
        return [line for line in text.splitlines() if line.strip()]

    def split(self, data: str) -> tuple[str, str]:
        """``(fit_text, test_text)``: the last ``data.test`` fraction of the characters is
        the test text (contiguous, from the end)."""
        text = _check_text("text", data)
        return _cut(text, self.config.data.test)

    def tokenize(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(_check_text("text", text))

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` in the fitted vocabulary (unknown tokens -> ``<unk>``)."""
        return self._fitted()[1].encode(self.tokenize(text))

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.detokenize(self._fitted()[1].decode(ids, stop_at_eos=False))

    def _fitted(self) -> tuple[LMNet, Vocabulary]:
        net = self._require_fitted()
        if not isinstance(net, LMNet) or self.vocab_ is None:  # fit and load set both
            raise ConfigError(expected("LanguageModel", "a fitted model", "an unfitted one",
                                       "call fit(text) or LanguageModel.load(path) first"))
        return net, self.vocab_

    @staticmethod
    def _streams(ids: torch.Tensor, rows: int, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """A 1-D id stream -> inputs (R, L) and next-token targets (R, L): R parallel
        streams, each a contiguous stretch of the text."""
        n = ids.numel()
        R = max(1, min(rows, (n - 1) // 2))
        L = (n - 1) // R
        if L < 1:
            raise DataError(expected(name, "at least 2 tokens", n))
        x = ids[: R * L].view(R, L)  # (R, L)
        y = ids[1 : R * L + 1].view(R, L)  # (R, L): the next token of each
        return x, y

    # ----------------------------------------------------------------------------- train
    def fit(self, text: str, val_text: str | None = None, *,
            callbacks: Sequence[Callback] | None = None) -> Self:
        """Build the vocabulary from ``text`` and train on it (see the module doc).

        Validation is on ``val_text`` when given, else on the last ``data.validation``
        fraction of ``text`` (held out from training), else none. ``[early_stopping]``
        (watching ``val_loss`` by default) applies when there is validation. Returns
        ``self``; the record is ``history_``.
        """
        cfg = self.config
        text = _check_text("text", text)
        if val_text is None and cfg.data.validation is not None:
            text, val_text = _cut(text, cfg.data.validation)
        k = int(cfg.training.tbptt_steps or 1)  # LanguageModelConfig requires it
        tokens = self.tokenize(text)
        if len(tokens) < 2 * k:
            raise DataError(expected("text", f"at least {2 * k} tokens (2 * tbptt_steps)",
                                     len(tokens)))
        if cfg.training.seed is not None:
            seed_everything(cfg.training.seed)  # the initial weights too
        self.vocab_ = Vocabulary.build([tokens], min_freq=cfg.model.min_freq,
                                       max_size=cfg.model.max_vocab)
        ids = torch.tensor(self.vocab_.encode(tokens), dtype=torch.long)
        self.ngram_counts_ = _NgramCounts.count(ids.numpy(), len(self.vocab_))
        net = self._build()
        X, Y = self._streams(ids, cfg.training.batch_size, "text")  # (B, L) each
        val = None
        if val_text is not None:
            vids = torch.tensor(self.vocab_.encode(self.tokenize(val_text)), dtype=torch.long)
            if cfg.data.val_tokens is not None:
                vids = vids[: cfg.data.val_tokens]
            vx, vy = self._streams(vids, cfg.training.batch_size, "val_text")
            val = (vx.unsqueeze(-1), vy)  # the trainer's (B, T, 1) stream layout
        L = X.shape[1]
        chunk = max(k, math.ceil(L / cfg.data.epochs_per_pass / k) * k)
        slices = _Slices(X, Y, chunk)
        stopping = cfg.early_stopping.callback()
        if val is None and cfg.early_stopping.monitor.startswith("val_"):
            stopping = None  # it watches the validation loss, and there is none
        extra = [stopping] if stopping is not None else []
        trainer = Trainer(net, cfg.training,
                          callbacks=[_StreamColumns(slices), *extra, *(callbacks or [])])
        t0 = time.perf_counter()
        self.history_ = trainer.fit(DataLoader(slices, batch_size=None), val_data=val)
        self.fit_seconds_ = time.perf_counter() - t0
        self.model_ = net.eval()
        return self

    # -------------------------------------------------------------------------- evaluate
    @torch.no_grad()
    def evaluate(self, text: str, *, batch_size: int | None = None) -> Report:
        """Cross-entropy of every next token of ``text`` given the tokens before it
        (``batch_size`` parallel streams, default ``training.batch_size``, each starting
        from a zero state), for the model and the n-gram baselines.

        The report's metrics: ``cross_entropy`` (nats/token), ``perplexity`` (primary, lower
        is better), ``bits_per_token`` and, for character models, ``bits_per_character``;
        details ``loss`` (= cross_entropy) and ``tokens`` (the number scored). Baselines:
        ``unigram`` and ``bigram`` (add-k) and ``bigram_witten_bell``, counted on the
        training tokens and scored on the same next tokens with the same previous token.
        """
        net, _ = self._fitted()
        ids = torch.tensor(self.encode(text), dtype=torch.long)
        x, y = self._streams(ids, batch_size or self.config.training.batch_size, "text")
        device = next(net.parameters()).device
        was = net.training
        net.eval()
        total = torch.zeros((), dtype=torch.float64, device=device)
        state = None
        xd, yd = x.to(device), y.to(device)
        for t in range(0, x.shape[1], 1000):  # segments bound the logits' memory
            logits, state = net(xd[:, t : t + 1000], state)  # (B, k, V)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                     yd[:, t : t + 1000].reshape(-1), reduction="sum").double()
        net.train(was)
        n = y.numel()
        model = self._metrics(float(total) / n)
        baselines: dict[str, dict[str, float]] = {}
        ev = self.config.evaluation
        if ev.baselines and self.ngram_counts_ is not None:
            counts = self.ngram_counts_
            named = {"unigram": counts.unigram_lm(ev.k),
                     "bigram": counts.bigram_lm(ev.k, "add_k"),
                     "bigram_witten_bell": counts.bigram_lm(ev.k, "witten_bell")}
            xs, ys = x.numpy(), y.numpy()
            for name, lm in named.items():
                nll = -sum(float(lm.log_probs(ys[r], context=int(xs[r, 0])).sum())
                           for r in range(len(ys)))
                baselines[name] = self._metrics(nll / n)
        return Report(self.name, model, baselines=baselines, primary="perplexity",
                      higher_is_better=False,
                      details={"loss": model["cross_entropy"], "tokens": n})

    def _metrics(self, ce: float) -> dict[str, float]:
        out = {"perplexity": math.exp(min(ce, 709.0)), "cross_entropy": ce,
               "bits_per_token": ce / math.log(2)}
        if self.config.model.level == "char":
            out["bits_per_character"] = out["bits_per_token"]
        return out

    # -------------------------------------------------------------------------- generate
    def predict(self, data: str | Sequence[str]) -> list[str]:
        """The continuation of each prompt (one str is one prompt), generated with the
        ``[generation]`` settings; prompt i with seed ``generation.seed + i``."""
        prompts = [data] if isinstance(data, str) else list(data)
        g = self.config.generation
        return [self.generate(p, g.max_new_tokens, greedy=g.greedy, temperature=g.temperature,
                              top_k=g.top_k, top_p=g.top_p, seed=g.seed + i)
                for i, p in enumerate(prompts)]

    def predict_frame(self, data: str | Sequence[str]) -> Any:
        """A DataFrame with columns ``prompt`` and ``generated`` (what ``rnnkit predict``
        writes)."""
        import pandas as pd

        prompts = [data] if isinstance(data, str) else list(data)
        return pd.DataFrame({"prompt": prompts, "generated": self.predict(prompts)})

    @torch.no_grad()
    def step(self, token_ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Advance by one token: ``token_ids`` (B,) -> next-token logits (B, V) and the new
        state (pass it to the next call)."""
        net, _ = self._fitted()
        net.eval()
        device = next(net.parameters()).device
        x = torch.as_tensor(token_ids, dtype=torch.long, device=device).view(-1, 1)  # (B, 1)
        logits, state = net(x, state)  # (B, 1, V)
        return logits[:, -1], state

    @torch.no_grad()
    def prefix_logits(self, ids: torch.Tensor | list[int]) -> torch.Tensor:
        """Next-token logits after every position of one prefix, re-read from a zero state:
        (T,) ids -> (T, V)."""
        net, _ = self._fitted()
        net.eval()
        device = next(net.parameters()).device
        x = torch.as_tensor(ids, dtype=torch.long, device=device).view(1, -1)
        return net(x)[0][0]

    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        max_new_tokens: int = 200,
        *,
        greedy: bool = False,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stateful: bool = True,
    ) -> str:
        """Continue ``prompt`` by ``max_new_tokens`` tokens.

        ``greedy`` takes the most likely token; otherwise tokens are sampled with
        :func:`sample_logits` (``temperature``, ``top_k``, ``top_p``) from a generator seeded
        with ``seed`` (same seed, same text). The reserved ``<pad>``, ``<bos>`` and ``<eos>``
        are never produced (a stream has none of them).
        ``stateful=False`` re-reads the whole prefix at every step (the slow reference).
        Returns the generated continuation (without the prompt).
        """
        net, vocab = self._fitted()
        check_positive_int("max_new_tokens", max_new_tokens)
        ids = self.encode(prompt)
        if not ids:
            raise DataError(expected("prompt", "at least one token", prompt,
                                     "start from a character or word of the training text"))
        gen = torch.Generator()
        gen.manual_seed(int(torch.randint(0, 2**62, (1,))) if seed is None else seed)
        device = next(net.parameters()).device
        net.eval()
        logits_all, state = net(torch.tensor([ids], device=device))
        logits = logits_all[:, -1]  # (1, V)
        out: list[int] = []
        for _ in range(max_new_tokens):
            logits = logits.clone().cpu()
            logits[:, [PAD_ID, BOS_ID, EOS_ID]] = float("-inf")
            tok = sample_logits(logits, greedy=greedy, temperature=temperature, top_k=top_k,
                                top_p=top_p, generator=gen)  # (1,)
            out.append(int(tok))
            if stateful:
                step_logits, state = net(tok.view(1, 1).to(device), state)
                logits = step_logits[:, -1]
            else:
                logits = net(torch.tensor([ids + out], device=device))[0][:, -1]
        return self.tokenizer.detokenize(vocab.decode(out, stop_at_eos=False))

    # ----------------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str], *,
             metrics: Mapping[str, Any] | None = None) -> Path:
        """Write the bundle (:meth:`Task.save`); a tied head is written as its own copy,
        since safetensors stores no shared tensors."""
        net, _ = self._fitted()
        weights = {k: v.detach().clone() for k, v in net.state_dict().items()}  # untie storage
        record = {"history": self.history_.to_list(), "fit_seconds": self.fit_seconds_,
                  "epochs": len(self.history_)}
        return save_bundle(path, task=self.name, model=weights,
                           config={"config": self.config.to_dict()},
                           preprocessing=self._preprocessing(),
                           metrics={**record, **(metrics or {})})

    def _build(self) -> LMNet:
        if self.vocab_ is None:
            raise ConfigError(expected("LanguageModel", "a vocabulary", None,
                                       "call fit(text) or LanguageModel.load(path)"))
        m = self.config.model
        return LMNet(len(self.vocab_), m.embedding_dim, m.encoder.build(m.embedding_dim),
                     tie_weights=m.tie_weights, dropout=m.dropout)

    def _preprocessing(self) -> dict[str, Any]:
        _, vocab = self._fitted()
        return {"vocab": vocab.to_dict(), "tokenizer": self.tokenizer.to_dict(),
                "ngram_counts": (None if self.ngram_counts_ is None
                                 else self.ngram_counts_.to_dict())}

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.vocab_ = Vocabulary.from_dict(preprocessing["vocab"])
        self.tokenizer = tokenizer_from_dict(preprocessing["tokenizer"])  # type: ignore[assignment]
        counts = preprocessing.get("ngram_counts")  # absent from bundles before the Task API
        self.ngram_counts_ = None if counts is None else _NgramCounts.from_dict(counts)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> LanguageModelConfig:
        if "config" in bundle.config:
            return LanguageModelConfig.from_dict(bundle.config["config"])
        return LanguageModelConfig.from_dict(_legacy_config(bundle.config["model"]))


def _legacy_config(old: Mapping[str, Any]) -> dict[str, Any]:
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


def _check_text(name: str, text: Any) -> str:
    if not isinstance(text, str):
        raise DataError(expected(name, "a str (the text)", Described(type(text).__name__)))
    return text


def _cut(text: str, fraction: float) -> tuple[str, str]:
    """``(head, tail)``: the tail is the last ``fraction`` of the characters."""
    cut = len(text) - round(len(text) * fraction)
    return text[:cut], text[cut:]
