"""rnnkit.labs.gradients: decay rates on known answers (a tanh RNN at h = 0 is linear, so
its gradient follows the powers of W_hh^T), the bar's checks, and a tiny run end to end
through the command line."""

import json
import math

import numpy as np
import pytest
import torch

from rnnkit.datasets.long_range import adding_problem
from rnnkit.errors import ConfigError
from rnnkit.labs import gradients
from rnnkit.labs._long_range import LongRangeNet, cell_spec

from lab_builders import assert_report

PNG = b"\x89PNG\r\n\x1a\n"

TINY = """
[data]
lengths = [6, 10]
train_size = 16
flow_size = 4
[model]
hidden_size = 4
[measure]
seeds = 1
[training]
max_steps = 2
batch_size = 8
"""


def test_decay_rate_known_answers() -> None:
    t = np.arange(201)
    assert gradients.decay_rate(10.0 ** (t / 100)) == (1.0, 0.01)  # 1 decade per 100 steps
    rate, ratio = gradients.decay_rate(np.full(50, 3.0))
    assert rate == pytest.approx(0.0, abs=1e-12) and ratio == 1.0
    rate, ratio = gradients.decay_rate(np.array([0.0, 0.0, 1e-3, 1e-2, 1e-1]))  # zeros left out
    assert rate == pytest.approx(100.0) and ratio == 0.0
    assert all(math.isnan(v) for v in gradients.decay_rate(np.array([0.0, 0.0, 1.0])))
    with pytest.raises(ConfigError, match="norms: expected a 1D array of at least 2 steps"):
        gradients.decay_rate(np.ones((2, 3)))


def linear_tanh_net(w_hh: torch.Tensor) -> LongRangeNet:
    """A tanh RNN that never leaves h = 0 (no input weights, no bias): tanh'(0) = 1, so
    dL/dh_t = (W_hh^T)^(T-t) dL/dh_T exactly."""
    torch.manual_seed(0)
    net = LongRangeNet("adding", cell_spec("rnn", 4))
    cell = net.rnn.cells[0]
    with torch.no_grad():
        cell.weight_ih.zero_()
        cell.bias.zero_()
        cell.weight_hh.copy_(w_hh)
        net.head.bias.fill_(5.0)  # the prediction is off, so dL/dh_T is not 0
    return net


def test_measured_decay_of_a_contracting_and_an_orthogonal_w_hh() -> None:
    X, y = adding_problem(3, 30, seed=0)
    h, gates = gradients.measure_flow(linear_tanh_net(0.5 * torch.eye(4)), X, y)
    assert gates == {}
    np.testing.assert_allclose(h / h[-1], 0.5 ** np.arange(29, -1, -1), rtol=1e-12)
    rate, ratio = gradients.decay_rate(h)
    assert rate == pytest.approx(100 * math.log10(2), rel=1e-9)  # 30.1 decades per 100 steps
    assert ratio == pytest.approx(0.5 ** 29, rel=1e-9)  # 1.9e-9: kept to 12 digits, not 0
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(1)))
    h, _ = gradients.measure_flow(linear_tanh_net(q), X, y)  # norm preserved: no decay
    rate, ratio = gradients.decay_rate(h)
    assert abs(rate) < 1e-5 and ratio == pytest.approx(1.0, abs=1e-6)


def test_gated_cells_report_their_gates() -> None:
    X, y = adding_problem(2, 8, seed=0)
    torch.manual_seed(0)
    h, gates = gradients.measure_flow(LongRangeNet("adding", cell_spec("lstm", 4)), X, y)
    assert h.shape == (8,) and list(gates) == ["input", "forget", "candidate", "output"]
    assert gates["forget"][0] == 0.0  # c_0 = 0: dL/df_1 = dL/dc_1 * c_0


