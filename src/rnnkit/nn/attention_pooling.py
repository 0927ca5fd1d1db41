r"""Additive attention pooling: a learned weighted average of a sequence's real steps.

Pooling reduces a sequence of features to one vector. ``last``, ``mean`` and ``max``
(:func:`rnnkit.nn.heads.pool`) are fixed rules; attention *learns* which steps matter, in the
additive form of Bahdanau et al. (2015) with a learned query vector (as in Yang et al.'s
hierarchical attention networks, 2016):

.. math::

    u_t = \tanh(W h_t + b), \qquad
    s_t = v^\top u_t, \qquad
    \alpha_t = \frac{\exp s_t}{\sum_{\tau \in \text{real}} \exp s_\tau}, \qquad
    c = \sum_{t \in \text{real}} \alpha_t h_t

Symbols: B batch, T timesteps, F features of h, A ``attention_size`` (rows of W);
:math:`h_t \in \mathbb{R}^F` the encoder output at step t, :math:`W \in \mathbb{R}^{A \times F}`,
:math:`b \in \mathbb{R}^A`, :math:`v \in \mathbb{R}^A` the learned query,
:math:`\alpha_t` the attention weight of step t (0 on padded steps, summing to 1 over the real
steps), :math:`c \in \mathbb{R}^F` the pooled vector.

Shapes: ``h`` (B, T, F); ``mask`` (B, T) bool, True on real steps (or ``lengths`` (B,));
returns ``(c, weights)`` with ``c`` (B, F) and ``weights`` (B, T).

The weights are returned so a prediction can be explained (which words moved it).

Example:
    >>> import torch
    >>> attend = AttentionPooling(8)
    >>> c, w = attend(torch.randn(2, 5, 8), lengths=torch.tensor([5, 3]))
    >>> c.shape, w.shape, w[1, 3:].tolist()
    (torch.Size([2, 8]), torch.Size([2, 5]), [0.0, 0.0])
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.attention import masked_softmax  # re-exported: part of this module's API

__all__ = ["AttentionPooling", "masked_softmax"]


class AttentionPooling(nn.Module):
    r"""Additive attention pooling over the real steps (equations in the module doc).

    Args:
        in_features: F, features of each step of ``h``.
        attention_size: A, width of the hidden scoring layer (default: ``in_features``).

    Parameters: ``proj`` (the :math:`W, b` of an ``nn.Linear(F, A)``) and ``query`` (:math:`v`,
    shape (A,), initialized from N(0, 1/A) so the initial weights are close to uniform but
    not identical).

    Forward: ``(h, mask=None, *, lengths=None) -> (c, weights)``.
    """

    def __init__(self, in_features: int, attention_size: int | None = None) -> None:
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        size = in_features if attention_size is None else attention_size
        self.attention_size = check_positive_int("attention_size", size)
        self.proj = nn.Linear(self.in_features, self.attention_size)
        self.query = nn.Parameter(torch.randn(self.attention_size) / self.attention_size ** 0.5)

    def scores(self, h: torch.Tensor) -> torch.Tensor:
        r"""Unnormalized scores :math:`s_t = v^\top \tanh(W h_t + b)`, (B, T)."""
        return torch.tanh(self.proj(h)) @ self.query  # (B, T, A) @ (A,) -> (B, T)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None, *,
                lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(h, torch.Tensor) or h.dim() != 3:
            got = Described(f"shape {tuple(h.shape)}") if isinstance(h, torch.Tensor) else type(h).__name__
            raise ShapeError(expected("h", "a 3D tensor (batch, timesteps, features)", got))
        B, T, F = h.shape
        if self.in_features != F:
            raise ShapeError(expected("h", f"{self.in_features} features in the last dimension "
                                      "(in_features)", Described(f"{F} (shape {(B, T, F)})")))
        if mask is not None and lengths is not None:
            raise ConfigError(expected("mask/lengths", "at most one of them", "both"))
        if lengths is not None:
            lens = torch.as_tensor(lengths, device=h.device)
            if lens.dim() != 1 or lens.shape[0] != B or lens.is_floating_point():
                raise ShapeError(expected("lengths", f"a 1D integer tensor of {B} lengths",
                                          Described(f"shape {tuple(lens.shape)}, {lens.dtype}")))
            mask = torch.arange(T, device=h.device) < lens[:, None]  # (B, T)
        if mask is not None:
            if tuple(mask.shape) != (B, T):
                raise ShapeError(expected("mask", f"shape ({B}, {T}) (batch, timesteps)",
                                          tuple(mask.shape)))
            mask = mask.bool()
            empty = int((~mask.any(1)).sum())
            if empty:
                raise ShapeError(expected("mask", "at least one real step per sequence",
                                          Described(f"{empty} empty sequence(s)")))
        weights = masked_softmax(self.scores(h), mask)  # (B, T)
        pooled = torch.bmm(weights.unsqueeze(1), h).squeeze(1)  # (B, 1, T) @ (B, T, F) -> (B, F)
        return pooled, weights

    def extra_repr(self) -> str:
        rep = f"{self.in_features}"
        if self.attention_size != self.in_features:
            rep += f", attention_size={self.attention_size}"
        return rep
