"""The trainer's data adapters: user data in, on-device batches ``(x, y, lengths)`` out.

Data, for ``Trainer.fit(train_data, val_data)``, ``evaluate`` and ``predict``:

* a tuple ``(X, y)`` or ``(X, y, lengths)`` of tensors or NumPy arrays. These stay in memory
  on the device; each epoch indexes one permutation of them directly (no DataLoader);
* a ``torch.utils.data.Dataset`` whose items are such tuples (batched by a DataLoader the
  trainer builds, shuffled with the trainer's seeded generator);
* a ``DataLoader`` yielding such tuples (used as given: its own batch size and order).

Floating inputs are cast to the model's dtype (NumPy's float64 to float32); integer targets
become int64 for ``"cross_entropy"`` and floats for the other named losses. ``predict`` also
takes ``X`` alone.

:class:`BatchConverter` validates and converts; it returns an ``_InMemory`` or ``_Streamed``
source, both of which yield batches through ``batches(batch_size, shuffle, generator)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from rnnkit._validation import check_finite, expected
from rnnkit.errors import DataError, ShapeError
from rnnkit.training.losses import LOSSES

__all__ = ["Batch", "BatchConverter"]

Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]  # (x, y, lengths)


class _InMemory:
    """(X, y, lengths) tensors already on the device, batched by slicing one permutation."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None, lengths: torch.Tensor | None):
        self.x, self.y, self.lengths = x, y, lengths
        self.n = x.shape[0]

    def num_batches(self, batch_size: int) -> int:
        return -(-self.n // batch_size)

    def batches(self, batch_size: int, shuffle: bool, generator: torch.Generator) -> Iterator[Batch]:
        x, y, lengths = self.x, self.y, self.lengths
        if shuffle:  # one gather per epoch, then contiguous slices
            perm = torch.randperm(self.n, generator=generator).to(x.device)
            x = x[perm]
            y = y[perm] if y is not None else None
            lengths = lengths[perm] if lengths is not None else None
        for s in range(0, self.n, batch_size):
            e = s + batch_size
            yield (x[s:e], None if y is None else y[s:e], None if lengths is None else lengths[s:e])


class _Streamed:
    """A Dataset (batched by a DataLoader built per epoch) or a user's DataLoader."""

    def __init__(self, source: Dataset[Any] | DataLoader[Any], convert: Callable[[Any], Batch]):
        self.source = source
        self.convert = convert

    def num_batches(self, batch_size: int) -> int | None:
        loader = self.source
        try:
            if isinstance(loader, DataLoader):
                return len(loader)
            return -(-len(loader) // batch_size)  # type: ignore[arg-type]
        except TypeError:
            return None

    def batches(self, batch_size: int, shuffle: bool, generator: torch.Generator) -> Iterator[Batch]:
        if isinstance(self.source, DataLoader):
            loader: DataLoader[Any] = self.source
        else:
            loader = DataLoader(self.source, batch_size=batch_size, shuffle=shuffle,
                                generator=generator if shuffle else None)
        for batch in loader:
            yield self.convert(batch)


_Data = _InMemory | _Streamed


def _accepts_kwarg(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


@dataclass(frozen=True)
class BatchConverter:
    """Checks user data and converts it to batches for one model.

    Attributes:
        device: where batches go.
        dtype: the model's floating dtype; floating inputs and targets are cast to it.
        loss_name: decides the dtype of integer targets (int64 for ``"cross_entropy"``).
        model_name: the model's class name, for error messages.
        accepts_lengths: whether the model's ``forward`` takes ``lengths=``.
    """

    device: torch.device
    dtype: torch.dtype
    loss_name: str
    model_name: str
    accepts_lengths: bool

    def tensor(self, name: str, value: Any) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value
        try:
            return torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as exc:
            raise DataError(expected(name, "a tensor or array", type(value).__name__)) from exc

    def cast(self, x: torch.Tensor, y: torch.Tensor | None, lengths: torch.Tensor | None,
             *, non_blocking: bool = False) -> Batch:
        dev = self.device
        if x.is_floating_point() and x.dtype != self.dtype:
            x = x.to(self.dtype)
        x = x.to(dev, non_blocking=non_blocking)
        if y is not None:
            if y.is_floating_point():
                if y.dtype != self.dtype:
                    y = y.to(self.dtype)
            elif self.loss_name == "cross_entropy":
                y = y.long()
            elif self.loss_name in LOSSES:
                y = y.to(self.dtype)
            y = y.to(dev, non_blocking=non_blocking)
        if lengths is not None:
            lengths = lengths.long().to(dev, non_blocking=non_blocking)
        return x, y, lengths

    @staticmethod
    def split(name: str, data: Any, *, targets: bool) -> tuple[Any, Any, Any]:
        """Unpack a tuple (X, y[, lengths]); with ``targets=False`` also accept X alone."""
        if isinstance(data, (tuple, list)):
            if len(data) == 1 and not targets:
                return data[0], None, None
            if len(data) in (2, 3):
                return data[0], data[1], data[2] if len(data) == 3 else None
            raise DataError(expected(name, "a tuple (X, y) or (X, y, lengths)",
                                     tuple(type(d).__name__ for d in data)))
        if not targets and isinstance(data, (torch.Tensor, np.ndarray)):
            return data, None, None
        raise DataError(expected(name, "(X, y), (X, y, lengths), a Dataset or a DataLoader",
                                 type(data).__name__))

    def check_lengths_accepted(self, name: str, lengths: Any) -> None:
        if lengths is not None and not self.accepts_lengths:
            raise DataError(expected(
                name, f"(X, y) for {self.model_name}, whose forward has no lengths=",
                "(X, y, lengths)", "add a lengths= parameter to forward, or drop the lengths"))

    def as_data(self, name: str, data: Any, *, targets: bool = True,
                lengths: Any = None) -> _Data:
        """Validate ``data`` (argument ``name``) and wrap it as a batch source."""
        if isinstance(data, (Dataset, DataLoader)):
            def convert(batch: Any) -> Batch:
                x, y, ln = self.split(name, batch, targets=targets)
                self.check_lengths_accepted(name, ln)
                return self.cast(self.tensor(name, x), None if y is None else self.tensor(name, y),
                                 None if ln is None else self.tensor(name, ln),
                                 non_blocking=True)

            return _Streamed(data, convert)
        x, y, ln = self.split(name, data, targets=targets)
        if lengths is not None:
            if ln is not None:
                raise DataError(expected("lengths", "lengths given once", "both in data and lengths="))
            ln = lengths
        xt = self.tensor(f"{name} X", x)
        yt = None if y is None else self.tensor(f"{name} y", y)
        lt = None if ln is None else self.tensor(f"{name} lengths", ln)
        n = xt.shape[0] if xt.ndim else 0
        if n == 0:
            raise DataError(expected(f"{name} X", "at least one row", tuple(xt.shape)))
        if yt is not None and (yt.ndim == 0 or yt.shape[0] != n):
            raise ShapeError(expected(f"{name} y", f"{n} rows like X", tuple(yt.shape)))
        if lt is not None:
            self.check_lengths_accepted(name, lt)
            if lt.ndim != 1 or lt.shape[0] != n or lt.is_floating_point():
                raise ShapeError(expected(f"{name} lengths", f"({n},) integers", tuple(lt.shape)))
            t_max = xt.shape[1] if xt.ndim > 1 else 1
            if bool((lt < 1).any()) or bool((lt > t_max).any()):
                raise DataError(expected(f"{name} lengths", f"values in [1, {t_max}]",
                                         f"[{int(lt.min())}, {int(lt.max())}]"))
        check_finite(f"{name} X", xt)
        if yt is not None:
            check_finite(f"{name} y", yt)
        return _InMemory(*self.cast(xt, yt, lt))
