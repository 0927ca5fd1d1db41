"""Forecasting streams: the server keeps what a model needs between observations.

A stream is opened for one served forecaster (``POST /v1/models/{name}/streams``), fed the
next observation(s) (``POST /v1/streams/{id}/observe``), answered with the forecast from its
history, and closed (``DELETE /v1/streams/{id}``). rnnkit's forecasters are window models:
a forecast reads the last ``look_back`` rows, so a stream keeps those rows (and as many
more, for the frequency and the missing-value policy to read the same neighbourhood as a
batch predict) and nothing older, and the answer equals a batch predict on the whole history.

Once a stream's kept rows are clean (:func:`~.adapters.clean_window`: every row complete and
numeric, ISO 8601 or integer time stamps one fitted step apart), it also keeps its window parsed
(:class:`Window`): a new complete row one step after the last is appended as numbers, without
reading the rows again through pandas, so each observation costs the network's forward pass
and O(1) bookkeeping. Anything else (a missing value, an irregular time stamp, a string
where a number was) falls back to reading the kept rows as a batch predict would.

The :class:`StreamStore` bounds the number of open streams (opening one more is refused,
after the idle ones are dropped) and expires streams idle for longer than ``ttl`` seconds.

Example::

    >>> store = StreamStore(max_streams=2, ttl=60.0)
    >>> stream = store.open("battery", keep=10, horizon=None)
    >>> store.get(stream.id) is stream
    True
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rnnkit._validation import expected
from rnnkit.errors import RnnkitError
from rnnkit.serving.schemas import Row

__all__ = ["Stream", "StreamLimitError", "StreamNotFound", "StreamStore", "Window"]


class StreamNotFound(RnnkitError, LookupError):
    """No open stream has this id (never opened, closed or expired): a 404."""


class StreamLimitError(RnnkitError):
    """The server holds its maximum of open streams: a 429."""


@dataclass
class Window:
    """A stream's last ``look_back`` rows, parsed: ``values`` (one (F,) row each, in the
    model's column order), the last time stamp and the step between two."""

    values: deque[Any]
    last: Any
    step: Any
    name: str | None


@dataclass
class Stream:
    """One open stream: the model it forecasts with, its newest rows, its horizon, and its
    parsed window while the rows are clean (see the module docstring)."""

    id: str
    model: str
    horizon: int | None
    rows: deque[Row]
    seen: int = 0
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    window: Window | None = None
    version: str | None = None  # of the model that parsed ``window``

    def observe(self, rows: Sequence[Row]) -> None:
        """Append rows (the oldest drop out of the kept window)."""
        self.rows.extend(rows)
        self.seen += len(rows)
        self.last_used = time.monotonic()


class StreamStore:
    """The open streams, bounded in number and expired when idle (thread-safe)."""

    def __init__(self, max_streams: int = 1000, ttl: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_streams = max_streams
        self.ttl = ttl
        self._clock = clock
        self._streams: dict[str, Stream] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Open streams, the idle ones not yet swept included (see :meth:`expire`)."""
        return len(self._streams)

    def expire(self) -> int:
        """Drop the streams idle for longer than ``ttl``; returns how many."""
        now = self._clock()
        with self._lock:
            old = [k for k, s in self._streams.items() if now - s.last_used > self.ttl]
            for key in old:
                del self._streams[key]
        return len(old)

    def open(self, model: str, *, keep: int, horizon: int | None) -> Stream:
        """A new stream of ``model`` keeping the last ``keep`` rows (the idle streams are
        swept only when the store is full: a request never pays for a sweep otherwise)."""
        if len(self._streams) >= self.max_streams:
            self.expire()
        with self._lock:
            if len(self._streams) >= self.max_streams:
                raise StreamLimitError(expected(
                    "streams", f"at most {self.max_streams} open streams (the server's "
                    "--max-streams)", len(self._streams),
                    "close streams you no longer use (DELETE /v1/streams/{id})"))
            stream = Stream(secrets.token_urlsafe(12), model, horizon, deque(maxlen=keep),
                            last_used=self._clock())
            self._streams[stream.id] = stream
        return stream

    def get(self, stream_id: str) -> Stream:
        """The open stream ``stream_id`` (its idle clock restarts); one idle for longer than
        ``ttl`` is dropped here, in O(1)."""
        now = self._clock()
        with self._lock:
            stream = self._streams.get(stream_id)
            if stream is not None and now - stream.last_used > self.ttl:
                del self._streams[stream_id]
                stream = None
        if stream is None:
            raise StreamNotFound(expected("stream", "the id of an open stream", stream_id,
                                          "open one with POST /v1/models/{name}/streams; "
                                          "streams expire when idle"))
        stream.last_used = now
        return stream

    def close(self, stream_id: str) -> None:
        """Close ``stream_id`` (a StreamNotFound when it is not open)."""
        with self._lock:
            if self._streams.pop(stream_id, None) is None:
                raise StreamNotFound(expected("stream", "the id of an open stream",
                                              stream_id))

    def close_model(self, model: str) -> None:
        """Close every stream of ``model``."""
        with self._lock:
            for key in [k for k, s in self._streams.items() if s.model == model]:
                del self._streams[key]

    def summary(self) -> dict[str, Any]:
        self.expire()
        return {"open": len(self._streams), "max": self.max_streams, "ttl_seconds": self.ttl}
