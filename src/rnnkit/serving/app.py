"""The HTTP app of ``rnnkit serve``: FastAPI routes over the served models.

Routes (``{name}``: a served model's name)::

    GET    /health/live                 the process answers
    GET    /health/ready                every model loaded and warmed up (503 while draining)
    GET    /v1/models                   name, version, task, runtime, inputs and outputs
    GET    /v1/models/{name}            one of them
    POST   /v1/models/{name}/predict    the task's request -> the task's response
    POST   /v1/models/{name}/reload     load the bundle's new version; in-flight requests
                                        finish on the old one
    POST   /v1/models/{name}/streams    open a forecasting stream
    POST   /v1/streams/{id}/observe     the next observation(s) -> the next forecast
    DELETE /v1/streams/{id}             close it
    POST   /v1/models/{name}/feedback   the actual values of a logged prediction
    GET    /v1/models/{name}/monitoring live drift, rolling error against validation, alerts
    GET    /metrics                     Prometheus text format (:mod:`.metrics`)
    GET    /docs, /openapi.json         the API, with each model's request and response schema

Every ``/v1`` route needs the API key when one is set (``X-API-Key: KEY`` or
``Authorization: Bearer KEY``, compared in constant time). Errors are JSON ``{"error":
message}`` with the field named: 422 for invalid input (a pydantic error, a limit, or the
task's own DataError/ConfigError message), 413 for a body over ``max_body_bytes``, 401
without the key, 404 for an unknown model or stream, 429 when the streams are full; an
unexpected error is a 500 whose body says only that (the traceback goes to the log), and the
server goes on.

Example::

    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app([]))
    >>> client.get("/health/live").json()
    {'status': 'live'}
"""

import hmac
import inspect
import logging
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rnnkit import __version__
from rnnkit._validation import expected
from rnnkit.errors import DataError, RnnkitError
from rnnkit.serving.adapters import LimitError, Limits
from rnnkit.serving.logbook import Logbook
from rnnkit.serving.metrics import CONTENT_TYPE, Metrics
from rnnkit.serving.models import ModelSet, ServedModel
from rnnkit.serving.monitor import LiveMonitor, MonitorSettings
from rnnkit.serving.schemas import (
    FeedbackRequest,
    ModelSummary,
    StreamObserveRequest,
    StreamOpenRequest,
    StreamResponse,
)
from rnnkit.serving.streams import Stream, StreamLimitError, StreamNotFound, StreamStore

__all__ = ["ServeSettings", "create_app"]

logger = logging.getLogger("rnnkit.serving")


@dataclass(frozen=True)
class ServeSettings:
    """What the server accepts: the API key (None: no key), the largest request body in
    bytes, the per-request :class:`~.adapters.Limits`, the streams' bound and idle time in
    seconds; where predictions are logged (a SQLAlchemy URL, None: nowhere), how live
    monitoring watches them (:class:`~.monitor.MonitorSettings`), and how often, in seconds,
    models served from a registry check its ``current`` pointer (0: never)."""

    api_key: str | None = None
    max_body_bytes: int = 1_000_000
    limits: Limits = field(default_factory=Limits)
    max_streams: int = 1000
    stream_ttl: float = 600.0
    log_db: str | None = None
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    follow_interval: float = 2.0


