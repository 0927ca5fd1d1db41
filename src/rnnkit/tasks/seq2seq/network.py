r"""The encoder-decoder network with attention: an encoder reads the source, a decoder writes
the target.

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

Decoding (greedy and beam search) is in :mod:`rnnkit.tasks.seq2seq.decoding`.

Example:
    >>> from rnnkit.tasks.seq2seq.config import ModelSection
    >>> net = Seq2SeqNet(10, 12, ModelSection(encoder={"hidden_size": 8},
    ...                                        decoder={"hidden_size": 16}))
    >>> x = torch.randint(4, 10, (3, 5, 2))          # (B, L, 2): source, decoder input
    >>> net(x).shape                                 # (B, T, V_t)
    torch.Size([3, 5, 12])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from rnnkit._validation import expected
from rnnkit.data.vocabulary import PAD_ID
from rnnkit.errors import DataError
from rnnkit.nn.attention import build_attention
from rnnkit.tasks.seq2seq.config import ModelSection

__all__ = ["Seq2SeqNet", "masked_cross_entropy"]


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
    """The encoder-decoder module inside :class:`~rnnkit.tasks.seq2seq.Seq2Seq` (equations in
    the module doc).

    Args:
        src_vocab_size: V_s, source tokens (reserved ids included).
        tgt_vocab_size: V_t, target tokens.
        config: the ``[model]`` section (:class:`~rnnkit.tasks.seq2seq.config.ModelSection`).

    ``forward(x, lengths)``: ``x`` (B, L, 2) = source ids and decoder-input ids (``<bos>``
    then the target), ``lengths`` (B,) source lengths -> logits (B, T, V_t), T the longest
    target in the batch.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, config: ModelSection) -> None:
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
        if self.config.decoder.num_states == 1:
            state: Any = h0
        else:  # LSTM-like: h from the bridge, the other states start at 0
            state = (h0, *(torch.zeros_like(h0) for _ in range(self.config.decoder.num_states - 1)))
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

