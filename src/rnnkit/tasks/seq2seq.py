r"""Sequence to sequence with attention: an encoder reads the source, a decoder writes the target.

.. math::
    \begin{aligned}
    h_{1..S} &= \mathrm{Encoder}(E_s[x_{1..S}])
        &&\text{(Bi)LSTM/GRU; } h_j \in \mathbb{R}^{K},\ K = D_e H_e \\
    s_0 &= \tanh(W_b\, [\overrightarrow{h}_S; \overleftarrow{h}_1])
        &&\text{bridge (LSTM cells start at 0)} \\
    \text{Bahdanau:}\quad c_t &= \mathrm{attn}(s_{t-1}, h),\
        s_t = \mathrm{RNN}([E_t[y_{t-1}]; c_t], s_{t-1}) \\
    \text{Luong:}\quad s_t &= \mathrm{RNN}(E_t[y_{t-1}], s_{t-1}),\ c_t = \mathrm{attn}(s_t, h) \\
    \text{Luong, input feeding:}\quad s_t &= \mathrm{RNN}([E_t[y_{t-1}]; o_{t-1}], s_{t-1}),
        \ c_t = \mathrm{attn}(s_t, h),\ o_0 = 0 \\
    o_t &= \tanh(W_c [s_t; c_t]),\quad p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_o o_t)
    \end{aligned}

with the attention of :mod:`rnnkit.nn.attention` masked to the real source steps
(``"bahdanau"``, ``"dot"`` or ``"general"``). Symbols: B batch, S source steps, T target
steps, V_s / V_t source / target vocabulary sizes, H decoder hidden size.

*Input feeding* (Luong, Pham & Manning 2015, section 3.3; ``input_feeding=True``) gives the
decoder the previous attentional vector o_{t-1} beside the previous token, so that it knows
where it attended one step ago (the "coverage" Bahdanau attention gets from querying with
s_{t-1}); the decoder then steps through time.

Training is teacher forcing (the decoder reads the gold previous token) with an optional
*scheduled sampling* ratio (Bengio et al. 2015): with probability 1 - ratio, per example and
step, it reads its own previous prediction instead; ``teacher_forcing_final`` decays the ratio
linearly over the epochs. With full teacher forcing and Luong attention without input feeding
the whole target is decoded in one pass (the decoder's fused kernel, attention as one batched
product); Bahdanau attention, input feeding and scheduled sampling step through time.

The model runs in the shared :class:`~rnnkit.training.Trainer`: a batch's input is the
source and the decoder input stacked on the last axis, ``X`` (N, L, 2), with source
``lengths`` (N,), and the target ``y`` (N, L) is scored by a cross-entropy that ignores
``<pad>``.

Decoding: greedy, or beam search (width k; scores are sums of log-probabilities, optionally
divided by ``len^length_penalty``; an ``<eos>`` hypothesis is kept only when it ranks in the
top k, so width 1 is exactly greedy). Both return the attention weights of every output
token, (T_out, S), for plotting.

Sources and targets are token sequences: a ``str`` is split into characters, a list is taken
as its tokens (e.g. phonemes).

Example:
    >>> pairs = [("abc", ["A", "B", "C"]), ("ba", ["B", "A"])] * 64
    >>> model = Seq2Seq(Seq2SeqConfig(epochs=2, batch_size=16))
    >>> _ = model.fit(pairs)                                   # doctest: +SKIP
    >>> model.predict(["cab"])                                 # doctest: +SKIP
    [['C', 'A', 'B']]
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from rnnkit._validation import check_choice, check_positive_int, check_probability, expected
from rnnkit.bundle import load_bundle, save_bundle
from rnnkit.data.padding import pad_sequences
from rnnkit.data.text import BOS_ID, EOS_ID, PAD_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.metrics import (
    character_error_rate,
    corpus_bleu,
    exact_match,
    token_error_rate,
)
from rnnkit.nn.attention import ATTENTIONS, build_attention
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks._batching import make_loader
from rnnkit.training import Callback, History, Trainer, TrainerConfig, seed_everything

__all__ = [
    "Decoded",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Seq2SeqNet",
    "masked_cross_entropy",
]

TASK = "seq2seq"
Tokens = str | Sequence[str]


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Everything that defines a seq2seq model and its training; JSON-serializable.

    Attributes:
        encoder: the encoder stack (usually ``bidirectional=True``).
        decoder: the decoder stack (unidirectional).
        attention: ``"bahdanau"``, ``"dot"`` or ``"general"``; ``attn_size``: Bahdanau's A.
        input_feeding: feed o_{t-1} to the decoder with the previous token (Luong
            attention only; see the module doc).
        src_embedding_dim, tgt_embedding_dim: embedding sizes.
        dropout: on embeddings and on the attentional output o_t (training only).
        teacher_forcing: the probability of reading the gold previous token (1 = always).
        teacher_forcing_final: if set, the ratio decays linearly to it by the last epoch.
        epochs, batch_size, optimizer, lr, weight_decay, clipnorm, schedule: as in
            :class:`~rnnkit.training.TrainerConfig` (``schedule``: None, ``"cosine"``,
            ``"plateau"`` or ``"step"``, stepped per epoch).
        time_budget_s: stop after the epoch that would make the next one end past this.
        max_len: decoding limit; None: the longest training target + 5.
        beam_width: default width for :meth:`Seq2Seq.predict` (1: greedy).
        length_penalty: alpha of the beam score sum(log p) / len^alpha.
        seed, device: as in TrainerConfig.
        min_freq: tokens seen fewer times in the training pairs map to ``<unk>``.
        max_src_vocab, max_tgt_vocab: caps on the vocabularies, reserved tokens included
            (the most frequent tokens are kept; None: no cap). A word-level target
            vocabulary sets the softmax width, the largest cost of a translation model.
        bucket: batch pairs of similar length together
            (:class:`~rnnkit.data.padding.BucketSampler` on max(source, target) length),
            which saves most of the padding when lengths vary (sentences); off by default
            (words of CMUdict are already short and even).
    """

    encoder: RecurrentSpec = field(default_factory=lambda: RecurrentSpec(
        cell="lstm", hidden_size=128, bidirectional=True))
    decoder: RecurrentSpec = field(default_factory=lambda: RecurrentSpec(
        cell="lstm", hidden_size=256))
    attention: str = "general"
    attn_size: int | None = None
    input_feeding: bool = False
    src_embedding_dim: int = 64
    tgt_embedding_dim: int = 64
    dropout: float = 0.0
    teacher_forcing: float = 1.0
    teacher_forcing_final: float | None = None
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 2e-3
    weight_decay: float = 0.0
    clipnorm: float | None = 1.0
    schedule: str | None = None
    time_budget_s: float | None = None
    max_len: int | None = None
    beam_width: int = 1
    length_penalty: float = 0.0
    seed: int = 0
    device: str = "auto"
    min_freq: int = 1
    max_src_vocab: int | None = None
    max_tgt_vocab: int | None = None
    bucket: bool = False

    def __post_init__(self) -> None:
        check_positive_int("min_freq", self.min_freq)
        for name in ("max_src_vocab", "max_tgt_vocab"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name), 5)
        if not isinstance(self.bucket, bool):
            raise ConfigError(expected("bucket", "True or False", self.bucket))
        for name in ("encoder", "decoder"):
            spec = getattr(self, name)
            if not isinstance(spec, RecurrentSpec):
                raise ConfigError(expected(name, "a RecurrentSpec", type(spec).__name__))
            check_choice(f"{name}.cell", spec.cell, ("lstm", "gru"))
        if self.decoder.bidirectional:
            raise ConfigError(expected("decoder.bidirectional", "False", True,
                                       "a decoder writes left to right"))
        check_choice("attention", self.attention, ATTENTIONS)
        if self.attn_size is not None:
            check_positive_int("attn_size", self.attn_size)
        if not isinstance(self.input_feeding, bool):
            raise ConfigError(expected("input_feeding", "True or False", self.input_feeding))
        if self.input_feeding and self.attention == "bahdanau":
            raise ConfigError(expected(
                "input_feeding", "False with attention='bahdanau'", True,
                "input feeding is Luong's ('dot' or 'general'); Bahdanau attention already "
                "queries with the previous state"))
        check_positive_int("src_embedding_dim", self.src_embedding_dim)
        check_positive_int("tgt_embedding_dim", self.tgt_embedding_dim)
        check_probability("dropout", self.dropout)
        check_probability("teacher_forcing", self.teacher_forcing, allow_one=True)
        if self.teacher_forcing_final is not None:
            check_probability("teacher_forcing_final", self.teacher_forcing_final,
                              allow_one=True)
        if self.attention == "dot" and self.decoder.hidden_size != self.encoder.output_size:
            raise ConfigError(expected(
                "attention", "'general' or 'bahdanau' for these sizes", "dot",
                f"dot needs decoder.hidden_size ({self.decoder.hidden_size}) equal to the "
                f"encoder's output size ({self.encoder.output_size})"))
        if self.max_len is not None:
            check_positive_int("max_len", self.max_len)
        check_positive_int("beam_width", self.beam_width)
        if isinstance(self.length_penalty, bool) or not isinstance(
                self.length_penalty, (int, float)) or self.length_penalty < 0:
            raise ConfigError(expected("length_penalty", "a number >= 0", self.length_penalty))
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            raise ConfigError(expected("time_budget_s", "seconds > 0 or None", self.time_budget_s))
        self.trainer_config()  # validates the training fields

    def trainer_config(self) -> TrainerConfig:
        return TrainerConfig(epochs=self.epochs, batch_size=self.batch_size, shuffle=True,
                             optimizer=self.optimizer, lr=self.lr,
                             weight_decay=self.weight_decay, clipnorm=self.clipnorm,
                             schedule=self.schedule, seed=self.seed, device=self.device)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Seq2SeqConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(expected("Seq2SeqConfig keys", f"a subset of {sorted(known)}",
                                       unknown))
        data = dict(data)
        for name in ("encoder", "decoder"):
            if isinstance(data.get(name), dict):
                data[name] = RecurrentSpec.from_dict(data[name])
        return cls(**data)


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the non-``<pad>`` targets: logits (B, T, V), targets (B, L)
    with L >= T (steps past T must be padding: the model trims a batch to its longest
    target)."""
    T, V = logits.shape[1], logits.shape[2]
    return F.cross_entropy(logits.reshape(-1, V), targets[:, :T].reshape(-1),
                           ignore_index=PAD_ID)


class _Memory(NamedTuple):
    """What the decoder attends to: encoder outputs (B, S, K), their mask (B, S) and the
    attention's precomputed key side."""

    keys: torch.Tensor
    mask: torch.Tensor
    keys_proj: torch.Tensor

    def select(self, index: torch.Tensor) -> _Memory:
        return _Memory(*(t.index_select(0, index) for t in self))


