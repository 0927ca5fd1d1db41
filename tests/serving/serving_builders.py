"""Tiny trained bundles of every task (what the serving tests serve), an hourly series, and
`rnnkit serve` as a real process (start, stop)."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import numpy as np
import pandas as pd

from rnnkit.examples import example_path
from rnnkit.tasks.registry import task_from_toml

FAST = {"training": {"epochs": 1, "progress": "off", "max_time": None}}
OVERRIDES = {
    "classification": {"model": {"embedding_dim": 8, "encoder": {"hidden_size": 8}}},
    "tagging": {"model": {"embedding_dim": 8, "suffix_dim": 4, "shape_dim": 4,
                          "encoder": {"hidden_size": 8}}},
    "language_model": {"model": {"embedding_dim": 8, "encoder": {"hidden_size": 16}},
                       "generation": {"max_new_tokens": 12}},
    "seq2seq": {"model": {"src_embedding_dim": 8, "tgt_embedding_dim": 8,
                          "encoder": {"hidden_size": 8}, "decoder": {"hidden_size": 16}}},
}


def hourly_frame(n=120, seed=0):
    """An hourly two-column series (a target and a covariate) with a time column."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({
        "time": pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M:%S"),
        "load": np.sin(t / 4) + 0.1 * rng.standard_normal(n),
        "temp": np.cos(t / 7)})


def _forecaster(tmp):
    from rnnkit.tasks.forecasting import Forecaster

    path = tmp / "hourly.csv"
    hourly_frame().to_csv(path, index=False)
    task = Forecaster({"data": {"path": str(path), "time_col": "time", "targets": ["load"],
                                "covariates": ["temp"]},
                       "forecast": {"look_back": 12, "horizon": 3},
                       "model": {"hidden_size": 8, "num_layers": 1},
                       "training": {"epochs": 2, "device": "cpu", "progress": "off", "seed": 0}})
    return task.fit(task.read_data())


def _series_classifier(tmp):
    """Two-feature series of 4..12 steps whose class sets the trend of the first feature."""
    from rnnkit.tasks.classification import SequenceClassifier

    rng = np.random.default_rng(0)
    X, y = [], []
    for _ in range(60):
        c = int(rng.integers(0, 3))
        t = np.arange(int(rng.integers(4, 13)))
        X.append(np.stack([(c - 1) * 0.5 * t, rng.normal(0, 1, t.size)], axis=1) * 10 + 3)
        y.append(c)
    task = SequenceClassifier({"model": {"embedding_dim": 8, "encoder": {"hidden_size": 8}},
                               "training": {"epochs": 2, "progress": "off", "seed": 0}})
    return task.fit(X, y)


def build_bundles(tmp):
    """Train a tiny model of every task and save its bundle under ``tmp``: task -> path."""
    out = {}
    for name, overrides in OVERRIDES.items():
        task = task_from_toml(example_path(name), {**FAST, **overrides})
        task.fit(task.split(task.read_data())[0])
        out[name] = task.save(tmp / name)
    out["forecasting"] = _forecaster(tmp).save(tmp / "forecasting")
    out["series_classification"] = _series_classifier(tmp).save(tmp / "series_classification")
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(models, *args, env=None, cwd=None):
    """``rnnkit serve MODELS ARGS`` on a free port, in ``cwd`` (default: a new temporary
    folder, where its prediction log goes); returns (process, base URL) once ready."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnkit", "serve", *map(str, models), "--port", str(port),
         *args], env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, cwd=cwd or tempfile.mkdtemp(prefix="serve-"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stdout.read()}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"serve did not become ready: {proc.stdout.read()}")


def stop(proc):
    """SIGTERM, then the exit status: uvicorn shuts down gracefully and exits by the signal
    it received (-SIGTERM), as a process manager expects."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


STOPPED = (0, -signal.SIGTERM)


class Receiver:
    """A local HTTP server that keeps the JSON bodies POSTed to it."""

    def __init__(self, status=200):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def close(self):
        self.server.shutdown()
