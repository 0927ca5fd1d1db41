"""recurrent_weights: known spectra (a diagonal, a rotation), gate blocks, errors, the plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.analysis.weights import recurrent_weights
from rnnkit.errors import ConfigError
from rnnkit.nn import GRU, LSTM, SimpleRNN

PNG = b"\x89PNG\r\n\x1a\n"


def test_diagonal_spectrum_and_radius() -> None:
    layer = SimpleRNN(3, 2)
    with torch.no_grad():
        layer.cells[0].weight_hh.copy_(torch.diag(torch.tensor([0.5, 2.0])))
    report = recurrent_weights(layer)
    assert list(report.summary.columns) == ["layer", "direction", "gate", "spectral_radius",
                                            "spectral_norm"]
    row = report.summary.iloc[0]
    assert (row.layer, row.direction, row.gate) == (0, "forward", "h")
    assert row.spectral_radius == 2.0 and row.spectral_norm == pytest.approx(2.0)
    np.testing.assert_array_equal(np.sort(report.eigenvalues[0].real), [0.5, 2.0])
    np.testing.assert_array_equal(report.matrices[0], np.diag([0.5, 2.0]).astype(np.float32))


def test_rotation_has_unit_radius_and_eigenvalues_e_to_the_i_theta() -> None:
    theta = 0.3
    rot = torch.tensor([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]],
                       dtype=torch.float64)
    layer = SimpleRNN(1, 2).double()
    with torch.no_grad():
        layer.cells[0].weight_hh.copy_(0.9 * rot)
    report = recurrent_weights(layer)
    eig = np.sort_complex(report.eigenvalues[0])
    np.testing.assert_allclose(eig, 0.9 * np.exp([-1j * theta, 1j * theta]), atol=1e-15)
    assert report.summary.spectral_radius[0] == pytest.approx(0.9, abs=1e-15)


def test_lstm_gate_blocks_in_order_stacked_bidirectional() -> None:
    layer = LSTM(3, 2, num_layers=2, bidirectional=True)
    with torch.no_grad():
        for k, cell in enumerate(layer.cells):
            blocks = [torch.eye(2) * (10 * k + g + 1) for g in range(4)]
            cell.weight_hh.copy_(torch.cat(blocks))  # (4H, H)
    s = recurrent_weights(layer).summary
    assert len(s) == 16
    assert list(s.gate[:4]) == ["i", "f", "g", "o"]
    assert list(s.direction[:8]) == ["forward"] * 4 + ["backward"] * 4
    assert list(s.layer) == [0] * 8 + [1] * 8
    assert list(s.spectral_radius) == [10 * k + g + 1 for k in range(4) for g in range(4)]


def test_gru_gates_and_a_model_or_task() -> None:
    layer = GRU(2, 4)
    model = torch.nn.Sequential(layer, torch.nn.Identity())
    assert list(recurrent_weights(model).summary.gate) == ["r", "z", "n"]

    class Task:
        model_ = model
    assert len(recurrent_weights(Task()).matrices) == 3


def test_not_a_recurrent_layer() -> None:
    with pytest.raises(ConfigError, match="layer_or_model: expected an rnnkit recurrent"):
        recurrent_weights(torch.nn.Linear(2, 2))


def test_plot_heatmaps_and_unit_circle(tmp_path) -> None:
    report = recurrent_weights(GRU(2, 3, bidirectional=True))
    fig = report.plot()
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == 12
    path = tmp_path / "w.png"
    path.write_bytes(b"old")
    report.plot(path)
    assert path.read_bytes()[:8] == PNG
    assert [p.name for p in tmp_path.iterdir()] == ["w.png"]
