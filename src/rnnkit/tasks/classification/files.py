"""The classifier's files: CSV or Parquet, texts or long-format series, read into
:class:`~rnnkit.tasks.base.Examples`.

Files (:meth:`~rnnkit.tasks.classification.SequenceClassifier.read_data`, what ``rnnkit train``
reads from ``data.path``):

* **text** (``data.kind = "text"``, or detected by a ``data.text_column`` column): a CSV file
  (or Parquet, by the ``.parquet`` suffix) with one row per text: the text in
  ``data.text_column`` (default ``"text"``) and its label in ``data.label_column`` (default
  ``"label"``); other columns are ignored::

      text,label
      "a gripping, funny film",positive
      "two hours I will not get back",negative

* **series** (``data.kind = "series"``, or detected by a ``data.id_column`` column): a
  long-format CSV or Parquet file, one row per time step: the series id in ``data.id_column``
  (default ``"id"``), the step or time in ``data.step_column`` (rows are sorted by it within
  each series; default: a column named ``step``, ``time``, ``timestamp`` or ``t`` if there is
  one, else the file's order), the features in ``data.feature_columns`` (default: every other
  column) and the label in ``data.label_column``, the same on every row of a series (an error
  names the series where it is not). Series may differ in length::

      id,step,accel_x,accel_y,label
      walk-01,0,0.12,-0.40,walking
      walk-01,1,0.15,-0.38,walking
      run-07,0,1.02,0.33,running

``read_data`` returns :class:`~rnnkit.tasks.base.Examples` (texts, or (T_i, F) float arrays,
and the labels). For prediction (``labelled=False``) the same files without the label column
are read. :meth:`~rnnkit.tasks.classification.SequenceClassifier.predict_frame` writes one row
per text or series: its id and text (or series id and step count), the ``prediction`` and one
``proba_<class>`` column per class.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.data.examples import json_label
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.base import Examples

__all__ = ["STEP_COLUMNS", "InputList", "read_frame", "read_series_frame", "read_text_frame"]

#: Step columns looked for, in this order, when ``data.step_column`` is not set.
STEP_COLUMNS = ("step", "time", "timestamp", "t")


class InputList(list):  # type: ignore[type-arg]
    """A list of inputs (texts, (T_i, F) arrays) that also holds their ids from the file
    (``ids``), so :meth:`~rnnkit.tasks.classification.SequenceClassifier.predict_frame` can
    name each row."""

    def __init__(self, items: Sequence[Any] = (), ids: Sequence[Any] | None = None) -> None:
        super().__init__(items)
        self.ids = list(range(len(self))) if ids is None else list(ids)


def read_frame(path: str | os.PathLike[str] | None, name: str = "data.path") -> Any:
    """The pandas frame of a CSV file, or of a Parquet file by its ``.parquet`` / ``.pq``
    suffix; ``name`` is the config key the errors name."""
    import pandas as pd

    if path is None:
        raise ConfigError(expected(name, "the path of a CSV or Parquet file", None,
                                   "set data.path in the config or pass read_data(path)"))
    p = Path(path)
    if not p.is_file():
        raise DataError(expected(name, "an existing CSV or Parquet file", str(p)))
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    return pd.read_csv(p)


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def _column(frame: Any, column: str, what: str, source: str, key: str) -> Any:
    if column not in frame.columns:
        raise DataError(expected(source, f"a {what} column {column!r}",
                                 Described(f"the columns {list(frame.columns)}"),
                                 f"set {key} to the name of that column"))
    return frame[column]


def _file_labels(frame: Any, column: str, source: str, key: str) -> list[Any]:
    values = _column(frame, column, "label", source, key)
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        raise DataError(expected(f"{source} row {int(missing[0]) + 1}", "a label",
                                 Described("an empty cell")))
    return [json_label(v) for v in values.tolist()]


def read_text_frame(frame: Any, *, text_column: str = "text", label_column: str = "label",
                    id_column: str = "id", labelled: bool = True, source: str = "data"
                    ) -> Examples:
    """Texts (and labels) of a frame with one row per text; ``ids`` from ``id_column`` when
    the frame has one, else the row numbers."""
    texts = _column(frame, text_column, "text", source, "data.text_column")
    ids = frame[id_column].tolist() if id_column in frame.columns else None
    inputs = InputList([str(t) for t in texts.fillna("").tolist()],
                       None if ids is None else [_python(i) for i in ids])
    labels = _file_labels(frame, label_column, source, "data.label_column") if labelled else None
    return Examples(inputs, labels)


def read_series_frame(frame: Any, *, id_column: str = "id", step_column: str | None = None,
                      feature_columns: Sequence[str] | None = None, label_column: str = "label",
                      labelled: bool = True, source: str = "data") -> Examples:
    """Series of a long-format frame (one row per step; see the module docstring): a list of
    (T_i, F) float arrays in the order the series first appear, and their labels."""
    columns = list(frame.columns)
    _column(frame, id_column, "series id", source, "data.id_column")
    if step_column is not None:
        _column(frame, step_column, "step", source, "data.step_column")
    step = step_column or next((c for c in STEP_COLUMNS if c in columns), None)
    if labelled:
        _column(frame, label_column, "label", source, "data.label_column")
    skip = {id_column, step, label_column}
    features = (list(feature_columns) if feature_columns is not None
                else [c for c in columns if c not in skip])
    if not features:
        raise DataError(expected(source, "at least one feature column",
                                 Described(f"the columns {columns}"), "set data.feature_columns"))
    for c in features:
        col = _column(frame, c, "feature", source, "data.feature_columns")
        if col.dtype.kind not in "biuf":
            raise DataError(expected(f"{source} column {c!r}", "numbers (a feature)",
                                     Described(f"dtype {col.dtype}"),
                                     "list the feature columns in data.feature_columns"))
    inputs, labels, ids = [], [], []
    for sid, rows in frame.groupby(id_column, sort=False):
        if step is not None:
            rows = rows.sort_values(step, kind="stable")
        inputs.append(rows[features].to_numpy(dtype=np.float64))  # (T_i, F)
        ids.append(_python(sid))
        if labelled:
            values = rows[label_column].dropna().unique()
            if len(values) != 1:
                raise DataError(expected(f"{source} series {_python(sid)!r}",
                                         "one label on all its rows",
                                         Described(f"labels {sorted(map(str, values))}")))
            labels.append(json_label(values[0]))
    return Examples(InputList(inputs, ids), labels if labelled else None)
