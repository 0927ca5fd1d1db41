"""The prediction log of ``rnnkit serve``: every answered prediction and every feedback, in a
real database (SQLAlchemy: SQLite by default, any URL such as PostgreSQL for a fleet).

Two tables:

- ``predictions``: id, time (UTC), model, version, endpoint, input summary (JSON), output
  (JSON, cut at :data:`MAX_OUTPUT` characters), latency in ms;
- ``feedback``: id, time, model, prediction id, the actual values or labels (JSON), and the
  error measured against the logged prediction (JSON).

A prediction is written in its own transaction before the server answers, so an answer the
client received is never missing from the log, whatever happens to the process afterwards;
SQLite runs in WAL mode with ``synchronous=NORMAL`` (a commit is a write to the log file, which
survives the process: ``bench/serve.py`` measures its cost), and each server thread keeps its
own connection.

Example::

    >>> book = Logbook("sqlite://")   # in memory
    >>> pid = book.record("m", "v1", "predict", {"n": 1}, {"label": "a"}, 1.5)
    >>> book.prediction(pid)["output"]
    {'label': 'a'}
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError

__all__ = ["MAX_OUTPUT", "Logbook"]

#: Outputs longer than this (in JSON characters) are logged cut, with a marker.
MAX_OUTPUT = 20_000

_metadata = MetaData()
predictions = Table(
    "predictions", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("model", String(200), nullable=False, index=True),
    Column("version", String(64), nullable=False),
    Column("endpoint", String(40), nullable=False),
    Column("input", Text, nullable=False),
    Column("output", Text, nullable=False),
    Column("latency_ms", Float, nullable=False),
)
feedback = Table(
    "feedback", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("model", String(200), nullable=False, index=True),
    Column("prediction_id", Integer, nullable=False, index=True),
    Column("actual", Text, nullable=False),
    Column("error", Text, nullable=False),
)


_INSERT = {t.name: insert(t) for t in (predictions, feedback)}  # built once, cached compiled


def _dumps(value: Any, limit: int | None = None) -> str:
    text = json.dumps(value, default=str, separators=(",", ":"))
    if limit is not None and len(text) > limit:
        return json.dumps({"truncated": text[:limit]})
    return text


class Logbook:
    """The prediction log at a SQLAlchemy ``url`` (tables created when missing)."""

    def __init__(self, url: str) -> None:
        try:
            self.engine = create_engine(url)
        except (SQLAlchemyError, ValueError, ImportError) as err:
            raise ConfigError(expected("--log-db", "a SQLAlchemy database URL (e.g. "
                                       "sqlite:///predictions.db)", url,
                                       Described(str(err).splitlines()[0]))) from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            _metadata.create_all(self.engine)
        except SQLAlchemyError as err:
            raise ConfigError(expected("--log-db", "a database rnnkit can create its tables in",
                                       url, str(err).splitlines()[0])) from None
        self.url = url
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        """This thread's own connection, kept open (a pool checkout per write costs more than
        the write: 0.44 ms against 0.13 ms on SQLite)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.engine.connect()
            with self._lock:
                self._connections.append(conn)
        return conn

    def _insert(self, table: Table, row: dict[str, Any]) -> int:
        conn = self._connection()
        with conn.begin():
            return int(conn.execute(_INSERT[table.name], row).inserted_primary_key[0])

    def record(self, model: str, version: str, endpoint: str, inputs: Any, output: Any,
               latency_ms: float) -> int:
        """Log one answered prediction (committed on return); returns its id."""
        return self._insert(predictions, {
            "time": datetime.now(UTC), "model": model, "version": version,
            "endpoint": endpoint, "input": _dumps(inputs), "output": _dumps(output, MAX_OUTPUT),
            "latency_ms": float(latency_ms)})

    def record_feedback(self, model: str, prediction_id: int, actual: Any, error: Any) -> int:
        """Log the actual values of a logged prediction and the error measured on them."""
        return self._insert(feedback, {
            "time": datetime.now(UTC), "model": model, "prediction_id": prediction_id,
            "actual": _dumps(actual), "error": _dumps(error)})

    def prediction(self, prediction_id: int) -> dict[str, Any] | None:
        """One logged prediction (input and output parsed back), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(predictions).where(
                predictions.c.id == prediction_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["input"], out["output"] = json.loads(row["input"]), json.loads(row["output"])
        return out

    def count(self, model: str | None = None, table: str = "predictions") -> int:
        """How many predictions (or ``table="feedback"`` rows) are logged (of ``model``)."""
        t = predictions if table == "predictions" else feedback
        query = select(func.count()).select_from(t)
        if model is not None:
            query = query.where(t.c.model == model)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self.engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
