"""Long gaps in a series: the rows that were filled in inside a stretch longer than
``load_series(max_gap=...)``, which forecasters keep out of their windows.

Symbols: ``T`` time steps (rows).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from rnnkit._validation import expected
from rnnkit.data.timestamps import _fmt_time
from rnnkit.errors import ConfigError

__all__: list[str] = []

logger = logging.getLogger(__name__)


def _long_gaps(observed: pd.Index, index: pd.Index, max_gap: int | str,
               freq: str | int | None) -> np.ndarray:
    """Shape ``(T,)``: the rows of ``index`` that are not observations and lie inside a
    stretch between two observations (or before the first / after the last) that is longer
    than ``max_gap``."""
    datetime = isinstance(index, pd.DatetimeIndex)
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, str)) \
            or (isinstance(max_gap, int) and max_gap < 1):
        raise ConfigError(expected("max_gap", "a number of steps >= 1 or a pandas offset "
                                   "such as '3D'", max_gap))
    if isinstance(max_gap, str):
        if not datetime:
            raise ConfigError(expected("max_gap", "a number of steps for an integer index",
                                       max_gap))
        try:
            offset = pd.tseries.frequencies.to_offset(max_gap)
        except ValueError as err:
            raise ConfigError(expected("max_gap", "a pandas offset such as '3D' or '2h'",
                                       max_gap)) from err
    elif datetime:
        if isinstance(freq, str):
            offset = pd.tseries.frequencies.to_offset(freq) * max_gap
        else:
            offset = pd.Timedelta(int(np.median(np.diff(index.asi8))), unit=index.unit) * max_gap
    else:
        offset = (freq if isinstance(freq, int) else
                  int(np.median(np.diff(index.to_numpy()))) if len(index) > 1 else 1) * max_gap
    # the stretches: from the first row to the first observation, between observations,
    # from the last observation to the last row
    bounds = observed
    if len(bounds) == 0 or bounds[0] != index[0]:
        bounds = index[:1].append(bounds)
    if bounds[-1] != index[-1]:
        bounds = bounds.append(index[-1:])
    too_long = np.asarray(bounds[1:] > bounds[:-1] + offset, dtype=bool)  # (n_bounds - 1,)
    k = np.searchsorted(bounds, index, side="right") - 1  # the stretch each row lies in
    k = np.clip(k, 0, max(len(too_long) - 1, 0))
    mask = np.zeros(len(index), dtype=bool)
    if len(too_long):
        mask = too_long[k] & ~index.isin(observed)
    if mask.any():
        logger.warning("max_gap=%r: %d rows were filled in inside longer gaps (first at "
                       "%s); windows that reach them will be dropped", max_gap,
                       int(mask.sum()), _fmt_time(index[int(np.flatnonzero(mask)[0])]))
    return mask
