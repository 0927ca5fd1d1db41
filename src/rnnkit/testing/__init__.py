"""rnnkit.testing: the conformance checker every rnnkit cell and layer passes (usable for your
own cells) and small helpers for tests."""

from rnnkit.testing.conformance import ConformanceError, check_cell, check_layer

__all__ = ["ConformanceError", "check_cell", "check_layer"]
