"""hidden_states: h_t equal to the layer's own output, gate saturation, PCA/t-SNE, heat map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from rnnkit.analysis.gradients import find_recurrent
from rnnkit.analysis.hidden import HiddenStates, hidden_states
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import GRU, LSTM, SimpleRNN

PNG = b"\x89PNG\r\n\x1a\n"


def test_lstm_states_equal_layer_output_and_forget_bias_saturates() -> None:
    torch.manual_seed(0)
    layer = LSTM(3, 6, num_layers=2)
    with torch.no_grad():
        layer.cells[1].bias[6:12].fill_(20.0)  # top layer's forget gate
    x = torch.randn(4, 7, 3)
    hs = hidden_states(layer, x)
    layer.eval()
    with torch.no_grad():
        want, _ = layer(x)
    assert hs.states.shape == (4, 7, 6)
    np.testing.assert_allclose(hs.states, want.numpy(), atol=1e-6)
    sat = hs.gate_saturation(low=0.1, high=0.9)
    assert list(sat.index) == ["input", "forget", "output"]
    assert sat.loc["forget", "above_high"] == pytest.approx(1.0)
    assert sat.loc["forget", "below_low"] == 0.0
    assert set(sat.columns) == {"below_low", "above_high", "saturated"}


def test_gru_bidirectional_with_lengths_matches_layer() -> None:
    torch.manual_seed(1)
    layer = GRU(2, 4, num_layers=2, bidirectional=True)
    x = torch.randn(3, 6, 2)
    lengths = torch.tensor([6, 4, 2])
    hs = hidden_states(layer, x, lengths=lengths)
    layer.eval()
    with torch.no_grad():
        want, _ = layer(x, lengths=lengths)
    mask = hs.mask
    assert mask.sum() == 12
    np.testing.assert_allclose(hs.states[mask], want.numpy()[mask], atol=1e-6)
    assert sorted(hs.gates) == ["reset", "update"]
    assert hs.gates["reset"].shape == (3, 6, 8)
    assert hs.unit_heatmap(2).values.shape == (2, 8)


def test_model_input_is_captured_and_simple_rnn_has_no_gates() -> None:
    torch.manual_seed(2)
    rnn = SimpleRNN(2, 5)
    model = nn.Sequential(nn.Linear(3, 2), rnn)
    x = torch.randn(2, 4, 3)
    hs = hidden_states(model, x)
    with torch.no_grad():
        want, _ = rnn(model[0](x))
    np.testing.assert_allclose(hs.states, want.numpy(), atol=1e-6)
    assert hs.gates == {}
    assert hs.gate_saturation().empty


def test_pca_of_states_along_one_direction() -> None:
    rng = np.random.default_rng(0)
    direction = rng.normal(size=5)
    coef = rng.normal(size=(3, 10, 1))
    hs = HiddenStates(states=coef * direction, lengths=np.array([10, 10, 10]))
    proj = hs.project("pca")
    assert proj.n_points == 30 and not proj.sampled
    assert proj.explained_variance_ratio[0] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_array_equal(proj.index[:3], [[0, 0], [0, 1], [0, 2]])


def test_tsne_samples_above_max_points(tmp_path) -> None:
    rng = np.random.default_rng(0)
    hs = HiddenStates(states=rng.normal(size=(5, 20, 3)), lengths=np.full(5, 20))
    proj = hs.project("tsne", max_points=60, perplexity=5, seed=0)
    assert proj.sampled and proj.n_points == 60 and proj.points.shape == (60, 2)
    assert proj.explained_variance_ratio is None
    again = hs.project("tsne", max_points=60, perplexity=5, seed=0)
    np.testing.assert_array_equal(proj.index, again.index)
    path = tmp_path / "tsne.png"
    proj.plot(path, color=np.arange(5))  # one label per sequence
    assert path.read_bytes().startswith(PNG)
    proj.plot(color=rng.normal(size=(5, 20)))  # a value per (sequence, step)
    with pytest.raises(ShapeError, match="color: expected"):
        proj.plot(color=np.arange(3))


def test_heatmap_plot_and_errors(tmp_path) -> None:
    hs = hidden_states(LSTM(2, 4), torch.randn(2, 5, 2))
    heat = hs.unit_heatmap(1)
    np.testing.assert_array_equal(heat.values, hs.states[1])
    path = tmp_path / "sub" / "heat.png"
    path.parent.mkdir()
    heat.plot(path)
    assert path.read_bytes().startswith(PNG)
    hs.project("pca").plot(tmp_path / "pca.png")
    with pytest.raises(ConfigError, match="index: expected"):
        hs.unit_heatmap(2)
    with pytest.raises(ConfigError, match="method: expected"):
        hs.project("umap")
    with pytest.raises(ConfigError, match="low, high: expected"):
        hs.gate_saturation(low=0.9, high=0.1)
    with pytest.raises(ShapeError, match="lengths: expected"):
        hidden_states(LSTM(2, 4), torch.randn(2, 5, 2), lengths=[5, 6])
    with pytest.raises(ShapeError, match="x: expected"):
        hidden_states(LSTM(2, 4), torch.randn(2, 5, 3))
    assert isinstance(hs.gate_saturation(), pd.DataFrame)


def test_gates_match_the_textbook_equations_and_mode_is_restored() -> None:
    torch.manual_seed(3)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    lstm = LSTM(3, 4).double().train()
    hs = hidden_states(lstm, x)
    assert lstm.training
    c = lstm.cells[0]
    h = torch.zeros(2, 4, dtype=torch.float64)
    cs = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(5):
        i, f, g, o = (x[:, t] @ c.weight_ih.T + h @ c.weight_hh.T + c.bias).chunk(4, dim=1)
        for name, gate in (("input", i), ("forget", f), ("output", o)):
            np.testing.assert_allclose(hs.gates[name][:, t], torch.sigmoid(gate).detach(),
                                       atol=1e-12)
        cs = torch.sigmoid(f) * cs + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(cs)
    gru = GRU(3, 4).double()
    hs = hidden_states(gru, x)
    c = gru.cells[0]
    h = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(5):
        x_r, x_z, x_n = (x[:, t] @ c.weight_ih.T + c.bias).chunk(3, dim=1)
        h_r, h_z, h_n = (h @ c.weight_hh.T).chunk(3, dim=1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        np.testing.assert_allclose(hs.gates["reset"][:, t], r.detach(), atol=1e-12)
        np.testing.assert_allclose(hs.gates["update"][:, t], z.detach(), atol=1e-12)
        n = torch.tanh(x_n + r * (h_n + c.recurrent_bias))
        h = n + z * (h - n)
    np.testing.assert_allclose(hs.states[:, -1], h.detach(), atol=1e-12)


def test_a_fitted_forecaster_states_equal_its_recurrent_output(sine_forecaster) -> None:
    task, _ = sine_forecaster
    layer = find_recurrent(task)
    x = torch.randn(3, 8, layer.input_size)
    seen = []
    handle = layer.register_forward_hook(lambda _m, _a, out: seen.append(out[0]))
    task.model_.eval()
    with torch.no_grad():
        task.model_(x)
    handle.remove()
    hs = hidden_states(task, x)
    assert hs.states.shape == (3, 8, 4)  # every step, though the layer returns the last
    assert not layer.return_sequences
    np.testing.assert_allclose(hs.states[:, -1], seen[0].numpy(), atol=1e-6)
