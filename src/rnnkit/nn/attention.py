r"""Attention over a padded source sequence: Bahdanau (additive) and Luong (multiplicative).

A decoder state (the *query*) scores every encoder output (the *keys*); a softmax over the
real source steps turns the scores into weights, and the *context* is the weighted sum of the
values (the keys themselves unless given):

.. math::
    \begin{aligned}
    e_{j} &= \mathrm{score}(s, h_j) \\
    \alpha_{j} &= \frac{\exp e_j}{\sum_{k:\,m_k} \exp e_k}
        \quad(\alpha_j = 0 \text{ where } m_j \text{ is False}) \\
    c &= \textstyle\sum_j \alpha_j h_j
    \end{aligned}

=====================  ========================================================
``"bahdanau"``         :math:`e_j = v^\top \tanh(W_q s + W_k h_j + b)` (Bahdanau et al. 2015)
``"dot"``              :math:`e_j = s^\top h_j`  (Luong et al. 2015; needs Q = K)
``"general"``          :math:`e_j = s^\top W_a h_j`  (Luong et al. 2015)
=====================  ========================================================

Symbols: B batch, S source steps, T query steps, Q query features, K key features,
V value features, A the additive attention's hidden size. Shapes:

* ``query``: (B, Q) for one decoder step, or (B, T, Q) for T steps at once;
* ``keys``: (B, S, K); ``values``: (B, S, V) (default: ``keys``);
* ``mask``: (B, S) bool, True on real source steps (or ``lengths`` (B,), post-padding);
* returns ``(context, weights)``: (B, V) and (B, S) for a (B, Q) query, (B, T, V) and
  (B, T, S) for a (B, T, Q) query. Weights sum to 1 over the real steps and are exactly 0 on
  padded ones.

The key side of a score does not depend on the query, so a decoder that queries the same
source many times calls :meth:`Attention.precompute` once and passes its result as
``keys_proj=`` at every step.

Example:
    >>> attn = build_attention("bahdanau", query_size=16, key_size=32)
    >>> keys = torch.randn(2, 5, 32)
    >>> context, weights = attn(torch.randn(2, 16), keys, lengths=torch.tensor([5, 3]))
    >>> context.shape, weights.shape, weights[1, 3:].tolist()
    (torch.Size([2, 32]), torch.Size([2, 5]), [0.0, 0.0])
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit._validation import check_choice, check_positive_int, expected
from rnnkit.errors import ConfigError, ShapeError

__all__ = [
    "ATTENTIONS",
    "AdditiveAttention",
    "Attention",
    "MultiplicativeAttention",
    "build_attention",
    "masked_softmax",
]

ATTENTIONS = ("bahdanau", "dot", "general")


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None,
                   dim: int = -1) -> torch.Tensor:
    """Softmax of ``scores`` over ``dim`` (default: the last axis, S) restricted to ``mask``
    True.

    Masked positions get exactly 0; every slice needs at least one True entry. ``mask`` has
    the shape of ``scores``, or is (B, S) for a (B, T, S) score tensor, broadcast over the
    middle axis.
    """
    if mask is None:
        return torch.softmax(scores, dim=dim)
    if scores.dim() == 3 and mask.dim() == 2:
        mask = mask.unsqueeze(1)  # (B, S) -> (B, 1, S)
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=dim).masked_fill(~mask, 0.0)


class Attention(nn.Module):
    """Base class: subclasses define :meth:`score` and optionally :meth:`precompute`."""

    def __init__(self, query_size: int, key_size: int) -> None:
        super().__init__()
        self.query_size = check_positive_int("query_size", query_size)
        self.key_size = check_positive_int("key_size", key_size)

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        """The query-independent part of the score for ``keys`` (B, S, K)."""
        return keys

    def score(self, query: torch.Tensor, keys_proj: torch.Tensor) -> torch.Tensor:
        """Scores (B, T, S) of queries (B, T, Q) against precomputed keys."""
        raise NotImplementedError

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor | None = None,
        *,
        mask: torch.Tensor | None = None,
        lengths: torch.Tensor | None = None,
        keys_proj: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context and weights of ``query`` over ``keys`` (shapes in the module doc)."""
        if keys.dim() != 3 or keys.shape[-1] != self.key_size:
            raise ShapeError(expected("keys", f"shape (batch, source_steps, {self.key_size})",
                                      tuple(keys.shape)))
        B, S, _ = keys.shape
        single = query.dim() == 2
        q = query.unsqueeze(1) if single else query  # (B, T, Q)
        if q.dim() != 3 or q.shape[0] != B or q.shape[-1] != self.query_size:
            raise ShapeError(expected(
                "query", f"shape ({B}, {self.query_size}) or ({B}, steps, {self.query_size})",
                tuple(query.shape)))
        values = keys if values is None else values
        if values.dim() != 3 or values.shape[:2] != keys.shape[:2]:
            raise ShapeError(expected("values", f"shape ({B}, {S}, features) like keys",
                                      tuple(values.shape)))
        mask = _resolve_mask(mask, lengths, B, S, keys.device)
        proj = self.precompute(keys) if keys_proj is None else keys_proj
        weights = masked_softmax(self.score(q, proj), mask)  # (B, T, S)
        context = torch.bmm(weights, values)  # (B, T, S) @ (B, S, V) -> (B, T, V)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights


