r"""Output heads: pooling over real steps and the linear projection y = W_hy h + b_y.

Shapes: sequence features h (B, T, F), mask (B, T) bool (True on real steps) or lengths (B,).
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit._validation import check_choice, check_positive_int, expected
from rnnkit.errors import ShapeError

__all__ = ["POOLINGS", "OutputHead", "lengths_to_mask", "pool"]

POOLINGS = ("last", "mean", "max")


def lengths_to_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B,) lengths -> (B, T) bool mask, True on the first ``lengths[b]`` steps."""
    return torch.arange(steps, device=lengths.device) < lengths[:, None]


def pool(h: torch.Tensor, mode: str = "last", mask: torch.Tensor | None = None) -> torch.Tensor:
    """Reduce (B, T, F) to (B, F) over the real steps only.

    ``last``: the output at each sequence's last real step (the highest True position of its
    mask); ``mean``: the average over real steps; ``max``: the maximum over real steps.
    """
    check_choice("pooling", mode, POOLINGS)
    if h.dim() != 3:
        raise ShapeError(expected("h", "a 3D tensor (batch, timesteps, features)", tuple(h.shape)))
    B, T, _ = h.shape
    if mask is None:
        if mode == "last":
            return h[:, -1]
        return h.mean(1) if mode == "mean" else h.amax(1)
    if tuple(mask.shape) != (B, T):
        raise ShapeError(expected("mask", f"shape ({B}, {T})", tuple(mask.shape)))
    if mode == "last":
        steps = torch.arange(T, device=h.device).expand(B, T)
        last = torch.where(mask, steps, -1).amax(1)  # (B,) index of the last real step
        return h[torch.arange(B, device=h.device), last]
    m = mask.unsqueeze(-1)  # (B, T, 1)
    if mode == "mean":
        return (h * m).sum(1) / m.sum(1).clamp_min(1)
    return h.masked_fill(~m, torch.finfo(h.dtype).min).amax(1)


class OutputHead(nn.Module):
    r"""Linear output head :math:`y_t = W_{hy} h_t + b_y`.

    ``many_to_many=False`` (many-to-one): pools (B, T, F) to (B, F) with ``pooling``
    (``"last"`` real step by default, ``"mean"`` or ``"max"``) then projects to (B, O); a (B, F)
    input (a layer run with ``return_sequences=False``) is projected directly.
    ``many_to_many=True``: projects every step, (B, T, F) -> (B, T, O), zero at padded steps.
    """

    def __init__(self, in_features: int, out_features: int, *, many_to_many: bool = False,
                 pooling: str = "last", dropout: float = 0.0) -> None:
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        self.many_to_many = bool(many_to_many)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if h.shape[-1] != self.in_features:
            raise ShapeError(expected("h", f"{self.in_features} features in the last dimension",
                                      tuple(h.shape)))
        if self.many_to_many:
            y = self.linear(self.dropout(h))  # (B, T, O)
            return y if mask is None else y * mask.unsqueeze(-1)
        if h.dim() == 3:
            h = pool(h, self.pooling, mask)  # (B, F)
        return self.linear(self.dropout(h))  # (B, O)

    def extra_repr(self) -> str:
        rep = f"{self.in_features}, {self.out_features}"
        if self.many_to_many:
            rep += ", many_to_many=True"
        elif self.pooling != "last":
            rep += f", pooling={self.pooling!r}"
        return rep
