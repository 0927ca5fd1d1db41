"""Known-future covariates: every strategy learns from them, predict takes their future
values (a DataFrame, or the rows after the history in one input), evaluation reads the true
ones, a bundle keeps them, calendar features need no input, the CLI reads one CSV.

The learning test: y_t = x_t with x white noise. Only a model that reads x at the forecast
steps can know y; from the past alone the best forecast is the mean, RMSE ~ std(x) = 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rnnkit.cli.main import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.forecasting import ForecastConfig, Forecaster


def config(strategy: str = "direct", scaling: str = "window", epochs: int = 2,
           **data: Any) -> ForecastConfig:
    return ForecastConfig.from_dict({
        "data": data or {"targets": ["y"], "future_covariates": ["x"]},
        "forecast": {"look_back": 6, "horizon": 3, "strategy": strategy, "scaling": scaling},
        "model": {"hidden_size": 8, "num_layers": 1, "dropout": 0.0, "head_dropout": 0.0},
        "training": {"epochs": epochs, "batch_size": 32, "lr": 0.01, "device": "cpu",
                     "num_threads": 1, "progress": "off"},
        "early_stopping": {"patience": 0},
        "evaluation": {"baselines": False, "seasonal_period": 1},
    })


def echo(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """y_t = x_t, x ~ N(0, 1): y depends only on the same step's x."""
    x = np.random.default_rng(seed).normal(size=n)
    return pd.DataFrame({"y": x.copy(), "x": x},
                        index=pd.date_range("2020-01-01", periods=n, freq="D", name="day"))


def future_rows(start: str, values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"x": values}, index=pd.date_range(start, periods=len(values),
                                                           freq="D", name="day"))


@pytest.mark.parametrize(("strategy", "scaling"), [
    ("direct", "window"), ("recursive", "standard"), ("seq2seq", "window")])
def test_known_future_input_is_learned_by_every_strategy(strategy, scaling) -> None:
    frame = echo()
    known = Forecaster(config(strategy, scaling, epochs=30)).fit(frame)
    past = {"targets": ["y"]} if strategy == "recursive" else {"targets": ["y"],
                                                                "covariates": ["x"]}
    blind = Forecaster(config(strategy, scaling, epochs=30, **past)).fit(frame)
    rmse_known = known.evaluate(frame)["model"]["rmse"]
    rmse_blind = blind.evaluate(frame)["model"]["rmse"]
    assert rmse_blind > 0.8  # the past says nothing about white noise
    assert rmse_known < 0.25 * rmse_blind, (rmse_known, rmse_blind)
    assert known.future_covariates == ("x",) and known.covariates == ()


def test_predict_reads_the_future_frame_and_rolls_out_beyond_the_horizon() -> None:
    frame = echo(120)
    f = Forecaster(config(scaling="standard", epochs=30)).fit(frame)
    fut = future_rows("2020-04-30", [2.0, -1.0, 0.5, 1.5, -2.0])
    out = f.predict(frame, future=fut)
    assert list(out.index) == list(fut.index[:3]) and list(out.columns) == ["y"]
    assert np.corrcoef(out["y"], fut["x"][:3])[0, 1] > 0.9  # it echoes x
    longer = f.predict(frame, horizon=5, future=fut)
    np.testing.assert_array_equal(longer.to_numpy()[:3], out.to_numpy())
    assert np.corrcoef(longer["y"], fut["x"])[0, 1] > 0.9
    shorter = f.predict(frame, horizon=2, future=fut)  # reads the H = 3 trained steps
    np.testing.assert_array_equal(shorter.to_numpy(), out.to_numpy()[:2])
    as_column = fut.reset_index()  # the time column instead of the index
    pd.testing.assert_frame_equal(f.predict(frame, future=as_column), out)
    wider = pd.concat([frame[["x"]], fut])  # extra rows are looked up past
    pd.testing.assert_frame_equal(f.predict(frame, future=wider), out)


def test_predict_errors_name_rows_columns_and_time_stamps() -> None:
    frame = echo(60)
    f = Forecaster(config()).fit(frame)
    with pytest.raises(DataError, match=r"future: expected the known-future covariates "
                                        r"\['x'\] in 3 rows at 2020-03-01..2020-03-03 \(the "
                                        r"steps after the history\), got none. pass predict"):
        f.predict(frame)
    with pytest.raises(DataError, match=r"future: expected 3 rows at 2020-03-01..2020-03-03 "
                                        r".*got 2 of them; missing 2020-03-03"):
        f.predict(frame, future=future_rows("2020-03-01", [1.0, 2.0]))
    with pytest.raises(DataError, match=r"future: expected 5 rows at 2020-03-01..2020-03-05"):
        f.predict(frame, horizon=5, future=future_rows("2020-03-01", [1.0, 2.0, 3.0]))
    with pytest.raises(DataError, match=r"future: expected columns \['x'\], got \['z'\]. "
                                        r"missing \['x'\]"):
        f.predict(frame, future=future_rows("2020-03-01", [1.0] * 3).rename(columns={"x": "z"}))
    with pytest.raises(DataError, match="future: expected a number in every row of "
                                        r"\['x'\].*the first 'x' at 2020-03-02"):
        f.predict(frame, future=future_rows("2020-03-01", [1.0, np.nan, 3.0]))
    plain = Forecaster(config(targets=["y"], covariates=["x"])).fit(frame)
    with pytest.raises(ConfigError, match="future: expected None for a model without future "
                                          "covariates"):
        plain.predict(frame, future=future_rows("2020-03-01", [1.0] * 3))


