"""rnnkit._validation: the one message style ("name: expected WHAT, got GOT. FIX") and the
boundary checks built on it, each raising rnnkit's own error type."""

from __future__ import annotations

import pytest
import torch

from rnnkit._validation import (
    Described,
    check_choice,
    check_finite,
    check_positive_int,
    check_probability,
    expected,
)
from rnnkit.errors import ConfigError, ShapeError


def test_expected_formats_name_what_got_and_fix():
    assert expected("hidden_size", "an integer >= 1", 0) == "hidden_size: expected an integer >= 1, got 0"
    assert expected("cell", "one of ['lstm']", "lsmt") == "cell: expected one of ['lstm'], got 'lsmt'"
    assert expected("x", "a 3D tensor", (2, 3), "add a batch dimension") == (
        "x: expected a 3D tensor, got (2, 3). add a batch dimension")


def test_described_shows_a_description_without_quotes():
    assert repr(Described("4 NaN entries")) == "4 NaN entries"
    assert Described("a") == "a" and isinstance(Described("a"), str)
    assert expected("x", "finite values", Described("4 NaN entries")) == (
        "x: expected finite values, got 4 NaN entries")


def test_check_choice():
    assert check_choice("mode", "sum", ("concat", "sum")) == "sum"
    with pytest.raises(ConfigError) as info:
        check_choice("mode", "avg", ("concat", "sum"))
    assert str(info.value) == "mode: expected one of ['concat', 'sum'], got 'avg'"


@pytest.mark.parametrize("value", [0, -3, 1.5, "2", True, None])
def test_check_positive_int_refuses(value):
    with pytest.raises(ConfigError) as info:
        check_positive_int("num_layers", value)
    assert str(info.value) == f"num_layers: expected an integer >= 1, got {value!r}"


def test_check_positive_int_accepts_and_takes_a_minimum():
    assert check_positive_int("n", 1) == 1
    assert check_positive_int("n", 0, minimum=0) == 0
    with pytest.raises(ConfigError, match=r"^n: expected an integer >= 2, got 1$"):
        check_positive_int("n", 1, minimum=2)


def test_check_probability():
    assert check_probability("p", 0) == 0.0 and isinstance(check_probability("p", 0), float)
    assert check_probability("p", 0.25) == 0.25
    assert check_probability("p", 1, allow_one=True) == 1.0
    for bad in (1.0, -0.1, float("nan"), "0.5", False):
        with pytest.raises(ConfigError) as info:
            check_probability("dropout", bad)
        assert str(info.value) == f"dropout: expected a probability in [0, 1), got {bad!r}"
    with pytest.raises(ConfigError) as info:
        check_probability("keep", 1.5, allow_one=True)
    assert str(info.value) == "keep: expected a probability in [0, 1], got 1.5"


def test_check_finite():
    check_finite("x", torch.tensor([1.0, 2.0]))
    check_finite("ids", torch.tensor([1, 2]))  # integers are always finite
    with pytest.raises(ShapeError) as info:
        check_finite("x", torch.tensor([[1.0, float("nan")], [float("inf"), -float("inf")]]))
    assert str(info.value) == (
        "x: expected finite values, got 3 NaN/inf entries. clean or impute the data before "
        "the model (rnnkit.data has policies)")