def test_checks_of_the_bar() -> None:
    rows = [{"length": 100, "cell": c, "init": i, "stage": s, "decades_per_100": r}
            for c, i, s, r in [("rnn", "glorot_uniform", "init", 2.0),
                               ("rnn", "orthogonal", "init", 0.5),
                               ("rnn", "glorot_uniform", "trained", 9.0),
                               ("lstm", "orthogonal", "init", 0.7),
                               ("lstm", "glorot_uniform", "init", 5.0),  # not claimed
                               ("gru", "glorot_uniform", "init", 13.0),  # not claimed
                               ("gru", "glorot_uniform", "trained", 12.0)]]
    checks = gradients._checks(rows, {"min_tanh_decay": 1.0})
    assert checks == {
        "T=100, glorot_uniform: tanh RNN decays > 1.0 decades per 100 steps at init": True,
        "T=100, orthogonal: tanh RNN decays > 1.0 decades per 100 steps at init": False,
        "T=100, orthogonal, init: LSTM decays slower than the tanh RNN": False,
        "T=100, glorot_uniform, trained: GRU decays slower than the tanh RNN": False}
    strict = gradients._checks(rows[:1], {"min_tanh_decay": 3.0})
    assert strict == {
        "T=100, glorot_uniform: tanh RNN decays > 3.0 decades per 100 steps at init": False}


def test_lab_through_the_cli_writes_its_run_directory(tmp_path, capsys) -> None:
    from rnnkit.cli.main import main

    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    out = tmp_path / "run"
    try:
        main(["lab", "gradients", "--quick", "--config", str(path), "--out", str(out)])
    except SystemExit as stop:
        assert stop.code in (0, None), capsys.readouterr().err
    stdout = capsys.readouterr().out
    assert "Gradient decay through time" in stdout and "bar not checked" in stdout
    assert {p.name for p in out.iterdir()} >= {"config.json", "metrics.json", "norms.json",
                                              "history.json", "gradients.png"}
    assert (out / "gradients.png").read_bytes()[:8] == PNG
    html = assert_report(out, diagnostics=False)  # the models are not kept
    assert "<figcaption>gradients.png</figcaption>" in html
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["rows"]) == 2 * 3 * 2 * 2  # lengths x cells x inits x stages
    assert all(math.isfinite(r["decades_per_100"]) and r["ratio_first_last"] > 0
               for r in metrics["rows"])
    assert {r["steps"] for r in metrics["rows"] if r["stage"] == "trained"} == {2}
    norms = json.loads((out / "norms.json").read_text())
    assert len(norms["T=10/gru/orthogonal/trained"]["h"]) == 10
    assert set(norms["T=10/lstm/glorot_uniform/init"]["gates"]) == {
        "input", "forget", "candidate", "output"}
    history = json.loads((out / "history.json").read_text())
    assert [row["step"] for row in history["T=6/rnn/orthogonal"]] == [1, 2]
    assert json.loads((out / "config.json").read_text())["data"]["lengths"] == [6, 10]


def test_no_training_and_bad_configs(tmp_path) -> None:
    small = {"data": {"lengths": [5], "train_size": 8, "flow_size": 2},
             "model": {"cells": ["rnn"], "inits": ["orthogonal"], "hidden_size": 3},
             "measure": {"seeds": 1}, "training": {"train": False}}
    metrics = gradients.run(small, out_dir=tmp_path / "a")
    assert [r["stage"] for r in metrics["rows"]] == ["init"]
    assert not (tmp_path / "a" / "history.json").exists()
    for change, message in [
            ({"data": {"lengths": 200}}, "data.lengths: expected a non-empty list"),
            ({"data": {"lengths": [1]}}, "data.lengths"),
            ({"model": {"cells": ["irnn"]}}, "model.cells"),
            ({"model": {"inits": ["nosuch"]}}, "model.inits"),
            ({"measure": {"seeds": 0}}, "measure.seeds")]:
        with pytest.raises(ConfigError, match=message):
            gradients.run(change, out_dir=tmp_path / "b", quick=True)
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # nothing written by a bad config
