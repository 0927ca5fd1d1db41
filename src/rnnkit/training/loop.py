"""The standard epoch loop and the helpers every pass shares.

:class:`StandardLoop` is the :class:`~rnnkit.training.protocol.Loop` of whole-sequence
training (one optimizer step per batch); truncated BPTT is the other loop
(:mod:`~rnnkit.training.tbptt`). Losses and clip counts accumulate on the device, so an
epoch costs one host sync whatever its number of batches.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import nn

from rnnkit._validation import expected
from rnnkit.errors import DataError
from rnnkit.training.data import _Data
from rnnkit.training.protocol import PassResult, TrainerLike

__all__ = ["StandardLoop", "concat_outputs", "eval_mode", "intra_op_threads", "mean_loss"]


class StandardLoop:
    """Whole-sequence training: one optimizer step per batch."""

    def train_epoch(self, trainer: TrainerLike, data: _Data, *, collect: bool) -> PassResult:
        cfg, opt, loss_fn = trainer.config, trainer.optimizer, trainer.loss_fn
        total: torch.Tensor | None = None
        clipped: torch.Tensor | None = None
        count = 0
        preds: list[torch.Tensor] = []
        targets: list[torch.Tensor] = []
        hooks = bool(trainer._batch_hooks)
        for i, (x, y, lengths) in enumerate(data.batches(cfg.batch_size, cfg.shuffle,
                                                          trainer._shuffle_gen)):
            opt.zero_grad(set_to_none=True)
            with trainer.autocast():
                out = trainer.forward(x, lengths)
                loss = loss_fn(out, y)  # type: ignore[arg-type]
            was_clipped = trainer.backward_step(loss)
            n = x.shape[0]
            batch_loss = loss.detach().float()  # a no-op unless the loss came out in half
            total = batch_loss * n if total is None else total + batch_loss * n
            count += n
            if was_clipped is not None:
                clipped = was_clipped.long() if clipped is None else clipped + was_clipped
            if collect:
                preds.append(out.detach())
                targets.append(y)  # type: ignore[arg-type]
            if hooks:
                trainer.call_batch_hooks(batch=i, loss=batch_loss, batch_size=n)
        return PassResult(total, count, clipped, preds, targets)

    @torch.no_grad()
    def eval_pass(self, trainer: TrainerLike, data: _Data, *, with_loss: bool,
                  collect: bool) -> PassResult:
        total: torch.Tensor | None = None
        count = 0
        preds: list[torch.Tensor] = []
        targets: list[torch.Tensor] = []
        for x, y, lengths in data.batches(trainer.eval_batch_size, False, trainer._shuffle_gen):
            with trainer.autocast():
                out = trainer.forward(x, lengths)
                if with_loss:
                    batch_loss = trainer.loss_fn(out, y).detach().float() * x.shape[0]  # type: ignore[arg-type]
                    total = batch_loss if total is None else total + batch_loss
            count += x.shape[0]
            if collect:
                preds.append(out)
                if y is not None:
                    targets.append(y)
        return PassResult(total, count, None, preds, targets)


def mean_loss(res: PassResult, name: str) -> float:
    if res.loss_sum is None or res.count == 0:
        raise DataError(expected(name, "at least one batch", "an empty iterable"))
    return float(res.loss_sum) / res.count


@contextlib.contextmanager
def intra_op_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads (None: unchanged), restoring the previous count."""
    if n is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Run the block with ``model`` in eval mode (no dropout); its mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def concat_outputs(chunks: list[torch.Tensor]) -> torch.Tensor:
    """Concatenate per-batch outputs along dim 0 on the CPU, right-padding dim 1 with NaN (or
    0 for integer outputs) when batches differ there."""
    if not chunks:
        return torch.empty(0)
    chunks = [c.detach().cpu() for c in chunks]
    if len(chunks) == 1:
        return chunks[0]
    if chunks[0].ndim >= 2 and len({c.shape[1:] for c in chunks}) > 1:
        t_max = max(c.shape[1] for c in chunks)
        fill = math.nan if chunks[0].is_floating_point() else 0
        padded = []
        for c in chunks:
            if c.shape[1] < t_max:
                pad = c.new_full((c.shape[0], t_max - c.shape[1], *c.shape[2:]), fill)
                c = torch.cat([c, pad], dim=1)
            padded.append(c)
        chunks = padded
    return torch.cat(chunks, dim=0)
