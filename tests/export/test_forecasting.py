"""The forecaster's graph: raw values in, forecasts in original units out, equal to
Forecaster.predict within 1e-5 for every strategy, scaling and cell, at batch sizes and
history lengths other than any example's; the network-only and one-step graphs."""

import numpy as np
import pytest
import torch
from export_builders import FORECASTERS, fitted_forecaster, session

from rnnkit.errors import ConfigError
from rnnkit.export.forecasting import forecaster_graph
from rnnkit.tasks.forecasting.model import with_future


def _windows(task, frame, n, extra):
    """``n`` raw histories (n, L + extra, F) ending at different rows, and the known future
    (n, H, F_u) after each (None without future covariates)."""
    prep = task._prep()
    values = task._as_series(frame, fitted=True).values  # (T, F)
    L, H, T = prep.look_back, prep.horizon, values.shape[0]
    ends = [T - H - 5 * i for i in range(n)]
    hist = np.stack([values[e - L - extra : e] for e in ends])
    fut = None
    if prep.future_idx:
        fut = np.stack([values[e : e + H][:, prep.future_idx] for e in ends])
    return hist, fut


@pytest.mark.parametrize("name", list(FORECASTERS))
def test_graph_equals_predict_at_several_batches_and_lengths(name):
    task, frame = fitted_forecaster(name)
    g, meta = forecaster_graph(task)
    sess = session(g.model())
    prep = task._prep()
    for n, extra in [(1, 0), (3, 4), (5, 11)]:
        hist, fut = _windows(task, frame, n, extra)
        feeds = {"history": hist.astype(np.float32)}
        if fut is not None:
            feeds["future"] = fut.astype(np.float32)
        (got,) = sess.run(None, feeds)
        want = task._forecast(hist[:, -prep.look_back :], prep.horizon, fut)
        assert got.shape == (n, prep.horizon, 1)
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    assert meta["look_back"] == 6 and meta["horizon"] == prep.horizon


def test_graph_equals_the_public_predict():
    task, frame = fitted_forecaster("direct_lstm_bi")
    (got,) = session(forecaster_graph(task)[0].model()).run(
        None, {"history": frame[["y"]].to_numpy(np.float32)[None]})
    np.testing.assert_allclose(got[0], task.predict(frame).to_numpy(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["direct_lstm_bi", "direct_lstm_ln_future",
                                  "seq2seq_gru_future", "recursive_gru"])
def test_network_only_graph_equals_the_torch_network(name):
    task, frame = fitted_forecaster(name)
    prep = task._prep()
    sess = session(forecaster_graph(task, preprocessing=False)[0].model())
    torch.manual_seed(0)
    for B in (1, 4):
        x = torch.randn(B, prep.look_back, len(prep.columns))
        if prep.future_idx:
            x = with_future(x, torch.randn(B, prep.train_horizon, len(prep.future_idx)),
                            prep.future_idx)
        with torch.no_grad():
            want = task.model_(x).numpy()
        (got,) = sess.run(None, {"x": x.numpy()})
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["recursive_gru", "direct_gru_standard",
                                  "recursive_cho_future"])
def test_step_graph_fed_the_window_equals_the_full_graph(name):
    task, frame = fitted_forecaster(name)
    prep = task._prep()
    g, meta = forecaster_graph(task, step=True)
    step = session(g.model())
    hist, fut = _windows(task, frame, 3, 0)
    layers, hidden = task.model_.encoder.num_layers, task.model_.encoder.hidden_size
    state = {n: np.zeros((3, layers, hidden), np.float32) for n in meta["state"]}
    for t in range(prep.look_back):
        feeds = {"x_t": hist[:, t].astype(np.float32), **state}
        if fut is not None:
            feeds["future"] = fut[:, : prep.train_horizon].astype(np.float32)
        out = dict(zip([o.name for o in step.get_outputs()], step.run(None, feeds)))
        state = {n: out[f"{n}_out"] for n in meta["state"]}
    want = task._forecast(hist, prep.train_horizon,
                          None if fut is None else fut[:, : prep.train_horizon])
    np.testing.assert_allclose(out["forecast"], want, atol=1e-5, rtol=0)


def test_step_graph_refuses_window_scaling_and_seq2seq():
    task, _ = fitted_forecaster("direct_lstm_bi")
    with pytest.raises(ConfigError, match="forecast.scaling: expected a global scaler"):
        forecaster_graph(task, step=True)
    task, _ = fitted_forecaster("seq2seq_gru_future")
    with pytest.raises(ConfigError, match="forecast.strategy: expected 'direct' or 'recursive'"):
        forecaster_graph(task, step=True)


def test_a_history_shorter_than_look_back_fails_in_the_runtime():
    task, frame = fitted_forecaster("direct_gru_standard")
    sess = session(forecaster_graph(task)[0].model())
    with pytest.raises(Exception, match="(?i)reshape"):
        sess.run(None, {"history": np.zeros((2, 5, 1), np.float32)})
