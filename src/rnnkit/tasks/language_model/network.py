"""The network inside :class:`~rnnkit.tasks.language_model.LanguageModel` (:class:`LMNet`:
embedding -> recurrent stack -> softmax head) and the next-token sampler
(:func:`sample_logits`: greedy, temperature, top-k, top-p)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnnkit._validation import check_positive_int, expected
from rnnkit.errors import ConfigError, DataError
from rnnkit.nn import Recurrent

__all__ = ["LMNet", "sample_logits"]


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
