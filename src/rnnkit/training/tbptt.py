"""Truncated backpropagation through time (TBPTT) for long streams.

Set ``TrainerConfig(tbptt_steps=k, shuffle=False)``. Each (B, T, F) batch is cut along time
into segments of k steps (the last one may be shorter); the trainer takes one optimizer step
per segment and carries the recurrent state into the next segment *detached*, so gradients
flow through at most k steps while the forward pass still sees the whole history.

The state is carried across batches as well: row i of the next batch continues row i of this
one (Keras' stateful convention, hence ``shuffle=False``). It is reset to None at the start of
every epoch and of every evaluation / prediction pass. A smaller final batch takes the first
rows of the carried state; a batch larger than the carried state starts from None.

The model protocol in TBPTT mode::

    output, new_state = model(x, state=state)

* ``x``: (B, k, F) one segment; ``state``: None (start from zeros) or what the model returned
  for the previous segment.
* ``output``: (B, k, ...) per-step predictions, compared with the targets ``y[:, t:t+k]``,
  so ``y`` is (B, T, ...) (per-step regression targets, or (B, T) class indices for
  ``loss="cross_entropy"``).
* ``new_state``: a tensor or a (nested) tuple/list of tensors, **batch first** (dim 0 is B),
  as rnnkit's recurrent layers return it (an LSTM's ``(h, c)``, each (B, layers, H)).

Example (wrapping torch.nn.LSTM, whose states are not batch first)::

    class Stateful(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = nn.LSTM(3, 16, batch_first=True), nn.Linear(16, 1)

        def forward(self, x, state=None):
            hx = None if state is None else tuple(s.transpose(0, 1).contiguous() for s in state)
            out, (h, c) = self.lstm(x, hx)                  # out: (B, k, 16)
            return self.head(out), (h.transpose(0, 1), c.transpose(0, 1))  # (B, k, 1), (B, 1, 16)

    Trainer(Stateful(), TrainerConfig(tbptt_steps=20, shuffle=False)).fit((X, y))

``evaluate``, ``predict`` and validation run the same way (state reset at their start, carried
across segments and batches) and use ``batch_size``, not ``eval_batch_size``, so rows line up
with training. ``predict`` returns the outputs of the whole stream, (N, T, ...), which equal one
pass over the full sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, DataError, ShapeError
from rnnkit.training.protocol import PassResult

if TYPE_CHECKING:
    from rnnkit.training.data import _Data
    from rnnkit.training.protocol import TrainerLike

__all__ = ["State", "TBPTTLoop", "detach_state", "map_state", "state_batch_size"]

State = Any  # None | Tensor | tuple/list of State


def map_state(fn: Callable[[torch.Tensor], torch.Tensor], state: State) -> State:
    """Apply ``fn`` to every tensor of a (nested) state."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, (tuple, list)):
        return type(state)(map_state(fn, s) for s in state)
    raise ConfigError(expected("state", "a tensor or a (nested) tuple/list of tensors",
                               type(state).__name__))


def detach_state(state: State) -> State:
    """Cut the graph behind a state: the next segment's gradients stop here."""
    return map_state(torch.Tensor.detach, state)