class _Fed(NamedTuple):
    """The decoder state with input feeding: the recurrent state and o_{t-1} (N, H)."""

    rnn: Any
    feed: torch.Tensor


def _select_state(state: Any, index: torch.Tensor) -> Any:
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index)
    if isinstance(state, _Fed):
        return _Fed(_select_state(state.rnn, index), state.feed.index_select(0, index))
    return tuple(s.index_select(0, index) for s in state)


class Seq2SeqNet(nn.Module):
    """The encoder-decoder module inside :class:`Seq2Seq` (equations in the module doc).

    ``forward(x, lengths)``: ``x`` (B, L, 2) = source ids and decoder-input ids (``<bos>``
    then the target), ``lengths`` (B,) source lengths -> logits (B, T, V_t), T the longest
    target in the batch.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        self.src_embedding = nn.Embedding(src_vocab_size, config.src_embedding_dim,
                                          padding_idx=PAD_ID)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, config.tgt_embedding_dim,
                                          padding_idx=PAD_ID)
        self.encoder = config.encoder.build(config.src_embedding_dim, check_finite=False)
        K = self.encoder.output_size
        H = config.decoder.hidden_size
        self.bahdanau = config.attention == "bahdanau"
        self.input_feeding = config.input_feeding
        dec_in = (config.tgt_embedding_dim + (K if self.bahdanau else 0)
                  + (H if self.input_feeding else 0))
        self.decoder = config.decoder.build(dec_in, check_finite=False)
        enc_dirs = 2 if config.encoder.bidirectional else 1
        self.bridge = nn.Linear(enc_dirs * config.encoder.hidden_size,
                                config.decoder.num_layers * H)
        self.attention = build_attention(config.attention, H, K, config.attn_size)
        self.combine = nn.Linear(H + K, H)
        self.head = nn.Linear(H, tgt_vocab_size)
        self.drop = nn.Dropout(config.dropout)
        self.teacher_forcing = config.teacher_forcing

    # ------------------------------------------------------------------------- pieces
    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple[_Memory, Any]:
        """Source ids (B, S) and lengths (B,) -> the memory and the decoder's first state."""
        B, S = src.shape
        e = self.drop(self.src_embedding(src))  # (B, S, E_s)
        keys, enc_state = self.encoder(e, lengths=lengths)  # (B, S, K)
        h = enc_state[0] if isinstance(enc_state, tuple) else enc_state  # (B, L_e*D_e, H_e)
        D = 2 if self.config.encoder.bidirectional else 1
        top = h[:, -D:].reshape(B, -1)  # (B, D_e*H_e): last layer, both directions
        L, H = self.config.decoder.num_layers, self.config.decoder.hidden_size
        h0 = torch.tanh(self.bridge(top)).view(B, L, H)  # (B, L_d, H)
        state = (h0, torch.zeros_like(h0)) if self.config.decoder.cell == "lstm" else h0
        if self.input_feeding:
            state = _Fed(state, h0.new_zeros(B, H))  # o_0 = 0
        mask = torch.arange(S, device=src.device) < lengths[:, None]  # (B, S)
        return _Memory(keys, mask, self.attention.precompute(keys)), state

    def _attend(self, query: torch.Tensor, mem: _Memory) -> tuple[torch.Tensor, torch.Tensor]:
        return self.attention(query, mem.keys, mask=mem.mask, keys_proj=mem.keys_proj)

    def _attentional(self, s: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.combine(torch.cat([s, ctx], dim=-1)))  # o_t (..., H)

    def _output(self, s: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self._attentional(s, ctx)))  # (..., V_t)

    def decode_step(self, prev: torch.Tensor, state: Any,
                    mem: _Memory) -> tuple[torch.Tensor, Any, torch.Tensor]:
        """One decoder step: previous tokens (N,) -> logits (N, V_t), new state, attention
        weights (N, S)."""
        e = self.drop(self.tgt_embedding(prev))  # (N, E_t)
        if self.bahdanau:
            h = state[0] if isinstance(state, tuple) else state  # (N, L_d, H)
            ctx, w = self._attend(h[:, -1], mem)  # query s_{t-1}: (N, K), (N, S)
            out, state = self.decoder(torch.cat([e, ctx], -1).unsqueeze(1), state)
            s = out[:, 0]  # (N, H)
        elif self.input_feeding:
            out, rnn = self.decoder(torch.cat([e, state.feed], -1).unsqueeze(1), state.rnn)
            s = out[:, 0]  # (N, H)
            ctx, w = self._attend(s, mem)  # query s_t
            o = self._attentional(s, ctx)  # (N, H), fed to the next step
            return self.head(self.drop(o)), _Fed(rnn, o), w
        else:
            out, state = self.decoder(e.unsqueeze(1), state)
            s = out[:, 0]  # (N, H)
            ctx, w = self._attend(s, mem)  # query s_t
        return self._output(s, ctx), state, w

    # ------------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != 2 or x.is_floating_point():
            raise DataError(expected("x", "ids of shape (batch, steps, 2): source and decoder "
                                     "input", tuple(x.shape)))
        B = x.shape[0]
        src, tgt_in = x[..., 0], x[..., 1]  # (B, L) each
        if lengths is None:
            lengths = (src != PAD_ID).sum(1).clamp_min(1)
        S = int(lengths.max())
        T = int((tgt_in != PAD_ID).sum(1).max())
        src, tgt_in = src[:, :S], tgt_in[:, :T]  # trim the batch's padding
        mem, state = self.encode(src, lengths)
        ratio = self.teacher_forcing if self.training else 1.0
        if not self.bahdanau and not self.input_feeding and ratio >= 1.0:  # one pass
            e = self.drop(self.tgt_embedding(tgt_in))  # (B, T, E_t)
            s, _ = self.decoder(e, state)  # (B, T, H)
            ctx, _ = self._attend(s, mem)  # (B, T, K)
            return self._output(s, ctx)  # (B, T, V_t)
        logits = []
        prev = tgt_in[:, 0]
        for t in range(T):
            step_logits, state, _ = self.decode_step(prev, state, mem)  # (B, V_t)
            logits.append(step_logits)
            if t + 1 < T:
                gold = tgt_in[:, t + 1]
                if ratio < 1.0:
                    own = step_logits.detach().argmax(-1)  # (B,)
                    use_gold = torch.rand(B, device=x.device) < ratio
                    prev = torch.where(use_gold | (gold == PAD_ID), gold, own)
                else:
                    prev = gold
        return torch.stack(logits, dim=1)  # (B, T, V_t)


