r"""Sequence tagging: one label per token (part-of-speech tags, named-entity tags).

Tokenized sentences go in, one tag per token comes out::

    tokens ─┬─ lower-cased word ──Vocabulary──▶ Embedding(E_w) ─┐
            ├─ last k characters ─Vocabulary──▶ Embedding(E_s) ─┼─ concat ▶ dropout ▶ BiLSTM ▶ dropout
            └─ word shape (Title, UPPER, 1984 ...) ▶ Embedding(E_h) ┘
                 ▶ Linear ▶ emissions (B, T, K) ─▶ softmax per token, or CRF + Viterbi

Symbols: B batch, T padded tokens, K tags, E_w ``embedding_dim``, E_s ``suffix_dim``, E_h
``shape_dim``. Words seen fewer than ``min_freq`` times in training map to <unk>, so the <unk>
embedding is trained on rare words and stands for unseen ones at prediction time; the suffix
(``-ly``, ``-ing``, ``-ed``) and the shape carry what an unknown word still tells. Padding is
carried as ``lengths`` into the encoder and as a mask into the loss, so padded tokens never
count.

Without a CRF each token's tag is the argmax of its emission scores and the loss is the
per-token cross-entropy. With ``crf=True`` (:class:`~rnnkit.nn.crf.CRF`) the loss is the
negative log-likelihood of the whole tag sequence (per real token) and prediction is the
Viterbi path, so tag transitions are scored jointly.

The task answers the one task interface (:class:`~rnnkit.tasks.base.Task`): ``fit(data)`` or
``fit(sentences, tags, validation=...)`` -> self, ``predict`` (tags as strings), ``evaluate``
-> a :class:`~rnnkit.tasks.base.Report` (token accuracy, sentence accuracy, macro F1, accuracy
on out-of-vocabulary words) beside the most-frequent-tag baseline, ``save(path)`` /
``SequenceTagger.load(path)`` as an rnnkit bundle (safetensors + JSON vocabularies, no
pickle); same seed, same predictions; saved then loaded, same predictions.

File (:meth:`SequenceTagger.read_data`, what ``rnnkit train`` reads from ``data.path``): the
CoNLL layout, one token per line with its tag, separated by whitespace (tabs or spaces; the
token is the first column and the tag the last, so CoNLL-2003's middle columns are allowed),
a blank line between sentences, ``-DOCSTART-`` lines skipped::

    The     DET
    dog     NOUN
    barks   VERB

    It      PRON
    ...

For prediction (``labelled=False``) a line holds the token alone (other columns are ignored).
``read_data`` returns :class:`~rnnkit.tasks.base.Examples` (token lists and tag lists);
:meth:`SequenceTagger.predict_frame` writes one row per token: ``sentence`` (its index),
``position``, ``token`` (the true ``tag`` when known) and the ``prediction``.

Configuration (TOML)::

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

Example:
    >>> sents = [["The", "dog", "runs"], ["A", "cat", "sleeps"]] * 10
    >>> tags = [["DET", "NOUN", "VERB"]] * 20
    >>> tagger = SequenceTagger({"model": {"crf": True}, "training": {"epochs": 2}})
    >>> tagger.fit(sents, tags).predict([["The", "cat", "runs"]])  # doctest: +SKIP
    [['DET', 'NOUN', 'VERB']]
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.bundle import Bundle
from rnnkit.config import Section
from rnnkit.data.padding import pad_sequences
from rnnkit.data.text import UNK_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.metrics.classification import classification_report
from rnnkit.nn.crf import CRF
from rnnkit.tasks._batching import (
    eval_batch_size,
    make_loader,
    run_in_length_order,
    split_validation,
)
from rnnkit.tasks.base import (
    EarlyStoppingSection,
    Examples,
    Report,
    Task,
    TaskConfig,
    split_examples,
)
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
    "SHAPES",
    "SequenceTagger",
    "TaggerConfig",
    "TaggerModel",
    "TaggerNet",
    "TokenFeatures",
    "check_sentences",
    "check_tag_lists",
    "parse_conll",
    "tagging_metrics",
    "word_shape",
]

IGNORE = -100  # target value of padded tokens (PyTorch's ignore index)

#: Word shape classes; a token's shape id is its position here + 1 (0 is padding).
SHAPES: tuple[str, ...] = ("lower", "title", "upper", "mixed", "number", "has_digit", "punct",
                           "other")
_NUMBER = re.compile(r"[+-]?[\d.,:/-]*\d[\d.,:/-]*%?")


def word_shape(word: str) -> str:
    """The shape class of a token: ``"lower"`` (dog), ``"title"`` (Paris), ``"upper"`` (USA,
    I), ``"mixed"`` (McCoy), ``"number"`` (1,984.5, 3/4), ``"has_digit"`` (B-52), ``"punct"``
    (no letter or digit) or ``"other"``."""
    if any(c.isdigit() for c in word):
        return "number" if _NUMBER.fullmatch(word) else "has_digit"
    if not any(c.isalnum() for c in word):
        return "punct"
    if word.islower():
        return "lower"
    if word.isupper():
        return "upper"
    if word[0].isupper():
        return "title" if word[1:] == word[1:].lower() else "mixed"
    return "other"


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
class TaggerData(DataFiles):
    """``[data]``: the CoNLL file (``path``), the test part (``test_path``, else a seeded
    ``test`` fraction of the sentences) and the validation fraction ``fit`` holds out
    (:class:`~rnnkit.tasks.encoder.DataFiles`)."""


class TaggerModel(Section):
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
    pretrained_embeddings: str | None = None
    freeze_embeddings: bool = False

    @model_validator(mode="before")
    @classmethod
    def _check_vectors(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            check_pretrained_source(data.get("pretrained_embeddings"))
        return data


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
    training: TrainerConfig = Field(default_factory=default_training)
    early_stopping: EarlyStoppingSection = Field(
        default_factory=lambda: EarlyStoppingSection(patience=3))
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    @model_validator(mode="before")
    @classmethod
    def _training_defaults(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            if "training" in data:
                data["training"] = merge_training(data["training"], default_training())
            if isinstance(data.get("early_stopping"), Mapping):  # patience 3 unless given
                data["early_stopping"] = {"patience": 3, **data["early_stopping"]}
        return data

    def resolve_paths(self, folder: Path) -> TaggerConfig:
        """Relative ``data.path`` / ``data.test_path`` are resolved against ``folder``."""
        changed = resolve_data_paths(self.data, folder)
        return self.with_overrides({"data": changed}) if changed else self


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
def parse_conll(text: str, *, labelled: bool = True, source: str = "data") -> Examples:
    """Sentences (and tags) of CoNLL-layout text (see the module docstring)."""
    sentences: list[list[str]] = []
    tag_lists: list[list[str]] = []
    words: list[str] = []
    tags: list[str] = []

    def close() -> None:
        if words:
            sentences.append(list(words))
            tag_lists.append(list(tags))
            words.clear()
            tags.clear()

    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            close()
            continue
        if parts[0] == "-DOCSTART-":
            close()
            continue
        if labelled and len(parts) < 2:
            raise DataError(expected(f"{source} line {number}", "a token and its tag",
                                     Described(f"{line.strip()!r} alone"),
                                     "separate them by a tab or spaces, or read with "
                                     "labelled=False"))
        words.append(parts[0])
        tags.append(parts[-1])
    close()
    if not sentences:
        raise DataError(expected(source, "at least one sentence (token lines)",
                                 Described("none")))
    return Examples(sentences, tag_lists if labelled else None)


def _unpack(data: Any, tags: Any, name: str = "tags") -> tuple[Any, Any]:
    if isinstance(data, Examples):
        if tags is not None:
            raise ConfigError(expected(name, "None when the data are Examples (they hold the "
                                       "tags)", Described(type(tags).__name__)))
        return data.inputs, data.targets
    return data, tags


# ---------------------------------------------------------------------------------------------
# token features
# ---------------------------------------------------------------------------------------------
def check_sentences(sentences: Any, name: str) -> list[list[str]]:
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise DataError(expected(name, "a list of tokenized sentences (lists of str)",
                                 type(sentences).__name__))
    out = []
    for i, s in enumerate(sentences):
        if isinstance(s, str) or not isinstance(s, Sequence) or not all(isinstance(t, str) for t in s):
            raise DataError(expected(f"{name}[{i}]", "a list of str tokens",
                                     type(s).__name__, "split each sentence into tokens first"))
        if not s:
            raise DataError(expected(f"{name}[{i}]", "at least one token", "an empty sentence"))
        out.append(list(s))
    if not out:
        raise DataError(expected(name, "at least one sentence", "none"))
    return out


def check_tag_lists(sentences: list[list[str]], tags: Any, name: str) -> list[list[str]]:
    if isinstance(tags, str) or not isinstance(tags, Sequence) or len(tags) != len(sentences):
        got = len(tags) if isinstance(tags, Sequence) else type(tags).__name__
        raise ShapeError(expected(name, f"{len(sentences)} tag lists (one per sentence)", got))
    out = []
    for i, (s, t) in enumerate(zip(sentences, tags)):
        if isinstance(t, str) or not isinstance(t, Sequence) or len(t) != len(s):
            got = repr(t) if isinstance(t, str) else (len(t) if isinstance(t, Sequence) else t)
            raise ShapeError(expected(f"{name}[{i}]", f"{len(s)} tags (one per token)", got))
        if not all(isinstance(v, str) for v in t):
            raise DataError(expected(f"{name}[{i}]", "tag names (str)",
                                     sorted({type(v).__name__ for v in t})))
        out.append(list(t))
    return out


class TokenFeatures:
    """Token -> (word id, suffix id, shape id), fitted on the training sentences.

    ``transform`` returns ``x`` (N, T, 3) long (0 on padding) and ``lengths`` (N,).
    """

    def __init__(self, config: TaggerModel) -> None:
        self.config = config
        self.words: Vocabulary | None = None
        self.suffixes: Vocabulary | None = None

    def _word(self, token: str) -> str:
        return token.lower() if self.config.lowercase else token

    def _suffix(self, token: str) -> str:
        return token.lower()[-self.config.suffix_length:]

    def fit(self, sentences: list[list[str]]) -> TokenFeatures:
        cfg = self.config
        self.words = Vocabulary.build(([self._word(t) for t in s] for s in sentences),
                                      min_freq=cfg.min_freq, max_size=cfg.max_vocab)
        if cfg.suffix_length:
            self.suffixes = Vocabulary.build(([self._suffix(t) for t in s] for s in sentences),
                                             min_freq=cfg.min_freq)
        return self

    def transform(self, sentences: list[list[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = []
        words, suffixes = self.words, self.suffixes
        for s in sentences:
            w = words.encode([self._word(t) for t in s])  # type: ignore[union-attr]
            x = (suffixes.encode([self._suffix(t) for t in s]) if suffixes is not None
                 else [0] * len(s))
            h = [SHAPES.index(word_shape(t)) + 1 for t in s]
            rows.append(torch.tensor([w, x, h], dtype=torch.long).T)  # (T_i, 3)
        return pad_sequences(rows)  # (N, T, 3), (N,)

    def is_known(self, sentences: list[list[str]]) -> list[list[bool]]:
        """Whether each token's word is in the vocabulary (False: it is read as <unk>)."""
        return [[self.words[self._word(t)] != UNK_ID for t in s] for s in sentences]  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        return {"words": self.words.to_dict(),  # type: ignore[union-attr]
                "suffixes": None if self.suffixes is None else self.suffixes.to_dict(),
                "shapes": list(SHAPES)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], config: TaggerModel) -> TokenFeatures:
        if list(data.get("shapes", [])) != list(SHAPES):
            raise DataError(expected("preprocessing shapes", list(SHAPES), data.get("shapes")))
        self = cls(config)
        self.words = Vocabulary.from_dict(data["words"])
        self.suffixes = None if data.get("suffixes") is None else Vocabulary.from_dict(data["suffixes"])
        return self


