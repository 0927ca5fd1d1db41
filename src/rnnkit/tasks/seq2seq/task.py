"""The seq2seq task: an attentional encoder-decoder that maps token sequences to token
sequences (spelling to sounds, one language to another), compared with its baselines.

The one task shape (:class:`~rnnkit.tasks.base.Task`)::

    task = Seq2Seq({"data": {"units": "word", "lower": True}, "training": {"epochs": 8}})
    task.fit(pairs)                       # -> task; the record is task.history_
    task.predict(["the earth"])           # [['la', 'tierra']]: target tokens per source
    report = task.evaluate(test_pairs)    # BLEU, token / character error rate, exact match,
                                          # against the translation memory and the identity
    task.save("model/");  Seq2Seq.load("model/")

Data: ``Examples(sources, targets)`` (what :meth:`Seq2Seq.read_data` returns for a TSV file)
or a list of ``(source, target)`` pairs. A source or target is a ``str`` (cut into tokens by
the config's ``data.units``: characters by default) or a list of tokens (e.g. phonemes).

Training is teacher forcing with an optional scheduled-sampling ratio (``model.
teacher_forcing_final`` decays it linearly over the epochs; it is model behaviour, set by a
small callback); a batch's input is the source and the decoder input stacked, ``X`` (N, L, 2),
with source ``lengths`` (N,), and the target ``y`` (N, L) is scored by a cross-entropy that
ignores ``<pad>``. ``training.max_time`` is enforced by the Trainer itself.

With ``data.units = "bpe"`` the task learns sub-word pieces (:class:`~rnnkit.data.text.
BPETokenizer`, ``model.max_src_vocab`` / ``max_tgt_vocab`` pieces per side) on the training
pairs: the model reads and writes pieces, while :meth:`Seq2Seq.predict` and
:meth:`Seq2Seq.evaluate` speak words. The tokenizers are saved in the bundle.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import torch
from torch.utils.data import DataLoader

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.baselines.seq2seq import CopySource, TranslationMemory, shared_vocabulary
from rnnkit.bundle import Bundle
from rnnkit.data.padding import pad_sequences
from rnnkit.data.text import BPETokenizer, CharTokenizer, WordTokenizer
from rnnkit.data.vocabulary import PAD_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics import character_error_rate, corpus_bleu, exact_match, token_error_rate
from rnnkit.monitoring.profile import expected_oov_rate, text_profile
from rnnkit.tasks._batching import make_loader
from rnnkit.tasks.base import Examples, Report, Task, split_examples
from rnnkit.tasks.seq2seq.config import Seq2SeqConfig
from rnnkit.tasks.seq2seq.data import read_pairs, tokenizer
from rnnkit.tasks.seq2seq.decoding import Decoded, beam_search, greedy_decode
from rnnkit.tasks.seq2seq.network import Seq2SeqNet, masked_cross_entropy
from rnnkit.training import Callback, Trainer, seed_everything

__all__ = ["Seq2Seq"]

Tokens = str | Sequence[str]
#: what ``fit`` and ``evaluate`` take: Examples(sources, targets) or (source, target) pairs
Pairs = Examples | Sequence[tuple[Tokens, Tokens]]


class _TeacherForcingSchedule(Callback):
    """Sets the model's teacher-forcing ratio at each epoch (linear from start to final)."""

    def __init__(self, net: Seq2SeqNet, start: float, final: float | None, epochs: int) -> None:
        self.net, self.start, self.final, self.epochs = net, start, final, epochs

    def on_epoch_begin(self, trainer: Trainer, **context: Any) -> None:
        epoch = int(context.get("epoch", 1))
        ratio = self.start
        if self.final is not None and self.epochs > 1:
            ratio = self.start + (self.final - self.start) * (epoch - 1) / (self.epochs - 1)
        self.net.teacher_forcing = ratio
        trainer.history.record("teacher_forcing", ratio)


def _bucketed_loader(X: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor, batch_size: int,
                     seed: int) -> DataLoader[Any]:
    """Batches of pairs of similar max(source, target) length, cut to that length."""
    span = torch.maximum(lengths, (y != PAD_ID).sum(1))  # (N,) steps a pair needs
    return make_loader(X, y, lengths, batch_size, shuffle=True, bucket=True, seed=seed,
                       span=span)


