"""gradient_flow: dL/dh_t norms against Jacobian powers computed by hand, errors, the plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.analysis.gradients import GradientFlow, find_recurrent, gradient_flow
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import GRU, LSTM, SimpleRNN

PNG = b"\x89PNG\r\n\x1a\n"


def linear_rnn(w_hh: np.ndarray) -> SimpleRNN:
    H = w_hh.shape[0]
    layer = SimpleRNN(2, H, activation="identity", backend="loop").double()
    with torch.no_grad():
        cell = layer.cells[0]
        cell.weight_hh.copy_(torch.from_numpy(w_hh))
        cell.bias.zero_()
    return layer


def test_linear_rnn_norms_are_powers_of_w_hh_transposed() -> None:
    rng = np.random.default_rng(0)
    H, T = 4, 9
    w_hh = rng.normal(scale=0.6, size=(H, H))
    x = torch.from_numpy(rng.normal(size=(1, T, 2)))
    flow = gradient_flow(linear_rnn(w_hh), x)
    # dL/dh_T = 1 (loss: sum of the last output), dL/dh_t = (W_hh^T)^(T-t) 1
    want = [np.linalg.norm(np.linalg.matrix_power(w_hh.T, T - 1 - t) @ np.ones(H))
            for t in range(T)]
    assert flow.norms.shape == (1, T)
    np.testing.assert_allclose(flow.norms[0], want, rtol=1e-12)
    assert flow.labels == ("layer 0",)


def test_batch_mean_of_per_sequence_norms_and_custom_loss() -> None:
    w_hh = np.diag([0.5, 2.0])
    x = torch.randn(3, 5, 2, dtype=torch.float64)
    # loss 2 * sum of last output for sequence 0 only: dL/dh_t = 2 (W^T)^(T-t) 1 for row 0
    flow = gradient_flow(linear_rnn(w_hh), x, loss_fn=lambda y: 2 * y[0, -1].sum())
    want = [2 * np.hypot(0.5 ** (4 - t), 2.0 ** (4 - t)) / 3 for t in range(5)]
    np.testing.assert_allclose(flow.norms[0], want, rtol=1e-12)


def test_tanh_rnn_with_small_w_hh_vanishes() -> None:
    torch.manual_seed(0)
    layer = SimpleRNN(3, 6)
    with torch.no_grad():
        layer.cells[0].weight_hh.mul_(0.3)
    flow = gradient_flow(layer, torch.randn(2, 15, 3))
    assert np.all(np.diff(flow.norms[0]) > 0)  # grows towards the last step
    assert flow.norms[0, 0] < 1e-6 * flow.norms[0, -1]


def test_stacked_bidirectional_rows_and_layer_unchanged() -> None:
    torch.manual_seed(1)
    layer = LSTM(3, 5, num_layers=2, bidirectional=True, dropout=0.5)
    layer.train()
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    flow = gradient_flow(layer, torch.randn(2, 7, 3))
    assert flow.norms.shape == (4, 7)
    assert flow.labels == ("layer 0", "layer 0 backward", "layer 1", "layer 1 backward")
    assert np.all(flow.norms[:3] > 0)
    # the last layer's backward direction reaches the loss only at its first step (t = T)
    assert np.all(flow.norms[3, :-1] == 0) and flow.norms[3, -1] > 0
    assert layer.training
    assert all(p.grad is None for p in layer.parameters())
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())


def test_stepped_output_matches_the_layer() -> None:
    torch.manual_seed(2)
    layer = GRU(2, 4, num_layers=2).eval()
    x = torch.randn(2, 6, 2)
    seen = []
    gradient_flow(layer, x, loss_fn=lambda y: seen.append(y.detach()) or y.sum())
    torch.testing.assert_close(seen[0], layer(x)[0], rtol=0, atol=1e-6)


class Model(torch.nn.Module):
    """An embedding into a GRU into a head: the GRU's input is not the model's."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(10, 2)
        self.rnn = GRU(2, 4)
        self.head = torch.nn.Linear(4, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(self.embed(tokens))[0])


def test_a_model_is_run_on_its_input_and_the_layer_input_captured() -> None:
    torch.manual_seed(3)
    model = Model()
    tokens = torch.randint(0, 10, (2, 6))
    assert find_recurrent(model) is model.rnn
    want = gradient_flow(model.rnn, model.embed(tokens).detach())
    np.testing.assert_array_equal(gradient_flow(model, tokens).norms, want.norms)

    class Task:
        model_ = model
    np.testing.assert_array_equal(gradient_flow(Task(), tokens).norms, want.norms)
    assert model.training and all(p.grad is None for p in model.parameters())