def _bucketed_loader(X: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor, batch_size: int,
                     seed: int) -> DataLoader[Any]:
    """Batches of pairs of similar max(source, target) length, cut to that length."""
    span = torch.maximum(lengths, (y != PAD_ID).sum(1))  # (N,) steps a pair needs
    return make_loader(X, y, lengths, batch_size, shuffle=True, bucket=True, seed=seed,
                       span=span)


class Decoded(NamedTuple):
    """One decoded sequence: token ids (without ``<eos>``), attention weights (T_out, S)
    over the real source steps, and the score (sum of log-probabilities, ``<eos>``
    included)."""

    ids: list[int]
    attention: torch.Tensor
    score: float


def _ban(logp: torch.Tensor) -> torch.Tensor:
    logp[:, PAD_ID] = float("-inf")
    logp[:, BOS_ID] = float("-inf")
    return logp


@torch.no_grad()
def greedy_decode(net: Seq2SeqNet, src: torch.Tensor, lengths: torch.Tensor,
                  max_len: int) -> list[Decoded]:
    """The most likely token at every step, until ``<eos>`` or ``max_len`` tokens."""
    B = src.shape[0]
    mem, state = net.encode(src, lengths)
    prev = torch.full((B,), BOS_ID, dtype=torch.long, device=src.device)
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    toks, weights, scores = [], [], torch.zeros(B, dtype=torch.float64, device=src.device)
    for _ in range(max_len):
        logits, state, w = net.decode_step(prev, state, mem)
        logp = _ban(torch.log_softmax(logits.float(), -1))  # (B, V)
        best, prev = logp.max(-1)
        scores += torch.where(done, 0.0, best.double())
        toks.append(prev)
        weights.append(w)
        done |= prev == EOS_ID
        if bool(done.all()):
            break
    tok = torch.stack(toks, 1).cpu()  # (B, T)
    att = torch.stack(weights, 1).cpu()  # (B, T, S)
    out = []
    for b in range(B):
        ids = tok[b].tolist()
        n = ids.index(EOS_ID) if EOS_ID in ids else len(ids)
        S_b = int(lengths[b])
        out.append(Decoded(ids[:n], att[b, :n, :S_b], float(scores[b])))
    return out