def scores(references: Sequence[Sequence[str]],
           hypotheses: Sequence[Sequence[str]]) -> dict[str, float]:
    """``bleu`` (corpus BLEU-4, 0-1), ``token_error_rate`` (edits per reference token; the
    phoneme error rate of g2p), ``character_error_rate`` (over the joined tokens) and
    ``exact_match``."""
    return {
        "bleu": corpus_bleu([[list(r)] for r in references], [list(h) for h in hypotheses]),
        "token_error_rate": token_error_rate(references, hypotheses),
        "character_error_rate": character_error_rate(["".join(r) for r in references],
                                                     ["".join(h) for h in hypotheses]),
        "exact_match": exact_match(references, hypotheses),
    }


class Seq2Seq(Task):
    """A sequence-to-sequence model with attention: fit / predict / evaluate / save / load.

    Args:
        config: a :class:`~rnnkit.tasks.seq2seq.config.Seq2SeqConfig`, a dict of it, or None
            for the defaults.

    Fitted state: ``model_`` (the :class:`Seq2SeqNet`), ``history_``, ``fit_seconds_``,
    ``src_vocab_`` / ``tgt_vocab_`` (the model's tokens), ``max_len_`` (the decoding limit),
    ``src_bpe_`` / ``tgt_bpe_`` (sub-word tokenizers, None unless ``data.units = "bpe"``),
    ``shared_vocabulary_`` (sources and targets share their tokens: the identity baseline
    applies) and ``baselines_`` (the baselines fitted on the training pairs; the bundle keeps
    those pairs, unless ``evaluation.baselines`` is off, and a loaded task refits them the
    first time it evaluates).
    """

    name: ClassVar[str] = "seq2seq"
    primary_metric: ClassVar[str] = "bleu"  # the default; objective() reads the config
    higher_is_better: ClassVar[bool] = True
    config_class: ClassVar[type[Seq2SeqConfig]] = Seq2SeqConfig
    config: Seq2SeqConfig

    def __init__(self, config: Seq2SeqConfig | dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.src_vocab_: Vocabulary | None = None
        self.tgt_vocab_: Vocabulary | None = None
        self.max_len_: int = self.config.decoding.max_len or 50
        self.src_bpe_: BPETokenizer | None = None
        self.tgt_bpe_: BPETokenizer | None = None
        self.shared_vocabulary_ = False
        self.baselines_: dict[str, Any] = {}
        self._memory: tuple[list[list[str]], list[list[str]]] | None = None  # its pairs

    # -------------------------------------------------------------------------- tokens
    def _tokenizer(self, side: str) -> CharTokenizer | WordTokenizer:
        data = self.config.data
        return tokenizer(data.units if side == "source" else data.output_units, data.lower)

    def _tokens(self, name: str, seq: Any, side: str) -> list[str]:
        """A source or target as tokens: a ``str`` cut by the config's units, a sequence of
        ``str`` taken as its tokens."""
        if isinstance(seq, str):
            return self._tokenizer(side).tokenize(seq)
        try:
            items = list(seq)
        except TypeError as exc:
            raise DataError(expected(name, "a str or a sequence of str tokens",
                                     Described(type(seq).__name__))) from exc
        if not all(isinstance(t, str) for t in items):
            raise DataError(expected(name, "str tokens", items[:5]))
        return items

    def _pairs(self, name: str, data: Any) -> tuple[list[list[str]], list[list[str]]]:
        """Token lists of ``data``: Examples(sources, targets) or (source, target) pairs."""
        if isinstance(data, Examples):
            if data.targets is None:
                raise DataError(expected(name, "labelled examples (sources and targets)",
                                         Described("sources only"),
                                         "read the file with labelled=True"))
            if len(data.inputs) != len(data.targets):
                raise DataError(expected(name, f"{len(data.inputs)} targets (one per source)",
                                         len(data.targets)))
            data = list(zip(data.inputs, data.targets))
        if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
            raise DataError(expected(name, "Examples(sources, targets) or (source, target) "
                                     "pairs", Described(type(data).__name__)))
        src, tgt = [], []
        for i, pair in enumerate(data):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise DataError(expected(f"{name}[{i}]", "a (source, target) pair", pair))
            s = self._tokens(f"{name}[{i}] source", pair[0], "source")
            t = self._tokens(f"{name}[{i}] target", pair[1], "target")
            if not s or not t:
                raise DataError(expected(f"{name}[{i}]", "a non-empty source and target", pair))
            src.append(s)
            tgt.append(t)
        if not src:
            raise DataError(expected(name, "at least one pair", Described("none")))
        return src, tgt

    def _sources(self, sources: Any) -> list[list[str]]:
        if isinstance(sources, Examples):
            sources = sources.inputs
        if isinstance(sources, str):
            raise DataError(expected("sources", "a list of sources", Described("a str"),
                                     "wrap one source in a list: [source]"))
        out = [self._tokens(f"sources[{i}]", s, "source") for i, s in enumerate(sources)]
        for i, s in enumerate(out):
            if not s:
                raise DataError(expected(f"sources[{i}]", "at least one token", sources[i]))
        return out

    def model_tokens(self, source: Tokens) -> list[str]:
        """The tokens the model reads for ``source`` (sub-word pieces with bpe): what the
        columns of :meth:`decode`'s attention weights stand for."""
        return self._model_source(self._tokens("source", source, "source"))

    def output_tokens(self, decoded: Decoded) -> list[str]:
        """The target tokens of one :meth:`decode` output (words with bpe)."""
        pieces = self._vocabularies()[1].decode(decoded.ids, stop_at_eos=False)
        return self._output_tokens(pieces)

    def _model_source(self, tokens: list[str]) -> list[str]:
        """The tokens the model reads (sub-word pieces with bpe)."""
        return tokens if self.src_bpe_ is None else self.src_bpe_.tokenize(" ".join(tokens))

    def _model_target(self, tokens: list[str]) -> list[str]:
        return tokens if self.tgt_bpe_ is None else self.tgt_bpe_.tokenize(" ".join(tokens))

    def _output_tokens(self, pieces: list[str]) -> list[str]:
        """Model output tokens as the task's target tokens (words with bpe)."""
        return pieces if self.tgt_bpe_ is None else self.tgt_bpe_.detokenize(pieces).split()

    def detokenize(self, tokens: Sequence[str]) -> str:
        """A target as text: tokens joined by ``""`` for characters, by ``" "`` for words."""
        return ("" if self.config.data.output_units == "char" else " ").join(tokens)

    def _vocabularies(self) -> tuple[Vocabulary, Vocabulary]:
        if self.src_vocab_ is None or self.tgt_vocab_ is None:
            raise ConfigError(expected(type(self).__name__, "fitted vocabularies",
                                       Described("none"), "call fit(...) or load(path) first"))
        return self.src_vocab_, self.tgt_vocab_

    def _tensors(self, src: list[list[str]], tgt: list[list[str]]
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Model tokens -> X (N, L, 2) source and decoder-input ids, y (N, L) targets,
        lengths (N,)."""
        sv, tv = self._vocabularies()
        s_ids = [sv.encode(s) for s in src]
        t_in = [tv.encode(t, add_bos=True) for t in tgt]
        t_out = [tv.encode(t, add_eos=True) for t in tgt]
        L = max(max(len(s) for s in s_ids), max(len(t) for t in t_in))
        xs, lengths = pad_sequences(s_ids, maxlen=L)  # (N, L)
        xt, _ = pad_sequences(t_in, maxlen=L)
        y, _ = pad_sequences(t_out, maxlen=L)
        return torch.stack([xs, xt], dim=-1), y, lengths

    def _model_tensors(self, src: list[list[str]], tgt: list[list[str]]
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self._tensors([self._model_source(s) for s in src],
                             [self._model_target(t) for t in tgt])

    # ---------------------------------------------------------------------- the CLI
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Examples:
        """The pairs of a TSV file (:mod:`rnnkit.tasks.seq2seq.data`) as
        ``Examples(sources, targets)`` of token lists, cut by ``data.units``
        (``targets`` None when not ``labelled``). ``path`` None: ``data.path``."""
        data = self.config.data
        if path is None:
            if data.path is None:
                raise DataError(expected("data.path", "a TSV file of (source, target) pairs",
                                         None, "set data.path or pass read_data(path)"))
            path = data.path
        sources, targets = read_pairs(path, source_column=data.source_column,
                                      target_column=data.target_column, labelled=labelled)
        src_tok, tgt_tok = self._tokenizer("source"), self._tokenizer("target")
        return Examples([src_tok.tokenize(s) for s in sources],
                        None if targets is None else [tgt_tok.tokenize(t) for t in targets])

    def split(self, data: Examples) -> tuple[Examples, Examples]:
        """``(fit_data, test_data)``: a seeded random ``data.test`` fraction held out."""
        if not isinstance(data, Examples):
            src, tgt = self._pairs("data", data)
            data = Examples(src, tgt)
        return split_examples(data, self.config.data.test, self.config.data.seed)

    def predict_frame(self, data: Any) -> Any:
        """A DataFrame with ``source`` and ``prediction`` (texts: tokens joined by ``""``
        for characters, ``" "`` for words)."""
        import pandas as pd

        sources = self._sources(data)
        src_join = "" if self.config.data.units == "char" else " "
        return pd.DataFrame({"source": [src_join.join(s) for s in sources],
                             "prediction": [self.detokenize(p) for p in self.predict(sources)]})

    # ------------------------------------------------------------------------- train
    def fit(self, data: Pairs, *, validation: Pairs | None = None,
            callbacks: Sequence[Callback] | None = None) -> Self:
        """Build the vocabularies from ``data`` and train (teacher forcing / scheduled
        sampling). ``validation`` None: ``data.validation`` of the pairs is held out (none by
        default). The History (``loss``, ``val_loss`` in nats per target token,
        ``teacher_forcing``...) is ``history_``; returns ``self``."""
        cfg = self.config
        src, tgt = self._pairs("data", data)
        val: tuple[list[list[str]], list[list[str]]] | None = None
        if validation is not None:
            val = self._pairs("validation", validation)
        elif cfg.data.validation:
            rest, held = split_examples(Examples(src, tgt), cfg.data.validation, cfg.data.seed)
            src, tgt = list(rest.inputs), list(rest.targets or [])
            val = (list(held.inputs), list(held.targets or []))
        seed = cfg.training.seed
        if seed is not None:  # the vocabularies are deterministic; the initial weights are not
            seed_everything(seed)
        model = cfg.model
        self.src_bpe_ = self.tgt_bpe_ = None
        if cfg.data.units == "bpe":  # sub-words per side, learned on the training pairs
            self.src_bpe_ = BPETokenizer(vocab_size=model.max_src_vocab or 8000).fit(
                " ".join(s) for s in src)
            self.tgt_bpe_ = BPETokenizer(vocab_size=model.max_tgt_vocab or 8000).fit(
                " ".join(t) for t in tgt)
        m_src = [self._model_source(s) for s in src]
        m_tgt = [self._model_target(t) for t in tgt]
        self.src_vocab_ = Vocabulary.build(m_src, min_freq=model.min_freq,
                                           max_size=model.max_src_vocab)
        self.tgt_vocab_ = Vocabulary.build(m_tgt, min_freq=model.min_freq,
                                           max_size=model.max_tgt_vocab)
        self.max_len_ = cfg.decoding.max_len or max(len(t) for t in m_tgt) + 5
        self.shared_vocabulary_ = shared_vocabulary(src, tgt)
        net = self.model_ = self._build()
        X, y, lengths = self._tensors(m_src, m_tgt)
        val_tensors = None if val is None else self._model_tensors(*val)
        cbs: list[Callback] = [_TeacherForcingSchedule(net, model.teacher_forcing,
                                                       model.teacher_forcing_final,
                                                       int(cfg.training.epochs))]
        stopping = cfg.early_stopping.callback() if val is not None else None
        if stopping is not None:
            cbs.append(stopping)
        trainer = Trainer(net, cfg.training, loss=masked_cross_entropy,
                          callbacks=[*cbs, *(callbacks or [])])
        train: Any = (X, y, lengths)
        if model.bucket:
            train = _bucketed_loader(X, y, lengths, cfg.training.batch_size, seed or 0)
        t0 = time.perf_counter()
        self.history_ = trainer.fit(train, val_data=val_tensors)
        self.fit_seconds_ = time.perf_counter() - t0
        net.eval()
        self.baselines_ = self._fit_baselines(src, tgt)
        self._memory = (src, tgt) if self.baselines_ else None
        # the reference profile (rnnkit.monitoring) of the training sources: tokens the model
        # reads per source and the OOV rate to expect of the source vocabulary
        self.profile_ = text_profile(self.name, [len(s) for s in m_src],
                                     oov_rate=expected_oov_rate(m_src, self.src_vocab_))
        return self

    def _fit_baselines(self, src: list[list[str]], tgt: list[list[str]]) -> dict[str, Any]:
        if not self.config.evaluation.baselines:
            return {}
        return {"translation_memory": TranslationMemory().fit(src, tgt)}

    # --------------------------------------------------------------------------- predict
    def decode(self, sources: Sequence[Tokens], *, beam_width: int | None = None,
               max_len: int | None = None, batch_size: int = 256) -> list[Decoded]:
        """Decode ``sources``: model token ids, attention weights (T_out, S) over the
        model's source tokens, and the score per source."""
        net = self._require_fitted()
        sv = self._vocabularies()[0]
        seqs = [sv.encode(self._model_source(s)) for s in self._sources(sources)]
        k = self.config.decoding.beam_width if beam_width is None else beam_width
        check_positive_int("beam_width", k)
        limit = check_positive_int("max_len", max_len or self.max_len_)
        device = next(net.parameters()).device
        net.eval()
        out: list[Decoded] = []
        for start in range(0, len(seqs), batch_size):
            x, lengths = pad_sequences(seqs[start : start + batch_size])  # (b, S), (b,)
            x, lengths = x.to(device), lengths.to(device)
            if k == 1:
                out.extend(greedy_decode(net, x, lengths, limit))  # type: ignore[arg-type]
            else:
                out.extend(beam_search(net, x, lengths, limit, k,  # type: ignore[arg-type]
                                       self.config.decoding.length_penalty))
        return out

    def predict(self, sources: Sequence[Tokens] | Examples, *, beam_width: int | None = None,
                max_len: int | None = None) -> list[list[str]]:
        """The target tokens for each source (greedy for width 1, else beam search; words
        with ``data.units = "bpe"``)."""
        decoded = self.decode(sources, beam_width=beam_width, max_len=max_len)  # type: ignore[arg-type]
        return [self.output_tokens(d) for d in decoded]

    def evaluate(self, data: Pairs, *, beam_width: int | None = None,
                 train: Pairs | None = None, baselines: bool | None = None) -> Report:
        """Decode the sources of ``data`` and compare with their targets (see
        :func:`scores`): the model, the translation memory (fitted on the training pairs, or
        on ``train`` when given) and, when sources and targets share their tokens, the
        identity; ``baselines=False`` (default: ``evaluation.baselines``) scores the model
        only. ``primary``: ``evaluation.primary``; ``details``: ``n`` and ``beam_width``."""
        src, tgt = self._pairs("data", data)
        k = self.config.decoding.beam_width if beam_width is None else beam_width
        model = scores(tgt, self.predict(src, beam_width=k))
        scored: dict[str, dict[str, float]] = {}
        if self.config.evaluation.baselines if baselines is None else baselines:
            if not self.baselines_ and self._memory is not None:  # loaded: refit once
                self.baselines_ = self._fit_baselines(*self._memory)
            fitted = dict(self.baselines_)
            if train is not None:
                fitted = self._fit_baselines(*self._pairs("train", train))
            if self.shared_vocabulary_:
                fitted["identity"] = CopySource()
            for name, baseline in fitted.items():
                scored[name] = scores(tgt, baseline.predict(src))
        primary, higher = self.objective()
        return Report(self.name, model, baselines=scored, primary=primary,
                      higher_is_better=higher, details={"n": len(tgt), "beam_width": k})

    def objective(self) -> tuple[str, bool]:
        """``evaluation.primary`` (``auto``: BLEU for words and sub-words, the token error
        rate for characters) and whether higher is better."""
        primary = self.config.primary
        return primary, primary in ("bleu", "exact_match")

    @torch.no_grad()
    def log_likelihood(self, source: Tokens, target: Tokens) -> float:
        """log p(target, <eos> | source) under the model (teacher-forced)."""
        net = self._require_fitted()
        X, y, lengths = self._model_tensors([self._tokens("source", source, "source")],
                                            [self._tokens("target", target, "target")])
        net.eval()
        device = next(net.parameters()).device
        logits = net(X.to(device), lengths.to(device))  # (1, T, V)
        logp = torch.log_softmax(logits.double(), -1)
        T = logits.shape[1]
        return float(logp[0].gather(1, y[0, :T, None].to(device)).sum())

    # ----------------------------------------------------------------------- the bundle
    def _build(self) -> Seq2SeqNet:
        sv, tv = self._vocabularies()
        return Seq2SeqNet(len(sv), len(tv), self.config.model)

    def _preprocessing(self) -> dict[str, Any]:
        sv, tv = self.src_vocab_, self.tgt_vocab_
        return {"src_vocab": sv.to_dict() if sv else None,
                "tgt_vocab": tv.to_dict() if tv else None, "max_len": self.max_len_,
                "src_bpe": self.src_bpe_.to_dict() if self.src_bpe_ else None,
                "tgt_bpe": self.tgt_bpe_.to_dict() if self.tgt_bpe_ else None,
                "shared_vocabulary": self.shared_vocabulary_,
                "translation_memory": None if self._memory is None else {
                    "sources": self._memory[0], "targets": self._memory[1]}}

    def _restore(self, preprocessing: dict[str, Any]) -> None:
        self.src_vocab_ = Vocabulary.from_dict(preprocessing["src_vocab"])
        self.tgt_vocab_ = Vocabulary.from_dict(preprocessing["tgt_vocab"])
        self.max_len_ = int(preprocessing["max_len"])
        src_bpe, tgt_bpe = preprocessing.get("src_bpe"), preprocessing.get("tgt_bpe")
        self.src_bpe_ = BPETokenizer.from_dict(src_bpe) if src_bpe else None
        self.tgt_bpe_ = BPETokenizer.from_dict(tgt_bpe) if tgt_bpe else None
        self.shared_vocabulary_ = bool(preprocessing.get("shared_vocabulary", False))
        memory = preprocessing.get("translation_memory")
        self._memory = None if not memory else (memory["sources"], memory["targets"])
        self.baselines_ = {}

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> Seq2SeqConfig:
        """The saved config; bundles written before the one task interface kept the flat
        ``Seq2SeqConfig`` fields under ``"model"``."""
        if "config" in bundle.config:
            return Seq2SeqConfig.from_dict(bundle.config["config"])
        return Seq2SeqConfig.from_dict(_legacy_config(dict(bundle.config["model"])))


#: the flat fields of the old Seq2SeqConfig, by new section
_LEGACY_SECTIONS = {
    "decoding": ("max_len", "beam_width", "length_penalty"),
    "training": ("epochs", "batch_size", "optimizer", "lr", "weight_decay", "clipnorm",
                 "schedule", "seed", "device"),
}


def _legacy_config(flat: dict[str, Any]) -> dict[str, Any]:
    """The sections of a config saved as the old flat Seq2SeqConfig dict."""
    out: dict[str, dict[str, Any]] = {"model": {}, "decoding": {}, "training": {}}
    budget = flat.pop("time_budget_s", None)
    for key, value in flat.items():
        section = next((s for s, keys in _LEGACY_SECTIONS.items() if key in keys), "model")
        out[section][key] = value
    if budget is not None:
        out["training"]["max_time"] = budget
    return out
