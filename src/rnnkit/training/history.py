"""History: the single record of a training run.

One row (a dict) per epoch. The trainer writes ``epoch``, ``loss``, ``val_loss``, each metric
(``val_<name>``, and ``<name>`` when training metrics are on), ``lr``, ``clipped_steps`` and
``epoch_time``; callbacks may add their own keys to the current row with :meth:`History.record`.
Callbacks, loggers and plots read it back.

Example:
    >>> h = History()
    >>> _ = h.new_epoch(1); h.record("val_loss", 0.5)
    >>> _ = h.new_epoch(2); h.record("val_loss", 0.3)
    >>> h["val_loss"], h.best("val_loss")["epoch"]
    ([0.5, 0.3], 2)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, RnnkitError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["History", "Mode", "infer_mode"]

Mode = Literal["auto", "min", "max"]

# Monitors that improve upwards when mode="auto" (Keras' rule, extended with rnnkit's metrics).
_MAX_HINTS = ("acc", "f1", "auc", "r2", "precision", "recall", "score")


def infer_mode(monitor: str, mode: Mode = "auto") -> Literal["min", "max"]:
    """Resolve ``mode="auto"``: ``"max"`` for accuracy-like monitors, ``"min"`` otherwise."""
    if mode not in ("auto", "min", "max"):
        raise ConfigError(expected("mode", "one of ['auto', 'min', 'max']", mode))
    if mode != "auto":
        return mode
    name = monitor.lower().removeprefix("val_")
    return "max" if any(hint in name for hint in _MAX_HINTS) else "min"


class History:
    """A list of per-epoch rows with column access.

    * ``history[i]`` is row *i* (a dict); ``history["val_loss"]`` is that column as a list
      (``None`` for rows without the key).
    * :meth:`best` returns the row where a monitor is best.
    * :meth:`to_json` / :meth:`from_json` round-trip it; :meth:`to_dataframe` gives pandas.
    """

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows: list[dict[str, Any]] = [dict(r) for r in rows] if rows else []

    # -- writing -----------------------------------------------------------------------
    def new_epoch(self, epoch: int) -> dict[str, Any]:
        """Start the row for ``epoch`` (1-based) and return it."""
        row: dict[str, Any] = {"epoch": int(epoch)}
        self.rows.append(row)
        return row

    def record(self, key: str, value: Any) -> None:
        """Set ``key`` in the current (last) row."""
        if not self.rows:
            raise RnnkitError("History.record: no epoch started; call new_epoch(epoch) first")
        self.rows[-1][key] = value

    # -- reading -----------------------------------------------------------------------
    @overload
    def __getitem__(self, key: str) -> list[Any]: ...
    @overload
    def __getitem__(self, key: int) -> dict[str, Any]: ...

    def __getitem__(self, key: str | int) -> list[Any] | dict[str, Any]:
        if isinstance(key, str):
            if not any(key in row for row in self.rows):
                raise KeyError(expected("key", f"one of {self.keys()}", key))
            return [row.get(key) for row in self.rows]
        return self.rows[key]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __contains__(self, key: object) -> bool:
        return any(key in row for row in self.rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self.rows == other.rows

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        last = self.rows[-1] if self.rows else {}
        return f"History(epochs={len(self.rows)}, last={last})"

    def keys(self) -> list[str]:
        """Every key that appears in some row, in first-seen order."""
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def best(self, monitor: str = "val_loss", mode: Mode = "auto") -> dict[str, Any]:
        """The row where ``monitor`` is lowest (``mode="min"``) or highest (``"max"``);
        ties go to the earliest epoch; NaN never wins."""
        direction = infer_mode(monitor, mode)
        candidates = [r for r in self.rows
                      if isinstance(r.get(monitor), (int, float)) and not math.isnan(r[monitor])]
        if not candidates:
            raise KeyError(expected("monitor", f"a numeric key of some row, one of {self.keys()}",
                                    monitor))
        pick = min if direction == "min" else max
        return pick(candidates, key=lambda r: r[monitor])

    # -- serialization -----------------------------------------------------------------
    def to_list(self) -> list[dict[str, Any]]:
        """A deep-enough copy of the rows (plain dicts)."""
        return [dict(r) for r in self.rows]

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The rows as a JSON array; also written atomically to ``path`` when given."""
        text = json.dumps(self.rows, indent=1, allow_nan=True)
        if path is not None:
            from rnnkit.training.checkpoint import atomic_write_bytes

            atomic_write_bytes(Path(path), text.encode("utf-8"))
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> History:
        """Load from a JSON string (starting with ``[``) or a path to a JSON file."""
        text = str(source)
        if not text.lstrip().startswith("["):
            text = Path(source).read_text(encoding="utf-8")
        rows = json.loads(text)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RnnkitError(expected("source", "a JSON array of objects", type(rows).__name__))
        return cls(rows)

    def to_dataframe(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame indexed by epoch."""
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        return frame.set_index("epoch") if "epoch" in frame else frame

    def state_dict(self) -> list[dict[str, Any]]:
        """Rows for a checkpoint (plain containers only)."""
        return self.to_list()

    def load_state_dict(self, rows: list[dict[str, Any]]) -> None:
        self.rows = [dict(r) for r in rows]