def test_recursive_runs_with_future_covariates_but_not_past_ones() -> None:
    frame = echo(80)
    f = Forecaster(config("recursive", "standard")).fit(frame)
    assert f.predict(frame, future=future_rows("2020-03-21", [0.0] * 4), horizon=4).shape \
        == (4, 1)
    both = pd.concat([frame, frame[["x"]].rename(columns={"x": "w"})], axis=1)
    with pytest.raises(ConfigError, match=r"forecast\.strategy: expected 'direct' or 'seq2seq'"):
        Forecaster(config("recursive", targets=["y"], covariates=["w"],
                          future_covariates=["x"])).fit(both)


def test_evaluation_windows_read_the_true_future_covariates() -> None:
    """Each window's forecast equals predict() from its history with the series' own rows as
    the future; the baselines are the usual ones."""
    frame = echo(100)
    f = Forecaster(config("seq2seq")).fit(frame)
    windows = f.predict_windows(frame, "test")
    origin = windows["origin"].iloc[-1]
    history = frame.loc[:origin]
    got = f.predict(history, future=frame[["x"]])["y"].to_numpy()
    np.testing.assert_allclose(windows["y_pred"].to_numpy()[-3:], got, rtol=1e-6)
    with_baselines = Forecaster(config().with_overrides({"evaluation": {"baselines": True}}))
    report = with_baselines.fit(frame).evaluate(frame)
    assert set(report["baselines"]) == {"persistence", "moving_average", "linear_ar",
                                        "linear_ar_window", "mlp", "ets", "arima"}


@pytest.mark.parametrize("strategy", ["direct", "recursive", "seq2seq"])
def test_save_load_predicts_the_same(tmp_path, strategy) -> None:
    frame = echo(90)
    f = Forecaster(config(strategy, calendar=["day_of_week"], targets=["y"],
                          future_covariates=["x"])).fit(frame)
    path = f.save(tmp_path / "bundle")
    prep = json.loads((path / "preprocessing.json").read_text())
    assert prep["future_covariates"] == ["x", "day_of_week_sin", "day_of_week_cos"]
    assert prep["calendar"] == ["day_of_week"] and prep["future_idx"] == [1, 2, 3]
    loaded = Forecaster.load(path)
    assert loaded.config == f.config and loaded.future_covariates == f.future_covariates
    fut = future_rows("2020-03-31", [0.5, -0.5, 1.0, 2.0, 0.0])
    for horizon in (3, 5):
        pd.testing.assert_frame_equal(f.predict(frame, horizon=horizon, future=fut),
                                      loaded.predict(frame, horizon=horizon, future=fut),
                                      check_exact=True)
    pd.testing.assert_frame_equal(f.predict_windows(frame), loaded.predict_windows(frame),
                                  check_exact=True)


def test_calendar_features_need_no_future_input() -> None:
    t = np.arange(96)
    frame = pd.DataFrame({"y": np.sin(2 * np.pi * t / 12) + 0.01 * t},
                         index=pd.date_range("2000-01-01", periods=96, freq="MS"))
    f = Forecaster(config(calendar=["month"])).fit(frame)
    assert f.future_covariates == ("month_sin", "month_cos")
    out = f.predict(frame, horizon=5)
    assert list(out.index) == list(pd.date_range("2008-01-01", periods=5, freq="MS"))
    steps = frame.reset_index(drop=True)
    with pytest.raises(DataError, match="calendar: expected a series indexed by dates"):
        Forecaster(config(calendar=["month"])).fit(steps)


def one_csv(tmp_path: Path, frame: pd.DataFrame, fut: pd.DataFrame) -> Path:
    """The history, then the rows to forecast: x filled, y empty."""
    path = tmp_path / "input.csv"
    rows = fut.assign(y=np.nan)[["y", "x"]]
    pd.concat([frame, rows]).to_csv(path, index_label="day")
    return path


def test_one_csv_holds_the_history_and_the_known_future(tmp_path) -> None:
    frame = echo(90)
    fut = future_rows("2020-03-31", [1.0, -1.0, 0.0])
    path = one_csv(tmp_path, frame, fut)
    f = Forecaster(config(path=str(path), time_col="day", targets=["y"],
                          future_covariates=["x"]))
    train = f.read_data()  # the same file trains: its future rows are set aside
    assert train.n_steps == 90 and len(train.future) == 3
    f.fit(train)
    series = f.read_data(path, labelled=False)
    out = f.predict_frame(series)
    pd.testing.assert_frame_equal(out, f.predict(frame, future=fut))
    assert out.index.name == "day"


def test_cli_predicts_from_one_csv(tmp_path, capsys) -> None:
    """``rnnkit predict RUN --input FILE``: the file ends with the rows to forecast."""
    frame = echo(90)
    data = tmp_path / "series.csv"
    frame.to_csv(data, index_label="day")
    toml = tmp_path / "echo.toml"
    cfg = config(path="series.csv", time_col="day", targets=["y"], future_covariates=["x"])
    toml.write_text(cfg.to_toml())
    fut = future_rows("2020-03-31", [1.0, -1.0, 0.0])
    forecast = tmp_path / "forecast.csv"
    for argv in (["train", toml, "--out", tmp_path / "run", "--no-report"],
                 ["predict", tmp_path / "run", "--input", one_csv(tmp_path, frame, fut),
                  "--output", forecast]):
        try:
            main([str(a) for a in argv])
        except SystemExit as stop:
            assert stop.code == 0, capsys.readouterr()
    out = pd.read_csv(forecast, index_col=0, parse_dates=True)
    assert list(out.index) == list(fut.index) and list(out.columns) == ["y"]
