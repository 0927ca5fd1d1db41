"""The kernels' buffer pool: large buffers reused between calls, one pool per thread.

A first write to freshly allocated memory page-faults once per 4 KiB page (~2 µs each on our
VMs: 75 MB of fresh buffers per LSTM(256) training step at batch 64, 100 steps), so the
kernels take their large time-major buffers from :data:`WORKSPACE` instead of ``new_empty``.
The cap is :func:`set_buffer_pool_limit` (1 GiB per thread by default, or
``RNNKIT_BUFFER_POOL_MB`` from the environment).

Example::

    new = WORKSPACE.allocator(xp)     # xp (T, B, G*H): the dtype and device to use
    hs = new(T + 1, B, H)              # uninitialized, (T+1, B, H)
    set_buffer_pool_limit(256 << 20)  # keep at most 256 MiB per thread
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable

import torch

from rnnkit._validation import expected
from rnnkit.errors import ConfigError

__all__ = ["WORKSPACE", "Workspace", "set_buffer_pool_limit"]

Tensor = torch.Tensor


def _storage_users(t: Tensor) -> int:
    """How many tensors (views included) use ``t``'s memory, plus one for the query itself."""
    return torch._C._storage_Use_Count(t.untyped_storage()._cdata)


_POOL_ENV = "RNNKIT_BUFFER_POOL_MB"


def _initial_pool_limit() -> int:
    raw = os.environ.get(_POOL_ENV)
    if raw is None:
        return 1 << 30
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not (mb >= 0 and math.isfinite(mb)):
        raise ConfigError(expected(_POOL_ENV, "a number of MiB >= 0 (0 turns pooling off)",
                                   raw))
    return int(mb * (1 << 20))


def set_buffer_pool_limit(max_bytes: int) -> int:
    """Cap the memory rnnkit's kernels keep between calls, per thread; returns the old cap.

    The BPTT kernels reuse their large buffers (states, gate activations: for an LSTM of 256
    units, 64 sequences of 100 steps, about 75 MB per training step) instead of allocating
    fresh memory each call, whose first touch page-faults. ``max_bytes`` bounds what a
    thread's pool holds; 0 turns pooling off (every call allocates). The default is 1 GiB,
    or ``RNNKIT_BUFFER_POOL_MB`` (MiB) when set in the environment.

    Raises:
        ConfigError: ``max_bytes`` is not an integer >= 0.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ConfigError(expected("max_bytes", "an integer >= 0 (0 turns pooling off)",
                                   max_bytes))
    old = Workspace.max_bytes
    Workspace.max_bytes = max_bytes
    WORKSPACE._trim()
    return old


class Workspace(threading.local):
    """Reusable memory for the kernels' large buffers (one pool per thread).

    The first write to freshly allocated memory page-faults once per 4 KiB page, ~2 µs each
    on our VMs: 12 ms for a 25 MB buffer, more than the arithmetic done in it; and glibc
    returns such blocks to the system when they are freed. So large buffers are kept here
    between calls and handed out again once no tensor uses their memory any more (their
    storage's use count is back to this pool's own reference), which a steady training loop
    reaches after one step. Buffers beyond ``max_bytes`` per thread are dropped from the pool,
    oldest first (their memory goes when their last user does): the cap is
    :func:`set_buffer_pool_limit`, 1 GiB by default or ``RNNKIT_BUFFER_POOL_MB`` from the
    environment; 0 turns pooling off.
    """

    min_bytes = 1 << 20  # smaller buffers come from malloc's warm arenas anyway
    max_bytes = _initial_pool_limit()

    def __init__(self) -> None:
        self.buffers: list[Tensor] = []  # flat, least recently used first
        try:
            self.free_users = _storage_users(torch.empty(1))
        except (AttributeError, RuntimeError):  # no use counts in this torch: no pooling
            self.free_users = None

    def empty(self, shape: tuple[int, ...], like: Tensor) -> Tensor:
        """An uninitialized tensor of ``shape`` with ``like``'s dtype and device."""
        n = math.prod(shape)
        if (self.free_users is None or like.device.type != "cpu" or self.max_bytes == 0
                or n * like.element_size() < self.min_bytes):
            return like.new_empty(shape)
        best = None  # the index of the smallest free buffer that fits
        for i, buf in enumerate(self.buffers):
            if (buf.dtype == like.dtype and n <= buf.numel() <= 2 * n
                    and (best is None or buf.numel() < self.buffers[best].numel())
                    and _storage_users(buf) == self.free_users):
                best = i
        buf = like.new_empty(n) if best is None else self.buffers.pop(best)
        self.buffers.append(buf)
        self._trim()
        return buf[:n].view(shape)

    def pooled_bytes(self) -> int:
        """The bytes this thread's pool holds (in use or free)."""
        return sum(b.numel() * b.element_size() for b in self.buffers)

    def _trim(self) -> None:
        total = self.pooled_bytes()
        while total > self.max_bytes and self.buffers:
            buf = self.buffers.pop(0)  # in use or not: its memory goes when its users go
            total -= buf.numel() * buf.element_size()

    def allocator(self, like: Tensor) -> Callable[..., Tensor]:
        """``new(*shape)`` for one kernel call."""
        return lambda *shape: self.empty(shape, like)


WORKSPACE = Workspace()
