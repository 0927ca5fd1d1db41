"""Benchmark: `rnnkit serve` under a bounded load on 127.0.0.1, against two floors.

Models: the battery forecaster (2 x LSTM(50) over 20 cycles, window normalization; one epoch:
the weights do not matter for speed) and the sample text classifier (BiLSTM(32) with
attention pooling), each served by two `rnnkit serve` processes: ``--runtime torch`` and
``--runtime onnx``. Floors, measured in the same run:

* ``echo``: a bare FastAPI endpoint that returns its JSON body, on uvicorn with the same
  settings (what HTTP, JSON and the client cost);
* ``in-process``: the model's own predict call in this process (the adapter's, on a parsed
  request: what the model costs without HTTP), run in the same rounds as the load at
  concurrency 1.

The ``torch`` and ``onnx`` servers log every prediction to a SQLite file (the default); a
third server, ``--no-log``, measures what the log costs. Every target gets the same fixed number of requests per round (batch 1: one series, one text)
at concurrency 1 and 8 (threads with one keep-alive httpx client each), rounds interleaved
across targets so that a load change hits all alike; a time limit stops the whole run. Also
a forecasting stream's ``observe`` against a fresh ``predict`` of the same history.

Prints a table per concurrency (p50, p99 in ms, throughput, errors) and the goals' checks;
writes ``bench/results/serve.json``. Every server listens on 127.0.0.1 only and is stopped
at the end.

    python bench/serve.py [--requests 200] [--rounds 3] [--time-limit 300]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path

ECHO_APP = textwrap.dedent("""
    from typing import Any
    from fastapi import FastAPI
    app = FastAPI()

    @app.post("/echo")
    def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @app.get("/health/ready")
    def ready() -> dict[str, str]:
        return {"status": "ready"}
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTUP: dict[str, float] = {}  # seconds from the process start to /health/ready