class Skip(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = GRU(2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_a_model_that_never_runs_its_layer_or_fails() -> None:
    with pytest.raises(ConfigError, match="Skip, whose forward never called it"):
        gradient_flow(Skip(), torch.randn(1, 3, 2))
    model = torch.nn.Sequential(torch.nn.Identity(), torch.nn.ModuleList([GRU(2, 4)]))
    with pytest.raises(ConfigError, match="runs on x, got Sequential raising "
                                          "NotImplementedError.*pass the recurrent layer"):
        gradient_flow(model, torch.randn(1, 3, 2))
    with pytest.raises(ShapeError, match="x: expected 2 features"):  # rnnkit's own errors
        gradient_flow(torch.nn.Sequential(GRU(2, 4)), torch.randn(1, 3, 5))


def test_errors() -> None:
    layer = SimpleRNN(2, 3)
    with pytest.raises(ConfigError, match="layer_or_model: expected an rnnkit recurrent"):
        gradient_flow(torch.nn.Linear(2, 2), torch.randn(1, 3, 2))
    with pytest.raises(ShapeError, match="x: expected a torch.Tensor"):
        gradient_flow(layer, np.zeros((1, 3, 2)))
    with pytest.raises(ShapeError, match="x: expected a 3D tensor"):
        gradient_flow(layer, torch.randn(3, 2))
    with pytest.raises(ShapeError, match="x: expected 2 features"):
        gradient_flow(layer, torch.randn(1, 3, 5))
    with pytest.raises(ShapeError, match="x: expected dtype torch.float32"):
        gradient_flow(layer, torch.randn(1, 3, 2, dtype=torch.float64))
    with pytest.raises(ConfigError, match="loss_fn: expected a scalar tensor"):
        gradient_flow(layer, torch.randn(1, 3, 2), loss_fn=lambda y: y)
    with pytest.raises(ConfigError, match="loss_fn: expected a callable"):
        gradient_flow(layer, torch.randn(1, 3, 2), loss_fn="mse")


def test_plot_writes_png_atomically(tmp_path) -> None:
    flow = GradientFlow(norms=np.array([[1e-3, 1e-2, 1.0], [0.0, 0.0, 1.0]]),
                        labels=("layer 0", "layer 0 backward"))
    fig = flow.plot()
    assert fig.axes[0].get_yscale() == "log"
    path = tmp_path / "sub" / "flow.png"
    flow.plot(path)
    assert path.read_bytes()[:8] == PNG
    assert [p.name for p in path.parent.iterdir()] == ["flow.png"]


# ----------------------------------------------------------------------------- per gate
def textbook_lstm(cell, x: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """The LSTM equations step by step from the cell's weights, every gate activation a
    retained tensor: -> outputs (B, T, H), per step {gate: activation}."""
    W, U, b = cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias.detach()
    x = x.detach().requires_grad_(True)  # a graph through every step
    B, T, _ = x.shape
    H = cell.hidden_size
    h = c = x.new_zeros(B, H)
    outs, gates = [], []
    for t in range(T):
        a = x[:, t] @ W.t() + h @ U.t() + b  # (B, 4H)
        i, f, g, o = (torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]),
                      torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:]))
        step = {"input": i, "forget": f, "candidate": g, "output": o}
        for v in step.values():
            v.retain_grad()
        c = f * c + i * g
        h = o * torch.tanh(c)
        outs.append(h)
        gates.append(step)
    return torch.stack(outs, dim=1), gates


