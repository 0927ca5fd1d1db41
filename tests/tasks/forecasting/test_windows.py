"""Windows and forecasts: long gaps dropped, forecasts dated, rows laid out, batches run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from rnnkit.data import load_series, make_scaler, split_by_fraction, split_windows
from rnnkit.errors import DataError
from rnnkit.tasks.forecasting.preprocessing import Preprocessing
from rnnkit.tasks.forecasting.windows import (
    forecast_windows,
    future_index,
    window_frame,
    without_gaps,
)


def daily(n: int = 40):
    return load_series(pd.DataFrame({"y": np.arange(float(n))},
                                    index=pd.date_range("2024-01-01", periods=n, freq="D")))


def test_future_index_continues_the_series() -> None:
    dates = future_index(daily(), 2, None)
    assert dates.tolist() == [pd.Timestamp("2024-02-10"), pd.Timestamp("2024-02-11")]
    steps = load_series(pd.DataFrame({"y": [1.0, 2.0, 3.0]}, index=[0, 5, 10]))
    assert future_index(steps, 2, None).tolist() == [15, 20]


def test_future_index_needs_a_regular_frequency() -> None:
    irregular = load_series(pd.DataFrame(
        {"y": [1.0, 2.0, 3.0]}, index=pd.to_datetime(["2024-01-01", "2024-01-02",
                                                       "2024-01-05"])), irregular="delta")
    with pytest.raises(DataError, match="a regular frequency to date the forecasts"):
        future_index(irregular, 2, None)


def test_without_gaps_drops_only_windows_that_reach_a_gap_row() -> None:
    series = daily()
    windows = split_windows(series, 4, 2, split=split_by_fraction(series.n_steps))
    same, dropped = without_gaps(windows, None, 4)
    assert same is windows and sum(dropped.values()) == 0
    mask = np.zeros(series.n_steps, dtype=bool)
    mask[10] = True
    kept, dropped = without_gaps(windows, mask, 4)
    assert dropped["train"] == 6  # windows over rows [r - 4, r + 2) for r in 5..10 reach row 10
    assert kept.train.n_samples == windows.train.n_samples - 6
    assert kept.val.n_samples == windows.val.n_samples


def test_forecast_windows_in_original_units_and_window_frame() -> None:
    series = daily()
    scaler = make_scaler("standard").fit(series.values)
    prep = Preprocessing(("y",), ("y",), (), scaler, 4, 2, 2, "D", "datetime", None, 7)

    class LastValue(nn.Module):  # forecasts the last input step H times: (B, L, 1) -> (B, 2, 1)
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.ones(()))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, -1:, :].expand(-1, 2, -1) * self.w

    windows = split_windows(series, 4, 2, split=split_by_fraction(series.n_steps),
                            dtype=np.float64).test
    pred = forecast_windows(LastValue().double(), prep, windows.x, 2)  # (N, 2, 1)
    np.testing.assert_allclose(pred[:, 0, 0], windows.x[:, -1, 0])
    rows = window_frame(series, windows, pred, prep, "test")
    assert list(rows.columns) == ["origin", "step", "part", "y", "y_pred"]
    assert len(rows) == windows.n_samples * 2


def test_a_forecast_that_overflows_names_the_input_scale() -> None:
    series = load_series(pd.DataFrame({"y": np.arange(40.0) / 100},  # y = 0 .. 0.39
                                      index=pd.date_range("2024-01-01", periods=40, freq="D")))
    scaler = make_scaler("standard").fit(series.values)
    prep = Preprocessing(("y",), ("y",), (), scaler, 4, 1, 1, "D", "datetime", None, 7)
    windows = split_windows(series, 4, 1, split=split_by_fraction(series.n_steps),
                            scaler=scaler, dtype=np.float64).train
    # a tiny linear forecaster (L -> 1), fitted by least squares on the scaled training windows
    weights, *_ = np.linalg.lstsq(windows.x[:, :, 0], windows.y[:, 0, 0], rcond=None)
    model = nn.Linear(4, 1, bias=False)  # float32, as trained
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(weights, dtype=torch.float32)[None])

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = model

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 4, 1) -> (B, 1, 1)
            return self.head(x[..., 0])[:, None, :]

    normal = forecast_windows(Net(), prep, (np.arange(4.0).reshape(1, 4, 1) + 36) / 100, 1)
    np.testing.assert_allclose(normal, [[[0.40]]], rtol=1e-3)  # a finite fit, a finite forecast
    huge = np.full((3, 4, 1), 1e38)
    huge[0] = 0.1  # one window in range; 1e38 / 0.115 is past float32 once scaled
    with pytest.raises(DataError, match=(
            r"^forecast: expected finite values, got inf/NaN in 2 of 3 windows; largest "
            r"absolute input per column: 'y': 1e\+38 \(training center 0\.195, scale 0\.115\)\. "
            r"the inputs are far outside the training range: scale the data \(e\.g\. divide it "
            r"by a constant\) before fitting and forecasting, or refit on data of this size "
            r"\(forecast\.scaling fits its scaler on the training rows\)$")):
        forecast_windows(Net(), prep, huge, 1)