@torch.no_grad()
def beam_search(net: Seq2SeqNet, src: torch.Tensor, lengths: torch.Tensor, max_len: int,
                beam_width: int, length_penalty: float = 0.0) -> list[Decoded]:
    """Beam search of width k (see the module doc); returns the best hypothesis of each row.

    At each step the top 2k extensions of the k live hypotheses are ranked; an ``<eos>``
    extension (or any extension at step ``max_len``) is finished if it ranks in the top k,
    the best k others stay live. A row stops when no live hypothesis can beat its best
    finished one (exact with ``length_penalty=0``, as scores only fall).
    """
    k = check_positive_int("beam_width", beam_width)
    B, device = src.shape[0], src.device
    mem, state = net.encode(src, lengths)
    rows = torch.arange(B, device=device).repeat_interleave(k)  # (B*k,)
    mem, state = mem.select(rows), _select_state(state, rows)
    S = mem.keys.shape[1]
    scores = torch.full((B, k), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0
    prev = torch.full((B * k,), BOS_ID, dtype=torch.long, device=device)
    hist = torch.zeros(B, k, 0, dtype=torch.long)  # tokens so far
    hist_w = torch.zeros(B, k, 0, S)  # attention so far
    finished: list[list[tuple[float, float, list[int], torch.Tensor]]] = [[] for _ in range(B)]
    done = [False] * B

    def norm(score: float, n: int) -> float:
        return score / (max(n, 1) ** length_penalty) if length_penalty else score

    for t in range(max_len):
        logits, state, w = net.decode_step(prev, state, mem)
        logp = _ban(torch.log_softmax(logits.float(), -1)).double().cpu()  # (B*k, V)
        V = logp.shape[-1]
        cand = (scores.unsqueeze(-1) + logp.view(B, k, V)).view(B, k * V)
        top_s, top_i = cand.topk(min(2 * k, k * V), dim=1)  # (B, 2k), best first
        w = w.float().cpu().view(B, k, S)
        new_scores = torch.full((B, k), float("-inf"), dtype=torch.float64)
        new_src = torch.zeros(B, k, dtype=torch.long)
        new_tok = torch.full((B, k), EOS_ID, dtype=torch.long)
        last = t == max_len - 1
        for b in range(B):
            if done[b]:
                continue
            live = 0
            for rank in range(top_s.shape[1]):
                s = float(top_s[b, rank])
                if s == float("-inf") or live == k:
                    break
                src_beam, tok = divmod(int(top_i[b, rank]), V)
                if tok == EOS_ID or last:
                    if rank < k:
                        ids = [*hist[b, src_beam].tolist(), *([] if tok == EOS_ID else [tok])]
                        att = torch.cat([hist_w[b, src_beam], w[b, src_beam : src_beam + 1]])
                        att = att[: len(ids)]  # the <eos> step's row is not an output
                        finished[b].append((norm(s, len(ids) + 1), s, ids, att))
                    continue
                new_scores[b, live], new_src[b, live], new_tok[b, live] = s, src_beam, tok
                live += 1
            best_live = float(new_scores[b].max())
            if live == 0 or (finished[b] and length_penalty == 0
                             and max(f[1] for f in finished[b]) >= best_live):
                done[b] = True
                new_scores[b] = float("-inf")
        if all(done) or last:
            break
        flat = (torch.arange(B)[:, None] * k + new_src).view(-1)  # (B*k,) rows to keep
        state = _select_state(state, flat.to(device))
        hist = torch.cat([hist.gather(1, new_src[..., None].expand(-1, -1, hist.shape[2])),
                          new_tok[..., None]], dim=2)
        hist_w = torch.cat([hist_w.gather(1, new_src[..., None, None].expand(
            -1, -1, hist_w.shape[2], S)), w.gather(1, new_src[..., None].expand(-1, -1, S))
            .unsqueeze(2)], dim=2)
        prev = new_tok.view(-1).to(device)
        scores = new_scores
    out = []
    for b in range(B):
        S_b = int(lengths[b])
        if not finished[b]:  # cannot happen: the last step finishes the top k
            out.append(Decoded([], torch.zeros(0, S_b), float("-inf")))
            continue
        _, raw, ids, att = max(finished[b], key=lambda f: f[0])
        out.append(Decoded(ids, att[:, :S_b], raw))
    return out


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


class _TimeBudget(Callback):
    """Stops training when another epoch like the last one would end past the budget."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = 0.0

    def on_fit_begin(self, trainer: Trainer, **context: Any) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, **context: Any) -> None:
        elapsed = time.perf_counter() - self.start
        if elapsed + float(context["logs"].get("epoch_time", 0.0)) > self.seconds:
            trainer.stop_training = True


def _tokens(name: str, seq: Any) -> list[str]:
    if isinstance(seq, str):
        return list(seq)
    try:
        items = list(seq)
    except TypeError as exc:
        raise DataError(expected(name, "a str or a sequence of str tokens",
                                 type(seq).__name__)) from exc
    if not all(isinstance(t, str) for t in items):
        raise DataError(expected(name, "str tokens", items[:5]))
    return items


class Seq2Seq:
    """A sequence-to-sequence model with attention: fit / predict / evaluate / save / load.

    Args:
        config: a :class:`Seq2SeqConfig` (defaults if None) or a dict of its fields.
    """

    def __init__(self, config: Seq2SeqConfig | dict[str, Any] | None = None) -> None:
        if config is None:
            config = Seq2SeqConfig()
        elif isinstance(config, dict):
            config = Seq2SeqConfig.from_dict(config)
        elif not isinstance(config, Seq2SeqConfig):
            raise ConfigError(expected("config", "a Seq2SeqConfig or a dict",
                                       type(config).__name__))
        self.config = config
        self.src_vocab: Vocabulary | None = None
        self.tgt_vocab: Vocabulary | None = None
        self.net: Seq2SeqNet | None = None
        self.max_len: int = config.max_len or 50
        self.history = History()
        self.metrics: dict[str, Any] = {}

    def __repr__(self) -> str:
        changed = [f"{f.name}={getattr(self.config, f.name)!r}"
                   for f in dataclasses.fields(self.config)
                   if getattr(self.config, f.name) != f.default]
        return f"Seq2Seq({', '.join(changed)})"

    def _fitted(self) -> tuple[Seq2SeqNet, Vocabulary, Vocabulary]:
        if self.net is None or self.src_vocab is None or self.tgt_vocab is None:
            raise ConfigError(expected("Seq2Seq", "a fitted model", "an unfitted one",
                                       "call .fit(pairs) or Seq2Seq.load(path) first"))
        return self.net, self.src_vocab, self.tgt_vocab

    @staticmethod
    def _split_pairs(name: str, pairs: Any) -> tuple[list[list[str]], list[list[str]]]:
        if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__iter__"):
            raise DataError(expected(name, "a list of (source, target) pairs",
                                     type(pairs).__name__))
        src, tgt = [], []
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise DataError(expected(f"{name}[{i}]", "a (source, target) pair", pair))
            s, t = _tokens(f"{name}[{i}] source", pair[0]), _tokens(f"{name}[{i}] target", pair[1])
            if not s or not t:
                raise DataError(expected(f"{name}[{i}]", "a non-empty source and target", pair))
            src.append(s)
            tgt.append(t)
        if not src:
            raise DataError(expected(name, "at least one pair", "none"))
        return src, tgt

    def _tensors(self, src: list[list[str]], tgt: list[list[str]]):
        """-> X (N, L, 2) source and decoder-input ids, y (N, L) targets, lengths (N,)."""
        _, sv, tv = self._fitted()
        s_ids = [sv.encode(s) for s in src]
        t_in = [tv.encode(t, add_bos=True) for t in tgt]
        t_out = [tv.encode(t, add_eos=True) for t in tgt]
        L = max(max(len(s) for s in s_ids), max(len(t) for t in t_in))
        xs, lengths = pad_sequences(s_ids, maxlen=L)  # (N, L)
        xt, _ = pad_sequences(t_in, maxlen=L)
        y, _ = pad_sequences(t_out, maxlen=L)
        return torch.stack([xs, xt], dim=-1), y, lengths

    # ----------------------------------------------------------------------------- train
    def fit(self, pairs: Sequence[tuple[Tokens, Tokens]],
            val_pairs: Sequence[tuple[Tokens, Tokens]] | None = None, *,
            callbacks: list[Callback] | None = None) -> History:
        """Build both vocabularies from ``pairs`` and train (teacher forcing / scheduled
        sampling). Returns the trainer's History (``loss``, ``val_loss`` in nats per target
        token, ``teacher_forcing``, ...)."""
        cfg = self.config
        src, tgt = self._split_pairs("pairs", pairs)
        seed_everything(cfg.seed)
        self.src_vocab = Vocabulary.build(src, min_freq=cfg.min_freq, max_size=cfg.max_src_vocab)
        self.tgt_vocab = Vocabulary.build(tgt, min_freq=cfg.min_freq, max_size=cfg.max_tgt_vocab)
        self.max_len = cfg.max_len or max(len(t) for t in tgt) + 5
        self.net = Seq2SeqNet(len(self.src_vocab), len(self.tgt_vocab), cfg)
        X, y, lengths = self._tensors(src, tgt)
        val = None
        if val_pairs is not None:
            val = self._tensors(*self._split_pairs("val_pairs", val_pairs))
        cbs: list[Callback] = [_TeacherForcingSchedule(self.net, cfg.teacher_forcing,
                                                       cfg.teacher_forcing_final, cfg.epochs)]
        if cfg.time_budget_s is not None:
            cbs.append(_TimeBudget(cfg.time_budget_s))
        trainer = Trainer(self.net, cfg.trainer_config(), loss=masked_cross_entropy,
                          callbacks=[*cbs, *(callbacks or [])])
        train: Any = (X, y, lengths)
        if cfg.bucket:
            train = _bucketed_loader(X, y, lengths, cfg.batch_size, cfg.seed)
        self.history = trainer.fit(train, val_data=val)
        self.net.eval()
        return self.history

    # --------------------------------------------------------------------------- predict
    def decode(self, sources: Sequence[Tokens], *, beam_width: int | None = None,
               max_len: int | None = None, batch_size: int = 256) -> list[Decoded]:
        """Decode ``sources``: ids, attention weights (T_out, S) and score per source."""
        net, sv, _ = self._fitted()
        if isinstance(sources, str):
            raise DataError(expected("sources", "a list of sources", "a str",
                                     "wrap one source in a list: [source]"))
        k = self.config.beam_width if beam_width is None else beam_width
        check_positive_int("beam_width", k)
        limit = check_positive_int("max_len", max_len or self.max_len)
        device = next(net.parameters()).device
        net.eval()
        out: list[Decoded] = []
        seqs = [sv.encode(_tokens(f"sources[{i}]", s)) for i, s in enumerate(sources)]
        for i, s in enumerate(seqs):
            if not s:
                raise DataError(expected(f"sources[{i}]", "at least one token", sources[i]))
        for start in range(0, len(seqs), batch_size):
            x, lengths = pad_sequences(seqs[start : start + batch_size])  # (b, S), (b,)
            x, lengths = x.to(device), lengths.to(device)
            if k == 1:
                out.extend(greedy_decode(net, x, lengths, limit))
            else:
                out.extend(beam_search(net, x, lengths, limit, k, self.config.length_penalty))
        return out

    def predict(self, sources: Sequence[Tokens], *, beam_width: int | None = None,
                max_len: int | None = None) -> list[list[str]]:
        """The target tokens for each source (greedy for width 1, else beam search)."""
        _, _, tv = self._fitted()
        return [tv.decode(d.ids, stop_at_eos=False)
                for d in self.decode(sources, beam_width=beam_width, max_len=max_len)]

    def evaluate(self, pairs: Sequence[tuple[Tokens, Tokens]], *,
                 beam_width: int | None = None) -> dict[str, float]:
        """Decode the sources of ``pairs`` and compare with their targets:
        ``exact_match``, ``token_error_rate`` (edits per reference token; the phoneme error
        rate for g2p), ``character_error_rate`` (over the joined tokens), ``bleu`` (corpus
        BLEU-4) and ``n``."""
        src, tgt = self._split_pairs("pairs", pairs)
        hyp = self.predict(src, beam_width=beam_width)
        return {
            "exact_match": exact_match(tgt, hyp),
            "token_error_rate": token_error_rate(tgt, hyp),
            "character_error_rate": character_error_rate(["".join(t) for t in tgt],
                                                         ["".join(h) for h in hyp]),
            "bleu": corpus_bleu([[t] for t in tgt], hyp),
            "n": float(len(tgt)),
        }

    @torch.no_grad()
    def log_likelihood(self, source: Tokens, target: Tokens) -> float:
        """log p(target, <eos> | source) under the model (teacher-forced)."""
        net, _, _ = self._fitted()
        X, y, lengths = self._tensors([_tokens("source", source)], [_tokens("target", target)])
        net.eval()
        device = next(net.parameters()).device
        logits = net(X.to(device), lengths.to(device))  # (1, T, V)
        logp = torch.log_softmax(logits.double(), -1)
        T = logits.shape[1]
        return float(logp[0].gather(1, y[0, :T, None].to(device)).sum())

    # ----------------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write a bundle (weights, config, both vocabularies, decoding limit, metrics)."""
        net, sv, tv = self._fitted()
        return save_bundle(path, task=TASK, model=net, config={"model": self.config.to_dict()},
                           preprocessing={"src_vocab": sv.to_dict(), "tgt_vocab": tv.to_dict(),
                                          "max_len": self.max_len},
                           metrics={**self.metrics, "history": self.history.to_list()})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Seq2Seq:
        """Rebuild a model saved with :meth:`save` (same predictions)."""
        bundle = load_bundle(path, task=TASK)
        model = cls(Seq2SeqConfig.from_dict(bundle.config["model"]))
        model.src_vocab = Vocabulary.from_dict(bundle.preprocessing["src_vocab"])
        model.tgt_vocab = Vocabulary.from_dict(bundle.preprocessing["tgt_vocab"])
        model.max_len = int(bundle.preprocessing["max_len"])
        model.net = Seq2SeqNet(len(model.src_vocab), len(model.tgt_vocab), model.config)
        model.net.load_state_dict(bundle.state_dict)
        model.net.eval()
        metrics = dict(bundle.metrics)
        model.history = History(metrics.pop("history", []))
        model.metrics = metrics
        return model
