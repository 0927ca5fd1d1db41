"""The recurrent stack under onnxruntime equals rnnkit's layer within 1e-5, for every cell,
both GRU forms, stacked, bidirectional, layer norm, zoneout, merge modes, with and without
lengths, at batch sizes and lengths other than any example's (the axes are dynamic)."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.export._graph import Graph
from rnnkit.export.recurrent import emit_recurrent, emit_step
from rnnkit.nn import GRU, LSTM, LSTMCell, Recurrent, SimpleRNN

CASES = {
    "lstm": (LSTM, {}),
    "gru": (GRU, {}),
    "gru_cho": (GRU, {"reset_after": False}),
    "rnn": (SimpleRNN, {}),
    "rnn_relu": (SimpleRNN, {"activation": "relu"}),
    "rnn_elu": (SimpleRNN, {"activation": "elu"}),
    "lstm_ln": (LSTM, {"layer_norm": True}),
    "gru_ln": (GRU, {"layer_norm": True}),
    "gru_cho_ln": (GRU, {"layer_norm": True, "reset_after": False}),
    "rnn_ln": (SimpleRNN, {"layer_norm": True}),
    "lstm_zoneout": (LSTM, {"zoneout": 0.3, "recurrent_dropout": 0.2, "weight_drop": 0.1}),
}


def _layer(name, **layer_kwargs):
    torch.manual_seed(0)
    cls, kw = CASES[name]
    layer = cls(3, 5, **kw, **layer_kwargs).eval()
    with torch.no_grad():  # non-trivial biases and gains, so every parameter is checked
        for p in layer.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return layer


def _session(layer, *, lengths, native=True):
    g = Graph()
    x = g.input("x", "float32", ["B", "T", 3])
    lens = g.input("lengths", "int64", ["B"]) if lengths else None
    out, finals = emit_recurrent(g, layer, x, lens, native=native)
    g.output("out", out, "float32", [None] * (3 if layer.return_sequences else 2))
    for i, f in enumerate(finals):
        g.output(f"state{i}", f, "float32", ["B", None, 5])
    return ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])


def _compare(layer, sess, B, T, lengths):
    x = torch.randn(B, T, 3)
    feeds = {"x": x.numpy()}
    lens = None
    if lengths:
        lens = torch.randint(1, T + 1, (B,))
        lens[0] = T
        feeds["lengths"] = lens.numpy()
    with torch.no_grad():
        out, state = layer(x, lengths=lens)
    got = sess.run(None, feeds)
    states = state if isinstance(state, tuple) else (state,)
    np.testing.assert_allclose(got[0], out.numpy(), atol=1e-5, rtol=0)
    for g, s in zip(got[1:], states):
        np.testing.assert_allclose(g, s.numpy(), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("lengths", [False, True])
def test_every_cell_matches_at_dynamic_batch_and_time(name, lengths):
    layer = _layer(name, num_layers=2, bidirectional=True)
    sess = _session(layer, lengths=lengths)
    torch.manual_seed(1)
    for B, T in [(1, 4), (3, 9), (6, 2)]:
        _compare(layer, sess, B, T, lengths)


@pytest.mark.parametrize("name", ["lstm", "gru", "gru_cho", "rnn"])
def test_scan_and_native_emissions_agree(name):
    layer = _layer(name, bidirectional=True)
    sess = _session(layer, lengths=True, native=False)
    torch.manual_seed(2)
    _compare(layer, sess, 4, 7, True)


@pytest.mark.parametrize("merge_mode", ["sum", "mean", "mul"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_merge_modes_and_last_output(merge_mode, return_sequences):
    layer = _layer("gru", bidirectional=True, merge_mode=merge_mode,
                   return_sequences=return_sequences)
    sess = _session(layer, lengths=True)
    torch.manual_seed(3)
    _compare(layer, sess, 5, 6, True)


@pytest.mark.parametrize("name", ["lstm", "gru_cho_ln", "rnn_elu", "lstm_zoneout"])
def test_step_graph_equals_the_layer_step_by_step(name):
    layer = _layer(name, num_layers=2)
    g = Graph()
    x_t = g.input("x_t", "float32", ["B", 3])
    states = [g.input(f"s{i}", "float32", ["B", 2, 5]) for i in range(layer.num_states)]
    out, new = emit_step(g, layer, x_t, states)
    g.output("out", out, "float32", ["B", 5])
    for i, s in enumerate(new):
        g.output(f"new{i}", s, "float32", ["B", 2, 5])
    sess = ort.InferenceSession(g.model().SerializeToString(), providers=["CPUExecutionProvider"])
    x = torch.randn(3, 6, 3)
    with torch.no_grad():
        full, _ = layer(x)
    state = [np.zeros((3, 2, 5), np.float32) for _ in range(layer.num_states)]
    for t in range(6):
        res = sess.run(None, {"x_t": x[:, t].numpy(), **{f"s{i}": s for i, s in enumerate(state)}})
        np.testing.assert_allclose(res[0], full[:, t].numpy(), atol=1e-5, rtol=0)
        state = res[1:]


def test_refuses_a_cell_of_your_own_and_a_stateful_layer():
    class MyCell(LSTMCell):
        pass

    g = Graph()
    x = g.input("x", "float32", ["B", "T", 3])
    with pytest.raises(ConfigError, match="encoder.cell: expected a built-in cell.*MyCell"):
        emit_recurrent(g, Recurrent(MyCell, 3, 4), x)
    with pytest.raises(ConfigError, match="encoder.stateful"):
        emit_recurrent(g, LSTM(3, 4, stateful=True), x)
    with pytest.raises(ConfigError, match="bidirectional: expected False for a one-step"):
        emit_step(g, LSTM(3, 4, bidirectional=True), g.input("x_t", "float32", ["B", 3]),
                  [x, x])
