"""Live monitoring of served models: drift of recent traffic against the bundle's reference
profile, the rolling error of predictions whose actual values came back, alerts.

Per served model, a :class:`LiveMonitor` keeps

- the most recent inputs (``window`` of them: forecasting rows by time stamp, texts, series,
  sentences); every ``drift_every`` new inputs it tests them against the model's profile with
  :func:`rnnkit.monitoring.drift.detect_drift` in a background thread (a request never waits
  for it), or at once on ``GET /v1/models/{name}/monitoring?refresh=true``;
- the errors of the last ``error_window`` feedback points (forecasting: each forecast value
  against its actual, as squared and absolute errors; classification and tagging: each label
  or tag, right or wrong) and compares the rolling error with the validation error the
  profile recorded: degraded when it is more than ``1 + error_margin`` times it, once
  ``min_feedback`` points have come back;
- an alert when drift or degradation starts: a warning in the log, and a JSON POST to the
  optional webhook (in a background thread, 5 s timeout; a failing webhook is logged, never
  raised).

Example::

    >>> settings = MonitorSettings(window=200, drift_every=50)
    >>> settings.error_margin
    0.5
"""

from __future__ import annotations

import json
import logging
import math
import threading
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.errors import DataError
from rnnkit.serving.adapters import rows_frame, time_column
from rnnkit.serving.metrics import Metrics
from rnnkit.tasks.base import Examples

__all__ = ["Alerter", "LiveMonitor", "MonitorSettings", "forecast_errors", "label_errors"]

logger = logging.getLogger("rnnkit.serving")


@dataclass(frozen=True)
class MonitorSettings:
    """How live monitoring watches each model (see the module docstring)."""

    window: int = 500
    drift_every: int = 100
    min_inputs: int = 50
    error_window: int = 500
    error_margin: float = 0.5
    min_feedback: int = 20
    webhook: str | None = None
    thresholds: Any = None  # rnnkit.monitoring.drift.Thresholds (None: its defaults)


class Alerter:
    """Alerts as warnings in the log and, with a webhook URL, JSON POSTs to it."""

    def __init__(self, webhook: str | None = None,
                 post: Callable[[str, bytes], None] | None = None) -> None:
        self.webhook = webhook
        self._post = post or _post_json
        self.sent: deque[dict[str, Any]] = deque(maxlen=50)

    def fire(self, kind: str, model: str, version: str, detail: dict[str, Any]) -> None:
        alert = {"alert": kind, "model": model, "version": version,
                 "time": datetime.now(UTC).isoformat(timespec="seconds"), "detail": detail}
        self.sent.append(alert)
        logger.warning("ALERT %s: model %s (version %s): %s", kind, model, version,
                       json.dumps(detail, default=str)[:500])
        if self.webhook:
            body = json.dumps(alert, default=str).encode()
            threading.Thread(target=self._deliver, args=(body,), daemon=True).start()

    def _deliver(self, body: bytes) -> None:
        try:
            self._post(self.webhook, body)  # type: ignore[arg-type]
        except Exception as err:  # a webhook must never take the server down
            logger.error("alert webhook %s failed: %s", self.webhook, err)


