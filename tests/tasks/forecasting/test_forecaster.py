"""Forecaster: fit / predict / predict_windows / evaluate / save / load, on tiny runs.

The contracts proven here: forecasts are in original units with the right timestamps; the
same seed gives the same History and predictions; a loaded model predicts exactly what the
saved one did; no window reads a value at or after its target; recursive forecasts equal
feeding forecasts back by hand; bad input fails with one rnnkit error naming the problem.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from rnnkit.data import load_series
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecasting import ForecastConfig, Forecaster


def tiny(**sections: dict[str, Any]) -> ForecastConfig:
    base: dict[str, Any] = {
        "data": {"dataset": "sinusoid"},
        "forecast": {"look_back": 8},
        "model": {"hidden_size": 4, "num_layers": 1, "dropout": 0.0, "head_dropout": 0.0},
        "training": {"epochs": 2, "batch_size": 16, "device": "cpu", "num_threads": 1,
                     "progress": "off"},
        "early_stopping": {"patience": 1},
        "evaluation": {"seasonal_period": 6, "mlp_epochs": 5},
    }
    return ForecastConfig.from_dict(base).with_overrides(sections)


def sine(n: int = 120, *, monthly: bool = False, covariate: bool = False, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    frame = pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 6) + 0.05 * t
                          + 0.1 * rng.normal(size=n)})
    if covariate:
        frame["x"] = np.cos(2 * np.pi * t / 6)
    if monthly:
        frame.index = pd.date_range("2001-01-01", periods=n, freq="MS", name="month")
    return load_series(frame, targets=["y"], covariates=["x"] if covariate else ())


def test_fit_predict_in_original_units_with_timestamps() -> None:
    series = sine(monthly=True)
    f = Forecaster(tiny(forecast={"horizon": 3}))
    history = f.fit(series).history_
    assert len(history) == 2 and "val_loss" in history
    out = f.predict(series)
    assert list(out.columns) == ["y"] and out.shape == (3, 1)
    assert list(out.index) == list(pd.date_range("2011-01-01", periods=3, freq="MS"))
    assert 5 < out["y"].mean() < 25  # original units, not scaled ones
    longer = f.predict(series, horizon=7)  # beyond H: blocks of 3 fed back
    assert longer.index[-1] == pd.Timestamp("2011-07-01")
    assert np.array_equal(longer.to_numpy()[:3], out.to_numpy())


def test_integer_index_forecast_steps() -> None:
    frame = pd.DataFrame({"y": np.sin(np.arange(60) / 3)}, index=pd.Index(
        np.arange(0, 120, 2), name="step"))
    series = load_series(frame)
    f = Forecaster(tiny())
    f.fit(series)
    assert list(f.predict(series, horizon=2).index) == [120, 122]


def test_same_seed_same_history_and_predictions() -> None:
    series = sine()
    runs = []
    for _ in range(2):
        f = Forecaster(tiny(forecast={"horizon": 2}))
        h = f.fit(series).history_
        runs.append(([r["loss"] for r in h], [r["val_loss"] for r in h], f.predict(series)))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    pd.testing.assert_frame_equal(runs[0][2], runs[1][2], check_exact=True)
    other = Forecaster(tiny(forecast={"horizon": 2}, training={"seed": 1}))
    other.fit(series)
    assert not other.predict(series).equals(runs[0][2])


@pytest.mark.parametrize(("strategy", "scaling"), [
    ("direct", "window"), ("recursive", "minmax"), ("seq2seq", "standard"),
])
def test_save_load_predicts_exactly_the_same(tmp_path, strategy, scaling) -> None:
    series = sine()
    f = Forecaster(tiny(forecast={"horizon": 3, "strategy": strategy, "scaling": scaling}))
    f.fit(series)
    path = f.save(tmp_path / "bundle")
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json", "manifest.json", "metrics.json", "model.safetensors",
        "preprocessing.json", "profile.json"]
    prep = json.loads((path / "preprocessing.json").read_text())
    assert prep["look_back"] == 8 and prep["horizon"] == 3 and prep["columns"] == ["y"]
    loaded = Forecaster.load(path)
    assert loaded.config == f.config
    for name, tensor in f.model_.state_dict().items():
        assert torch.equal(tensor, loaded.model_.state_dict()[name]), name
    x = torch.randn(5, 8, 1)
    with torch.no_grad():
        assert torch.equal(f.model_(x), loaded.model_(x))
    pd.testing.assert_frame_equal(f.predict(series, horizon=5), loaded.predict(series, horizon=5),
                                  check_exact=True)
    pd.testing.assert_frame_equal(f.predict_windows(series), loaded.predict_windows(series),
                                  check_exact=True)
    assert loaded.history_ == f.history_


def test_recursive_predict_equals_feeding_forecasts_back_by_hand() -> None:
    series = sine()
    f = Forecaster(tiny(forecast={"strategy": "recursive", "horizon": 4, "scaling": "minmax"}))
    f.fit(series)
    got = f.predict(series, horizon=4)["y"].to_numpy()
    scaler = f.preprocessing_.scaler
    window = list(series.values[-8:, 0])
    manual = []
    with torch.no_grad():
        for _ in range(4):
            x = torch.tensor(scaler.transform(np.array(window[-8:])[:, None]),
                             dtype=torch.float32)[None]  # (1, L, 1)
            y = float(scaler.inverse_transform_targets(
                f.model_(x).double().numpy()[0], [0])[0, 0])
            manual.append(y)
            window.append(y)
    np.testing.assert_allclose(got, manual, rtol=1e-6)


def test_predict_windows_never_read_the_future() -> None:
    """Change every value from row r on: no forecast whose target is at or before r moves."""
    series = sine()
    f = Forecaster(tiny(forecast={"horizon": 2}))
    f.fit(series)
    before = f.predict_windows(series, "all")
    r = 110
    frame = series.frame.copy()
    frame.iloc[r:, 0] += 100.0
    after = f.predict_windows(load_series(frame), "all")
    first_target = before.index.to_numpy() - before["step"].to_numpy() + 1  # window's 1st row
    unaffected = first_target <= r
    assert unaffected.sum() > 0 and (~unaffected).sum() > 0
    np.testing.assert_array_equal(before["y_pred"][unaffected], after["y_pred"][unaffected])
    assert not np.allclose(before["y_pred"][~unaffected], after["y_pred"][~unaffected])
    assert (before["origin"] < before.index).all()
    assert set(before["part"]) == {"train", "val", "test"}


def test_evaluate_reports_model_and_baselines_on_the_same_windows() -> None:
    series = sine()
    f = Forecaster(tiny())
    f.fit(series)
    result = f.evaluate(series)
    assert result["part"] == "test" and result["seasonal_period"] == 6
    keys = {"mse", "rmse", "mae", "r2", "mape", "smape", "mase"}
    assert set(result["model"]) == keys
    # the default scaling normalizes per window: the linear AR runs both ways; ETS and ARIMA
    # are fitted on the training rows and rolled over the test windows
    assert set(result["baselines"]) == {"persistence", "seasonal_naive", "moving_average",
                                        "linear_ar", "linear_ar_window", "mlp", "ets", "arima"}
    windows = f.predict_windows(series, "test")
    assert len(windows) == result["n_windows"]
    persistence = series.values[windows.index.to_numpy() - 1, 0]  # last observed value
    rmse = float(np.sqrt(np.mean((windows["y"].to_numpy() - persistence) ** 2)))
    assert result["baselines"]["persistence"]["rmse"] == pytest.approx(rmse, rel=1e-12)
    model_rmse = float(np.sqrt(np.mean((windows["y"] - windows["y_pred"]) ** 2)))
    assert result["model"]["rmse"] == pytest.approx(model_rmse, rel=1e-12)


def test_covariates_direct_ok_recursive_refused() -> None:
    series = sine(covariate=True)
    f = Forecaster(tiny(forecast={"horizon": 2}))
    f.fit(series)
    assert f.predict(series).shape == (2, 1)
    with pytest.raises(ConfigError, match="inputs: expected the targets only"):
        f.predict(series, horizon=5)
    with pytest.raises(ConfigError, match=r"forecast\.strategy: expected 'direct' or 'seq2seq'"):
        Forecaster(tiny(forecast={"strategy": "recursive"})).fit(series)


def test_bad_series_input() -> None:
    f = Forecaster(tiny())
    with pytest.raises(ConfigError, match="Forecaster: expected a fitted forecasting task"):
        f.predict(sine())
    with pytest.raises(DataError, match=r"series: expected at least look_back \+ horizon = 9 "
                                        r"rows.*got 5 rows"):
        f.fit(sine(5))
    with pytest.raises(ConfigError, match="series: expected a TimeSeries"):
        f.fit(np.zeros(50))
    f.fit(sine())
    with pytest.raises(DataError, match=r"series columns: expected \['y'\] \(as in fit\)"):
        f.predict(sine(covariate=True))
    with pytest.raises(DataError, match="series: expected at least look_back = 8 rows"):
        f.predict(sine(7))
    with pytest.raises(ConfigError, match="horizon: expected an integer >= 1"):
        f.predict(sine(), horizon=0)
    with pytest.raises(ConfigError, match="part: expected one of"):
        f.predict_windows(sine(), "future")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"series targets: expected \['z'\]"):
        Forecaster(ForecastConfig.from_dict({"data": {"path": "x.csv", "targets": ["z"]}})
                   ).fit(sine())
