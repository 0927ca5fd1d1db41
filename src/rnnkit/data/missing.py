"""Missing values in a series: where they are, and the explicit policy that fills them.

:func:`find_missing` counts and locates them; ``load_series(missing=...)`` applies one of
the :data:`MissingPolicy` choices (see :func:`_handle_missing`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from rnnkit._validation import Described, expected
from rnnkit.data.timestamps import _fmt_time, _interpolation_method
from rnnkit.errors import DataError

__all__ = ["MissingPolicy", "MissingReport", "find_missing"]

logger = logging.getLogger(__name__)

MissingPolicy = Literal["error", "interpolate", "ffill"]

_MISSING_POLICIES: tuple[str, ...] = ("error", "interpolate", "ffill")


@dataclass(frozen=True)
class MissingReport:
    """Where values are missing in a frame.

    Attributes:
        count: total number of missing entries.
        by_column: missing entries per column (only columns that have some).
        first: up to ``max_positions`` of the first missing entries in row order, each
            ``(row, time, column)`` with ``row`` the 0-based position and ``time`` its label.
    """

    count: int
    by_column: dict[str, int]
    first: tuple[tuple[int, Any, str], ...]

    def __str__(self) -> str:
        if not self.count:
            return "no missing values"
        per_column = ", ".join(f"{col!r}: {n}" for col, n in self.by_column.items())
        where = ", ".join(f"row {row} ({_fmt_time(time)}) in {col!r}"
                          for row, time, col in self.first)
        return f"{self.count} missing values ({per_column}); first at {where}"


def find_missing(frame: pd.DataFrame, max_positions: int = 5) -> MissingReport:
    """Count the missing values of ``frame`` and locate the first ``max_positions`` of them."""
    mask = frame.isna().to_numpy()
    if not mask.any():
        return MissingReport(0, {}, ())
    per_column = mask.sum(axis=0)
    by_column = {str(col): int(n) for col, n in zip(frame.columns, per_column) if n}
    rows, cols = np.nonzero(mask)  # row-major: ordered by row, then column
    first = tuple(
        (int(r), frame.index[r], str(frame.columns[c]))
        for r, c in zip(rows[:max_positions], cols[:max_positions])
    )
    return MissingReport(int(mask.sum()), by_column, first)


def _handle_missing(frame: pd.DataFrame, policy: str) -> pd.DataFrame:
    """Apply the missing-value ``policy`` to ``frame`` (shape ``(T, F)``)."""
    report = find_missing(frame)
    if not report.count:
        return frame
    empty = [col for col, n in report.by_column.items() if n == len(frame)]
    if empty:
        raise DataError(expected("data", "at least one observed value per column",
                                 Described(f"no values at all in {empty}")))
    if policy == "error":
        raise DataError(expected("data", "no missing values", Described(str(report)),
                                 "pass missing='interpolate' or missing='ffill'"))
    if policy == "interpolate":
        # Interpolate along the real time axis so uneven gaps are weighted correctly; leading
        # and trailing gaps take the nearest observed value (no extrapolation).
        filled = frame.interpolate(method=_interpolation_method(frame.index),
                                   limit_direction="both")
    else:  # ffill
        filled = frame.ffill()
        leading = find_missing(filled)
        if leading.count:
            raise DataError(expected(
                "missing='ffill'", "an observed value before every gap",
                Described(f"leading missing values ({leading})"),
                "use missing='interpolate' or drop the leading rows"))
    logger.info("filled %s with missing=%r", report, policy)
    return filled
