"""Classical forecasters as baselines: ETS, (S)ARIMA and the seasonal naive forecast over the
full history, fitted once on the training series and rolled forward over the test windows.

These baselines read the series itself, not windows: :meth:`SeriesBaseline.fit` takes the
contiguous training rows of the target(s) and :meth:`SeriesBaseline.predict` the whole series
(T, K) with the row of each window's first forecast step (its *origin*). Every forecast uses
only the true history before its origin, like the window baselines, and the fitted parameters
stay fixed over the test part.

Symbols: T rows, K targets, N windows (origins o_i), H horizon, m season length.

======================  ==================================================================
ETS                     statsmodels' linear exponential smoothing (state space): additive
                        trend, damped or not (the lower AIC), additive season when
                        1 < m <= ``max_season`` (12) and the training part has 2 m rows
                        (its initial states then from statsmodels' heuristic)
ARIMA                   statsmodels' SARIMAX, ``order`` (default (1, 1, 1)); with a season
                        (same rule as ETS) ``seasonal_order`` (default (0, 1, 1, m))
HistorySeasonalNaive    ŷ_{o+h} = y_{o − m + (h mod m)}, h = 0 .. H−1: one season back in the
                        series, so m may exceed the look-back
======================  ==================================================================

How the state-space models roll forward: the results fitted on the training rows are
extended over the rest of the series with :meth:`MLEModelResults.append` (the parameters are
not refitted); the Kalman filter's predicted state ``a_{o|o−1}`` at each origin depends only on
rows before o, and the H forecasts are ``ŷ_{o+h} = Z Tʰ a_{o|o−1} + d`` (+ the state intercept
carried along), computed for all origins at once. For H = 1 this is exactly statsmodels'
one-step ``predict()`` on the extended results; for H > 1 it equals
``results.apply(y[:o]).forecast(H)`` at each origin, at the cost of one filtering pass.

A model statsmodels cannot fit raises :class:`~rnnkit.errors.DataError` naming the model and the
cause; evaluations report it as skipped. An optimizer that stops before converging is kept and
said in ``notes_``.

Example:
    >>> import numpy as np
    >>> y = np.sin(np.arange(300) / 4.0)[:, None] + 0.01 * np.arange(300)[:, None]  # (T, 1)
    >>> arima = ARIMA().fit(y[:200])
    >>> arima.predict(y, np.arange(250, 290), horizon=3).shape
    (40, 3, 1)
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, ClassVar, Self

import numpy as np

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = ["ARIMA", "ETS", "HistorySeasonalNaive", "SeriesBaseline"]

logger = logging.getLogger(__name__)

#: The most training rows (the last ones) a state-space baseline is fitted on: the fit's cost
#: grows with them, the filter's over the rest of the series stays cheap.
MAX_FIT_ROWS = 1000
#: The longest season the state-space baselines model: their state grows with m and the fit's
#: cost faster (on a loaded 2-core machine, seasonal ETS and SARIMA with m = 24 on 1000 rows
#: took 89 s and 43 s); longer seasons are fitted without one (the seasonal naive baseline
#: still reads one season back).
MAX_SEASON = 12
#: With a season, the fit reads at most this many seasons of the last training rows.
SEASONS_FITTED = 20


def _series(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 (T, K) array: a (T,) series gains a trailing axis."""
    y = np.asarray(value, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] == 0 or y.shape[1] == 0:
        raise ShapeError(expected(name, "a series of shape (T,) or (T, n_targets), T >= 1",
                                  y.shape))
    return y