class HTTPError(RnnkitError):
    """An error answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status


def _status(err: Exception) -> int:
    if isinstance(err, HTTPError):
        return err.status_code
    if isinstance(err, StreamNotFound):
        return 404
    if isinstance(err, StreamLimitError):
        return 429
    if isinstance(err, RnnkitError):
        return 422
    return 500


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 before any route
    reads it (by its Content-Length, or counted as it arrives)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        more = scope["method"] in ("POST", "PUT", "PATCH")
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, size)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        response = _error(413, expected("body", f"at most {self.max_bytes} bytes (the "
                                        "server's --max-body)", f"{size} bytes",
                                        "send fewer or shorter inputs per request"))
        await response(scope, receive, send)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _validation_message(err: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
              for e in err.errors()]
    text = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return text or "invalid request", fields


def create_app(models: list[ServedModel] | ModelSet,
               settings: ServeSettings | None = None) -> FastAPI:
    """The app serving ``models`` (loaded and warmed up, :func:`~.models.load_model`)."""
    settings = settings or ServeSettings()
    served = models if isinstance(models, ModelSet) else ModelSet(list(models))
    metrics = Metrics()
    streams = StreamStore(settings.max_streams, settings.stream_ttl)
    logbook = Logbook(settings.log_db) if settings.log_db else None
    monitor = LiveMonitor(settings.monitor, metrics)
    for m in served:
        metrics.load_seconds.labels(m.name, m.version).set(m.load_seconds)
    state = {"ready": False}

    stop = threading.Event()

    def follow() -> None:
        while not stop.wait(settings.follow_interval):
            for old, new in served.follow():
                metrics.load_seconds.labels(new.name, new.version).set(new.load_seconds)
                logger.info("%s follows its registry: %s -> %s", new.name, old.version,
                            new.version)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state["ready"] = True
        names = ", ".join(f"{m.name} ({m.task.name}, {m.version})" for m in served)
        logger.info("rnnkit serve ready: %s", names or "no models")
        if settings.follow_interval > 0:
            threading.Thread(target=follow, daemon=True, name="rnnkit-follow").start()
        yield
        stop.set()
        state["ready"] = False
        if logbook is not None:
            logbook.close()

    app = FastAPI(title="rnnkit serve", version=__version__, lifespan=lifespan,
                  description="rnnkit models over HTTP: forecasting, classification, "
                  "tagging, generation and sequence-to-sequence, in the tasks' own terms.")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.models = served
    app.state.metrics = metrics
    app.state.streams = streams
    app.state.logbook = logbook
    app.state.monitor = monitor

    async def check_key(request: Request) -> None:  # async: no thread hop per request
        key = settings.api_key
        if key is None:
            return
        supplied = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if supplied is None and auth.lower().startswith("bearer "):
            supplied = auth[7:].strip()
        if supplied is None or not hmac.compare_digest(supplied.encode(), key.encode()):
            raise HTTPError(401, expected("X-API-Key", "the server's API key (or "
                                          "Authorization: Bearer KEY)",
                                          "no key" if supplied is None else "a wrong key"))

    keyed = [Depends(check_key)]

    # -- errors -----------------------------------------------------------------------
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        message, fields = _validation_message(err)
        _count_early(request, 422)
        return _error(422, message, fields=fields)

    @app.exception_handler(HTTPError)
    async def _http_error(request: Request, err: HTTPError) -> JSONResponse:
        _count_early(request, err.status_code)
        return _error(err.status_code, str(err))

    @app.exception_handler(HTTPException)
    async def _starlette_error(request: Request, err: HTTPException) -> JSONResponse:
        return _error(err.status_code, str(err.detail))

    def _count_early(request: Request, status: int) -> None:
        """Count a request refused before its handler ran (invalid body, no key)."""
        parts = request.url.path.strip("/").split("/")  # v1/models/NAME/ENDPOINT
        if len(parts) == 4 and parts[:2] == ["v1", "models"]:
            name = parts[2] if served.get(parts[2]) is not None else "-"
            metrics.requests.labels(name, parts[3], str(status)).inc()
            metrics.errors.labels(name, parts[3]).inc()

    def answer(model: str, endpoint: str, work: Callable[[], Any]) -> Response:
        """Run ``work`` counted and timed; its errors become JSON answers."""
        label = model if served.get(model) is not None else "-"  # bounded label values
        with metrics.track(label, endpoint) as outcome:
            try:
                result = work()
            except Exception as err:
                status = _status(err)
                outcome["status"] = status
                if status == 500:
                    logger.exception("%s %s failed", model, endpoint)
                    return _error(500, "internal error: the server could not answer this "
                                  "request (the server log has the details)")
                extra = {"field": err.field} if isinstance(err, LimitError) else {}
                return _error(status, str(err), **extra)
            return result if isinstance(result, Response) else JSONResponse(result)

    def model_named(name: str) -> ServedModel:
        model = served.get(name)
        if model is None:
            raise HTTPError(404, expected("model", f"one of {served.names()}", name,
                                          "GET /v1/models lists them"))
        return model

    # -- health and metrics -----------------------------------------------------------
    @app.get("/health/live", tags=["health"])
    def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready", tags=["health"])
    def ready() -> Response:
        if not state["ready"]:
            return JSONResponse({"status": "not ready"}, status_code=503)
        return JSONResponse({"status": "ready", "models": [m.info() for m in served]})

    @app.get("/metrics", tags=["health"])
    def prometheus() -> Response:
        streams.expire()  # a scrape sweeps the idle streams, so the gauge counts open ones
        metrics.streams.set(len(streams))
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    # -- models -----------------------------------------------------------------------
    @app.get("/v1/models", dependencies=keyed, tags=["models"])
    def list_models() -> list[ModelSummary]:
        return [ModelSummary(**m.summary()) for m in served]

    @app.get("/v1/models/{name}", dependencies=keyed, tags=["models"])
    def describe(name: str) -> ModelSummary:
        return ModelSummary(**model_named(name).summary())

    def record(model: ServedModel, body: Any, result: dict[str, Any], seconds: float
               ) -> int | None:
        """Log an answered prediction (committed before the answer leaves) and let the
        live monitor see its inputs; returns the log's id."""
        monitor.observe(model, body)
        if logbook is None:
            return None
        summary = model.adapter.summary(model.task, body)
        return logbook.record(model.name, model.version, "predict", summary, result,
                              seconds * 1e3)

    for model in served:
        _add_predict_route(app, model, served, settings.limits, answer, keyed, record)

    @app.post("/v1/models/{name}/predict", dependencies=keyed, tags=["models"],
              include_in_schema=False)
    def predict_unknown(name: str) -> Response:
        return answer(name, "predict", lambda: model_named(name))

    @app.post("/v1/models/{name}/reload", dependencies=keyed, tags=["models"])
    def reload(name: str) -> Response:
        def work() -> dict[str, Any]:
            model_named(name)
            old, new = served.reload(name)
            metrics.load_seconds.labels(new.name, new.version).set(new.load_seconds)
            logger.info("reloaded %s: %s -> %s", name, old.version, new.version)
            return {"name": name, "version": new.version, "previous_version": old.version,
                    "load_seconds": new.load_seconds}

        return answer(name, "reload", work)

    # -- monitoring ---------------------------------------------------------------------
    @app.post("/v1/models/{name}/feedback", dependencies=keyed, tags=["monitoring"])
    def take_feedback(name: str, body: FeedbackRequest) -> Response:
        def work() -> dict[str, Any]:
            model = model_named(name)
            if logbook is None:
                raise DataError(expected("feedback", "a server that logs its predictions",
                                         "rnnkit serve --no-log", "start it with --log-db"))
            logged = logbook.prediction(body.prediction_id)
            if logged is None or logged["model"] != name:
                raise HTTPError(404, expected("prediction_id", f"the id of a prediction of "
                                              f"{name!r} in the log", body.prediction_id))
            out = monitor.feedback(model, logged, body.actual)
            logbook.record_feedback(name, body.prediction_id, body.actual, out["error"])
            return {"prediction_id": body.prediction_id, **out}

        return answer(name, "feedback", work)

    @app.get("/v1/models/{name}/monitoring", dependencies=keyed, tags=["monitoring"])
    def monitoring(name: str, refresh: bool = False) -> Response:
        def work() -> dict[str, Any]:
            model = model_named(name)
            out = monitor.check(model) if refresh else monitor.state(model)
            if logbook is not None:
                out["logged"] = {"predictions": logbook.count(name),
                                 "feedback": logbook.count(name, "feedback")}
            return out

        return answer(name, "monitoring", work)

    # -- streams ----------------------------------------------------------------------

    def stream_answer(stream: Stream, new: list[Any], future: list[Any]) -> dict[str, Any]:
        model = model_named(stream.model)
        prep = model.task.preprocessing_  # type: ignore[attr-defined]
        needed = max(0, prep.look_back - stream.seen)
        out: dict[str, Any] = {"stream": stream.id, "rows": stream.seen, "needed": needed,
                               "forecast": None, "model": model.info()}
        if stream.version != model.version:  # a reload: the parsed window is the old one's
            stream.window, stream.version = None, model.version
        if needed == 0:
            with model.lock:
                out["forecast"] = model.adapter.stream_forecast(  # type: ignore[attr-defined]
                    model.task, stream, new, future)
        return out

    @app.post("/v1/models/{name}/streams", dependencies=keyed, tags=["streams"])
    def open_stream(name: str, body: StreamOpenRequest) -> StreamResponse:
        def work() -> dict[str, Any]:
            model = model_named(name)
            if model.task.name != "forecasting":
                raise DataError(expected("model", "a forecasting model to stream",
                                         f"{name!r} ({model.task.name})"))
            if body.horizon is not None:
                settings.limits.length("horizon", body.horizon, "steps")
            settings.limits.length("data", len(body.data), "rows")
            prep = model.task.preprocessing_  # type: ignore[attr-defined]
            stream = streams.open(name, keep=2 * prep.look_back + 2, horizon=body.horizon)
            stream.observe(body.data)
            return stream_answer(stream, body.data, [])

        return answer(name, "streams", work)  # type: ignore[return-value]

    @app.post("/v1/streams/{stream_id}/observe", dependencies=keyed, tags=["streams"])
    def observe(stream_id: str, body: StreamObserveRequest) -> StreamResponse:
        def work() -> dict[str, Any]:
            stream = streams.get(stream_id)
            settings.limits.length("data", len(body.data), "rows")
            settings.limits.length("future", len(body.future), "rows")
            with stream.lock:
                stream.observe(body.data)
                return stream_answer(stream, body.data, body.future)

        return answer(_stream_model(streams, stream_id), "observe", work)  # type: ignore[return-value]

    @app.delete("/v1/streams/{stream_id}", dependencies=keyed, tags=["streams"])
    def close_stream(stream_id: str) -> Response:
        def work() -> dict[str, Any]:
            streams.close(stream_id)
            return {"closed": stream_id}

        return answer(_stream_model(streams, stream_id), "close", work)

    return app


