from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit.analysis.sensitivity import (
    IntegratedGradients,
    Occlusion,
    integrated_gradients,
    occlusion,
)
from rnnkit.errors import ConfigError, MissingDependencyError, ShapeError
from rnnkit.nn import LSTM


class LastStep(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1].sum(-1)  # (B,)


class Weighted(nn.Module):
    """y_b = sum_t w_t x_{b,t,0} and a second output 2 y_b: (B, 2)."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = (x[..., 0] * self.w).sum(1)
        return torch.stack([y, 2 * y], dim=1)


def test_a_model_reading_only_the_last_step():
    x = torch.randn(4, 6, 3, generator=torch.Generator().manual_seed(0))
    result = occlusion(LastStep(), x)
    assert isinstance(result, Occlusion) and result.attribution.shape == (4, 6)
    assert (result.attribution[:, :-1] == 0).all()
    np.testing.assert_array_equal(result.attribution[:, -1],
                                  x[:, -1].sum(-1).abs().double().numpy())
    np.testing.assert_array_equal(result.output[:, 0], x[:, -1].sum(-1).double().numpy())


def test_a_linear_model_has_known_attribution_with_span_and_target():
    w = torch.tensor([1.0, -2.0, 0.5, 4.0, 3.0], dtype=torch.float64)
    x = torch.tensor([[[1.0], [2.0], [3.0], [-1.0], [2.0]]], dtype=torch.float64)
    wx = (w * x[0, :, 0]).numpy()  # [1, -4, 1.5, -4, 6]
    both = occlusion(Weighted(w), x)  # both outputs: |change| + |2 change|
    np.testing.assert_array_equal(both.attribution[0], 3 * np.abs(wx))
    first = occlusion(Weighted(w), x, target=0)
    np.testing.assert_array_equal(first.attribution[0], np.abs(wx))
    assert first.output.shape == (1, 1)
    blocks = occlusion(Weighted(w), x, span=2, target=1).attribution[0]
    np.testing.assert_array_equal(blocks, 2 * np.abs([-3.0, -3.0, -2.5, -2.5, 6.0]))


def test_mean_baseline_replaces_by_the_feature_mean():
    w = torch.ones(3, dtype=torch.float64)
    x = torch.tensor([[[1.0], [2.0], [6.0]]], dtype=torch.float64)  # mean 3
    result = occlusion(Weighted(w), x, baseline="mean", target=0)
    np.testing.assert_array_equal(result.baseline, [3.0])
    np.testing.assert_array_equal(result.attribution[0], [2.0, 1.0, 3.0])


def test_an_rnnkit_lstm_and_numpy_input():
    torch.manual_seed(0)
    layer = LSTM(3, 5).train()
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype(np.float32)
    result = occlusion(layer, x, span=3)
    assert result.attribution.shape == (2, 7) and result.output.shape == (2, 7 * 5)
    assert (result.attribution > 0).all()
    assert (result.attribution[:, 0] == result.attribution[:, 2]).all()  # one block
    assert layer.training  # mode restored


def test_plot_returns_a_figure_and_writes_png(tmp_path):
    result = occlusion(LastStep(), torch.randn(3, 5, 2))
    assert len(result.plot().axes) == 3  # map, colour bar, mean
    path = tmp_path / "occ.png"
    path.write_bytes(b"old")
    result.plot(path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["occ.png"]


def test_misuse_raises_with_messages():
    x = torch.randn(2, 4, 1)
    with pytest.raises(ShapeError, match=r"x: expected a non-empty tensor of shape \(B, T, F\), "
                                         r"got shape \(4, 1\)"):
        occlusion(LastStep(), x[0])
    with pytest.raises(ConfigError, match="baseline: expected one of"):
        occlusion(LastStep(), x, baseline="noise")
    with pytest.raises(ConfigError, match="span: expected at most the 4 steps of x, got 5"):
        occlusion(LastStep(), x, span=5)
    with pytest.raises(ConfigError, match="span: expected an integer >= 1, got 0"):
        occlusion(LastStep(), x, span=0)
    with pytest.raises(ConfigError, match=r"target: expected an output index in \[0, 1\), got 3"):
        occlusion(LastStep(), x, target=3)
    with pytest.raises(ConfigError, match="model: expected a torch nn.Module or a fitted"):
        occlusion(object(), x)
    with pytest.raises(ShapeError, match="model: expected an output with the batch size 2"):
        occlusion(lambda_module(lambda v: v.sum()), x)


def lambda_module(fn):
    class Wrap(nn.Module):
        def forward(self, x):
            return fn(x)

    return Wrap()


def test_a_recurrent_output_never_depends_on_later_steps():
    torch.manual_seed(1)
    layer = LSTM(2, 3)
    x = torch.randn(3, 6, 2)
    first_step = occlusion(layer, x, target=0)  # hidden unit 0 at step 0 of (B, T*H)
    assert (first_step.attribution[:, 1:] == 0).all()
    assert (first_step.attribution[:, 0] > 0).all()
    third_step = occlusion(layer, x, target=2 * 3 + 1)  # unit 1 at step 2
    assert (third_step.attribution[:, 3:] == 0).all()


def test_a_fitted_forecaster_is_read_through_its_network(sine_forecaster):
    forecaster, _ = sine_forecaster
    x = torch.randn(2, 8, 1)
    result = occlusion(forecaster, x)
    assert result.attribution.shape == (2, 8) and result.output.shape == (2, 2)
    np.testing.assert_array_equal(result.attribution,
                                  occlusion(forecaster.model_, x).attribution)


def test_integrated_gradients_of_a_linear_model_are_w_times_x():
    w = torch.tensor([1.0, -2.0, 0.5, 4.0], dtype=torch.float64)
    x = torch.tensor([[[1.0], [2.0], [3.0], [-1.0]], [[0.5], [0.0], [1.0], [2.0]]],
                     dtype=torch.float64)
    result = integrated_gradients(Weighted(w), x, target=1, steps=4)
    assert isinstance(result, IntegratedGradients) and result.attribution.shape == (2, 4, 1)
    # captum weights its quadrature points in float32: exact to ~3e-8 relative, not 1e-16
    np.testing.assert_allclose(result.by_step, 2 * (w * x[..., 0]).numpy(), rtol=1e-7)
    np.testing.assert_allclose(result.delta, 0.0, atol=1e-6)
    mean = integrated_gradients(Weighted(w), x, baseline="mean", target=0, steps=3)
    np.testing.assert_allclose(mean.by_step, (w * (x[..., 0] - x.mean())).numpy(), rtol=1e-7)


def test_integrated_gradients_are_complete_for_an_lstm():
    torch.manual_seed(2)
    layer = LSTM(2, 3).double()
    x = torch.randn(3, 5, 2, dtype=torch.float64)
    result = integrated_gradients(layer, x, target=4 * 3, steps=64)  # unit 0 at the last step
    np.testing.assert_allclose(result.delta, 0.0, atol=1e-6)
    expected_total = result.output - result.baseline_output
    np.testing.assert_allclose(result.attribution.sum((1, 2)), expected_total, atol=1e-6)
    assert len(result.plot().axes) == 3


class Masked(nn.Module):
    """The sum of each sequence's first ``lengths[b]`` values, times 3: steps past a
    sequence's length get no attribution, and ``extra`` must reach the model."""

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = torch.arange(x.shape[1])[None, :] < lengths[:, None]  # (B, T)
        return 3 * (x[..., 0] * mask).sum(1, keepdim=True)  # (B, 1)


