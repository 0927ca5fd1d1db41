"""ETS and (S)ARIMA rolled forward with fixed parameters, and the seasonal naive forecast over
the full history: equal to statsmodels' own forecasts from the same fitted results."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.baselines.statistical import ARIMA, ETS, HistorySeasonalNaive
from rnnkit.errors import ConfigError, DataError, ShapeError

T, TRAIN = 160, 110


def toy(seed: int = 0) -> np.ndarray:
    """A trending series with a season of 6 and noise, (T,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    return 5 + np.sin(2 * np.pi * t / 6) + 0.03 * t + 0.1 * rng.normal(size=T)


@pytest.mark.parametrize("baseline", [ARIMA(), ETS(m=6)], ids=["arima", "ets-seasonal"])
def test_rolled_forward_equals_statsmodels_from_the_same_parameters(baseline) -> None:
    y = toy()
    origins = np.arange(TRAIN, T - 2)
    baseline.fit(y[:TRAIN])
    result = baseline._states[0]  # statsmodels' fitted results
    # one step ahead: the extended results' own one-step predictions
    one = baseline.predict(y, origins, 1)  # (N, 1, 1)
    first = TRAIN - result.model.nobs  # a seasonal fit reads its last 20 seasons only
    np.testing.assert_allclose(one[:, 0, 0], result.append(y[TRAIN:]).predict()[origins - first],
                               rtol=1e-10, atol=1e-10)
    # three steps ahead: statsmodels' forecast from the history before each origin
    three = baseline.predict(y, origins, 3)
    for i in (0, 17, len(origins) - 1):
        reference = result.apply(y[first:origins[i]]).forecast(3)
        np.testing.assert_allclose(three[i, :, 0], reference, rtol=1e-10, atol=1e-10)
    # a forecast reads only the rows before its origin
    changed = y.copy()
    changed[origins[20]:] += 100.0
    np.testing.assert_array_equal(baseline.predict(changed, origins[:21], 3), three[:21])


def test_only_the_last_rows_are_fitted_and_seasons_follow_the_rule() -> None:
    y = toy()
    short = ARIMA(max_fit_rows=40).fit(y[:TRAIN])
    assert short._states[0].model.nobs == 40
    origins = np.arange(TRAIN, T - 1)
    result = short._states[0]
    np.testing.assert_allclose(short.predict(y, origins, 1)[:, 0, 0],
                               result.append(y[TRAIN:]).predict()[origins - (TRAIN - 40)],
                               rtol=1e-10, atol=1e-10)
    with pytest.raises(DataError, match="origins: expected rows after row 70"):
        short.predict(y, np.array([60]), 1)
    assert ETS(m=6)._seasonal(12) and not ETS(m=6)._seasonal(11)  # two seasons of rows
    assert not ETS(m=24)._seasonal(1000)  # longer than max_season (12): no season
    assert ETS(m=3).fit(toy()[:TRAIN])._states[0].model.nobs == 20 * 3  # 20 seasons fitted
    assert ARIMA(m=6).fit(y[:TRAIN])._states[0].model.seasonal_periods == 6


def test_several_targets_are_fitted_one_by_one() -> None:
    y = np.stack([toy(0), 2 * toy(1)], axis=1)  # (T, 2)
    origins = np.arange(TRAIN, T - 2)
    both = ARIMA().fit(y[:TRAIN]).predict(y, origins, 2)
    second = ARIMA().fit(y[:TRAIN, 1]).predict(y[:, 1], origins, 2)
    assert both.shape == (len(origins), 2, 2)
    np.testing.assert_array_equal(both[..., 1], second[..., 0])


def test_history_seasonal_naive_reads_one_season_back_in_the_series() -> None:
    y = toy()
    origins = np.array([60, 100, 150])
    out = HistorySeasonalNaive(48).fit(y[:TRAIN]).predict(y, origins, 50)  # m > look-back
    rows = origins[:, None] - 48 + np.arange(50) % 48  # beyond m steps the season repeats
    np.testing.assert_array_equal(out[..., 0], y[rows])
    with pytest.raises(DataError, match="origins: expected rows >= m = 48 .one season"):
        HistorySeasonalNaive(48).fit(y[:TRAIN]).predict(y, np.array([47]), 1)


def test_failures_are_named_not_crashes() -> None:
    with pytest.raises(DataError, match="ets training series: expected at least 4 observed"):
        ETS().fit(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(DataError, match="arima training series: expected at least 4"):
        ARIMA().fit(np.full(20, np.nan))
    with pytest.raises(ConfigError, match=r"ARIMA.predict: expected a fitted baseline"):
        ARIMA().predict(toy(), np.array([120]), 1)
    fitted = ARIMA().fit(toy()[:TRAIN])
    with pytest.raises(DataError, match="series: expected the training rows"):
        fitted.predict(toy() + 1.0, np.array([120]), 1)
    with pytest.raises(DataError, match="origins: expected a 1-D array of integer rows"):
        fitted.predict(toy(), np.array([T + 1]), 1)
    with pytest.raises(ShapeError, match="series: expected 1 target column"):
        fitted.predict(np.ones((T, 2)), np.array([120]), 1)
    with pytest.raises(ConfigError, match="order: expected three integers >= 0"):
        ARIMA(order=(1, 1))


def test_a_fit_statsmodels_refuses_is_a_data_error_and_non_convergence_a_note(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    def refuse(self, *args, **kwargs):
        raise np.linalg.LinAlgError("Schur decomposition solver error")

    with monkeypatch.context() as patch:
        patch.setattr(SARIMAX, "fit", refuse)
        with pytest.raises(DataError, match="arima fit: expected a model statsmodels can fit, "
                                            "got LinAlgError: Schur decomposition"):
            ARIMA().fit(toy()[:TRAIN])
    stopped = ETS(maxiter=1).fit(toy()[:TRAIN])
    assert stopped.notes_ == ["ets: the optimizer did not converge (kept its last parameters)"]
    assert stopped.predict(toy(), np.array([TRAIN]), 2).shape == (1, 2, 1)
