r"""The forecasting networks: a recurrent encoder with a linear head, and an encoder-decoder.

Symbols: B batch, L ``look_back``, H ``horizon``, F input features (targets first, then
covariates), K targets, :math:`x_{t}` the input window, :math:`\hat y_{h}` the forecast h
steps after the window's last step.

* :class:`WindowForecaster` (strategies ``"direct"`` and ``"recursive"``)::

      h_L = Encoder(x_1 .. x_L)                  (B, D*hidden)  the last step's output
      ŷ   = W h_L + b,  reshaped                 (B, H, K)

  ``"direct"`` trains it with H outputs; ``"recursive"`` trains it with H = 1 and
  :func:`rollout` feeds each forecast back as the newest input step.

* :class:`Seq2SeqForecaster` (strategy ``"seq2seq"``)::

      s_0 = Encoder(x_1 .. x_L) final state      per layer, directions summed
      z_1 = y_L (the last observed targets),  z_{h+1} = y_h (teacher) or ŷ_h (own forecast)
      (o_h, s_h) = Decoder(z_h, s_{h-1}),  ŷ_h = W o_h + b          h = 1 .. H

  In training, ``teacher_forcing`` is the probability, drawn per sample and step, of feeding
  the true value y_h instead of ŷ_h. The trainer calls ``model(x)`` only, so the true future
  values travel with the input: a training window is (B, L + H, F) whose last H steps hold
  the targets (:func:`with_teacher`). Outside training those steps are ignored, and a
  (B, L, F) window is the normal input.

Both optionally normalize each window by its own statistics (:class:`~rnnkit.data.
WindowNormalizer`) and de-normalize the outputs (reversible instance normalization), so a
level never seen in training (a battery below its training minimum) reaches the network as
the same shape it learned.

Example:
    >>> from rnnkit.nn.spec import RecurrentSpec
    >>> net = WindowForecaster(RecurrentSpec(hidden_size=8), n_features=1, horizon=3)
    >>> net(torch.randn(4, 20, 1)).shape
    torch.Size([4, 3, 1])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import nn

from rnnkit._validation import check_positive_int, check_probability, expected
from rnnkit.data.scalers import WindowNormalizer, WindowStats
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.heads import OutputHead
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.recurrent_section import RecurrentSection

__all__ = ["EncoderSpec", "Seq2SeqForecaster", "WindowForecaster", "rollout", "with_teacher"]

#: What describes the encoder: a RecurrentSpec (built-in cells by name) or a RecurrentSection
#: (also a RecurrentCell subclass of your own); both ``build`` the layer.
EncoderSpec = RecurrentSpec | RecurrentSection


def _one_direction(spec: EncoderSpec) -> EncoderSpec:
    """The same encoder description, unidirectional (the seq2seq decoder)."""
    if isinstance(spec, RecurrentSection):
        return spec.replace(bidirectional=False)
    return dataclasses.replace(spec, bidirectional=False)


def _target_idx(target_idx: Sequence[int] | None, n_targets: int, n_features: int) -> list[int]:
    idx = list(range(n_targets)) if target_idx is None else [int(i) for i in target_idx]
    if len(idx) != n_targets or not all(0 <= i < n_features for i in idx):
        raise ConfigError(expected("target_idx", f"{n_targets} positions in [0, {n_features})",
                                   idx))
    return idx


class _WindowNorm(nn.Module):
    """Optional per-window normalization shared by both networks (no parameters)."""

    def __init__(self, normalizer: WindowNormalizer | None, target_idx: list[int]) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.target_idx = target_idx

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, WindowStats | None]:
        if self.normalizer is None:
            return x, None
        return self.normalizer.normalize(x)

    def targets(self, y: torch.Tensor, stats: WindowStats | None) -> torch.Tensor:
        """Normalize target values (B, S, K) with the window's statistics."""
        if stats is None:
            return y
        loc, scale = stats.loc[..., self.target_idx], stats.scale[..., self.target_idx]
        return (y - loc) / scale  # (B, S, K)

    def inverse(self, y: torch.Tensor, stats: WindowStats | None) -> torch.Tensor:
        if stats is None:
            return y
        return self.normalizer.denormalize(y, stats, self.target_idx)  # type: ignore[union-attr]


