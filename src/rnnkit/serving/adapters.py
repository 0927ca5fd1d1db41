"""How each task answers an HTTP request: the request in the task's terms, the same Python
call a user would make (``predict``, ``predict_proba``, ``generate``), the response in the
task's terms.

An :class:`Adapter` per task holds the pydantic request and response models
(:mod:`.schemas`), checks the request against the server's :class:`Limits` (a too large batch
or too long input is a :class:`LimitError` naming the field), runs the task's own Python API
(so the server answers exactly what ``Task.predict`` answers for the same inputs), describes
the model's inputs and outputs for ``GET /v1/models``, and warms the model up before the
server reports ready.

A forecasting request whose rows are clean (:func:`clean_window`: complete, numeric, one
regular step apart) is read without pandas: its last ``look_back`` rows are already the window
``Forecaster.read_data`` would build, and the network runs on them directly; anything else is
read the way ``rnnkit predict`` reads a file. Tests hold the two paths to the same digits.

Example::

    >>> adapter_for("forecasting").request.__name__
    'ForecastRequest'
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, DataError, RnnkitError
from rnnkit.serving.schemas import (
    ClassifyRequest,
    ClassifyResponse,
    ForecastRequest,
    ForecastResponse,
    GenerateRequest,
    GenerateResponse,
    Row,
    TagRequest,
    TagResponse,
    TranslateRequest,
    TranslateResponse,
)
from rnnkit.serving.streams import Stream, Window
from rnnkit.tasks.base import Task

__all__ = ["ADAPTERS", "Adapter", "LimitError", "Limits", "adapter_for", "clean_window",
           "forecast_rows", "rows_frame", "time_column"]


class LimitError(RnnkitError, ValueError):
    """A request beyond the server's limits (batch size, input length); ``field`` names the
    request field (the server answers 422 with the message)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Limits:
    """What one request may hold: ``max_batch`` inputs (series, texts, sentences, prompts,
    sources), each at most ``max_length`` long (rows, characters, tokens), and at most
    ``max_length`` steps or tokens to produce."""

    max_batch: int = 64
    max_length: int = 10_000

    def batch(self, field: str, items: Sequence[Any]) -> None:
        if len(items) > self.max_batch:
            raise LimitError(field, expected(field, f"at most {self.max_batch} items per "
                                             "request (the server's --max-batch)", len(items),
                                             "split the batch over several requests"))

    def length(self, field: str, size: int, what: str) -> None:
        if size > self.max_length:
            raise LimitError(field, expected(field, f"at most {self.max_length} {what} (the "
                                             "server's --max-length)", size))

    def each(self, field: str, items: Sequence[Sized], what: str) -> None:
        self.batch(field, items)
        for i, item in enumerate(items):
            self.length(f"{field}[{i}]", len(item), what)


Sized = Sequence[Any] | str


class Adapter:
    """One task's side of the server (see the module docstring)."""

    task: ClassVar[str]
    request: ClassVar[type[BaseModel]]
    response: ClassVar[type[BaseModel]]

    def predict(self, task: Task, request: Any, limits: Limits) -> dict[str, Any]:
        """The response fields (all but ``model``) for a validated request."""
        raise NotImplementedError

    def describe(self, task: Task) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(input, output)``: what the model reads and returns, for ``GET /v1/models``."""
        raise NotImplementedError

    def warmup(self, task: Task) -> None:
        """Run the network once, so the first request does not pay for lazy set-up."""
        raise NotImplementedError

    def summary(self, task: Task, request: Any) -> dict[str, Any]:
        """What the prediction log keeps of a request's inputs: their number and sizes."""
        items = next(v for v in (getattr(request, f, None) for f in
                                 ("texts", "series", "sentences", "prompts", "sources"))
                     if v is not None)
        return {"n": len(items), "lengths": [len(i) for i in items[:100]]}


# ----------------------------------------------------------------------------- forecasting
def rows_frame(rows: Sequence[Row], field: str = "data") -> pd.DataFrame:
    """The rows of a request as the DataFrame a CSV of the same rows reads into."""
    if not rows:
        raise DataError(expected(field, "at least one row", []))
    return pd.DataFrame.from_records(list(rows))


def _json_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def forecast_rows(forecast: pd.DataFrame) -> list[dict[str, Any]]:
    """Forecast rows as ``rnnkit predict --output`` writes them: the time column (named as
    the fitted time index, ``time`` when it has no name) then one column per target."""
    return _rows(forecast.index, list(forecast.columns), forecast.to_numpy())


def _rows(index: pd.Index, columns: list[str], values: np.ndarray) -> list[dict[str, Any]]:
    """Rows ``{time: stamp, column: value, ...}`` of forecasts ``values`` (S, K)."""
    name = index.name or "time"
    return [{name: _json_value(stamp), **{c: _json_value(v) for c, v in zip(columns, row)}}
            for stamp, row in zip(index, values.tolist())]


