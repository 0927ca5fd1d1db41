r"""A fitted :class:`~rnnkit.tasks.forecasting.Forecaster` as an ONNX graph.

With ``preprocessing=True`` (what ``rnnkit export`` writes) the graph reads RAW values and
returns forecasts in original units; everything between is inside it: the scaler fitted on
the training rows (``(x - center) / scale``, in float64 as rnnkit computes it), the
per-window normalization (``forecast.scaling = "window"``) and its inverse, the network, and
the inverse of the scaler.

* inputs: ``history`` (B, T, F) raw, the model's columns in order (targets, past
  covariates, known-future covariates, calendar features included), T >= ``look_back``
  (dynamic: the graph reads the last ``look_back`` rows); with known-future covariates also
  ``future`` (B, H, F_u) raw, their values at the H forecast steps.
* output: ``forecast`` (B, H, K) in original units, H the configured horizon. The recursive
  strategy's feedback of forecasts as inputs up to H is unrolled in the graph; forecasts
  beyond the configured horizon (``predict(..., horizon=more)``) are not in the graph: call
  it again on the history extended by its own forecasts.

Strategies ``"direct"``, ``"recursive"`` and ``"seq2seq"`` are all exported exactly.

``step=True`` writes the streaming graph instead: ``x_t`` (B, F) raw and the state
``h`` (B, L_layers, hidden) (and ``c`` for the LSTM) in; ``h_out`` (and ``c_out``) and
``forecast`` (B, H_train, K) out, the forecast as if the window ended at this step. Fed the
last ``look_back`` rows from a zero state, its ``forecast`` equals the full graph's (for the
recursive strategy: the first step). It needs a global scaler (per-window statistics need the
whole window), the direct or recursive strategy and a unidirectional encoder.

``preprocessing=False`` writes the network alone (:func:`rnnkit.export.use_onnx`): ``x``
the scaled window as the torch network takes it ((B, L, F), or (B, L + H, F) with future
covariates) -> ``y`` (B, H_train, K) scaled.

Symbols: B batch, T rows given, L ``look_back``, H horizon, F columns, K targets, F_u
known-future covariates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError
from rnnkit.export._graph import Graph
from rnnkit.export.recurrent import emit_recurrent, emit_step
from rnnkit.tasks.forecasting import Forecaster
from rnnkit.tasks.forecasting.model import Seq2SeqForecaster, WindowForecaster

__all__ = ["forecaster_graph"]

_BIG = np.iinfo(np.int64).max


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().float().numpy()


class _Stats:
    """Per-window statistics as graph values: ``loc`` and ``scale`` (B, 1, F) (scale None
    for mode "last", where it is 1)."""

    def __init__(self, loc: str, scale: str | None) -> None:
        self.loc, self.scale = loc, scale


def _window_stats(g: Graph, model: Any, x: str) -> _Stats | None:
    normalizer = model.norm.normalizer
    if normalizer is None:
        return None
    if normalizer.mode == "last":
        return _Stats(g.op("Slice", [x, g.ints([-1]), g.ints([_BIG]), g.ints([1])]), None)
    loc = g.op("ReduceMean", [x], axes=[1], keepdims=1)  # (B, 1, F)
    dev = g.op("Sub", [x, loc])
    var = g.op("ReduceMean", [g.op("Mul", [dev, dev])], axes=[1], keepdims=1)  # population
    floor = g.op("Mul", [g.scalar(normalizer.eps), g.op(
        "Max", [g.op("ReduceMax", [g.op("Abs", [x])], axes=[1], keepdims=1), g.scalar(1.0)])])
    scale = g.op("Sqrt", [g.op("Max", [var, g.op("Mul", [floor, floor])])])
    return _Stats(loc, scale)


def _columns(g: Graph, value: str, idx: list[int]) -> str:
    return g.op("Gather", [value, g.ints(idx)], axis=-1)


def _normalize(g: Graph, x: str, stats: _Stats | None, idx: list[int] | None = None) -> str:
    if stats is None:
        return x
    loc = stats.loc if idx is None else _columns(g, stats.loc, idx)
    y = g.op("Sub", [x, loc])
    if stats.scale is None:
        return y
    return g.op("Div", [y, stats.scale if idx is None else _columns(g, stats.scale, idx)])


def _denormalize(g: Graph, y: str, stats: _Stats | None, idx: list[int]) -> str:
    if stats is None:
        return y
    if stats.scale is not None:
        y = g.op("Mul", [y, _columns(g, stats.scale, idx)])
    return g.op("Add", [y, _columns(g, stats.loc, idx)])


def _head(g: Graph, head: Any, h: str, key: str) -> str:
    return g.linear(h, _np(head.linear.weight), _np(head.linear.bias), key=key)


def _window_net(g: Graph, model: WindowForecaster, x: str, u: str | None) -> str:
    """The WindowForecaster: scaled past ``x`` (B, L, F), scaled future covariates ``u``
    (B, H, F_u) or None -> scaled forecasts (B, H, K)."""
    H, K = model.horizon, model.n_targets
    stats = _window_stats(g, model, x)
    z = _normalize(g, x, stats)
    h, _ = emit_recurrent(g, model.encoder, z, key="encoder")  # (B, D*hidden)
    if u is not None:
        u = _normalize(g, u, stats, model.future_idx)  # (B, H, F_u)
        flat = g.op("Reshape", [u, g.ints([0, H * len(model.future_idx)])])
        h = g.op("Concat", [h, flat], axis=-1)  # (B, D*hidden + H*F_u)
    y = g.op("Reshape", [_head(g, model.head, h, "head"), g.ints([0, H, K])])  # (B, H, K)
    return _denormalize(g, y, stats, model.target_idx)


def _seq2seq_net(g: Graph, model: Seq2SeqForecaster, x: str, u: str | None) -> str:
    """The Seq2SeqForecaster, unrolled over its H decoder steps (same inputs and output as
    :func:`_window_net`)."""
    stats = _window_stats(g, model, x)
    z = _normalize(g, x, stats)
    _, finals = emit_recurrent(g, model.encoder, z, key="encoder")  # S x (B, L_layers*D, hid)
    D, hs = model.encoder.num_directions, model.encoder.hidden_size
    if D > 1:  # the bridge: each layer's directions summed, (B, L*D, hid) -> (B, L, hid)
        finals = [g.op("ReduceSum", [g.op("Reshape", [s, g.ints([0, -1, D, hs])]),
                                     g.ints([2])], keepdims=0) for s in finals]
    if u is not None:
        u = _normalize(g, u, stats, model.future_idx)  # (B, H, F_u)
    last = g.op("Slice", [z, g.ints([-1]), g.ints([_BIG]), g.ints([1])])  # (B, 1, F)
    step = g.op("Squeeze", [_columns(g, last, model.target_idx), g.ints([1])])  # (B, K)
    outputs = []
    for h in range(model.horizon):
        inp = step
        if u is not None:
            u_h = g.op("Gather", [u, g.const(np.int64(h), ("i64", h))], axis=1)  # (B, F_u)
            inp = g.op("Concat", [step, u_h], axis=-1)  # (B, K + F_u)
        out, finals = emit_step(g, model.decoder, inp, finals, key="decoder")
        step = _head(g, model.head, out, "head")  # (B, K)
        outputs.append(g.op("Unsqueeze", [step, g.ints([1])]))
    y = outputs[0] if len(outputs) == 1 else g.op("Concat", outputs, axis=1)  # (B, H, K)
    return _denormalize(g, y, stats, model.target_idx)


def _net(g: Graph, model: Any, x: str, u: str | None) -> str:
    if isinstance(model, Seq2SeqForecaster):
        return _seq2seq_net(g, model, x, u)
    return _window_net(g, model, x, u)


def _scale(g: Graph, x: str, center: np.ndarray, scale: np.ndarray, key: str) -> str:
    """``(x - center) / scale`` in float64 (as the scaler computes it), back to float32."""
    x64 = g.cast(x, "float64")
    c = g.const(center, (key, "center"), dtype="float64")
    s = g.const(scale, (key, "scale"), dtype="float64")
    return g.cast(g.op("Div", [g.op("Sub", [x64, c]), s]), "float32")


def _unscale(g: Graph, y: str, center: np.ndarray, scale: np.ndarray, key: str) -> str:
    y64 = g.cast(y, "float64")
    c = g.const(center, (key, "center"), dtype="float64")
    s = g.const(scale, (key, "scale"), dtype="float64")
    return g.cast(g.op("Add", [g.op("Mul", [y64, s]), c]), "float32")


def _check(task: Forecaster) -> tuple[Any, Any]:
    model = task._require_fitted()
    prep = task._prep()
    if not isinstance(model, (WindowForecaster, Seq2SeqForecaster)):
        raise ConfigError(expected("model", "a WindowForecaster or Seq2SeqForecaster to export",
                                   Described(type(model).__name__)))
    return model, prep


def forecaster_graph(task: Forecaster, *, preprocessing: bool = True, step: bool = False
                     ) -> tuple[Graph, dict[str, Any]]:
    """The graph of ``task`` (see the module docstring) and its metadata (what the inputs
    and outputs are, the columns, look_back and horizon) for the JSON beside it."""
    model, prep = _check(task)
    F, K, L = len(prep.columns), len(prep.targets), prep.look_back
    fidx, F_u = prep.future_idx, len(prep.future_idx)
    center = np.asarray(prep.scaler.center_, np.float64)
    scale = np.asarray(prep.scaler.scale_, np.float64)
    tidx = prep.target_idx
    g = Graph()
    meta: dict[str, Any] = {
        "task": "forecasting", "columns": list(prep.columns), "targets": list(prep.targets),
        "future_covariates": list(prep.future_covariates), "calendar": list(prep.calendar),
        "time_column": prep.time_name, "freq": prep.freq, "look_back": L,
        "horizon": prep.horizon, "train_horizon": prep.train_horizon,
        "strategy": task.config.forecast.strategy, "scaling": task.config.forecast.scaling,
    }
    if step:
        return _step_graph(g, task, model, prep, center, scale, meta)
    if not preprocessing:
        H = prep.train_horizon
        rows = f"{L} + {H}" if fidx else f"{L}"
        x = g.input("x", "float32", ["batch", L + H if fidx else L, F])
        if fidx:
            if isinstance(model, Seq2SeqForecaster):
                past = g.op("Slice", [x, g.ints([0]), g.ints([L]), g.ints([1])])
                fut = g.op("Slice", [x, g.ints([L]), g.ints([_BIG]), g.ints([1])])
            else:
                past = g.op("Slice", [x, g.ints([0]), g.ints([-H]), g.ints([1])])
                fut = g.op("Slice", [x, g.ints([-H]), g.ints([_BIG]), g.ints([1])])
            u = _columns(g, fut, fidx)  # (B, H, F_u)
        else:
            past, u = x, None
        g.output("y", _net(g, model, past, u), "float32", ["batch", H, K])
        meta.update(inputs={"x": f"(batch, {rows}, {F}) float32, scaled"},
                    outputs={"y": f"(batch, {H}, {K}) float32, scaled"})
        return g, meta
    history = g.input("history", "float32", ["batch", "time", F])
    window = g.op("Slice", [history, g.ints([-L]), g.ints([_BIG]), g.ints([1])])
    # (B, L, F); fewer than L rows fail here, in the runtime, instead of forecasting silently
    window = g.op("Reshape", [window, g.ints([0, L, F])])
    x = _scale(g, window, center, scale, "scaler")
    H, H_train = prep.horizon, prep.train_horizon
    u = None
    inputs = {"history": f"(batch, time >= {L}, {F}) float32, raw, columns {list(prep.columns)}"}
    if fidx:
        future = g.input("future", "float32", ["batch", H, F_u])
        fut = g.op("Reshape", [g.op("Slice", [future, g.ints([0]), g.ints([H]), g.ints([1])]),
                               g.ints([0, H, F_u])])  # (B, H, F_u): fewer steps fail
        u = _scale(g, fut, center[fidx], scale[fidx], "scaler_future")  # (B, H, F_u)
        inputs["future"] = (f"(batch, {H}, {F_u}) float32, raw, columns "
                            f"{list(prep.future_covariates)}")
    if H_train >= H:
        y = _net(g, model, x, u)
        if H_train > H:
            y = g.op("Slice", [y, g.ints([0]), g.ints([H]), g.ints([1])])
    else:  # the recursive strategy: forecasts fed back as the newest rows, H_train at a time
        y = _rollout(g, model, x, u, H, H_train)
    g.output("forecast", _unscale(g, y, center[tidx], scale[tidx], "scaler_targets"),
             "float32", ["batch", H, K])
    meta.update(inputs=inputs,
                outputs={"forecast": f"(batch, {H}, {K}) float32, original units, targets "
                                     f"{list(prep.targets)}"})
    return g, meta


def _rollout(g: Graph, model: Any, x: str, u: str | None, H: int, H_train: int) -> str:
    """:func:`rnnkit.tasks.forecasting.model.rollout` unrolled: scaled window ``x``
    (B, L, F) -> (B, H, K) scaled, each call reading the last L rows."""
    chunks: list[str] = []
    made = 0
    seq = x
    while made < H:
        start = max(0, min(made, H - H_train))
        u_call = None if u is None else g.op(
            "Slice", [u, g.ints([start]), g.ints([start + H_train]), g.ints([1])])
        y = _net(g, model, seq, u_call)  # (B, H_train, K)
        if made > start:
            y = g.op("Slice", [y, g.ints([made - start]), g.ints([_BIG]), g.ints([1])])
        new = H_train - (made - start)
        chunks.append(y)
        fed = y
        if u is not None:  # the row fed back: the forecasts, then that step's covariates
            fed = g.op("Concat", [y, g.op("Slice", [u, g.ints([made]), g.ints([made + new]),
                                                    g.ints([1])])], axis=-1)
        made += new
        # drop the oldest rows: the window keeps its length
        seq = g.op("Slice", [g.op("Concat", [seq, fed], axis=1), g.ints([new]), g.ints([_BIG]),
                             g.ints([1])])
    return chunks[0] if len(chunks) == 1 else g.op("Concat", chunks, axis=1)


def _step_graph(g: Graph, task: Forecaster, model: Any, prep: Any, center: np.ndarray,
                scale: np.ndarray, meta: dict[str, Any]) -> tuple[Graph, dict[str, Any]]:
    if isinstance(model, Seq2SeqForecaster):
        raise ConfigError(expected("forecast.strategy", "'direct' or 'recursive' for a "
                                   "one-step graph", "seq2seq",
                                   "export the full graph (step=False) instead"))
    if model.norm.normalizer is not None:
        raise ConfigError(expected("forecast.scaling", "a global scaler for a one-step graph",
                                   "window", "per-window statistics need the whole window: "
                                   "export the full graph (step=False), or refit with "
                                   "forecast.scaling = 'standard'"))
    enc = model.encoder
    F, K, fidx = len(prep.columns), len(prep.targets), prep.future_idx
    H = prep.train_horizon
    n_layers, hs = enc.num_layers, enc.hidden_size
    x_t = g.input("x_t", "float32", ["batch", F])
    names = ["h", "c"][: enc.num_states]
    state = [g.input(n, "float32", ["batch", n_layers, hs]) for n in names]
    h, new = emit_step(g, enc, _scale(g, x_t, center, scale, "scaler"), state, key="encoder")
    if fidx:
        future = g.input("future", "float32", ["batch", H, len(fidx)])
        u = _scale(g, future, center[fidx], scale[fidx], "scaler_future")
        h = g.op("Concat", [h, g.op("Reshape", [u, g.ints([0, H * len(fidx)])])], axis=-1)
    y = g.op("Reshape", [_head(g, model.head, h, "head"), g.ints([0, H, K])])
    for n, value in zip(names, new):
        g.output(f"{n}_out", value, "float32", ["batch", n_layers, hs])
    tidx = prep.target_idx
    g.output("forecast", _unscale(g, y, center[tidx], scale[tidx], "scaler_targets"),
             "float32", ["batch", H, K])
    inputs = {"x_t": f"(batch, {F}) float32, raw, one row of columns {list(prep.columns)}"}
    inputs |= {n: f"(batch, {n_layers}, {hs}) float32, the state (zeros to start)"
               for n in names}
    if fidx:
        inputs["future"] = f"(batch, {H}, {len(fidx)}) float32, raw"
    outputs = {f"{n}_out": f"(batch, {n_layers}, {hs}) float32, the next state" for n in names}
    outputs["forecast"] = f"(batch, {H}, {K}) float32, original units"
    meta.update(inputs=inputs, outputs=outputs, state=names)
    del task
    return g, meta
