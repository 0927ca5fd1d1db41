"""rnnkit.errors: every error is a RnnkitError and the built-in type it promises, so both
``except RnnkitError`` and ``except ValueError`` (or ImportError) catch it."""

from __future__ import annotations

import warnings

import pytest

from rnnkit import errors
from rnnkit.errors import (
    ConfigError,
    DataError,
    MissingDependencyError,
    RnnkitError,
    RnnkitWarning,
    ShapeError,
    StateError,
)


@pytest.mark.parametrize("error,builtin", [
    (ConfigError, ValueError),
    (ShapeError, ValueError),
    (StateError, ValueError),
    (DataError, ValueError),
    (MissingDependencyError, ImportError),
])
def test_each_error_is_an_rnnkit_error_and_its_builtin_type(error, builtin):
    assert issubclass(error, RnnkitError) and issubclass(error, builtin)
    with pytest.raises(builtin, match="^boom$"):
        raise error("boom")


def test_a_state_error_is_a_shape_error():
    assert issubclass(StateError, ShapeError)
    assert not issubclass(ShapeError, StateError)
    assert not issubclass(ConfigError, ShapeError) and not issubclass(DataError, ConfigError)


def test_the_base_and_the_warning():
    assert RnnkitError.__bases__ == (Exception,)
    assert not issubclass(RnnkitError, ValueError)  # only the concrete errors promise one
    assert issubclass(RnnkitWarning, UserWarning) and not issubclass(RnnkitWarning, RnnkitError)
    with pytest.warns(RnnkitWarning, match="slower"):
        warnings.warn("falling back to a slower backend", RnnkitWarning, stacklevel=1)


def test_all_names_every_type():
    assert sorted(errors.__all__) == sorted(
        name for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, (RnnkitError, RnnkitWarning)))


def test_errors_are_value_errors_too():
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, RnnkitError)