def start(argv: list[str], port: int, cwd: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    began = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{argv[:4]} exited: {proc.stderr.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                STARTUP[" ".join(argv[1:4])] = time.perf_counter() - began
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{argv[:4]} never became ready")


def fit_models(folder: Path) -> dict[str, Path]:
    from rnnkit.examples import example_path
    from rnnkit.tasks.registry import task_from_toml

    quick = {"training": {"epochs": 1, "progress": "off", "max_time": None},
             "evaluation": {"baselines": False}}
    paths = {}
    for name in ("battery", "classification"):
        overrides = dict(quick) if name == "battery" else {"training": quick["training"]}
        task = task_from_toml(example_path(name), overrides)
        data = task.read_data()
        task.fit(task.split(data)[0] if name != "battery" else data)
        paths[name] = task.save(folder / name)
    return paths


def battery_rows(n: int) -> list[dict]:
    from rnnkit.datasets.registry import load_dataset

    series = load_dataset("battery", n_cycles=1000, seed=0).series
    return [{"cycle": int(t), "capacity": float(v)}
            for t, v in zip(series.time_index[-n:], series.values[-n:, 0])]


def run_load(target, requests: int, concurrency: int, deadline: float
             ) -> tuple[list[float], int, float]:
    """``requests`` POSTs at ``concurrency``: (latencies in s, errors, seconds). ``target()``
    gives each worker its ``(url, body(i))`` (a stream: its own stream, the next row)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]

    def worker(n: int) -> None:
        nonlocal errors
        url, body = target()
        with httpx.Client(timeout=30) as client:
            for i in range(n):
                if time.monotonic() > deadline:
                    return
                payload = body(i)
                start = time.perf_counter()
                try:
                    ok = client.post(url, json=payload).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    errors += not ok

    threads = [threading.Thread(target=worker, args=(n,)) for n in per]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - start


def fixed(url: str, body: dict):
    """A target that sends the same body every time."""
    return lambda: (url, lambda i: body)


def stream_target(base: str, rows: list[dict]):
    """Each worker opens its own stream on the history ``rows`` and observes one new cycle
    per request (the capacity repeats the last rows; the cycle number keeps counting)."""
    def make():
        opened = httpx.post(f"{base}/v1/models/battery/streams", json={"data": rows}).json()
        last = rows[-1]["cycle"]
        return (f"{base}/v1/streams/{opened['stream']}/observe",
                lambda i: {"data": [{"cycle": last + 1 + i,
                                     "capacity": rows[i % len(rows)]["capacity"]}]})
    return make


def in_process_runs(paths: dict[str, Path], bodies: dict[str, dict]) -> dict[str, tuple]:
    """Each model's adapter, task and parsed request in this process, one torch thread,
    with the torch network and with its onnxruntime stand-in, warmed up."""
    import torch

    from rnnkit.export import use_onnx
    from rnnkit.serving.adapters import Limits, adapter_for
    from rnnkit.tasks import load

    torch.set_num_threads(1)
    runs = {}
    for name, path in paths.items():
        for runtime in ("torch", "onnx"):
            task = load(path) if runtime == "torch" else use_onnx(load(path))
            adapter = adapter_for(task.name)
            request = adapter.request(**bodies[name])
            adapter.predict(task, request, Limits())
            runs[f"{name}/{runtime}"] = (adapter, task, request)
    return runs


def in_process_round(runs: dict[str, tuple], calls: int, out: dict[str, list]) -> None:
    """``calls`` predict calls of every run, interleaved; their times appended to ``out``."""
    from rnnkit.serving.adapters import Limits

    for _ in range(calls):
        for key, (adapter, task, request) in runs.items():
            start = time.perf_counter()
            adapter.predict(task, request, Limits())
            out.setdefault(key, []).append(time.perf_counter() - start)


def alternating_ms(urls: dict[str, str], body: dict, n: int = 400) -> dict[str, float]:
    """p50 ms of each URL over ``n`` requests each, alternating request by request (the
    order flipped every round), so that load changes hit both alike."""
    clients = {k: httpx.Client(timeout=30) for k in urls}
    times: dict[str, list[float]] = {k: [] for k in urls}
    keys = list(urls)
    for i in range(n):
        for key in keys if i % 2 else keys[::-1]:
            start = time.perf_counter()
            clients[key].post(urls[key], json=body)
            times[key].append(time.perf_counter() - start)
    for client in clients.values():
        client.close()
    return {k: float(np.median(v) * 1e3) for k, v in times.items()}


def log_commit_ms(folder: Path, n: int = 500) -> float:
    """The median time of one prediction-log commit (a SQLite file, as served by default)."""
    from rnnkit.serving.logbook import Logbook

    book = Logbook(f"sqlite:///{folder / 'commit-bench.db'}")
    times = []
    for i in range(n):
        start = time.perf_counter()
        book.record("battery", "v", "predict", {"series": 1, "rows": [40]},
                    {"forecast": [{"cycle": i, "capacity": 0.9}]}, 2.0)
        times.append(time.perf_counter() - start)
    book.close()
    return float(np.median(times) * 1e3)


def stats(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    ms = np.asarray(latencies) * 1e3
    return {"n": len(latencies), "p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
            "p99_ms": float(np.percentile(ms, 99)) if len(ms) else None,
            "throughput_rps": len(latencies) / seconds if seconds else None, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="per target, round, level")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_limit
    tmp = Path(tempfile.mkdtemp(prefix="rnnkit-bench-serve-"))
    paths = fit_models(tmp)
    (tmp / "echo_app.py").write_text(ECHO_APP)
    rows = battery_rows(40)
    bodies = {"battery": {"data": rows}, "classification": {"texts": ["a truly wonderful film"]}}
    ports = {k: free_port() for k in ("echo", "torch", "onnx", "nolog")}
    procs = {"echo": start([sys.executable, "-m", "uvicorn", "echo_app:app", "--port",
                            str(ports["echo"]), "--no-access-log", "--log-level", "warning"],
                           ports["echo"], cwd=str(tmp))}
    for server, runtime in (("torch", "torch"), ("onnx", "onnx"), ("nolog", "torch")):
        extra = ["--no-log"] if server == "nolog" else []
        procs[server] = start([sys.executable, "-m", "rnnkit", "serve",
                               f"battery={paths['battery']}",
                               f"classification={paths['classification']}", "--runtime",
                               runtime, "--port", str(ports[server]), "--threads", "1",
                               *extra], ports[server], cwd=str(tmp))
    try:
        targets = {"echo": fixed(f"http://127.0.0.1:{ports['echo']}/echo", bodies["battery"])}
        for runtime in ("torch", "onnx"):
            base = f"http://127.0.0.1:{ports[runtime]}/v1/models"
            for name in ("battery", "classification"):
                targets[f"{name}/{runtime}"] = fixed(f"{base}/{name}/predict", bodies[name])
        targets["battery/torch, no prediction log"] = fixed(
            f"http://127.0.0.1:{ports['nolog']}/v1/models/battery/predict", bodies["battery"])
        targets["battery/torch stream observe"] = stream_target(
            f"http://127.0.0.1:{ports['torch']}", rows)
        results: dict[str, dict] = {}
        pair = alternating_ms({
            "log": f"http://127.0.0.1:{ports['torch']}/v1/models/battery/predict",
            "no log": f"http://127.0.0.1:{ports['nolog']}/v1/models/battery/predict"},
            bodies["battery"])
        runs = in_process_runs(paths, bodies)
        floors: dict[str, list] = {}
        for level in (1, 8):
            acc = {k: ([], 0, 0.0) for k in targets}
            for _ in range(args.rounds):
                for key, target in targets.items():  # interleaved, round by round
                    lat, err, sec = run_load(target, args.requests, level, deadline)
                    old = acc[key]
                    acc[key] = (old[0] + lat, old[1] + err, old[2] + sec)
                if level == 1:  # the floor, in the same rounds
                    in_process_round(runs, args.requests, floors)
            results[f"concurrency {level}"] = {k: stats(*v) for k, v in acc.items()}
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            proc.wait(timeout=60)
    local = {k: float(np.percentile(np.asarray(v) * 1e3, 50)) for k, v in floors.items()}
    checks = {}
    one = results["concurrency 1"]
    for name in ("battery", "classification"):
        for runtime in ("torch", "onnx"):
            floor = one["echo"]["p50_ms"] + local[f"{name}/{runtime}"]
            got = one[f"{name}/{runtime}"]["p50_ms"]
            checks[f"{name}/{runtime} p50 - (echo p50 + in-process p50), ms"] = got - floor
    for level, table in results.items():
        for key, s in table.items():
            if key != "echo":
                checks[f"{level}: {key} p99 / p50"] = s["p99_ms"] / s["p50_ms"]
    checks["battery onnx speed-up at batch 1 (torch p50 / onnx p50, end to end)"] = \
        one["battery/torch"]["p50_ms"] / one["battery/onnx"]["p50_ms"]
    checks["battery onnx speed-up at batch 1 (in-process predict, parsing included)"] = \
        local["battery/torch"] / local["battery/onnx"]
    checks["prediction log: battery/torch p50 - the same without the log, ms"] = \
        one["battery/torch"]["p50_ms"] - one["battery/torch, no prediction log"]["p50_ms"]
    checks["prediction log: the same, alternating request by request, ms"] = \
        pair["log"] - pair["no log"]
    checks["prediction log: one SQLite commit in process, p50 ms"] = log_commit_ms(tmp)
    checks["stream observe p50 / fresh predict p50"] = \
        one["battery/torch stream observe"]["p50_ms"] / one["battery/torch"]["p50_ms"]
    print(f"machine: {machine(cores=True)}; load {load()}")
    for what, seconds in STARTUP.items():
        print(f"start to ready: {what}: {seconds:.2f} s")
    for level, table in results.items():
        print(f"\n{level}: {args.rounds} rounds x {args.requests} requests per target")
        print(f"{'target':34s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s':>8s} {'errors':>7s}")
        for key, s in table.items():
            print(f"{key:34s} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} "
                  f"{s['throughput_rps']:8.1f} {s['errors']:7d}")
    print("\nin-process predict p50 (ms): " + ", ".join(f"{k} {v:.3f}" for k, v in local.items()))
    for key, value in checks.items():
        print(f"{key}: {value:.3f}")
    write_result("serve.json", {"date": date.today().isoformat(),
                                "machine": machine(cores=True), "load": load(),
                                "requests": args.requests, "rounds": args.rounds,
                                "results": results, "in_process_p50_ms": local,
                                "startup_seconds": STARTUP,
                                "checks": checks})


if __name__ == "__main__":
    main()