def state_batch_size(state: State) -> int | None:
    """Dim 0 of the state's first tensor (states are batch first), None for no state."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return int(state.shape[0])
    for s in state:
        size = state_batch_size(s)
        if size is not None:
            return size
    return None


def _fit_state(state: State, batch: int) -> State:
    size = state_batch_size(state)
    if size is None or size < batch:
        return None
    if size == batch:
        return state
    return map_state(lambda s: s[:batch], state)  # the first rows continue


class TBPTTLoop:
    """The trainer's loop in TBPTT mode (``TrainerConfig.tbptt_steps``): one optimizer step
    per segment of ``steps`` time steps, the state carried detached."""

    def __init__(self, steps: int) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(expected("tbptt_steps", "an integer >= 1", steps))
        self.steps = steps

    def __repr__(self) -> str:
        return f"TBPTTLoop(steps={self.steps})"

    @staticmethod
    def _check_batch(x: torch.Tensor, y: torch.Tensor | None, lengths: torch.Tensor | None) -> None:
        if lengths is not None:
            raise DataError(expected("data", "(X, y) streams in TBPTT mode", "(X, y, lengths)",
                                     "TBPTT streams have no padding; drop the lengths"))
        if x.ndim < 3:
            raise ShapeError(expected("X", "a (batch, T, features) stream", tuple(x.shape)))
        if y is not None and (y.ndim < 2 or y.shape[:2] != x.shape[:2]):
            raise ShapeError(expected("y", f"per-step targets starting with {tuple(x.shape[:2])}",
                                      tuple(y.shape), "TBPTT needs a target for every time step"))

    @staticmethod
    def _step(trainer: TrainerLike, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        out = trainer.model(x, state=state)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ConfigError(expected(
                "model", "forward(x, state=...) returning (output, new_state) in TBPTT mode",
                type(out).__name__, "see rnnkit.training.tbptt for the protocol"))
        return out[0], out[1]

    def train_epoch(self, trainer: TrainerLike, data: _Data, *, collect: bool) -> PassResult:
        cfg, opt, loss_fn, k = trainer.config, trainer.optimizer, trainer.loss_fn, self.steps
        total: torch.Tensor | None = None
        clipped: torch.Tensor | None = None
        count, step = 0, 0
        preds: list[torch.Tensor] = []
        targets: list[torch.Tensor] = []
        hooks = bool(trainer._batch_hooks)
        state: State = None  # reset at every epoch boundary
        for x, y, lengths in data.batches(cfg.batch_size, False, trainer._shuffle_gen):
            self._check_batch(x, y, lengths)
            B, T = x.shape[:2]
            state = _fit_state(state, B)
            outs: list[torch.Tensor] = []
            for t in range(0, T, k):
                xs, ys = x[:, t:t + k], y[:, t:t + k]  # type: ignore[index]  # (B, k, F), (B, k, ...)
                opt.zero_grad(set_to_none=True)
                with trainer.autocast():
                    out, state = self._step(trainer, xs, state)
                    loss = loss_fn(out, ys)
                was_clipped = trainer.backward_step(loss)
                state = detach_state(state)
                weight = B * xs.shape[1]
                seg_loss = loss.detach().float()
                total = seg_loss * weight if total is None else total + seg_loss * weight
                count += weight
                if was_clipped is not None:
                    clipped = was_clipped.long() if clipped is None else clipped + was_clipped
                if collect:
                    outs.append(out.detach())
                if hooks:
                    trainer.call_batch_hooks(batch=step, loss=seg_loss, batch_size=B)
                step += 1
            if collect:
                preds.append(torch.cat(outs, dim=1))  # (B, T, ...)
                targets.append(y)  # type: ignore[arg-type]
        return PassResult(total, count, clipped, preds, targets)

    @torch.no_grad()
    def eval_pass(self, trainer: TrainerLike, data: _Data, *, with_loss: bool,
                  collect: bool) -> PassResult:
        k = self.steps
        total: torch.Tensor | None = None
        count = 0
        preds: list[torch.Tensor] = []
        targets: list[torch.Tensor] = []
        state: State = None
        for x, y, lengths in data.batches(trainer.config.batch_size, False, trainer._shuffle_gen):
            self._check_batch(x, y if with_loss else None, lengths)
            B, T = x.shape[:2]
            state = _fit_state(state, B)
            outs: list[torch.Tensor] = []
            for t in range(0, T, k):
                with trainer.autocast():
                    out, state = self._step(trainer, x[:, t:t + k], state)
                    if with_loss:
                        ys = y[:, t:t + k]  # type: ignore[index]
                        weight = B * ys.shape[1]
                        seg = trainer.loss_fn(out, ys).detach().float() * weight
                        total = seg if total is None else total + seg
                        count += weight
                outs.append(out)
            if not with_loss:
                count += B
            if collect:
                preds.append(torch.cat(outs, dim=1))  # (B, T, ...)
                if y is not None:
                    targets.append(y)
        return PassResult(total, count, None, preds, targets)