# ---------------------------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------------------------
class TaggerNet(nn.Module):
    """Token features -> (Bi)LSTM -> per-token emission scores, with an optional CRF.

    Forward: ``x`` (B, T, 3) long (word, suffix, shape ids), ``lengths`` (B,) -> emissions
    (B, T', K), T' = the batch's longest sentence. :meth:`loss` takes the emissions and
    targets (B, T') with -100 on padding; :meth:`decode` gives (B, T') tag ids, -100 on padding.
    """

    def __init__(self, n_tags: int, config: TaggerModel, *, vocab_size: int,
                 suffix_vocab_size: int | None) -> None:
        super().__init__()
        self.n_tags = check_positive_int("n_tags", n_tags)
        self.words = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=0)
        width = config.embedding_dim
        self.suffixes = None
        if suffix_vocab_size is not None:
            self.suffixes = nn.Embedding(suffix_vocab_size, config.suffix_dim, padding_idx=0)
            width += config.suffix_dim
        self.shapes = None
        if config.shape_dim:
            self.shapes = nn.Embedding(len(SHAPES) + 1, config.shape_dim, padding_idx=0)
            width += config.shape_dim
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = config.encoder.build(width)
        self.head = nn.Linear(config.encoder.output_size, n_tags)
        self.crf = CRF(n_tags) if config.crf else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None:
            x = x[:, : int(lengths.max())]  # cut the batch to its longest sentence
        feats = [self.words(x[..., 0])]  # (B, T, E_w)
        if self.suffixes is not None:
            feats.append(self.suffixes(x[..., 1]))  # (B, T, E_s)
        if self.shapes is not None:
            feats.append(self.shapes(x[..., 2]))  # (B, T, E_h)
        h = self.dropout(torch.cat(feats, dim=-1))  # (B, T, E_w + E_s + E_h)
        out, _ = self.encoder(h, lengths=lengths)  # (B, T, D·H)
        return self.head(self.dropout(out))  # (B, T, K)

    def loss(self, emissions: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        """Mean loss per real token: CRF negative log-likelihood, or cross-entropy."""
        if self.crf is not None:
            return self.crf.nll(emissions, tags, mask=tags != IGNORE, reduction="token_mean")
        K = emissions.shape[-1]
        return F.cross_entropy(emissions.reshape(-1, K), tags.reshape(-1), ignore_index=IGNORE)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Best tag ids (B, T), ``-100`` on padding: Viterbi with a CRF, else per-token argmax."""
        if self.crf is not None:
            return self.crf.decode(emissions, lengths=lengths, pad_value=IGNORE)
        mask = torch.arange(emissions.shape[1], device=emissions.device) < lengths[:, None]
        return emissions.argmax(-1).masked_fill(~mask, IGNORE)


# ---------------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------------
class SequenceTagger(Task):
    """Tag every token of tokenized sentences with a (Bi)LSTM, optionally with a CRF.

    Args:
        config: the whole configuration (:class:`TaggerConfig`, or a dict of its tables, or
            None for the defaults).

    Attributes (after ``fit`` or ``load``):
        tags_: the sorted tag names (emission column k is ``tags_[k]``).
        model_, features_, history_, fit_seconds_.
        baselines_: the most-frequent-tag baseline fitted beside the model (not saved).
        embedding_coverage_: the fraction of vocabulary words that pretrained vectors
            initialized in the last ``fit`` (None without ``pretrained_embeddings``).
    """

    name: ClassVar[str] = "tagging"
    config_class: ClassVar[type[TaskConfig]] = TaggerConfig
    legacy_names: ClassVar[tuple[str, ...]] = ("sequence_tagging",)
    config: TaggerConfig

    def __init__(self, config: TaggerConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self.tags_: list[str] | None = None
        self.model_: TaggerNet | None = None
        self.features_: TokenFeatures | None = None
        self.baselines_: dict[str, Any] = {}
        self.embedding_coverage_: float | None = None

    # -- files ------------------------------------------------------------------------
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Examples:
        """Sentences (and tags) of a CoNLL-layout file (``path``, else ``data.path``; see the
        module docstring); ``labelled=False`` reads the tokens only."""
        path = self.config.data.path if path is None else path
        if path is None:
            raise ConfigError(expected("data.path", "the path of a CoNLL file", None,
                                       "set data.path in the config or pass read_data(path)"))
        p = Path(path)
        if not p.is_file():
            raise DataError(expected("data.path", "an existing CoNLL file", str(p)))
        return parse_conll(p.read_text(encoding="utf-8"), labelled=labelled, source=str(p))

    def split(self, data: Examples) -> tuple[Examples, Examples]:
        """``(fit_data, test_data)``: ``data.test_path`` read as the test part, else a seeded
        ``data.test`` fraction of the sentences held out."""
        d = self.config.data
        if d.test_path is not None:
            return data, self.read_data(d.test_path)
        return split_examples(Examples(*_unpack(data, None)), float(d.test), d.seed)

    def predict_frame(self, data: Any) -> Any:
        """One row per token: ``sentence`` (index), ``position``, ``token``, the true ``tag``
        when ``data`` has tags, and the ``prediction``."""
        import pandas as pd

        sentences, tags = _unpack(data, None)
        predicted = self.predict(sentences)
        rows: dict[str, list[Any]] = {"sentence": [], "position": [], "token": []}
        if tags is not None:
            rows["tag"] = []
        rows["prediction"] = []
        for i, (sentence, pred) in enumerate(zip(sentences, predicted)):
            for j, (token, tag) in enumerate(zip(sentence, pred)):
                rows["sentence"].append(i)
                rows["position"].append(j)
                rows["token"].append(token)
                if tags is not None:
                    rows["tag"].append(tags[i][j])
                rows["prediction"].append(tag)
        return pd.DataFrame(rows)

    # -- fit --------------------------------------------------------------------------
    def _encode_tags(self, tags: list[list[str]], name: str) -> torch.Tensor:
        index = {t: i for i, t in enumerate(self.tags_)}  # type: ignore[arg-type]
        rows = []
        for i, t in enumerate(tags):
            unknown = [v for v in t if v not in index]
            if unknown:
                raise DataError(expected(f"{name}[{i}]", f"tags among those seen in fit {self.tags_}",
                                         unknown[0]))
            rows.append([index[v] for v in t])
        y, _ = pad_sequences(rows, value=IGNORE)  # (N, T), -100 on padding
        return y

    def fit(self, data: Any, tags: Sequence[Sequence[str]] | None = None, *,
            validation: Any = None, callbacks: Sequence[Callback] = ()) -> Self:
        """Fit the vocabularies and train.

        Args:
            data: the :class:`~rnnkit.tasks.base.Examples` of :meth:`read_data`, or N
                tokenized sentences.
            tags: N lists of tag names, one per token (with sentences).
            validation: Examples, ``(sentences_val, tags_val)``, a fraction of the training
                sentences to hold out, or None: ``data.validation`` of the config (None there
                too: no validation). With validation data the History gets ``val_loss`` and
                ``val_token_accuracy``, and early stopping (``[early_stopping]``) is on.
            callbacks: extra :class:`~rnnkit.training.Callback` instances for the Trainer
                (after the task's own, so they see the validation metrics).

        Returns:
            self.
        """
        t0 = time.perf_counter()
        sentences, tags = _unpack(data, tags)
        sents = check_sentences(sentences, "sentences")
        if tags is None:
            raise DataError(expected("tags", "a tag list per sentence", None,
                                     "call fit(sentences, tags), or fit(examples) with tags"))
        tag_lists = check_tag_lists(sents, tags, "tags")
        if validation is None:
            validation = self.config.data.validation
        if isinstance(validation, Examples):
            validation = (validation.inputs, validation.targets)
        if isinstance(validation, float):
            tr, va = split_validation(len(sents), validation, self.config.data.seed)
            validation = ([sents[i] for i in va], [tag_lists[i] for i in va])
            sents, tag_lists = [sents[i] for i in tr], [tag_lists[i] for i in tr]
        self.tags_ = sorted({v for t in tag_lists for v in t})
        if len(self.tags_) < 2:
            raise DataError(expected("tags", "at least two distinct tags", self.tags_))
        y = self._encode_tags(tag_lists, "tags")
        cfg, tcfg = self.config.model, self.config.training
        self.features_ = TokenFeatures(cfg).fit(sents)
        x, lens = self.features_.transform(sents)

        seed = 0 if tcfg.seed is None else tcfg.seed
        if tcfg.seed is not None:
            seed_everything(tcfg.seed)
        self.model_ = self._build()
        self.embedding_coverage_ = None
        if cfg.pretrained_embeddings is not None:
            from rnnkit.datasets.word_vectors import init_embedding

            self.embedding_coverage_ = init_embedding(
                self.model_.words, self.features_.words, cfg.pretrained_embeddings,  # type: ignore[arg-type]
                freeze=cfg.freeze_embeddings, seed=seed)
        train = make_loader(x, y, lens, tcfg.batch_size, shuffle=tcfg.shuffle, bucket=cfg.bucket,
                            seed=seed)
        own: list[Callback] = []
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise ConfigError(expected("validation", "(sentences_val, tags_val), Examples, "
                                           "a fraction or None", type(validation).__name__))
            vs = check_sentences(validation[0], "validation sentences")
            yv = self._encode_tags(check_tag_lists(vs, validation[1], "validation tags"),
                                   "validation tags")
            xv, lv = self.features_.transform(vs)
            own.append(HistoryMetrics(lambda: self._validate(xv, yv, lv)))
            stopping = self.config.early_stopping.callback()
            if stopping is not None:
                own.append(stopping)
        trainer = Trainer(self.model_, tcfg, loss=self.model_.loss, callbacks=[*own, *callbacks])
        self.history_ = trainer.fit(train)
        self.model_.eval()
        self.baselines_ = {}
        if self.config.evaluation.baselines:
            from rnnkit.baselines.text import MostFrequentTagTagger

            self.baselines_["most_frequent_tag"] = MostFrequentTagTagger().fit(sents, tag_lists)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _build(self) -> TaggerNet:
        feats = self.features_
        return TaggerNet(len(self.tags_), self.config.model,  # type: ignore[arg-type]
                         vocab_size=len(feats.words),  # type: ignore[union-attr, arg-type]
                         suffix_vocab_size=None if feats.suffixes is None else len(feats.suffixes))  # type: ignore[union-attr]

    @torch.no_grad()
    def _validate(self, x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> dict[str, float]:
        """Loss per token and token accuracy on encoded data, in eval mode (mode restored)."""
        model, _ = self._fitted()
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        loss_sum, hits = 0.0, 0
        try:
            for idx in torch.argsort(lengths, stable=True).split(eval_batch_size(self.config.training)):
                lb = lengths[idx].to(device)
                t_max = int(lb.max())
                xb, yb = x[idx][:, :t_max].to(device), y[idx][:, :t_max].to(device)
                em = model(xb, lb)  # (b, t_max, K)
                loss_sum += float(model.loss(em, yb)) * int(lb.sum())
                hits += int((model.decode(em, lb) == yb).masked_fill(yb == IGNORE, False).sum())
        finally:
            model.train(was_training)
        n = int(lengths.sum())
        return {"loss": loss_sum / n, "token_accuracy": hits / n}

    # -- predict ----------------------------------------------------------------------
    def _fitted(self) -> tuple[TaggerNet, TokenFeatures]:
        if self.model_ is None or self.features_ is None:
            raise ConfigError(expected("SequenceTagger", "a fitted tagger", Described("an unfitted one"),
                                       "call fit(sentences, tags) or SequenceTagger.load(path) first"))
        return self.model_, self.features_

    @torch.no_grad()
    def _decode_ids(self, x: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """Tag ids of every sentence (a list of (T_i,) tensors), in the input order."""
        model, _ = self._fitted()
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        try:
            def run(xb: torch.Tensor, lb: torch.Tensor) -> torch.Tensor:
                lb = lb.to(device)
                return model.decode(model(xb.to(device), lb), lb).cpu()

            rows = run_in_length_order(run, x, lengths, eval_batch_size(self.config.training))
        finally:
            model.train(was_training)
        return [r[: int(n)] for r, n in zip(rows, lengths)]

    def predict(self, sentences: Any) -> list[list[str]]:
        """The tag of every token of every sentence (sentences, or Examples)."""
        _, feats = self._fitted()
        sents = check_sentences(_unpack(sentences, None)[0], "sentences")
        x, lens = feats.transform(sents)
        names = self.tags_
        return [[names[i] for i in row.tolist()] for row in self._decode_ids(x, lens)]  # type: ignore[index]

    def evaluate(self, data: Any, tags: Sequence[Sequence[str]] | None = None) -> Report:
        """The model's metrics on tagged sentences (:func:`tagging_metrics`) beside the
        most-frequent-tag baseline's (when fitted), out-of-vocabulary accuracy measured on the
        same tokens (words the tagger's vocabulary lacks) for both.

        Returns:
            a :class:`~rnnkit.tasks.base.Report`: ``token_accuracy`` (primary), sentence
            accuracy, F1s, ``oov_accuracy`` per model; counts, ``labels``, ``per_class`` and
            ``confusion_matrix`` (the model's) in its details.
        """
        _, feats = self._fitted()
        sentences, tags = _unpack(data, tags)
        sents = check_sentences(sentences, "sentences")
        if tags is None:
            raise DataError(expected("tags", "a tag list per sentence", None))
        gold = check_tag_lists(sents, tags, "tags")
        known = feats.is_known(sents)
        model_m = tagging_metrics(gold, self.predict(sents), known)
        baselines = {name: _scalars(tagging_metrics(gold, b.predict(sents), known))
                     for name, b in self.baselines_.items()}
        details = {k: model_m[k] for k in _DETAILS if k in model_m}
        return Report(self.name, _scalars(model_m), baselines=baselines,
                      primary="token_accuracy", higher_is_better=True, details=details)

    # -- the bundle -------------------------------------------------------------------
    def _preprocessing(self) -> dict[str, Any]:
        _, feats = self._fitted()
        return {"features": feats.to_dict(), "tags": self.tags_}

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.tags_ = [str(t) for t in preprocessing["tags"]]
        self.features_ = TokenFeatures.from_dict(preprocessing["features"], self.config.model)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> TaggerConfig:
        """The saved config; bundles written before the one task interface kept the model
        fields (``patience`` and ``monitor`` among them) and the training apart."""
        if "config" in bundle.config:
            return TaggerConfig.from_dict(bundle.config["config"])
        return TaggerConfig.from_dict(legacy_config(bundle.config))


#: The scalar metrics of a Report row; the rest of :func:`tagging_metrics` goes to details.
_SCALARS = ("token_accuracy", "sentence_accuracy", "f1_macro", "f1_micro", "f1_weighted",
            "oov_accuracy")
_DETAILS = ("n_sentences", "n_tokens", "n_oov", "labels", "per_class", "confusion_matrix")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: metrics[k] for k in _SCALARS if k in metrics}


# kept for the baselines that import them by their former names
_check_sentences = check_sentences
_check_tag_lists = check_tag_lists
