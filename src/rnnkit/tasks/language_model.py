r"""Language modeling: predict the next token of a text, score held-out text, generate.

The model reads tokens (characters or words) and predicts the next one at every step:

.. math::
    \begin{aligned}
    e_t &= E[x_t] \\
    h_t, s_t &= \mathrm{RNN}(e_t, s_{t-1}) \\
    p(x_{t+1} \mid x_{\le t}) &= \mathrm{softmax}(W h_t + b)
    \end{aligned}

with an embedding E (V, D), a recurrent stack (:class:`~rnnkit.nn.spec.RecurrentSpec`,
LSTM or GRU) and a softmax head W (V, H), optionally tied to E (Press & Wolf 2017; a linear
projection H -> D comes first when H != D). Symbols: V vocabulary size, D embedding size,
H hidden size, B parallel streams, T steps.

Training is teacher forcing on a contiguous stream: the text is cut into B parallel streams
and run by :class:`~rnnkit.training.Trainer` in truncated-BPTT mode
(``tbptt_steps = seq_len``): one optimizer step per ``seq_len`` steps, the state carried
detached into the next segment. Training proceeds in *rounds* (``rounds_per_epoch`` per pass
over the text), each one ``Trainer.fit`` call on the next slice of the streams, so a
``time_budget_s`` is honoured to within one round, validation runs after each round and the
learning rate can decay (cosine) over the run. The History has one row per round.

Evaluation is the mean cross-entropy per token in nats (``loss``), ``perplexity`` = exp(loss)
and ``bits_per_token`` = loss / ln 2, which for a character model is ``bits_per_character``.

Generation reads the prompt once, then carries the recurrent state from token to token
(``stateful=True``), which equals re-reading the whole prefix at every step (the
``stateful=False`` reference) at a fraction of the cost.

Example:
    >>> lm = LanguageModel(LanguageModelConfig(epochs=1, seq_len=16, batch_size=4,
    ...                                        embedding_dim=8, rnn=RecurrentSpec(hidden_size=16)))
    >>> history = lm.fit("hello world, " * 50)                      # doctest: +SKIP
    >>> lm.generate("hel", max_new_tokens=10, seed=0)               # doctest: +SKIP
    >>> lm.evaluate("hello world")["bits_per_character"]            # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import check_choice, check_positive_int, check_probability, expected
from rnnkit.bundle import load_bundle, save_bundle
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
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.training import Callback, History, Trainer, TrainerConfig, seed_everything

__all__ = [
    "LEVELS",
    "LMNet",
    "LanguageModel",
    "LanguageModelConfig",
    "sample_logits",
]

LEVELS = ("char", "word")
TASK = "language_model"


@dataclass(frozen=True)
class LanguageModelConfig:
    """Everything that defines a language model and its training; JSON-serializable.

    Attributes:
        level: ``"char"`` (characters) or ``"word"`` (:class:`~rnnkit.data.text.WordTokenizer`).
        lower: lower-case the text first.
        max_vocab: cap on the vocabulary size (reserved tokens included); rarer tokens
            become ``<unk>``. ``min_freq``: keep tokens seen at least this often.
        embedding_dim: D. ``rnn``: the recurrent stack (cell "lstm" or "gru").
        tie_weights: share the embedding matrix with the softmax head.
        dropout: dropout on the embeddings and before the head (training only).
        seq_len: truncated-BPTT segment length. ``batch_size``: parallel streams B.
        epochs: passes over the training text (fractions allowed).
        rounds_per_epoch: validation (and History rows) per pass.
        lr, clipnorm, optimizer, weight_decay: as in :class:`~rnnkit.training.TrainerConfig`.
        lr_decay: ``"cosine"`` to ``min_lr`` over the run (by rounds or time budget), or None.
        time_budget_s: stop training when the next round (estimated as the last one plus 10%)
            would not end within this many seconds (None: no limit).
        val_tokens: validate on at most this many tokens of the validation text per round.
        seed: seeds weights, dropout and sampling of the run. ``device``: as the trainer's.
    """

    level: str = "char"
    lower: bool = False
    max_vocab: int | None = None
    min_freq: int = 1
    embedding_dim: int = 64
    rnn: RecurrentSpec = field(default_factory=lambda: RecurrentSpec(cell="lstm", hidden_size=256))
    tie_weights: bool = False
    dropout: float = 0.0
    seq_len: int = 100
    batch_size: int = 32
    epochs: float = 1.0
    rounds_per_epoch: int = 10
    optimizer: str = "adam"
    lr: float = 2e-3
    min_lr: float = 1e-4
    lr_decay: str | None = "cosine"
    weight_decay: float = 0.0
    clipnorm: float | None = 1.0
    time_budget_s: float | None = None
    val_tokens: int | None = 50_000
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        check_choice("level", self.level, LEVELS)
        if self.max_vocab is not None:
            check_positive_int("max_vocab", self.max_vocab, minimum=5)
        check_positive_int("min_freq", self.min_freq)
        check_positive_int("embedding_dim", self.embedding_dim)
        if not isinstance(self.rnn, RecurrentSpec):
            raise ConfigError(expected("rnn", "a RecurrentSpec", type(self.rnn).__name__))
        check_choice("rnn.cell", self.rnn.cell, ("lstm", "gru"))
        if self.rnn.bidirectional:
            raise ConfigError(expected("rnn.bidirectional", "False for a language model", True,
                                       "a next-token model may not read the future"))
        check_probability("dropout", self.dropout)
        check_positive_int("seq_len", self.seq_len)
        check_positive_int("batch_size", self.batch_size)
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, (int, float)) or \
                not self.epochs > 0:
            raise ConfigError(expected("epochs", "a number > 0", self.epochs))
        check_positive_int("rounds_per_epoch", self.rounds_per_epoch)
        check_choice("lr_decay", self.lr_decay, (None, "cosine"))
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ConfigError(expected("time_budget_s", "a number of seconds > 0 or None",
                                       self.time_budget_s))
        if self.val_tokens is not None:
            check_positive_int("val_tokens", self.val_tokens, minimum=2)
        self.trainer_config(self.lr)  # validates optimizer, lr, clipnorm, device, ...

    def trainer_config(self, lr: float) -> TrainerConfig:
        """The per-round :class:`TrainerConfig` (one epoch over one slice, TBPTT)."""
        return TrainerConfig(epochs=1, batch_size=self.batch_size, shuffle=False,
                             optimizer=self.optimizer, lr=lr, weight_decay=self.weight_decay,
                             clipnorm=self.clipnorm, loss="cross_entropy",
                             tbptt_steps=self.seq_len, device=self.device)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LanguageModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(expected("LanguageModelConfig keys", f"a subset of {sorted(known)}",
                                       unknown))
        data = dict(data)
        if isinstance(data.get("rnn"), dict):
            data["rnn"] = RecurrentSpec.from_dict(data["rnn"])
        return cls(**data)


class LMNet(nn.Module):
    """Embedding -> recurrent stack -> softmax head (the module inside :class:`LanguageModel`).

    ``forward(x, state=None) -> (logits, state)``: ``x`` (B, T) token ids (or (B, T, 1), the
    trainer's stream layout), ``logits`` (B, T, V), ``state`` the stack's final state.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, rnn: RecurrentSpec, *,
                 tie_weights: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = rnn.build(embedding_dim, check_finite=False)
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


class LanguageModel:
    """A character- or word-level language model: fit / evaluate / generate / save / load.

    Args:
        config: a :class:`LanguageModelConfig` (defaults if None) or a dict of its fields.
    """

    def __init__(self, config: LanguageModelConfig | dict[str, Any] | None = None) -> None:
        if config is None:
            config = LanguageModelConfig()
        elif isinstance(config, dict):
            config = LanguageModelConfig.from_dict(config)
        elif not isinstance(config, LanguageModelConfig):
            raise ConfigError(expected("config", "a LanguageModelConfig or a dict",
                                       type(config).__name__))
        self.config = config
        self.tokenizer = (CharTokenizer(lower=config.lower) if config.level == "char"
                          else WordTokenizer(lower=config.lower))
        self.vocab: Vocabulary | None = None
        self.net: LMNet | None = None
        self.history = History()
        self.metrics: dict[str, Any] = {}

    def __repr__(self) -> str:
        changed = [f"{f.name}={getattr(self.config, f.name)!r}"
                   for f in dataclasses.fields(self.config)
                   if f.name != "rnn" and getattr(self.config, f.name) != f.default]
        return f"LanguageModel({', '.join(changed)})"

    # ------------------------------------------------------------------------------ data
    def _fitted(self) -> tuple[LMNet, Vocabulary]:
        if self.net is None or self.vocab is None:
            raise ConfigError(expected("LanguageModel", "a fitted model", "an unfitted one",
                                       "call .fit(text) or LanguageModel.load(path) first"))
        return self.net, self.vocab

    def tokenize(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise DataError(expected("text", "a str", type(text).__name__))
        return self.tokenizer.tokenize(text)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` in the fitted vocabulary (unknown tokens -> ``<unk>``)."""
        return self._fitted()[1].encode(self.tokenize(text))

    def decode(self, ids: list[int]) -> str:
        vocab = self._fitted()[1]
        return self.tokenizer.detokenize(vocab.decode(ids, stop_at_eos=False))

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
            callbacks: list[Callback] | None = None) -> History:
        """Build the vocabulary from ``text`` and train on it (see the module doc).

        Returns the History: one row per round with ``loss`` (training nats/token),
        ``val_loss`` (when ``val_text`` is given), ``val_bits_per_token``, ``lr``, ``tokens``
        (seen so far) and ``elapsed`` seconds.
        """
        cfg = self.config
        tokens = self.tokenize(text)
        if len(tokens) < 2 * cfg.seq_len:
            raise DataError(expected("text", f"at least {2 * cfg.seq_len} tokens (2 * seq_len)",
                                     len(tokens)))
        seed_everything(cfg.seed)
        self.vocab = Vocabulary.build([tokens], min_freq=cfg.min_freq, max_size=cfg.max_vocab)
        self.net = LMNet(len(self.vocab), cfg.embedding_dim, cfg.rnn,
                         tie_weights=cfg.tie_weights, dropout=cfg.dropout)
        ids = torch.tensor(self.vocab.encode(tokens), dtype=torch.long)
        X, Y = self._streams(ids, cfg.batch_size, "text")  # (B, L) each
        val = None
        if val_text is not None:
            vids = torch.tensor(self.encode(val_text), dtype=torch.long)
            if cfg.val_tokens is not None:
                vids = vids[: cfg.val_tokens]
            vx, vy = self._streams(vids, cfg.batch_size, "val_text")
            val = (vx.unsqueeze(-1), vy)  # the trainer's (B, T, 1) stream layout
        L = X.shape[1]
        chunk = max(cfg.seq_len, math.ceil(L / cfg.rounds_per_epoch / cfg.seq_len) * cfg.seq_len)
        starts = list(range(0, L, chunk))
        total_rounds = max(1, math.ceil(cfg.epochs * len(starts)))
        trainer = Trainer(self.net, cfg.trainer_config(cfg.lr), callbacks=callbacks)
        self.history = History()
        t0 = time.perf_counter()
        seen = 0
        last_round = 0.0
        for r in range(total_rounds):
            elapsed = time.perf_counter() - t0
            if cfg.time_budget_s is not None and r > 0 and \
                    elapsed + 1.1 * last_round > cfg.time_budget_s:
                break  # the next round (10% margin) would end past the budget
            progress = r / total_rounds
            if cfg.time_budget_s is not None:
                progress = max(progress, elapsed / cfg.time_budget_s)
            lr = cfg.lr
            if cfg.lr_decay == "cosine":
                lr = cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))
            trainer.config = cfg.trainer_config(lr)
            s = starts[r % len(starts)]
            xs, ys = X[:, s : s + chunk], Y[:, s : s + chunk]  # (B, chunk)
            round_start = time.perf_counter()
            trainer.fit((xs.unsqueeze(-1), ys), val_data=val)
            last_round = time.perf_counter() - round_start
            seen += ys.numel()
            row = dict(trainer.history[-1])
            row.update(epoch=r + 1, round=r + 1, passes=(r + 1) / len(starts), tokens=seen,
                       elapsed=time.perf_counter() - t0, round_time=last_round)
            row["bits_per_token"] = row["loss"] / math.log(2)
            if "val_loss" in row:
                row["val_bits_per_token"] = row["val_loss"] / math.log(2)
            self.history.rows.append(row)
        self.net.eval()
        return self.history

    # -------------------------------------------------------------------------- evaluate
    @torch.no_grad()
    def evaluate(self, text: str, *, batch_size: int | None = None) -> dict[str, float]:
        """Cross-entropy of every next token of ``text`` given the tokens before it
        (``batch_size`` parallel streams, each starting from a zero state).

        Returns ``loss`` (nats/token), ``perplexity``, ``bits_per_token``, ``tokens``, and
        for character models ``bits_per_character``.
        """
        net, _ = self._fitted()
        ids = torch.tensor(self.encode(text), dtype=torch.long)
        x, y = self._streams(ids, batch_size or self.config.batch_size, "text")
        device = next(net.parameters()).device
        x, y = x.to(device), y.to(device)
        was = net.training
        net.eval()
        total = torch.zeros((), dtype=torch.float64, device=device)
        state = None
        for t in range(0, x.shape[1], 1000):  # segments bound the logits' memory
            logits, state = net(x[:, t : t + 1000], state)  # (B, k, V)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                     y[:, t : t + 1000].reshape(-1), reduction="sum").double()
        net.train(was)
        n = y.numel()
        ce = float(total) / n
        out = {"loss": ce, "perplexity": math.exp(min(ce, 709.0)),
               "bits_per_token": ce / math.log(2), "tokens": float(n)}
        if self.config.level == "char":
            out["bits_per_character"] = out["bits_per_token"]
        return out

    # -------------------------------------------------------------------------- generate
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
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write a bundle (weights, config, vocabulary and tokenizer, metrics)."""
        net, vocab = self._fitted()
        weights = {k: v.detach().clone() for k, v in net.state_dict().items()}  # untie storage
        return save_bundle(path, task=TASK, model=weights,
                           config={"model": self.config.to_dict()},
                           preprocessing={"vocab": vocab.to_dict(),
                                          "tokenizer": self.tokenizer.to_dict()},
                           metrics={**self.metrics, "history": self.history.to_list()})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LanguageModel:
        """Rebuild a model saved with :meth:`save` (same logits on the same input)."""
        bundle = load_bundle(path, task=TASK)
        lm = cls(LanguageModelConfig.from_dict(bundle.config["model"]))
        lm.vocab = Vocabulary.from_dict(bundle.preprocessing["vocab"])
        lm.tokenizer = tokenizer_from_dict(bundle.preprocessing["tokenizer"])  # type: ignore[assignment]
        cfg = lm.config
        lm.net = LMNet(len(lm.vocab), cfg.embedding_dim, cfg.rnn, tie_weights=cfg.tie_weights,
                       dropout=cfg.dropout)
        lm.net.load_state_dict(bundle.state_dict)
        lm.net.eval()
        metrics = dict(bundle.metrics)
        lm.history = History(metrics.pop("history", []))
        lm.metrics = metrics
        return lm
