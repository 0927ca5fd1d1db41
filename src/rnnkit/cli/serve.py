"""``rnnkit serve``: saved models over HTTP (FastAPI on uvicorn).

Every model is loaded, versioned and warmed up before the server listens, so a bad bundle is
a one-line error and exit status 2 rather than a server that answers 500. The server binds
to 127.0.0.1 unless told otherwise; the API key is read from an environment variable
(``RNNKIT_API_KEY`` by default), never from the command line where ``ps`` would show it.
SIGINT and SIGTERM stop it gracefully: in-flight requests finish first (up to
``--graceful-timeout`` seconds).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from rnnkit._validation import Described, expected
from rnnkit.cli.app import app, err_console
from rnnkit.errors import ConfigError, MissingDependencyError

__all__ = ["serve"]

API_KEY_ENV = "RNNKIT_API_KEY"


def _require_serving() -> None:
    missing = []
    for module in ("fastapi", "uvicorn", "prometheus_client"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise MissingDependencyError(expected(
            "rnnkit serve", "fastapi, uvicorn and prometheus-client installed",
            Described(f"{', '.join(missing)} missing"), 'pip install "rnnkit[serve]"'))


@app.command()
def serve(
    models: Annotated[list[str], typer.Argument(
        help="Run directories, bundles or registry model folders (registry/NAME: its "
        "current version, followed) to serve, each as PATH or NAME=PATH")],
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0: every interface)")]
        = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    runtime: Annotated[str, typer.Option(help="torch, or onnx (the network exported to ONNX "
                                         "and run by onnxruntime)")] = "torch",
    api_key_env: Annotated[str, typer.Option(
        help="Environment variable holding the API key (unset: no key needed)")] = API_KEY_ENV,
    require_signed: Annotated[bool, typer.Option(
        help="Serve only bundles signed with RNNKIT_BUNDLE_KEY (which must be set)")] = False,
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes")] = 1_000_000,
    max_batch: Annotated[int, typer.Option(help="Most inputs per request")] = 64,
    max_length: Annotated[int, typer.Option(
        help="Longest input (rows, characters, tokens) and most steps or tokens to produce")]
        = 10_000,
    max_streams: Annotated[int, typer.Option(help="Most open forecasting streams")] = 1000,
    stream_ttl: Annotated[float, typer.Option(help="Seconds before an idle stream expires")]
        = 600.0,
    threads: Annotated[int | None, typer.Option(
        help="torch threads per prediction (default: torch's)")] = None,
    graceful_timeout: Annotated[float, typer.Option(
        help="Seconds in-flight requests get to finish at shutdown")] = 30.0,
    log_db: Annotated[str, typer.Option(
        help="Where every prediction is logged: a SQLAlchemy URL (SQLite file by default; "
        "postgresql://... for a fleet)")] = "sqlite:///rnnkit-predictions.db",
    no_log: Annotated[bool, typer.Option("--no-log", help="Log no predictions (no feedback "
                                         "then)")] = False,
    drift_window: Annotated[int, typer.Option(
        help="Recent inputs (rows, texts, ...) live drift is tested on")] = 500,
    drift_every: Annotated[int, typer.Option(help="Test drift after this many new inputs")]
        = 100,
    error_margin: Annotated[float, typer.Option(
        help="Alert when the rolling error exceeds the validation error by this fraction")]
        = 0.5,
    alert_webhook: Annotated[str | None, typer.Option(
        help="POST every alert as JSON to this URL")] = None,
    follow_interval: Annotated[float, typer.Option(
        help="Seconds between checks of a registry's current version (0: never)")] = 2.0,
) -> None:
    """Serve models over HTTP: predict, stream, health, metrics (docs at /docs)."""
    _require_serving()
    import uvicorn

    from rnnkit.bundle.signing import KEY_ENV, bundle_key
    from rnnkit.serving import Limits, ModelSource, ServeSettings, create_app, load_model
    from rnnkit.serving.monitor import MonitorSettings

    for value, option in ((max_body, "--max-body"), (max_batch, "--max-batch"),
                          (max_length, "--max-length"), (max_streams, "--max-streams"),
                          (drift_window, "--drift-window"), (drift_every, "--drift-every")):
        if value < 1:
            raise ConfigError(expected(option, "an integer >= 1", value))
    if not 0 <= port <= 65535:
        raise ConfigError(expected("--port", "a TCP port in [0, 65535]", port))
    if require_signed and bundle_key() is None:
        raise ConfigError(expected("--require-signed", f"{KEY_ENV} set to the signing key",
                                   Described("it is unset"), f"export {KEY_ENV}=..."))
    key = os.environ.get(api_key_env)
    if key is not None and not key.strip():
        raise ConfigError(expected(api_key_env, "a non-empty API key, or the variable unset",
                                   Described("an empty value")))
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    sources = [ModelSource.parse(m) for m in models]
    for s in sources:
        if not Path(s.path).exists():
            raise ConfigError(expected("MODELS", "run directories or bundles", str(s.path)))
    served = [load_model(s, runtime=runtime) for s in sources]
    if not error_margin > 0:
        raise ConfigError(expected("--error-margin", "a fraction > 0", error_margin))
    if alert_webhook is not None and not alert_webhook.startswith(("http://", "https://")):
        raise ConfigError(expected("--alert-webhook", "an http:// or https:// URL",
                                   alert_webhook))
    monitor = MonitorSettings(window=drift_window, drift_every=drift_every,
                              min_inputs=min(50, drift_window), error_margin=error_margin,
                              webhook=alert_webhook)
    settings = ServeSettings(api_key=key, max_body_bytes=max_body,
                             limits=Limits(max_batch, max_length), max_streams=max_streams,
                             stream_ttl=stream_ttl, log_db=None if no_log else log_db,
                             monitor=monitor, follow_interval=max(0.0, follow_interval))
    application = create_app(served, settings)
    for m in served:
        err_console.print(f"serving [bold]{m.name}[/bold] ({m.task.name}, version {m.version}, "
                          f"{m.runtime}, loaded in {m.load_seconds:.2f} s)")
    err_console.print(f"listening on http://{host}:{port} (API key "
                      f"{'required' if key else 'not set'}; docs at /docs; predictions "
                      f"logged to {settings.log_db or 'nowhere'})")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    uvicorn.run(application, host=host, port=port, log_level="info", access_log=False,
                timeout_graceful_shutdown=graceful_timeout)