class ForecastAdapter(Adapter):
    task = "forecasting"
    request = ForecastRequest
    response = ForecastResponse

    def forecast(self, task: Any, rows: Sequence[Row], horizon: int | None, field: str
                 ) -> list[dict[str, Any]]:
        """The forecast rows of one series: from its parsed window when the rows are clean
        (:func:`clean_window`), else read as ``rnnkit predict`` reads a file."""
        window = clean_window(rows, task)
        if window is not None:
            prep = task.preprocessing_
            steps = prep.horizon if horizon is None else horizon
            forecast = task._forecast(np.stack(window.values)[None], steps, None)[0]
            return _rows(_after(window, steps), list(prep.targets), forecast)
        series = task.read_data(rows_frame(rows, field))
        return forecast_rows(task.predict(series, horizon=horizon))

    def predict(self, task: Task, request: ForecastRequest, limits: Limits) -> dict[str, Any]:
        if request.horizon is not None:
            limits.length("horizon", request.horizon, "steps")
        if request.data is not None:
            limits.length("data", len(request.data), "rows")
            return {"forecast": self.forecast(task, request.data, request.horizon, "data")}
        series = request.series or []  # the schema guarantees data or series
        limits.each("series", series, "rows")
        return {"forecasts": [self.forecast(task, rows, request.horizon, f"series[{i}]")
                              for i, rows in enumerate(series)]}

    def summary(self, task: Any, request: ForecastRequest) -> dict[str, Any]:
        batch = [request.data] if request.data is not None else request.series or []
        return {"series": len(batch), "rows": [len(rows) for rows in batch[:100]],
                "last": [rows[-1] if rows else None for rows in batch[:100]],
                "horizon": request.horizon}

    def stream_forecast(self, task: Any, stream: Stream, new: Sequence[Row],
                        future: Sequence[Row]) -> list[dict[str, Any]]:
        """The forecast from a stream's history after it observed the rows ``new`` (already
        in ``stream.rows``): from its parsed window when that stays clean, else by reading
        the kept rows (and ``future``) as a batch predict does (see :mod:`.streams`)."""
        prep = task.preprocessing_
        steps = prep.horizon if stream.horizon is None else stream.horizon
        window = stream.window
        if window is not None and not future and _extend(window, new, prep, time_column(task)):
            x = np.stack(window.values)[None]  # (1, L, F)
            forecast = task._forecast(x, steps, None)[0]  # (steps, K)
            return _rows(_after(window, steps), list(prep.targets), forecast)
        series = task.read_data(rows_frame(list(stream.rows) + list(future)))
        frame = task.predict(series, horizon=stream.horizon)
        stream.window = None if future else clean_window(list(stream.rows), task)
        return forecast_rows(frame)


    def describe(self, task: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        prep = task.preprocessing_
        time = prep.time_name or "time"
        inputs = {"time_column": time, "targets": list(prep.targets),
                  "covariates": list(prep.covariates),
                  "future_covariates": list(prep.supplied_future),
                  "look_back": prep.look_back, "freq": prep.freq,
                  "rows": f"at least {prep.look_back} rows, oldest first"}
        outputs = {"columns": [time, *prep.targets], "horizon": prep.horizon,
                   "units": "original"}
        return inputs, outputs

    def warmup(self, task: Any) -> None:
        prep = task.preprocessing_
        steps = prep.horizon
        need = max(steps, prep.train_horizon) if prep.future_covariates else 0
        window = np.zeros((1, prep.look_back, len(prep.columns)))
        future = np.zeros((1, need, len(prep.future_covariates))) if need else None
        task._forecast(window, steps, future)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def _row_values(row: Row, columns: Sequence[str]) -> np.ndarray | None:
    """A row's values (F,) when every column is a finite number, else None."""
    values = [row.get(c) for c in columns]
    return np.asarray(values, dtype=np.float64) if all(map(_number, values)) else None


def _stamp(row: Row, time: str, window: Window) -> Any:
    """The row's time stamp in the window's kind (None when it cannot be read as such)."""
    value = row.get(time)
    if isinstance(window.step, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    return _iso(value)  # as clean_window reads them: ISO 8601, no time zone


def _extend(window: Window, rows: Sequence[Row], prep: Any, time: str | None) -> bool:
    """Append ``rows`` to the parsed window when each is complete and one step after the
    last; False (the window left for the caller to drop) otherwise."""
    if time is None:
        return False
    parsed = []
    last = window.last
    for row in rows:
        values, stamp = _row_values(row, prep.columns), _stamp(row, time, window)
        try:
            regular = stamp is not None and stamp == last + window.step
        except TypeError:  # a time zone on one side only
            regular = False
        if values is None or not regular or set(row) - {time, *prep.columns}:
            return False
        parsed.append(values)
        last = stamp
    window.values.extend(parsed)
    window.last = last
    return True


def time_column(task: Any) -> str | None:
    """The time column of a forecaster's request rows: the config's ``data.time_col``, else
    the fitted time index's name (None when the series had an unnamed index)."""
    return task.config.data_or_default.time_col or task.preprocessing_.time_name


def clean_window(rows: Sequence[Row], task: Any) -> Window | None:
    """The last ``look_back`` rows of a forecasting request parsed without pandas, when that
    gives exactly what :meth:`Forecaster.read_data` gives: every row holds the time column and
    the model's columns and nothing else, every value a finite number, the time stamps
    integers or ISO 8601 date-times without a time zone, one fixed step apart, that step the
    fitted frequency; the model has no known-future covariates and the ``[data]`` section its
    default time parsing and irregular policy. None otherwise (the caller reads the rows)."""
    prep, section = task.preprocessing_, task.config.data_or_default
    time = time_column(task)
    L = prep.look_back
    if (time is None or prep.future_covariates or section.date_format is not None
            or section.irregular != "error" or len(rows) < max(L, 3)):
        return None
    names = {time, *prep.columns}
    stamps = [row.get(time) for row in rows]
    if prep.time_kind == "integer":
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in stamps):
            return None
        step: Any = stamps[1] - stamps[0]
        fitted = prep.freq if isinstance(prep.freq, int) else None
        if step < 1 or (fitted is not None and step != fitted) or (
                section.freq is not None and step != section.freq):
            return None
        last: Any = stamps[-1]
        regular = all(b - a == step for a, b in pairwise(stamps))
    else:
        parsed = [_iso(t) for t in stamps]
        if not isinstance(prep.freq, str) or any(t is None for t in parsed) or (
                section.freq is not None and section.freq != prep.freq):
            return None
        step = pd.tseries.frequencies.to_offset(prep.freq)
        nanos = getattr(step, "nanos", None) if _fixed(step) else None
        if nanos is None:
            return None
        regular = all((b - a).value == nanos for a, b in pairwise(parsed))
        last = parsed[-1]
    if not regular or any(set(row) != names for row in rows):
        return None
    values = [_row_values(row, prep.columns) for row in rows]  # every row: read_data checks all
    if any(v is None for v in values):
        return None
    return Window(deque(values[-L:], maxlen=L), last, step, time)


def _fixed(offset: Any) -> bool:
    """Whether a pandas offset is a fixed duration (hours, minutes, days; not months)."""
    try:
        offset.nanos  # noqa: B018  (raises for calendar offsets)
    except ValueError:
        return False
    return True


def _iso(value: Any) -> pd.Timestamp | None:
    """An ISO 8601 date-time string without a time zone as a Timestamp, else None."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if stamp.tzinfo is not None else pd.Timestamp(stamp)


def _after(window: Window, steps: int) -> pd.Index:
    """The ``steps`` time stamps after the window's last (as ``future_index`` dates them)."""
    if isinstance(window.step, int):
        return pd.Index(window.last + window.step * np.arange(1, steps + 1), name=window.name)
    return pd.date_range(window.last, periods=steps + 1, freq=window.step,
                         name=window.name)[1:]


# -------------------------------------------------------------------------- classification
def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


class ClassifyAdapter(Adapter):
    task = "classification"
    request = ClassifyRequest
    response = ClassifyResponse

    def predict(self, task: Any, request: ClassifyRequest, limits: Limits) -> dict[str, Any]:
        kind = task.inputs_.kind
        if request.texts is not None:
            if kind == "numeric":
                raise DataError(expected("texts", "'series' for this model (it classifies "
                                         "numeric series)", "texts"))
            limits.each("texts", request.texts, "characters")
            inputs: Any = request.texts
        else:
            if kind != "numeric":
                raise DataError(expected("series", "'texts' for this model (it classifies "
                                         "texts)", "series"))
            limits.each("series", request.series or [], "steps")
            inputs = [_steps(s, f"series[{i}]", task.inputs_.n_features)
                      for i, s in enumerate(request.series or [])]
        proba = task.predict_proba(inputs)  # (N, C)
        classes = [_label(c) for c in task.classes_]
        return {"predictions": [
            {"label": classes[int(row.argmax())],
             "probabilities": {str(c): float(p) for c, p in zip(classes, row)}}
            for row in proba]}

    def describe(self, task: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        inputs = task.inputs_
        if inputs.kind == "numeric":
            described = {"series": f"lists of steps of {inputs.n_features} feature(s)"}
        else:
            described = {"texts": "strings"}
        return described, {"classes": [_label(c) for c in task.classes_],
                           "fields": ["label", "probabilities"]}

    def warmup(self, task: Any) -> None:
        inputs = task.inputs_
        sample: Any = ([np.zeros((2, inputs.n_features))] if inputs.kind == "numeric"
                       else ["warm up"] if inputs.kind == "text" else [["warm", "up"]])
        task.predict_proba(sample)


def _steps(series: Sequence[Any], field: str, n_features: int) -> np.ndarray:
    """One series of the request as (T, F) values, F the model's features."""
    try:
        values = np.asarray(series, dtype=np.float64)
    except ValueError:  # ragged: steps of different lengths
        values = np.empty(0)
    if values.ndim == 1 and values.size:
        values = values[:, None]  # (T,) -> (T, 1)
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] != n_features:
        raise DataError(expected(field, f"a non-empty list of steps of {n_features} feature "
                                 "value(s) each (a number per step when 1)",
                                 f"shape {values.shape}"))
    return values


# --------------------------------------------------------------------------------- tagging
class TagAdapter(Adapter):
    task = "tagging"
    request = TagRequest
    response = TagResponse

    def predict(self, task: Any, request: TagRequest, limits: Limits) -> dict[str, Any]:
        limits.each("sentences", request.sentences, "tokens")
        return {"tags": task.predict(request.sentences)}

    def describe(self, task: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"sentences": "lists of tokens"}, {"tags": list(task.tags_)}

    def warmup(self, task: Any) -> None:
        task.predict([["warm", "up"]])


# ---------------------------------------------------------------------------- generation
class GenerateAdapter(Adapter):
    task = "language_model"
    request = GenerateRequest
    response = GenerateResponse

    def settings(self, task: Any, request: GenerateRequest) -> dict[str, Any]:
        """The sampling settings: the request's, else the model's ``[generation]``."""
        g = task.config.generation
        pick = {field: getattr(request, field) for field in
                ("temperature", "top_k", "top_p", "greedy", "seed")}
        return {"max_new_tokens": request.max_tokens or g.max_new_tokens,
                "temperature": g.temperature if pick["temperature"] is None else pick["temperature"],
                "top_k": g.top_k if pick["top_k"] is None else pick["top_k"],
                "top_p": g.top_p if pick["top_p"] is None else pick["top_p"],
                "greedy": g.greedy if pick["greedy"] is None else pick["greedy"],
                "seed": g.seed if pick["seed"] is None else pick["seed"]}

    def predict(self, task: Any, request: GenerateRequest, limits: Limits) -> dict[str, Any]:
        limits.each("prompts", request.prompts, "characters")
        s = self.settings(task, request)
        limits.length("max_tokens", s["max_new_tokens"], "tokens")
        return {"texts": [task.generate(p, s["max_new_tokens"], greedy=s["greedy"],
                                        temperature=s["temperature"], top_k=s["top_k"],
                                        top_p=s["top_p"], seed=s["seed"] + i)
                          for i, p in enumerate(request.prompts)]}

    def describe(self, task: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        g = task.config.generation
        return ({"prompts": "strings", "level": task.config.model.level},
                {"texts": "the continuation of each prompt", "defaults": g.model_dump()})

    def warmup(self, task: Any) -> None:
        vocab = task.vocab_
        token = next((t for t in vocab.tokens if not t.startswith("<")), None)
        if token is not None:
            task.generate(token, 1, greedy=True)


# ------------------------------------------------------------------------------- seq2seq
class TranslateAdapter(Adapter):
    task = "seq2seq"
    request = TranslateRequest
    response = TranslateResponse

    def predict(self, task: Any, request: TranslateRequest, limits: Limits) -> dict[str, Any]:
        limits.each("sources", request.sources, "characters")
        decoded = task.predict(request.sources, beam_width=request.beam_size)
        return {"targets": [task.detokenize(tokens) for tokens in decoded]}

    def describe(self, task: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        data = task.config.data
        return ({"sources": f"strings, read as {data.units} units"},
                {"targets": f"strings of {data.output_units} units",
                 "beam_size": task.config.decoding.beam_width})

    def warmup(self, task: Any) -> None:
        task.predict(["a"], beam_width=1, max_len=2)


ADAPTERS: dict[str, Adapter] = {a.task: a for a in (
    ForecastAdapter(), ClassifyAdapter(), TagAdapter(), GenerateAdapter(), TranslateAdapter())}


def adapter_for(task: str) -> Adapter:
    """The adapter of a task name."""
    if task not in ADAPTERS:
        raise ConfigError(expected("task", f"one of {sorted(ADAPTERS)}", task))
    return ADAPTERS[task]