def test_extra_inputs_reach_the_model_in_both_methods():
    x = torch.tensor([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]]], dtype=torch.float64)
    lengths = torch.tensor([3, 1])
    ig = integrated_gradients(Masked(), x, extra=(lengths,), steps=2)
    np.testing.assert_allclose(ig.by_step, [[3, 6, 9], [12, 0, 0]], rtol=1e-7)
    occ = occlusion(Masked(), x, extra=(lengths,))
    np.testing.assert_allclose(occ.attribution, [[3, 6, 9], [12, 0, 0]])
    with pytest.raises(ShapeError, match=r"extra\[0\]: expected the batch axis \(2\) first"):
        occlusion(Masked(), x, extra=(torch.tensor([3, 1, 2]),))
    with pytest.raises(ConfigError, match="extra: expected a tuple"):
        integrated_gradients(Masked(), x, extra=lengths)


def test_integrated_gradients_without_captum_name_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_captum(name, *args, **kwargs):
        if name.startswith("captum"):
            raise ImportError("no captum here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_captum)
    with pytest.raises(MissingDependencyError, match=r"rnnkit\[analysis\]"):
        integrated_gradients(Masked(), torch.ones(1, 2, 1), extra=(torch.tensor([2]),))


def test_integrated_gradients_misuse():
    x = torch.randn(2, 4, 1)
    with pytest.raises(ConfigError, match="steps: expected an integer >= 1, got 0"):
        integrated_gradients(LastStep(), x, steps=0)
    with pytest.raises(ConfigError, match="target: expected None or an integer output index"):
        integrated_gradients(LastStep(), x, target="a")


class BagOfEmbeddings(nn.Module):
    """Logits = sum over tokens of a linear map of each token's embedding: linear in the
    embeddings, so integrated gradients are exact: token t's attribution is
    (W e(id_t) - W e(baseline))[target]."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(6, 3)
        self.out = nn.Linear(3, 2, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.embed(ids)).sum(1)  # (B, 2)


def test_token_attributions_of_a_linear_bag_of_embeddings_are_exact():
    from rnnkit.analysis.sensitivity import TokenAttributions, token_attributions

    model = BagOfEmbeddings().double()
    ids = torch.tensor([[1, 2, 3], [4, 0, 5]])
    result = token_attributions(model, ids, steps=4)
    assert isinstance(result, TokenAttributions)
    with torch.no_grad():
        per_token = model.out(model.embed(ids) - model.embed(torch.zeros_like(ids)))  # (B,T,2)
        chosen = model(ids).argmax(-1)
    expected = per_token[torch.arange(2), :, chosen].numpy()  # (B, T)
    np.testing.assert_allclose(result.attribution, expected, rtol=1e-6, atol=1e-9)
    assert result.attribution[1, 1] == 0.0  # the baseline token itself contributes nothing
    np.testing.assert_array_equal(result.target, chosen.numpy())
    assert len(result.plot().axes) == 3


def test_token_attributions_misuse():
    from rnnkit.analysis.sensitivity import token_attributions

    with pytest.raises(ConfigError, match="model: expected a token model with an nn.Embedding"):
        token_attributions(LSTM(2, 3), torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ConfigError, match=r"ids: expected integer token ids of shape \(B, T\)"):
        token_attributions(BagOfEmbeddings(), torch.zeros(1, 3))
    with pytest.raises(ConfigError, match=r"target: expected 1 output indices"):
        token_attributions(BagOfEmbeddings(), torch.zeros(1, 3, dtype=torch.long),
                           target=[0, 1])
