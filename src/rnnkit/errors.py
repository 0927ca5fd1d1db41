"""rnnkit's exception and warning types.

Every error raised on bad user input is one of these, and its message names the argument,
what was expected and what was received (see :func:`rnnkit._validation.expected`).
They subclass the built-in type a Python user would try first (``ValueError``, ``TypeError``),
so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "MissingDependencyError",
    "RnnkitError",
    "RnnkitWarning",
    "ShapeError",
    "StateError",
]


class RnnkitError(Exception):
    """Base class of every error rnnkit raises on purpose."""


class ConfigError(RnnkitError, ValueError):
    """An argument or configuration value is not one rnnkit accepts."""


class ShapeError(RnnkitError, ValueError):
    """A tensor has the wrong rank, size or dtype for the argument it was passed as."""


class StateError(ShapeError):
    """A recurrent state (initial or carried) does not fit the layer or the batch."""


class DataError(RnnkitError, ValueError):
    """Input data is unusable as given: missing columns, NaN without a policy, too short, ..."""


class MissingDependencyError(RnnkitError, ImportError):
    """An optional dependency needed by the requested feature is not installed."""


class RnnkitWarning(UserWarning):
    """Warnings rnnkit emits (for example a fall back to a slower backend)."""
