"""The server's Prometheus metrics (``GET /metrics``, the Prometheus text format).

One registry per app (two apps in one process never mix their counts):

- ``rnnkit_requests_total{model, endpoint, status}``: requests answered, by HTTP status;
- ``rnnkit_request_errors_total{model, endpoint}``: those answered with a status >= 400;
- ``rnnkit_request_seconds{model, endpoint}``: a latency histogram (buckets from 0.5 ms to 10 s);
- ``rnnkit_requests_in_flight``: requests being handled now;
- ``rnnkit_model_load_seconds{model, version}``: how long loading and warming up took;
- ``rnnkit_streams_open``: open forecasting streams;
- ``rnnkit_drift{model}`` (1 while the last live drift test found drift),
  ``rnnkit_drift_tests_failed{model}``, ``rnnkit_rolling_error{model, metric}`` and
  ``rnnkit_validation_error{model, metric}`` (the error of predictions whose actual values
  came back, and the bundle's validation error in the same metric),
  ``rnnkit_error_degraded{model}`` (:mod:`.monitor`).

Example::

    >>> metrics = Metrics()
    >>> with metrics.track("battery", "predict"):
    ...     pass
    >>> b"rnnkit_requests_total" in metrics.render()
    True
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # no *_created series: a scrape shows counts, not creation times
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            10.0)


class Metrics:
    """The counters, histogram and gauges of one server (see the module docstring)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("rnnkit_requests", "Requests answered, by HTTP status",
                                ["model", "endpoint", "status"], registry=self.registry)
        self.errors = Counter("rnnkit_request_errors", "Requests answered with status >= 400",
                              ["model", "endpoint"], registry=self.registry)
        self.latency = Histogram("rnnkit_request_seconds", "Request latency in seconds",
                                 ["model", "endpoint"], buckets=_BUCKETS,
                                 registry=self.registry)
        self.in_flight = Gauge("rnnkit_requests_in_flight", "Requests being handled",
                               registry=self.registry)
        self.load_seconds = Gauge("rnnkit_model_load_seconds",
                                  "Seconds to load and warm up a model version",
                                  ["model", "version"], registry=self.registry)
        self.streams = Gauge("rnnkit_streams_open", "Open forecasting streams",
                             registry=self.registry)
        self.drift = Gauge("rnnkit_drift", "1 while the last live drift test found drift",
                           ["model"], registry=self.registry)
        self.drift_tests_failed = Gauge("rnnkit_drift_tests_failed",
                                        "Drift tests over their threshold in the last check",
                                        ["model"], registry=self.registry)
        self.rolling_error = Gauge("rnnkit_rolling_error",
                                   "Error of the predictions whose actual values came back",
                                   ["model", "metric"], registry=self.registry)
        self.validation_error = Gauge("rnnkit_validation_error",
                                      "The bundle's validation error, in the same metric",
                                      ["model", "metric"], registry=self.registry)
        self.degraded = Gauge("rnnkit_error_degraded",
                              "1 while the rolling error exceeds the validation error's margin",
                              ["model"], registry=self.registry)

    @contextmanager
    def track(self, model: str, endpoint: str) -> Iterator[dict[str, int]]:
        """Count one request and time it; the body sets ``status`` in the yielded dict (an
        exception counts as the status it carries, else 500)."""
        outcome = {"status": 200}
        start = time.perf_counter()
        self.in_flight.inc()
        try:
            yield outcome
        except Exception as err:
            outcome["status"] = int(getattr(err, "status_code", 500))
            raise
        finally:
            self.in_flight.dec()
            self.latency.labels(model, endpoint).observe(time.perf_counter() - start)
            status = outcome["status"]
            self.requests.labels(model, endpoint, str(status)).inc()
            if status >= 400:
                self.errors.labels(model, endpoint).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
