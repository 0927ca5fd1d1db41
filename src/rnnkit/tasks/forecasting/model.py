r"""The forecasting networks: a recurrent encoder with a linear head, and an encoder-decoder.

Symbols: B batch, L ``look_back``, H ``horizon``, F input features (targets first, then
past-only covariates, then known-future covariates), K targets, U the known-future
covariates (F_u of them), :math:`x_{t}` the input window, :math:`u_{h}` the known-future
covariates of forecast step h, :math:`\hat y_{h}` the forecast h steps after the window's
last step.

**The extended window.** The trainer calls ``model(x)`` with one tensor, so whatever a model
reads about the forecast steps travels with the input: a window of L steps is followed by H
*future steps*, (B, L + H, F). Their U features hold the known-future covariates
u_1 .. u_H; their target features hold the true future in seq2seq training (teacher
forcing, :func:`with_teacher`) and are ignored otherwise; every other feature is zero.
:func:`with_future` builds it. A model without future covariates takes (B, L, F) as before.

* :class:`WindowForecaster` (strategies ``"direct"`` and ``"recursive"``)::

      h_L = Encoder(x_1 .. x_L)                  (B, D*hidden)  the last step's output
      ŷ   = W [h_L ; u_1 .. u_H] + b, reshaped   (B, H, K)

  ``"direct"`` trains it with H outputs; ``"recursive"`` trains it with H = 1 and
  :func:`rollout` feeds each forecast back as the newest input step (with the known u of
  that step beside it). The future covariates are flattened and concatenated to the
  encoder's final output before the linear head, so every forecast step reads every
  step's u (a holiday tomorrow may move today's load) and a target that is a linear
  function of u_h is learned exactly by the head alone; the encoder summarizes the past,
  including the covariates' past values, which are ordinary inputs of x. Head dropout acts
  on h_L only, never on the known inputs.

* :class:`Seq2SeqForecaster` (strategy ``"seq2seq"``)::

      s_0 = Encoder(x_1 .. x_L) final state      per layer, directions summed
      z_1 = y_L (the last observed targets),  z_{h+1} = y_h (teacher) or ŷ_h (own forecast)
      (o_h, s_h) = Decoder([z_h ; u_h], s_{h-1}),  ŷ_h = W o_h + b          h = 1 .. H

  The decoder reads each step's known-future covariates beside the previous target value.
  In training, ``teacher_forcing`` is the probability, drawn per sample and step, of feeding
  the true value y_h instead of ŷ_h. Outside training the future steps' targets are
  ignored, and without future covariates a (B, L, F) window is the normal input.

Both optionally normalize each window by its own statistics (:class:`~rnnkit.data.
WindowNormalizer`) and de-normalize the outputs (reversible instance normalization), so a
level never seen in training (a battery below its training minimum) reaches the network as
the same shape it learned. The statistics come from the L past steps; the future steps'
covariates are normalized with the same statistics as their past values, so past and
future values of one covariate stay on one scale.

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

__all__ = ["EncoderSpec", "Seq2SeqForecaster", "WindowForecaster", "rollout", "with_future",
           "with_teacher"]

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


def _future_idx(future_idx: Sequence[int] | None, target_idx: list[int], n_features: int
                ) -> list[int]:
    idx = [] if future_idx is None else [int(i) for i in future_idx]
    if not all(0 <= i < n_features for i in idx) or len(set(idx)) != len(idx) \
            or set(idx) & set(target_idx):
        raise ConfigError(expected("future_idx", f"distinct positions in [0, {n_features}) "
                                   f"that are not targets {target_idx}", idx))
    return idx


def _split_future(x: torch.Tensor, n_features: int, horizon: int, has_future: bool
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``x`` (B, L, F) or, with future covariates, (B, L + H, F) -> (past, future steps)."""
    if x.dim() != 3 or x.shape[-1] != n_features or (has_future and x.shape[1] <= horizon):
        what = f"look_back + {horizon}" if has_future else "look_back"
        raise ShapeError(expected("x", f"(batch, {what}, {n_features})", tuple(x.shape)))
    if not has_future:
        return x, None
    return x[:, :-horizon], x[:, -horizon:]  # (B, L, F), (B, H, F)


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

    def apply(self, x: torch.Tensor, stats: WindowStats | None) -> torch.Tensor:
        """Normalize more steps (B, S, F) with the statistics of a window."""
        if stats is None:
            return x
        return (x - stats.loc) / stats.scale  # (B, S, F)

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
    """A recurrent encoder read at its last step, and a linear head emitting H x K values
    from it and the known-future covariates of the H steps (see the module docstring).

    Args:
        spec: the encoder (cell, hidden_size, num_layers, dropout, ...).
        n_features: F, input features per step.
        horizon: H, steps emitted per window (1 for the recursive strategy).
        n_targets: K, forecast features (the first K inputs unless ``target_idx``).
        target_idx: the input feature of each target (for window normalization and
            :func:`rollout`).
        future_idx: the input features that are known-future covariates (default none);
            with them the input carries H future steps.
        normalizer: per-window normalization, or None for inputs already scaled.
        head_dropout: dropout on the encoder output before the head (training only).

    Shapes: x (B, L, F), or (B, L + H, F) with ``future_idx`` -> (B, H, K).
    """

    def __init__(self, spec: EncoderSpec, n_features: int, horizon: int = 1,
                 n_targets: int = 1, *, target_idx: Sequence[int] | None = None,
                 future_idx: Sequence[int] | None = None,
                 normalizer: WindowNormalizer | None = None, head_dropout: float = 0.0) -> None:
        super().__init__()
        self.n_features = check_positive_int("n_features", n_features)
        self.horizon = check_positive_int("horizon", horizon)
        self.n_targets = check_positive_int("n_targets", n_targets)
        self.target_idx = _target_idx(target_idx, n_targets, n_features)
        self.future_idx = _future_idx(future_idx, self.target_idx, n_features)
        self.norm = _WindowNorm(normalizer, self.target_idx)
        self.encoder = spec.build(n_features, return_sequences=False)
        self.dropout = nn.Dropout(head_dropout) if head_dropout else nn.Identity()
        self.head = OutputHead(spec.output_size + horizon * len(self.future_idx),
                               horizon * n_targets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        H, K = self.horizon, self.n_targets
        past, future = _split_future(x, self.n_features, H, bool(self.future_idx))
        B = x.shape[0]
        z, stats = self.norm(past)  # (B, L, F)
        h, _ = self.encoder(z)  # (B, D*hidden)
        h = self.dropout(h)
        if future is not None:
            u = self.norm.apply(future, stats)[..., self.future_idx]  # (B, H, F_u)
            h = torch.cat([h, u.reshape(B, -1)], dim=-1)  # (B, D*hidden + H*F_u)
        y = self.head(h).view(B, H, K)  # (B, H*K) -> (B, H, K)
        return self.norm.inverse(y, stats)


class Seq2SeqForecaster(nn.Module):
    """An encoder-decoder that forecasts H steps one at a time (see the module docstring).

    Args:
        spec: encoder layers; the decoder uses the same cell, size and layers, one direction.
        n_features: F; look_back: L (a longer input carries the future steps); horizon: H;
        n_targets: K; target_idx, future_idx, normalizer, head_dropout: as in
        :class:`WindowForecaster`.
        teacher_forcing: probability of feeding the true previous value in training.

    Shapes: x (B, L, F) or (B, L + H, F) (always with ``future_idx``) -> (B, H, K).
    """

    def __init__(self, spec: EncoderSpec, n_features: int, look_back: int, horizon: int,
                 n_targets: int = 1, *, target_idx: Sequence[int] | None = None,
                 future_idx: Sequence[int] | None = None,
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
        self.future_idx = _future_idx(future_idx, self.target_idx, n_features)
        self.norm = _WindowNorm(normalizer, self.target_idx)
        self.encoder = spec.build(n_features)
        self.decoder = _one_direction(spec).build(n_targets + len(self.future_idx))
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
        lengths = (L + H,) if self.future_idx else (L, L + H)
        if x.dim() != 3 or x.shape[-1] != self.n_features or x.shape[1] not in lengths:
            what = " or ".join(map(str, lengths))
            raise ShapeError(expected("x", f"(batch, {what}, {self.n_features})",
                                      tuple(x.shape)))
        teacher = x[:, L:, self.target_idx] if x.shape[1] > L else None  # (B, H, K)
        z, stats = self.norm(x[:, :L])  # (B, L, F)
        future = (self.norm.apply(x[:, L:], stats)[..., self.future_idx]
                  if self.future_idx else None)  # (B, H, F_u)
        _, state = self.encoder(z)
        state = self._bridge(state)
        use_teacher = self.training and teacher is not None and self.teacher_forcing > 0
        if use_teacher:
            teacher = self.norm.targets(teacher, stats)  # (B, H, K)
        step = z[:, -1:, self.target_idx]  # (B, 1, K): the last observed targets
        outputs = []
        for h in range(H):
            if future is not None:  # beside the previous target, this step's known inputs
                step = torch.cat([step, future[:, h : h + 1]], dim=-1)  # (B, 1, K + F_u)
            out, state = self.decoder(step, state)  # (B, 1, hidden)
            y = self.head(out[:, 0])  # (B, K)
            outputs.append(y)
            if use_teacher:
                coin = torch.rand(y.shape[0], 1, device=y.device) < self.teacher_forcing
                y = torch.where(coin, teacher[:, h], y)  # type: ignore[index]
            step = y[:, None, :]  # (B, 1, K)
        return self.norm.inverse(torch.stack(outputs, dim=1), stats)  # (B, H, K)


def with_future(x: torch.Tensor, future: torch.Tensor | None = None,
                future_idx: Sequence[int] = (), *, teacher: torch.Tensor | None = None,
                target_idx: Sequence[int] = ()) -> torch.Tensor:
    """The extended window (see the module docstring): ``x`` (N, L, F) followed by H future
    steps -> (N, L + H, F).

    Args:
        x: the input windows.
        future: (N, H, F_u) known-future covariates, placed at the features ``future_idx``.
        teacher: (N, H, K) true future targets (seq2seq training), placed at
            ``target_idx``.

    Every other feature of the future steps is zero.
    """
    parts = [(v, list(i)) for v, i in ((future, future_idx), (teacher, target_idx))
             if v is not None]
    if not parts:
        raise ConfigError(expected("with_future", "future or teacher values", None))
    N, H = parts[0][0].shape[:2]
    steps = x.new_zeros(N, H, x.shape[-1])  # (N, H, F)
    for values, idx in parts:
        if values.shape[:2] != (N, H) or values.shape[-1] != len(idx):
            raise ShapeError(expected("future/teacher", f"(N={N}, H={H}, {len(idx)})",
                                      tuple(values.shape)))
        steps[..., idx] = values.to(steps.dtype)
    return torch.cat([x, steps], dim=1)  # (N, L + H, F)


def with_teacher(x: torch.Tensor, y: torch.Tensor, target_idx: Sequence[int], *,
                 future: torch.Tensor | None = None, future_idx: Sequence[int] = ()
                 ) -> torch.Tensor:
    """Append the true future to training windows for teacher forcing.

    ``x`` (N, L, F), ``y`` (N, H, K) -> (N, L + H, F): the last H steps hold ``y`` at the
    target features, the known-future covariates ``future`` (N, H, F_u) at ``future_idx``,
    and zeros elsewhere (:func:`with_future`).
    """
    return with_future(x, future, future_idx, teacher=y, target_idx=target_idx)


@torch.no_grad()
def rollout(model: nn.Module, x: torch.Tensor, steps: int,
            target_idx: Sequence[int] | None = None, *, future: torch.Tensor | None = None,
            future_idx: Sequence[int] | None = None) -> torch.Tensor:
    """Forecast ``steps`` ahead by feeding forecasts back as inputs.

    Each call of ``model`` maps (B, L, F) to (B, H, K); its H forecasts are appended to the
    window, the oldest steps dropped, and the model called again until ``steps`` forecasts
    exist. With H = 1 this is the recursive strategy. The inputs must be the targets and
    known-future covariates only: past-only covariates have no future values to feed back.
    ``target_idx`` (default: the model's ``target_idx``) gives the input feature of each
    forecast column.

    With known-future covariates (``future_idx``, default the model's), each call reads the
    extended window (:func:`with_future`) with the covariates of the H steps it forecasts,
    taken from ``future`` (B, S, F_u), S >= max(steps, H); a fed-back row holds the forecasts
    and that step's known covariates. The last call is moved back to end at ``steps``
    (its first steps are forecast again and dropped), so no call reads covariates beyond
    the ``steps`` supplied.

    Returns:
        (B, steps, K) in the units of ``x``.
    """
    check_positive_int("steps", steps)
    B, L, F = x.shape
    if target_idx is None:
        target_idx = getattr(model, "target_idx", range(F))
    if future_idx is None:
        future_idx = getattr(model, "future_idx", ())
    idx, fidx = list(target_idx), list(future_idx)
    if sorted(idx + fidx) != list(range(F)):
        raise ConfigError(expected(
            "inputs", "the targets only (and known-future covariates) to feed forecasts back",
            f"{F} features for {len(idx)} targets and {len(fidx)} future covariates",
            "use horizon >= the steps you need, or drop the covariates"))
    H = int(getattr(model, "horizon", 1))
    if fidx and (future is None or future.dim() != 3 or future.shape[0] != B
                 or future.shape[1] < max(steps, H) or future.shape[-1] != len(fidx)):
        raise ShapeError(expected(
            "future", f"(B={B}, at least {max(steps, H)} steps, {len(fidx)}) known-future "
            "covariates", None if future is None else tuple(future.shape)))
    chunks: list[torch.Tensor] = []
    made = 0
    seq = x  # (B, L + made, F): the history, then the fed-back forecasts
    while made < steps:
        if fidx:
            start = max(0, min(made, steps - H))  # the last call ends at `steps`
            window = with_future(seq[:, start : start + L], future[:, start : start + H],
                                 fidx)  # (B, L + H, F)
            y = model(window)[:, made - start:]  # (B, new, K): the steps not made yet
        else:
            y = model(seq[:, -L:])  # (B, H, K)
        chunks.append(y)
        fed = y.new_empty(B, y.shape[1], F)
        fed[..., idx] = y  # forecasts in the feature order of the inputs
        if fidx:
            fed[..., fidx] = future[:, made : made + y.shape[1]].to(fed.dtype)
        made += y.shape[1]
        seq = torch.cat([seq, fed], dim=1)
        if not fidx:
            seq = seq[:, -L:]  # (B, L, F)
    return torch.cat(chunks, dim=1)[:, :steps]
