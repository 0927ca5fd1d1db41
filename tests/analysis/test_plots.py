"""Plots: valid PNG files from a History and from predict_windows frames, no display."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from rnnkit.analysis import (
    plot_forecast,
    plot_history,
    plot_residuals,
)
from rnnkit.errors import ConfigError, DataError
from rnnkit.training import History

PNG = b"\x89PNG\r\n\x1a\n"


def windows_frame(n: int = 60, horizon: int = 1) -> pd.DataFrame:
    """The shape of Forecaster.predict_windows(series, "all")."""
    index = pd.date_range("2000-01-01", periods=n, freq="MS", name="month")
    y = np.sin(np.arange(n) / 4.0)
    parts = ["train"] * (n - 20) + ["val"] * 8 + ["test"] * 12
    rows = []
    for step in range(1, horizon + 1):
        rows.append(pd.DataFrame({"origin": index - pd.DateOffset(months=step), "step": step,
                                  "part": parts, "y": y, "y_pred": y + 0.1 * step},
                                 index=index))
    return pd.concat(rows)


def assert_png(path, min_width: int = 500) -> None:
    assert path.read_bytes()[:8] == PNG
    image = imread(path)
    assert image.ndim == 3 and image.shape[1] >= min_width


def test_history_forecast_and_residual_plots_are_pngs(tmp_path) -> None:
    backend = matplotlib.get_backend()
    history = History([{"epoch": e, "loss": 1.0 / e, "val_loss": 1.2 / e + 0.01 * e}
                       for e in range(1, 8)])
    assert_png(plot_history(history, tmp_path / "loss.png"))
    frame = windows_frame(horizon=2)
    assert_png(plot_forecast(frame, tmp_path / "plots" / "forecast.png", step=2))
    assert_png(plot_residuals(frame, tmp_path / "residuals.png"))
    assert matplotlib.get_backend() == backend  # no global backend switch, no window


def test_plot_errors_name_the_problem(tmp_path) -> None:
    with pytest.raises(DataError, match="history: expected epochs with some of the keys"):
        plot_history(History(), tmp_path / "x.png")
    with pytest.raises(DataError, match="frame: expected the output of Forecaster"):
        plot_forecast(pd.DataFrame({"a": [1.0]}), tmp_path / "x.png")
    with pytest.raises(ConfigError, match=r"target: expected one of \['y'\]"):
        plot_residuals(windows_frame(), tmp_path / "x.png", target="z")
    with pytest.raises(ConfigError, match=r"step: expected one of \[1\]"):
        plot_forecast(windows_frame(), tmp_path / "x.png", step=3)