class SeriesBaseline:
    """Base of the baselines that read the series: fit on the training rows, forecast at origins.

    Subclasses implement ``_fit_one(y) -> state`` for one target column y (T_train,) and
    ``_predict_one(state, y, origins, horizon) -> (N, H)``. Fitted attributes: ``n_targets_``
    (K), ``n_train_`` (T_train); ``notes_`` lists what the fit would like you to know (an
    optimizer that did not converge).
    """

    name: ClassVar[str] = "series_baseline"

    n_targets_: int
    n_train_: int
    notes_: list[str]

    def fit(self, series_train: Any) -> Self:
        """Fit on the contiguous training rows ``series_train`` (T_train,) or (T_train, K)."""
        y = _series("series_train", series_train)
        self.n_train_, self.n_targets_ = y.shape
        self.notes_ = []
        self._states = [self._fit_one(y[:, k]) for k in range(self.n_targets_)]
        return self

    def predict(self, series: Any, origins: Any, horizon: int) -> np.ndarray:
        """Forecast ``horizon`` steps from each origin: float64 (N, H, K).

        Args:
            series: the whole series (T,) or (T, K), whose first rows are the training rows;
                only rows before each origin are read for that origin's forecast.
            origins: (N,) row of each window's first forecast step, in [1, T].
            horizon: H.
        """
        if not hasattr(self, "n_targets_"):
            raise ConfigError(expected(f"{type(self).__name__}.predict", "a fitted baseline",
                                       "an unfitted one", "call fit(series_train) first"))
        y = _series("series", series)
        H = check_positive_int("horizon", horizon)
        if y.shape[1] != self.n_targets_:
            raise ShapeError(expected("series", f"{self.n_targets_} target column(s) as in fit",
                                      y.shape))
        o = np.asarray(origins)
        if o.ndim != 1 or (o.size and (not np.issubdtype(o.dtype, np.integer)
                                       or o.min() < 1 or o.max() > y.shape[0])):
            raise DataError(expected("origins", f"a 1-D array of integer rows in [1, "
                                     f"{y.shape[0]}]", o if o.size <= 6 else o.shape))
        o = o.astype(np.int64)
        out = np.stack([self._predict_one(self._states[k], y[:, k], o, H)
                        for k in range(self.n_targets_)], axis=-1)  # (N, H, K)
        if not np.isfinite(out).all():
            raise DataError(expected(f"{self.name} forecasts", "finite values",
                                     Described("inf/NaN (the fitted model diverges on this series)")))
        return out

    def _fit_one(self, y: np.ndarray) -> Any:
        raise NotImplementedError

    def _predict_one(self, state: Any, y: np.ndarray, origins: np.ndarray, horizon: int
                     ) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self._params().items()]
        return f"{type(self).__name__}({', '.join(shown)})"

    def _params(self) -> dict[str, Any]:
        return {}


class HistorySeasonalNaive(SeriesBaseline):
    """The value one season back in the series, ``ŷ_{o+h} = y_{o − m + (h mod m)}``.

    Unlike :class:`~rnnkit.baselines.forecasting.SeasonalNaive` it reads the series, so the
    season m may be longer than the look-back (e.g. daily seasonality in 5-minute data, m = 288);
    every origin needs m rows before it.

    Args:
        m: the season length in steps.
    """

    name: ClassVar[str] = "seasonal_naive"

    def __init__(self, m: int) -> None:
        self.m = check_positive_int("m", m)

    def _params(self) -> dict[str, Any]:
        return {"m": self.m}

    def _predict_one(self, state: Any, y: np.ndarray, origins: np.ndarray, horizon: int
                     ) -> np.ndarray:
        if origins.size and origins.min() < self.m:
            raise DataError(expected("origins", f"rows >= m = {self.m} (one season of history "
                                     "before each forecast)", int(origins.min())))
        rows = origins[:, None] - self.m + np.arange(horizon)[None, :] % self.m  # (N, H)
        return y[rows]

    def _fit_one(self, y: np.ndarray) -> Any:
        return None


class _StateSpaceBaseline(SeriesBaseline):
    """A statsmodels state-space model fitted once, rolled forward with fixed parameters."""

    def __init__(self, m: int = 1, max_season: int = MAX_SEASON, maxiter: int = 200,
                 max_fit_rows: int = MAX_FIT_ROWS) -> None:
        self.m = check_positive_int("m", m)
        self.max_season = check_positive_int("max_season", max_season)
        self.maxiter = check_positive_int("maxiter", maxiter)
        self.max_fit_rows = check_positive_int("max_fit_rows", max_fit_rows, minimum=4)

    def _seasonal(self, n_train: int) -> bool:
        """Model a season: 1 < m <= max_season and two full seasons (at least 10) of training
        rows."""
        return 1 < self.m <= self.max_season and n_train >= max(2 * self.m, 10)

    def _candidates(self, y: np.ndarray) -> list[Any]:
        raise NotImplementedError

    def _fit_one(self, y: np.ndarray) -> Any:
        # the fit's cost grows with its rows (and a season's state with m): the last rows
        # suffice, SEASONS_FITTED seasons of them with a season
        rows = (min(self.max_fit_rows, SEASONS_FITTED * self.m) if self._seasonal(y.shape[0])
                else self.max_fit_rows)
        y = y[-rows:]
        if np.isnan(y).all() or y.shape[0] < 4:
            raise DataError(expected(f"{self.name} training series", "at least 4 observed rows",
                                     int(np.isfinite(y).sum())))
        best, errors = None, []
        for model in self._candidates(y):
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    result = model.fit(disp=False, maxiter=self.maxiter)
            except (ValueError, np.linalg.LinAlgError) as err:
                errors.append(f"{type(err).__name__}: {err}")
                continue
            if not np.isfinite(result.llf):
                errors.append("a non-finite likelihood")
                continue
            if best is None or result.aic < best.aic:
                best, best_caught = result, caught
        if best is None:
            raise DataError(expected(f"{self.name} fit", "a model statsmodels can fit",
                                     Described("; ".join(errors) or "no candidate")))
        if not best.mle_retvals.get("converged", True) or any(
                "converge" in str(w.message).lower() for w in best_caught):
            note = f"{self.name}: the optimizer did not converge (kept its last parameters)"
            logger.warning(note)
            self.notes_.append(note)
        return best

    def _predict_one(self, state: Any, y: np.ndarray, origins: np.ndarray, horizon: int
                     ) -> np.ndarray:
        result = state
        first = self.n_train_ - result.model.nobs  # the first row the model was fitted on
        rest = y[self.n_train_:]
        if not np.array_equal(y[first: self.n_train_], np.asarray(result.model.endog)[:, 0],
                              equal_nan=True):
            raise DataError(expected("series", "the training rows the baseline was fitted on "
                                     "as its first rows", Described("different values")))
        if origins.size and origins.min() <= first:
            raise DataError(expected("origins", f"rows after row {first} (the first row of the "
                                     "fit)", int(origins.min())))
        extended = result.append(rest) if rest.size else result  # same parameters, filtered on
        fr = extended.filter_results
        for key in ("design", "transition", "obs_intercept", "state_intercept"):
            if getattr(fr, key).shape[-1] != 1:
                raise DataError(expected(f"{self.name} model", "time-invariant state-space "
                                         "matrices", Described(f"a time-varying {key}")))
        Z, Tm = fr.design[:, :, 0], fr.transition[:, :, 0]  # (1, S), (S, S)
        d, c = fr.obs_intercept[:, 0], fr.state_intercept[:, 0]  # (1,), (S,)
        a = fr.predicted_state[:, origins - first]  # (S, N): a_{o|o-1}, from rows before o only
        out = np.empty((origins.size, horizon))
        for h in range(horizon):
            out[:, h] = (Z @ a)[0] + d[0]
            a = Tm @ a + c[:, None]
        return out


