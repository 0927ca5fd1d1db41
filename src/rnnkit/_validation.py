"""Boundary checks shared by every module: each raises an rnnkit error that names the argument,
what was expected and what was received."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from rnnkit.errors import ConfigError, RnnkitError, ShapeError

__all__ = [
    "Described",
    "check_bool",
    "check_choice",
    "check_finite",
    "check_keywords",
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


def check_bool(name: str, value: Any) -> bool:
    """A real boolean (``True``/``False``, or a NumPy bool): a string such as ``"no"`` or an
    integer is refused rather than read by its truthiness."""
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    if isinstance(value, bool) or numpy_bool:
        return bool(value)
    raise ConfigError(expected(name, "True or False", value))


def check_keywords(
    owner: str, given: Iterable[str], accepted: Iterable[str], hints: Mapping[str, str] | None = None
) -> None:
    """Refuse keyword arguments ``owner`` does not take, naming the accepted ones and the
    nearest match (or the hint in ``hints`` for a known foreign name such as ``batch_first``)."""
    accepted = sorted(set(accepted))
    unknown = [k for k in given if k not in accepted]
    if not unknown:
        return
    name = unknown[0]
    if hints and name in hints:
        fix = hints[name]
    else:
        close = difflib.get_close_matches(name, accepted, n=1)
        fix = f"did you mean {close[0]!r}?" if close else None
    raise ConfigError(expected(owner, f"keyword arguments among {accepted}",
                               Described(f"unknown {name!r}"), fix))


def check_finite(name: str, tensor: torch.Tensor, error: type[RnnkitError] = ShapeError,
                 fix: str = "clean or impute the data before the model (rnnkit.data has policies)",
                 ) -> None:
    """Raise ``error`` if ``tensor`` holds NaN or inf (one reduction; cheap next to a recurrent
    pass)."""
    if tensor.is_floating_point() and not bool(tensor.isfinite().all()):
        n_bad = int((~tensor.isfinite()).sum())
        raise error(
            expected(name, "finite values", Described(f"{n_bad} NaN/inf entries"), fix)
        )
