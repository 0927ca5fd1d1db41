"""rnnkit.nn.activations: activations by name (any case) or as a callable, and the error
that lists the names."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn.activations import ACTIVATIONS, resolve_activation

X = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])


@pytest.mark.parametrize("name,want", [
    ("tanh", torch.tanh(X)),
    ("relu", torch.tensor([0.0, 0.0, 0.0, 0.5, 2.0])),
    ("elu", torch.where(X > 0, X, torch.exp(X) - 1)),
    ("sigmoid", 1 / (1 + torch.exp(-X))),
    ("hard_tanh", torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0])),
    ("softsign", X / (1 + X.abs())),
    ("identity", X),
])
def test_each_name_computes_its_function(name, want):
    resolved, fn = resolve_activation(name)
    assert resolved == name
    torch.testing.assert_close(fn(X), want)


def test_names_are_case_insensitive_and_the_table_is_complete():
    assert resolve_activation("TanH") == ("tanh", torch.tanh)
    assert sorted(ACTIVATIONS) == ["elu", "hard_tanh", "identity", "relu", "sigmoid",
                                   "softsign", "tanh"]


def test_a_callable_keeps_its_name():
    assert resolve_activation(torch.sin) == ("sin", torch.sin)

    class Scaled:  # a callable object without __name__
        def __call__(self, x):
            return 2 * x

    scaled = Scaled()
    assert resolve_activation(scaled) == ("custom", scaled)


@pytest.mark.parametrize("bad", ["relux", 3, None])
def test_unknown_activation_lists_the_names(bad):
    with pytest.raises(ConfigError) as info:
        resolve_activation(bad)
    assert str(info.value) == (
        "activation: expected a callable or one of ['elu', 'hard_tanh', 'identity', 'relu', "
        f"'sigmoid', 'softsign', 'tanh'], got {bad!r}")