def _stream_model(streams: StreamStore, stream_id: str) -> str:
    """The model label of a stream's requests (``-`` for an unknown stream)."""
    try:
        return streams.get(stream_id).model
    except StreamNotFound:
        return "-"


def _add_predict_route(app: FastAPI, model: ServedModel, served: ModelSet, limits: Limits,
                       answer: Callable[..., Response], keyed: list[Any],
                       record: Callable[..., int | None]) -> None:
    """``POST /v1/models/{model.name}/predict`` with the task's request and response schema
    in the OpenAPI document; each call takes the model's current version, and is logged."""
    name, adapter = model.name, model.adapter

    def predict(body: Any) -> Response:
        def work() -> dict[str, Any]:
            current = served.get(name)
            assert current is not None  # names never leave the set
            start = time.perf_counter()
            with current.lock:
                result = current.adapter.predict(current.task, body, limits)
            pid = record(current, body, result, time.perf_counter() - start)
            return {**result, "model": current.info(), "prediction_id": pid}

        return answer(name, "predict", work)

    predict.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=adapter.request)])
    app.add_api_route(f"/v1/models/{name}/predict", predict, methods=["POST"],
                      response_model=adapter.response, dependencies=keyed, tags=["models"],
                      summary=f"{name}: {model.task.name}",
                      responses={422: {"description": "invalid input, the field named"}})