def _post_json(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


# ------------------------------------------------------------------------------ errors
def forecast_errors(output: dict[str, Any], actual: list[dict[str, Any]], time: str,
                    targets: list[str]) -> list[float]:
    """Forecast value minus actual, for every logged forecast row and target whose actual
    value came back (matched by time stamp)."""
    forecast = {str(row.get(time)): row for row in output.get("forecast") or []}
    if not isinstance(actual, list) or not all(isinstance(r, dict) for r in actual):
        raise DataError(expected("actual", f"rows with {time!r} and the targets {targets}",
                                 Described(type(actual).__name__)))
    errors = []
    for i, row in enumerate(actual):
        predicted = forecast.get(str(row.get(time)))
        if predicted is None:
            raise DataError(expected(f"actual[{i}].{time}", "a time stamp of the forecast "
                                     f"{sorted(forecast)}", row.get(time)))
        for target in targets:
            value = row.get(target)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise DataError(expected(f"actual[{i}].{target}", "a finite number", value))
            errors.append(float(predicted[target]) - float(value))
    return errors


def label_errors(predicted: list[Any], actual: list[Any]) -> list[float]:
    """1.0 for every wrong label (or tag), 0.0 for every right one."""
    if not isinstance(actual, list) or len(actual) != len(predicted):
        raise DataError(expected("actual", f"a list of {len(predicted)} labels (one per "
                                 "input of the prediction)", Described(repr(actual)[:80])))
    return [float(str(p) != str(a)) for p, a in zip(predicted, actual)]


# ---------------------------------------------------------------------------- per model
@dataclass
class _State:
    inputs: deque[Any]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    since: int = 0
    report: dict[str, Any] | None = None
    checked_at: str | None = None
    drift: bool = False
    errors: deque[float] = field(default_factory=deque)
    degraded: bool = False
    running: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class LiveMonitor:
    """Drift, rolling error and alerts of every served model (see the module docstring)."""

    def __init__(self, settings: MonitorSettings, metrics: Metrics,
                 alerter: Alerter | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.alerter = alerter or Alerter(settings.webhook)
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def _state(self, name: str) -> _State:
        with self._lock:
            if name not in self._states:
                self._states[name] = _State(deque(maxlen=self.settings.window),
                                            errors=deque(maxlen=self.settings.error_window))
            return self._states[name]

    # -- traffic ------------------------------------------------------------------------
    def observe(self, model: Any, request: Any) -> None:
        """Keep the inputs of an answered request; test drift when enough are new."""
        state = self._state(model.name)
        task = model.task
        with state.lock:
            if task.name == "forecasting":
                time = _time_column(task)
                for rows in ([request.data] if request.data is not None else request.series):
                    for row in rows:
                        state.rows[str(row.get(time))] = row
                        state.since += 1
                while len(state.rows) > self.settings.window:  # the oldest first in a dict
                    del state.rows[next(iter(state.rows))]
            else:
                items = _inputs(task.name, request)
                state.inputs.extend(items)
                state.since += len(items)
            due = (state.since >= self.settings.drift_every and not state.running
                   and self._size(state) >= self.settings.min_inputs)
            if due:
                state.running, state.since = True, 0
        if due:
            threading.Thread(target=self._check, args=(model, state), daemon=True).start()

    def _size(self, state: _State) -> int:
        return len(state.rows) if state.rows else len(state.inputs)

    def check(self, model: Any) -> dict[str, Any]:
        """Test the recent inputs for drift now; returns the monitoring state."""
        state = self._state(model.name)
        with state.lock:
            state.running = True
        self._check(model, state)
        return self.state(model)

    def _check(self, model: Any, state: _State) -> None:
        from rnnkit.monitoring.drift import detect_drift  # the profile's own tests

        try:
            data = self._data(model, state)
            if data is None:
                return
            with model.lock:
                report = detect_drift(model.task, data, thresholds=self.settings.thresholds)
            result = report.to_dict()
            started = result["drift"] and not state.drift
            state.report, state.drift = result, bool(result["drift"])
            state.checked_at = datetime.now(UTC).isoformat(timespec="seconds")
            failed = [t for t in result.get("tests", []) if t.get("drift")]
            self.metrics.drift.labels(model.name).set(float(state.drift))
            self.metrics.drift_tests_failed.labels(model.name).set(len(failed))
            if started:
                self.alerter.fire("drift", model.name, model.version,
                                  {"failed_tests": failed[:10], "inputs": self._size(state)})
        except Exception:  # a monitor must never take the server down
            logger.exception("drift check of %s failed", model.name)
        finally:
            state.running = False

    def _data(self, model: Any, state: _State) -> Any:
        task = model.task
        with state.lock:
            rows = list(state.rows.values())
            items = list(state.inputs)
        if task.name == "forecasting":
            if len(rows) < max(self.settings.min_inputs, task.preprocessing_.look_back):
                return None
            time = _time_column(task)
            rows.sort(key=lambda r: str(r.get(time)))
            return task.read_data(rows_frame(rows))
        if len(items) < self.settings.min_inputs:
            return None
        if task.name == "classification" and task.inputs_.kind == "numeric":
            items = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in items]
        if task.name == "language_model":
            return "\n".join(items)
        return Examples(items, None)

    # -- feedback -----------------------------------------------------------------------
    def feedback(self, model: Any, logged: dict[str, Any], actual: Any) -> dict[str, Any]:
        """The error of one logged prediction against its actual values, added to the
        rolling error; returns this feedback's error and the rolling state."""
        task = model.task
        output = logged["output"]
        if task.name == "forecasting":
            errors = forecast_errors(output, actual, _time_column(task),
                                     list(task.preprocessing_.targets))
            mine = {"n": len(errors), "rmse": _rms(errors),
                    "mae": float(np.mean(np.abs(errors))) if errors else None}
        elif task.name in ("classification", "tagging"):
            predicted = ([p["label"] for p in output.get("predictions", [])]
                         if task.name == "classification"
                         else [t for tags in output.get("tags", []) for t in tags])
            if task.name == "tagging":
                actual = [t for tags in (actual or []) for t in
                          (tags if isinstance(tags, list) else [tags])]
            errors = label_errors(predicted, actual)
            mine = {"n": len(errors), "error_rate": float(np.mean(errors)) if errors else None}
        else:
            raise DataError(expected("model", "a forecasting, classification or tagging "
                                     "model to take feedback", task.name))
        state = self._state(model.name)
        with state.lock:
            state.errors.extend(errors)
        return {"error": mine, "rolling": self._rolling(model, state)}

    def _rolling(self, model: Any, state: _State) -> dict[str, Any]:
        """The rolling error, the validation error, degradation (and its alert)."""
        with state.lock:
            errors = list(state.errors)
        task = model.task
        metric = "rmse" if task.name == "forecasting" else "error_rate"
        rolling = (_rms(errors) if metric == "rmse" else float(np.mean(errors))) if errors \
            else None
        validation = _validation_error(task, metric)
        degraded = None
        if rolling is not None and validation is not None \
                and len(errors) >= self.settings.min_feedback:
            degraded = rolling > (1 + self.settings.error_margin) * validation
            if degraded and not state.degraded:
                self.alerter.fire("degraded", model.name, model.version,
                                  {"metric": metric, "rolling": rolling,
                                   "validation": validation, "n": len(errors)})
            state.degraded = degraded
        if rolling is not None:
            self.metrics.rolling_error.labels(model.name, metric).set(rolling)
        if validation is not None:
            self.metrics.validation_error.labels(model.name, metric).set(validation)
        self.metrics.degraded.labels(model.name).set(float(bool(degraded)))
        return {"metric": metric, "rolling": rolling, "validation": validation,
                "n": len(errors), "margin": self.settings.error_margin, "degraded": degraded}

    # -- the state ----------------------------------------------------------------------
    def state(self, model: Any) -> dict[str, Any]:
        """What ``GET /v1/models/{name}/monitoring`` answers."""
        state = self._state(model.name)
        return {"model": model.info(),
                "drift": {"drift": state.drift if state.report else None,
                          "checked_at": state.checked_at, "inputs": self._size(state),
                          "report": state.report},
                "error": self._rolling(model, state),
                "alerts": [a for a in self.alerter.sent if a["model"] == model.name]}


def _rms(errors: list[float]) -> float | None:
    return float(np.sqrt(np.mean(np.square(errors)))) if errors else None


def _time_column(task: Any) -> str:
    return time_column(task) or "time"


def _inputs(task: str, request: Any) -> list[Any]:
    """The inputs of a request, one item per text, series, sentence, prompt or source."""
    if task == "classification":
        return list(request.texts if request.texts is not None else request.series)
    if task == "tagging":
        return list(request.sentences)
    if task == "language_model":
        return list(request.prompts)
    return list(request.sources)


def _validation_error(task: Any, metric: str) -> float | None:
    """The validation error the profile recorded, in the rolling error's metric."""
    profile = getattr(task, "profile_", None)
    metrics = getattr(profile, "validation_metrics", None) or {}
    if metric == "rmse":
        value = metrics.get("rmse")
    else:
        accuracy = metrics.get("accuracy", metrics.get("token_accuracy"))
        value = None if accuracy is None else 1.0 - float(accuracy)
    return None if value is None else float(value)