def _resolve_mask(mask, lengths, B: int, S: int, device) -> torch.Tensor | None:
    if mask is not None and lengths is not None:
        raise ConfigError(expected("lengths/mask", "at most one of them", "both"))
    if lengths is not None:
        lens = torch.as_tensor(lengths, device=device)
        if lens.dim() != 1 or lens.shape[0] != B:
            raise ShapeError(expected("lengths", f"shape ({B},)", tuple(lens.shape)))
        if int(lens.min()) < 1 or int(lens.max()) > S:
            raise ShapeError(expected("lengths", f"values in [1, {S}]",
                                      (int(lens.min()), int(lens.max()))))
        return torch.arange(S, device=device) < lens[:, None]  # (B, S)
    if mask is None:
        return None
    if tuple(mask.shape) != (B, S):
        raise ShapeError(expected("mask", f"shape ({B}, {S}) (batch, source_steps)",
                                  tuple(mask.shape)))
    mask = mask.bool()
    if not bool(mask.any(1).all()):
        raise ShapeError(expected("mask", "at least one real source step per sequence",
                                  "an all-False row", "a softmax over nothing is undefined"))
    return mask


class AdditiveAttention(Attention):
    r"""Bahdanau attention :math:`e_j = v^\top \tanh(W_q s + W_k h_j + b)`.

    Parameters: ``query_proj`` W_q (A, Q) without bias, ``key_proj`` W_k (A, K) with bias b
    (A,), ``v`` (A,). :meth:`precompute` returns :math:`W_k h_j + b` (B, S, A).
    """

    def __init__(self, query_size: int, key_size: int, attn_size: int | None = None) -> None:
        super().__init__(query_size, key_size)
        self.attn_size = check_positive_int("attn_size", attn_size or key_size)
        self.query_proj = nn.Linear(query_size, self.attn_size, bias=False)
        self.key_proj = nn.Linear(key_size, self.attn_size)
        self.v = nn.Parameter(torch.empty(self.attn_size).uniform_(-0.1, 0.1))

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        return self.key_proj(keys)  # (B, S, A)

    def score(self, query: torch.Tensor, keys_proj: torch.Tensor) -> torch.Tensor:
        q = self.query_proj(query)  # (B, T, A)
        hidden = torch.tanh(q.unsqueeze(2) + keys_proj.unsqueeze(1))  # (B, T, S, A)
        return hidden @ self.v  # (B, T, S)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, attn_size={self.attn_size}"


class MultiplicativeAttention(Attention):
    r"""Luong attention: ``"dot"`` :math:`e_j = s^\top h_j` (needs Q = K) or ``"general"``
    :math:`e_j = s^\top W_a h_j` with ``weight`` W_a (Q, K); :meth:`precompute` returns
    :math:`W_a h_j` (B, S, Q) so each step is one batched product."""

    def __init__(self, query_size: int, key_size: int, score: str = "general") -> None:
        super().__init__(query_size, key_size)
        self.score_name = check_choice("score", score, ("dot", "general"))
        if score == "dot" and query_size != key_size:
            raise ConfigError(expected(
                "key_size", f"{query_size} (the query size) for score='dot'", key_size,
                "use score='general' to compare states of different sizes"))
        self.weight = (nn.Parameter(nn.init.xavier_uniform_(torch.empty(query_size, key_size)))
                       if score == "general" else None)

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        if self.weight is None:
            return keys
        return keys @ self.weight.t()  # (B, S, K) @ (K, Q) -> (B, S, Q)

    def score(self, query: torch.Tensor, keys_proj: torch.Tensor) -> torch.Tensor:
        return torch.bmm(query, keys_proj.transpose(1, 2))  # (B, T, Q) @ (B, Q, S) -> (B, T, S)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, score={self.score_name!r}"


def build_attention(kind: str, query_size: int, key_size: int,
                    attn_size: int | None = None) -> Attention:
    """``"bahdanau"`` -> :class:`AdditiveAttention`; ``"dot"`` / ``"general"`` ->
    :class:`MultiplicativeAttention`."""
    check_choice("attention", kind, ATTENTIONS)
    if kind == "bahdanau":
        return AdditiveAttention(query_size, key_size, attn_size)
    return MultiplicativeAttention(query_size, key_size, kind)
