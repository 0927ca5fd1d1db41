"""The forecasting networks: head shapes, window normalization, rollout, teacher forcing."""

from __future__ import annotations

import pytest
import torch

from rnnkit.data import WindowNormalizer
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.forecasting import (
    Seq2SeqForecaster,
    WindowForecaster,
    rollout,
    with_future,
    with_teacher,
)

SPEC = RecurrentSpec(hidden_size=6, num_layers=2)


def test_direct_head_shapes_with_covariates() -> None:
    torch.manual_seed(0)
    net = WindowForecaster(SPEC, n_features=3, horizon=4, n_targets=2)
    x = torch.randn(5, 10, 3)  # (B, L, F): two targets then one covariate
    assert net(x).shape == (5, 4, 2)  # (B, H, K)
    assert net.head.out_features == 4 * 2
    with pytest.raises(ShapeError, match=r"x: expected \(batch, look_back, 3\)"):
        net(torch.randn(5, 10, 2))


def test_window_normalization_is_affine_equivariant() -> None:
    """Per-window (reversible instance) normalization: f(a x + b) = a f(x) + b, so a level or
    scale never seen in training reaches the network as a familiar shape."""
    torch.manual_seed(0)
    net = WindowForecaster(SPEC, 1, horizon=2, normalizer=WindowNormalizer("standard")).eval()
    x = torch.randn(4, 12, 1, dtype=torch.float64)
    net = net.double()
    a, b = 0.01, -3.0
    torch.testing.assert_close(net(a * x + b), a * net(x) + b)


def test_flat_window_gives_finite_forecast_at_its_level() -> None:
    torch.manual_seed(0)
    net = WindowForecaster(SPEC, 1, normalizer=WindowNormalizer()).eval()
    flat = torch.full((2, 20, 1), 0.1)
    y = net(flat)
    assert torch.isfinite(y).all()
    torch.testing.assert_close(y, torch.full_like(y, 0.1), atol=1e-4, rtol=0)


def test_rollout_equals_feeding_predictions_back_by_hand() -> None:
    torch.manual_seed(0)
    net = WindowForecaster(SPEC, 1, horizon=1).eval()
    x = torch.randn(3, 8, 1)
    got = rollout(net, x, steps=5)
    window, manual = x, []
    with torch.no_grad():
        for _ in range(5):
            y = net(window)  # (B, 1, 1)
            manual.append(y)
            window = torch.cat([window[:, 1:], y], dim=1)
    assert torch.equal(got, torch.cat(manual, dim=1))


def test_block_rollout_of_a_direct_model() -> None:
    torch.manual_seed(0)
    net = WindowForecaster(SPEC, 1, horizon=3).eval()
    x = torch.randn(2, 8, 1)
    got = rollout(net, x, steps=5)
    with torch.no_grad():
        first = net(x)
        second = net(torch.cat([x, first], dim=1)[:, -8:])
    assert torch.equal(got, torch.cat([first, second], dim=1)[:, :5])
    with pytest.raises(ConfigError, match="targets only"):
        rollout(WindowForecaster(SPEC, 2), torch.randn(2, 8, 2), steps=3)


def test_with_teacher_appends_the_future_targets() -> None:
    x = torch.randn(4, 6, 3)
    y = torch.randn(4, 2, 1)
    out = with_teacher(x, y, target_idx=[0])
    assert out.shape == (4, 8, 3)
    assert torch.equal(out[:, :6], x)
    assert torch.equal(out[:, 6:, 0:1], y)
    assert not out[:, 6:, 1:].any()


def _seq2seq(ratio: float, **kw) -> Seq2SeqForecaster:
    torch.manual_seed(0)
    return Seq2SeqForecaster(RecurrentSpec(hidden_size=5, num_layers=2, dropout=0.0), 1,
                             look_back=6, horizon=3, teacher_forcing=ratio, **kw)


def _manual_decode(net: Seq2SeqForecaster, x: torch.Tensor, teacher: torch.Tensor | None
                   ) -> torch.Tensor:
    """The textbook decoder: feed the true previous value (teacher) or the forecast."""
    _, state = net.encoder(x)
    step = x[:, -1:, :]
    outs = []
    for h in range(net.horizon):
        out, state = net.decoder(step, state)
        y = net.head(out[:, 0])
        outs.append(y)
        step = (teacher[:, h] if teacher is not None else y)[:, None]
    return torch.stack(outs, dim=1)


def test_teacher_forcing_one_feeds_the_truth_zero_feeds_forecasts() -> None:
    x = torch.randn(4, 6, 1)
    future = torch.randn(4, 3, 1)
    xt = with_teacher(x, future, [0])

    net = _seq2seq(1.0).train()
    assert torch.equal(net(xt), _manual_decode(net, x, future))
    net = _seq2seq(0.0).train()
    free_running = _manual_decode(net, x, None)
    assert torch.equal(net(xt), free_running)
    assert not torch.equal(free_running, _manual_decode(net, x, future))
    # outside training the teacher values are ignored, whatever the ratio
    net = _seq2seq(1.0).eval()
    assert torch.equal(net(xt), net(x))
    assert torch.equal(net(x), _manual_decode(net, x, None))


