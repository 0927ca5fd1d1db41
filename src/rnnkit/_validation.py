"""Boundary checks shared by every module: each raises an rnnkit error that names the argument,
what was expected and what was received."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from rnnkit.errors import ConfigError, ShapeError

__all__ = [
    "Described",
    "check_choice",
    "check_finite",
    "check_positive_int",
    "check_probability",
    "expected",
]


class Described(str):
    """A description of a received value, shown without quotes in :func:`expected`."""

    def __repr__(self) -> str:
        return str(self)


def expected(name: str, what: str, got: Any, fix: str | None = None) -> str:
    """Format the one message style of rnnkit: ``name: expected WHAT, got GOT. FIX``.

    ``got`` is shown with ``repr`` (so a received string appears quoted); wrap a description
    of what was received in :class:`Described` to show it as plain text.
    """
    msg = f"{name}: expected {what}, got {got!r}"
    return f"{msg}. {fix}" if fix else msg


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    choices = list(choices)
    if value not in choices:
        raise ConfigError(expected(name, f"one of {choices}", value))
    return value


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(expected(name, f"an integer >= {minimum}", value))
    return value


def check_probability(name: str, value: Any, *, allow_one: bool = False) -> float:
    hi_ok = (lambda v: v <= 1.0) if allow_one else (lambda v: v < 1.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value >= 0.0 and hi_ok(value)):
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise ConfigError(expected(name, f"a probability in {bound}", value))
    return float(value)


def check_finite(name: str, tensor: torch.Tensor) -> None:
    """Raise if ``tensor`` holds NaN or inf (one reduction; cheap next to a recurrent pass)."""
    if tensor.is_floating_point() and not bool(tensor.isfinite().all()):
        n_bad = int((~tensor.isfinite()).sum())
        raise ShapeError(
            expected(name, "finite values", Described(f"{n_bad} NaN/inf entries"),
                     "clean or impute the data before the model (rnnkit.data has policies)")
        )