class WindowForecaster(nn.Module):
    """A recurrent encoder read at its last step, and a linear head emitting H x K values.

    Args:
        spec: the encoder (cell, hidden_size, num_layers, dropout, ...).
        n_features: F, input features per step.
        horizon: H, steps emitted per window (1 for the recursive strategy).
        n_targets: K, forecast features (the first K inputs unless ``target_idx``).
        target_idx: the input feature of each target (for window normalization and
            :func:`rollout`).
        normalizer: per-window normalization, or None for inputs already scaled.
        head_dropout: dropout on the encoder output before the head (training only).

    Shapes: x (B, L, F) -> (B, H, K).
    """

    def __init__(self, spec: EncoderSpec, n_features: int, horizon: int = 1,
                 n_targets: int = 1, *, target_idx: Sequence[int] | None = None,
                 normalizer: WindowNormalizer | None = None, head_dropout: float = 0.0) -> None:
        super().__init__()
        self.n_features = check_positive_int("n_features", n_features)
        self.horizon = check_positive_int("horizon", horizon)
        self.n_targets = check_positive_int("n_targets", n_targets)
        self.target_idx = _target_idx(target_idx, n_targets, n_features)
        self.norm = _WindowNorm(normalizer, self.target_idx)
        self.encoder = spec.build(n_features, return_sequences=False)
        self.head = OutputHead(spec.output_size, horizon * n_targets, dropout=head_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.n_features:
            raise ShapeError(expected("x", f"(batch, look_back, {self.n_features})",
                                      tuple(x.shape)))
        B = x.shape[0]
        z, stats = self.norm(x)
        h, _ = self.encoder(z)  # (B, D*hidden)
        y = self.head(h).view(B, self.horizon, self.n_targets)  # (B, H*K) -> (B, H, K)
        return self.norm.inverse(y, stats)


class Seq2SeqForecaster(nn.Module):
    """An encoder-decoder that forecasts H steps one at a time (see the module docstring).

    Args:
        spec: encoder layers; the decoder uses the same cell, size and layers, one direction.
        n_features: F; look_back: L (a longer input carries teacher values); horizon: H;
        n_targets: K; target_idx, normalizer, head_dropout: as in :class:`WindowForecaster`.
        teacher_forcing: probability of feeding the true previous value in training.

    Shapes: x (B, L, F) or, in training, (B, L + H, F) -> (B, H, K).
    """

    def __init__(self, spec: EncoderSpec, n_features: int, look_back: int, horizon: int,
                 n_targets: int = 1, *, target_idx: Sequence[int] | None = None,
                 normalizer: WindowNormalizer | None = None, head_dropout: float = 0.0,
                 teacher_forcing: float = 0.5) -> None:
        super().__init__()
        self.n_features = check_positive_int("n_features", n_features)
        self.look_back = check_positive_int("look_back", look_back)
        self.horizon = check_positive_int("horizon", horizon)
        self.n_targets = check_positive_int("n_targets", n_targets)
        self.teacher_forcing = check_probability("teacher_forcing", teacher_forcing,
                                                 allow_one=True)
        self.target_idx = _target_idx(target_idx, n_targets, n_features)
        self.norm = _WindowNorm(normalizer, self.target_idx)
        self.encoder = spec.build(n_features)
        self.decoder = _one_direction(spec).build(n_targets)
        self.head = OutputHead(spec.hidden_size, n_targets, dropout=head_dropout)
        self._directions = 2 if spec.bidirectional else 1

    def _bridge(self, state: torch.Tensor | tuple[torch.Tensor, ...]):
        """Encoder state (B, L*D, H) per tensor -> decoder state (B, L, H), directions summed."""
        parts = (state,) if isinstance(state, torch.Tensor) else tuple(state)
        D = self._directions
        if D > 1:
            parts = tuple(s.view(s.shape[0], -1, D, s.shape[-1]).sum(2) for s in parts)
        return parts[0] if len(parts) == 1 else parts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        L, H = self.look_back, self.horizon
        if x.dim() != 3 or x.shape[-1] != self.n_features or x.shape[1] not in (L, L + H):
            raise ShapeError(expected("x", f"(batch, {L} or {L + H}, {self.n_features})",
                                      tuple(x.shape)))
        teacher = x[:, L:, self.target_idx] if x.shape[1] > L else None  # (B, H, K)
        z, stats = self.norm(x[:, :L])  # (B, L, F)
        _, state = self.encoder(z)
        state = self._bridge(state)
        use_teacher = self.training and teacher is not None and self.teacher_forcing > 0
        if use_teacher:
            teacher = self.norm.targets(teacher, stats)  # (B, H, K)
        step = z[:, -1:, self.target_idx]  # (B, 1, K): the last observed targets
        outputs = []
        for h in range(H):
            out, state = self.decoder(step, state)  # (B, 1, hidden)
            y = self.head(out[:, 0])  # (B, K)
            outputs.append(y)
            if use_teacher:
                coin = torch.rand(y.shape[0], 1, device=y.device) < self.teacher_forcing
                y = torch.where(coin, teacher[:, h], y)  # type: ignore[index]
            step = y[:, None, :]  # (B, 1, K)
        return self.norm.inverse(torch.stack(outputs, dim=1), stats)  # (B, H, K)


def with_teacher(x: torch.Tensor, y: torch.Tensor, target_idx: Sequence[int]) -> torch.Tensor:
    """Append the true future to training windows for teacher forcing.

    ``x`` (N, L, F), ``y`` (N, H, K) -> (N, L + H, F): the last H steps hold ``y`` at the
    target features and zeros elsewhere (future covariates are not used).
    """
    N, H, _ = y.shape
    future = x.new_zeros(N, H, x.shape[-1])  # (N, H, F)
    future[..., list(target_idx)] = y
    return torch.cat([x, future], dim=1)


@torch.no_grad()
def rollout(model: nn.Module, x: torch.Tensor, steps: int,
            target_idx: Sequence[int] | None = None) -> torch.Tensor:
    """Forecast ``steps`` ahead by feeding forecasts back as inputs.

    Each call of ``model`` maps (B, L, F) to (B, H, K); its H forecasts are appended to the
    window, the oldest steps dropped, and the model called again until ``steps`` forecasts
    exist. With H = 1 this is the recursive strategy. The inputs must be the targets only
    (F = K): covariates have no future values to feed back. ``target_idx`` (default: the
    model's ``target_idx``) gives the input feature of each forecast column.

    Returns:
        (B, steps, K) in the units of ``x``.
    """
    check_positive_int("steps", steps)
    B, L, F = x.shape
    if target_idx is None:
        target_idx = getattr(model, "target_idx", range(F))
    idx = list(target_idx)
    if sorted(idx) != list(range(F)):
        raise ConfigError(expected(
            "inputs", "the targets only (no covariates) to feed forecasts back",
            f"{F} features for {len(idx)} targets",
            "use horizon >= the steps you need, or drop the covariates"))
    chunks: list[torch.Tensor] = []
    made = 0
    window = x
    while made < steps:
        y = model(window)  # (B, H, K)
        chunks.append(y)
        made += y.shape[1]
        fed = y.new_empty(B, y.shape[1], F)
        fed[..., idx] = y  # forecasts in the feature order of the inputs
        window = torch.cat([window, fed], dim=1)[:, -L:]  # (B, L, F)
    return torch.cat(chunks, dim=1)[:, :steps]