def test_seq2seq_shapes_bidirectional_and_normalized() -> None:
    torch.manual_seed(0)
    net = Seq2SeqForecaster(RecurrentSpec(cell="gru", hidden_size=4, bidirectional=True), 3,
                            look_back=5, horizon=2, n_targets=2,
                            normalizer=WindowNormalizer()).eval()
    assert net(torch.randn(7, 5, 3)).shape == (7, 2, 2)
    with pytest.raises(ShapeError, match=r"\(batch, 5 or 7, 3\)"):
        net(torch.randn(7, 6, 3))


# -- known-future covariates ------------------------------------------------------------------


def test_direct_head_reads_every_future_step() -> None:
    """The future steps' covariates reach the head: a change at step h moves the forecasts,
    a change of the ignored future target values does not."""
    torch.manual_seed(0)
    net = WindowForecaster(SPEC, n_features=3, horizon=4, n_targets=1, future_idx=[2]).eval()
    assert net.head.in_features == SPEC.output_size + 4 * 1
    x = torch.randn(5, 10 + 4, 3)  # (B, L + H, F): the last H steps carry the future
    y = net(x)
    assert y.shape == (5, 4, 1)
    moved = x.clone()
    moved[:, -1, 2] += 1.0  # the covariate of the last forecast step
    assert not torch.allclose(net(moved), y)
    ignored = x.clone()
    ignored[:, -4:, :2] = 7.0  # target and past-only covariate at the future steps
    assert torch.equal(net(ignored), y)
    with pytest.raises(ShapeError, match=r"x: expected \(batch, look_back \+ 4, 3\)"):
        net(torch.randn(5, 4, 3))
    with pytest.raises(ConfigError, match="future_idx: expected distinct positions"):
        WindowForecaster(SPEC, n_features=3, future_idx=[0])


def test_with_future_builds_the_extended_window() -> None:
    x = torch.randn(2, 5, 3)
    future = torch.arange(8.0).view(2, 4, 1)
    out = with_future(x, future, [2])
    assert out.shape == (2, 9, 3) and torch.equal(out[:, :5], x)
    assert torch.equal(out[:, 5:, 2:], future) and not out[:, 5:, :2].any()
    teach = with_teacher(x, torch.ones(2, 4, 1), [0], future=future, future_idx=[2])
    assert torch.equal(teach[:, 5:, 0], torch.ones(2, 4)) and torch.equal(teach[:, 5:, 2:], future)
    with pytest.raises(ShapeError, match="future/teacher: expected"):
        with_future(x, torch.randn(2, 4, 2), [2])


def test_rollout_with_future_covariates_equals_feeding_back_by_hand() -> None:
    """H = 3, 7 steps: calls at steps 0 and 3, then one moved back to end at step 7 (it
    starts at 4), each reading the covariates of the steps it forecasts."""
    torch.manual_seed(0)
    net = WindowForecaster(SPEC, n_features=2, horizon=3, future_idx=[1]).eval()
    x, future = torch.randn(2, 6, 2), torch.randn(2, 7, 1)  # (B, L, F), (B, steps, F_u)
    got = rollout(net, x, 7, future=future)
    with torch.no_grad():
        seq = x
        a = net(with_future(seq[:, 0:6], future[:, 0:3], [1]))  # steps 0..2
        seq = torch.cat([seq, torch.cat([a, future[:, 0:3]], -1)], 1)
        b = net(with_future(seq[:, 3:9], future[:, 3:6], [1]))  # steps 3..5
        seq = torch.cat([seq, torch.cat([b, future[:, 3:6]], -1)], 1)
        c = net(with_future(seq[:, 4:10], future[:, 4:7], [1]))  # steps 4..6, keep 6
    torch.testing.assert_close(got, torch.cat([a, b, c[:, 2:]], 1))
    with pytest.raises(ShapeError, match=r"future: expected \(B=2, at least 7 steps, 1\)"):
        rollout(net, x, 7, future=future[:, :5])
    with pytest.raises(ConfigError, match="inputs: expected the targets only"):
        rollout(WindowForecaster(SPEC, n_features=3, horizon=3, future_idx=[2]),
                torch.randn(2, 6, 3), 7, future=future)


def test_seq2seq_decoder_reads_each_steps_future_covariates() -> None:
    """Causal: the covariate of step h moves forecasts h.., never the earlier ones."""
    torch.manual_seed(0)
    net = Seq2SeqForecaster(SPEC, 2, look_back=6, horizon=4, future_idx=[1],
                            normalizer=WindowNormalizer("standard")).eval()
    x = torch.randn(3, 10, 2)  # (B, L + H, F)
    y = net(x)
    moved = x.clone()
    moved[:, 6 + 2, 1] += 1.0  # step h = 2
    y2 = net(moved)
    assert torch.equal(y2[:, :2], y[:, :2]) and not torch.allclose(y2[:, 2:], y[:, 2:])
    with pytest.raises(ShapeError, match=r"x: expected \(batch, 10, 2\)"):
        net(torch.randn(3, 6, 2))