class ETS(_StateSpaceBaseline):
    """Linear exponential smoothing with an additive trend, damped or not (the lower AIC), and
    an additive season when 1 < m <= ``max_season`` with two seasons of training rows
    (statsmodels' ``statespace.ExponentialSmoothing``; initial states estimated, or with a
    season taken from the first cycles by its heuristic).

    Args:
        m: the season length (1: none).
        max_season: the longest season modelled (the state has m + 1 entries).
        maxiter: the optimizer's iteration cap.
        max_fit_rows: the fit reads the last this many training rows.
    """

    name: ClassVar[str] = "ets"

    def _params(self) -> dict[str, Any]:
        return {"m": self.m}

    def _candidates(self, y: np.ndarray) -> list[Any]:
        from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

        season = self.m if self._seasonal(y.shape[0]) else None
        # estimating m + 2 initial states made a seasonal fit ten times slower (2 s against
        # 0.2 s for m = 12 on 240 rows): with a season they come from the first cycles
        init = "estimated" if season is None else "heuristic"
        return [ExponentialSmoothing(y, trend=True, damped_trend=damped, seasonal=season,
                                     initialization_method=init)
                for damped in (False, True)]


class ARIMA(_StateSpaceBaseline):
    """(S)ARIMA from statsmodels' ``SARIMAX``: ``order`` (p, d, q), and with a season (1 < m <=
    ``max_season``, two seasons of training rows) ``seasonal_order`` (P, D, Q) at period m.

    Args:
        m: the season length (1: none).
        order: (p, d, q), default (1, 1, 1).
        seasonal_order: (P, D, Q) used when seasonal, default (0, 1, 1).
        max_season: the longest season modelled.
        maxiter: the optimizer's iteration cap.
        max_fit_rows: the fit reads the last this many training rows.
    """

    name: ClassVar[str] = "arima"

    def __init__(self, m: int = 1, order: tuple[int, int, int] = (1, 1, 1),
                 seasonal_order: tuple[int, int, int] = (0, 1, 1), max_season: int = MAX_SEASON,
                 maxiter: int = 200, max_fit_rows: int = MAX_FIT_ROWS) -> None:
        super().__init__(m, max_season, maxiter, max_fit_rows)
        for arg, value in (("order", order), ("seasonal_order", seasonal_order)):
            if (not isinstance(value, (tuple, list)) or len(value) != 3
                    or any(isinstance(v, bool) or not isinstance(v, int) or v < 0
                           for v in value)):
                raise ConfigError(expected(arg, "three integers >= 0", value))
        self.order = tuple(order)
        self.seasonal_order = tuple(seasonal_order)

    def _params(self) -> dict[str, Any]:
        return {"m": self.m, "order": self.order}

    def _candidates(self, y: np.ndarray) -> list[Any]:
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        seasonal = ((*self.seasonal_order, self.m) if self._seasonal(y.shape[0])
                    else (0, 0, 0, 0))
        return [SARIMAX(y, order=self.order, seasonal_order=seasonal)]