def textbook_gru(cell, x: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """The GRU equations (reset after or before the product), h = (1 - z) n + z h_prev."""
    W, U, b = cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias.detach()
    x = x.detach().requires_grad_(True)  # a graph through every step
    B, T, _ = x.shape
    H = cell.hidden_size
    h = x.new_zeros(B, H)
    outs, gates = [], []
    for t in range(T):
        xw = x[:, t] @ W.t() + b  # (B, 3H)
        r = torch.sigmoid(xw[:, :H] + h @ U[:H].t())
        z = torch.sigmoid(xw[:, H:2 * H] + h @ U[H:2 * H].t())
        if cell.reset_after:
            b_hn = cell.recurrent_bias.detach()
            n = torch.tanh(xw[:, 2 * H:] + r * (h @ U[2 * H:].t() + b_hn))
        else:
            n = torch.tanh(xw[:, 2 * H:] + (r * h) @ U[2 * H:].t())
        step = {"reset": r, "update": z, "candidate": n}
        for v in step.values():
            v.retain_grad()
        h = (1 - z) * n + z * h
        outs.append(h)
        gates.append(step)
    return torch.stack(outs, dim=1), gates


def reference_gate_norms(gates: list[dict[str, torch.Tensor]]) -> dict[str, np.ndarray]:
    return {name: np.array([float(step[name].grad.norm(dim=-1).mean()) for step in gates])
            for name in gates[0]}


def test_one_step_lstm_output_gate_gradient_is_tanh_c() -> None:
    torch.manual_seed(4)
    layer = LSTM(3, 5).double()
    x = torch.randn(1, 1, 3, dtype=torch.float64)
    flow = gradient_flow(layer, x)  # loss: sum of h_T, dL/dh_T = 1
    out, gates = textbook_lstm(layer.cells[0], x)
    c = (gates[0]["input"] * gates[0]["candidate"]).detach()  # c_1 = i g (c_0 = 0)
    np.testing.assert_allclose(flow.gates["output"][0, 0], float(torch.tanh(c).norm()),
                               rtol=1e-12)
    assert flow.gates["forget"][0, 0] == 0.0  # dL/df_1 = dL/dc_1 * c_0 = 0


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_gate_gradients_match_the_textbook_equations(bidirectional: bool) -> None:
    torch.manual_seed(5)
    layer = LSTM(3, 4, unit_forget_bias=True).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    loss = lambda y: (y[:, -1] * torch.arange(1.0, 5.0, dtype=torch.float64)).sum()  # noqa: E731
    flow = gradient_flow(layer, x, loss_fn=loss)
    out, gates = textbook_lstm(layer.cells[0], x)
    loss(out).backward()
    want = reference_gate_norms(gates)
    assert list(flow.gates) == ["input", "forget", "candidate", "output"]
    for name, norms in want.items():
        np.testing.assert_allclose(flow.gates[name][0], norms, rtol=1e-10, atol=1e-300)
    if not bidirectional:
        return
    layer = LSTM(3, 4, bidirectional=True).double()
    flow = gradient_flow(layer, x)
    back, gates = textbook_lstm(layer.cells[1], x.flip(1))
    back[:, 0].sum().backward()  # the backward direction's output at input step T
    want = reference_gate_norms(gates)
    for name, norms in want.items():  # rows in input time order
        np.testing.assert_allclose(flow.gates[name][1], norms[::-1], rtol=1e-10)
    assert flow.gates["input"].shape == (2, 6)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_gate_gradients_match_the_textbook_equations(reset_after: bool) -> None:
    torch.manual_seed(6)
    layer = GRU(2, 3, reset_after=reset_after).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.1 * torch.randn_like(p))  # nonzero biases, recurrent_bias included
    x = torch.randn(3, 7, 2, dtype=torch.float64)
    flow = gradient_flow(layer, x, loss_fn=lambda y: y[:, -1].pow(2).sum())
    out, gates = textbook_gru(layer.cells[0], x)
    torch.testing.assert_close(out, layer(x)[0], rtol=0, atol=1e-12)
    out[:, -1].pow(2).sum().backward()
    want = reference_gate_norms(gates)
    assert list(flow.gates) == ["reset", "update", "candidate"]
    for name, norms in want.items():
        np.testing.assert_allclose(flow.gates[name][0], norms, rtol=1e-10)


def test_stacked_gate_rows_and_no_gates_for_simple_rnn(tmp_path) -> None:
    torch.manual_seed(7)
    flow = gradient_flow(GRU(2, 4, num_layers=2), torch.randn(2, 5, 2))
    assert {k: v.shape for k, v in flow.gates.items()} == {
        "reset": (2, 5), "update": (2, 5), "candidate": (2, 5)}
    assert np.all(np.isfinite(flow.gates["reset"])) and np.all(flow.gates["update"] > 0)
    fig = flow.plot(tmp_path / "gates.png", gates=True)
    assert len(fig.axes) == 4 and all(ax.get_yscale() == "log" for ax in fig.axes)
    assert (tmp_path / "gates.png").read_bytes()[:8] == PNG
    rnn = gradient_flow(SimpleRNN(2, 3), torch.randn(1, 4, 2))
    assert rnn.gates == {}
    with pytest.raises(ConfigError, match="gates: expected True only for an LSTM or GRU"):
        rnn.plot(tmp_path / "rnn.png", gates=True)
    assert not (tmp_path / "rnn.png").exists()
