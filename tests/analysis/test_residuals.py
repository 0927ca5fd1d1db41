from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rnnkit.analysis.residuals import ResidualDiagnostics, errors_by, residual_diagnostics, worst
from rnnkit.errors import ConfigError, DataError


def _ar1(phi: float, n: int, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(size=n)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x


def test_white_noise_stays_inside_the_bands_and_passes_ljung_box():
    noise = np.random.default_rng(0).normal(size=2000)
    diag = residual_diagnostics(noise, lags=40)
    assert isinstance(diag, ResidualDiagnostics)
    assert diag.acf.shape == (41,) and diag.band.shape == (41, 2) and diag.acf[0] == 1.0
    assert diag.inside_fraction >= 0.9
    assert (diag.ljung_box["lb_pvalue"] > 0.05).all()
    assert list(diag.ljung_box.index) == list(range(1, 41))
    # the band is Bartlett's: 1.96 / sqrt(N) at lag 1
    assert diag.band[1, 1] == pytest.approx(1.959964 / np.sqrt(2000), rel=1e-4)


def test_ar1_has_acf_phi_and_a_tiny_p_value():
    diag = residual_diagnostics(_ar1(0.8, 2000, seed=1), lags=10)
    assert diag.acf[1] == pytest.approx(0.8, abs=0.05)
    assert diag.acf[2] == pytest.approx(0.64, abs=0.07)
    assert diag.ljung_box["lb_pvalue"].iloc[0] < 1e-10
    assert diag.outside[0]


def test_histogram_and_qq_match_numpy_and_scipy():
    values = np.random.default_rng(2).normal(size=300)
    diag = residual_diagnostics(pd.Series(values), lags=5, bins=12)
    counts, edges = np.histogram(values, bins=12)
    np.testing.assert_array_equal(diag.hist_counts, counts)
    np.testing.assert_array_equal(diag.hist_edges, edges)
    np.testing.assert_array_equal(diag.qq_ordered, np.sort(values))
    (theo, _), (slope, intercept, r) = stats.probplot(values)
    np.testing.assert_array_equal(diag.qq_theoretical, theo)
    assert diag.qq_fit == (slope, intercept, r) and r > 0.99


def test_plot_returns_a_figure_and_writes_png_atomically(tmp_path):
    diag = residual_diagnostics(np.random.default_rng(3).normal(size=200), lags=8)
    assert len(diag.plot().axes) == 3
    path = tmp_path / "deep" / "res.png"
    diag.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["res.png"]  # no temporary left


@pytest.mark.parametrize(("values", "kwargs", "match"), [
    (np.zeros((5, 5)), {}, r"residuals: expected a 1-D series, got an array of shape \(5, 5\)"),
    ([1.0, np.nan] * 20, {}, "residuals: expected finite values, got 20 NaN/inf"),
    (np.arange(10.0), {"lags": 20}, r"expected more than lags \+ 1 = 21 values, got 10 values"),
    (np.ones(50), {}, "residuals: expected values that vary"),
    (["a", "b"], {}, "residuals: expected numbers"),
])
def test_bad_residuals_raise_data_error(values, kwargs, match):
    with pytest.raises(DataError, match=match):
        residual_diagnostics(values, **kwargs)


def test_bad_lags_raise_config_error():
    with pytest.raises(ConfigError, match="lags: expected an integer >= 1, got 0"):
        residual_diagnostics(np.arange(50.0), lags=0)


def _forecast_frame() -> pd.DataFrame:
    return pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                         "y_pred": [1.0, 1.0, 3.0, 6.0, 5.0, 9.0],
                         "step": [1, 2, 1, 2, 1, 2],
                         "part": ["train", "train", "val", "val", "test", "test"]},
                        index=pd.date_range("2024-01-01", periods=6, freq="MS"))


def test_errors_by_step_for_a_forecast_frame():
    out = errors_by(_forecast_frame(), "step")
    assert out.index.name == "step" and list(out.index) == [1, 2]
    assert out["count"].tolist() == [3, 3]
    assert out["mae"].tolist() == [0.0, 2.0]  # errors at step 2: 1, -2, -3
    assert out["bias"].tolist() == [0.0, -4 / 3]
    assert out["rmse"].iloc[1] == pytest.approx(np.sqrt(14 / 3))


def test_errors_by_per_row_values_and_buckets():
    frame = _forecast_frame()
    by_quarter = errors_by(frame, frame.index.quarter)
    assert by_quarter["mae"].tolist() == [1 / 3, 5 / 3]
    lengths = pd.Series([1, 2, 3, 10, 11, 12], name="length")
    buckets = errors_by(frame, lengths, bins=2)
    assert buckets.index.name == "length" and buckets["count"].tolist() == [3, 3]


def test_errors_by_class_for_a_classifier_frame():
    frame = pd.DataFrame({"label": ["a", "a", "b", "b", "b"],
                          "prediction": ["a", "b", "b", "b", "a"]})
    out = errors_by(frame, "label")
    assert out["error_rate"].tolist() == [0.5, 1 / 3]
    assert out["count"].tolist() == [2, 3]


def test_worst_ranks_by_absolute_error():
    out = worst(_forecast_frame(), 2)
    assert out["y"].tolist() == [6.0, 4.0] and out["error"].tolist() == [-3.0, -2.0]
    wrong = worst(pd.DataFrame({"label": ["a", "b", "c"], "prediction": ["a", "c", "b"]}), 5)
    assert wrong["label"].tolist() == ["b", "c"]


def test_errors_by_misuse():
    frame = _forecast_frame()
    with pytest.raises(ConfigError, match="by: expected a column of frame"):
        errors_by(frame, "nope")
    with pytest.raises(DataError, match=r"by: expected a column name or 6 values"):
        errors_by(frame, [1, 2])
    with pytest.raises(DataError, match="frame: expected actual and predicted columns"):
        errors_by(pd.DataFrame({"a": [1]}), "a")
    with pytest.raises(ConfigError, match="predicted: expected a column of frame"):
        errors_by(frame, "step", actual="y", predicted="zz")
    with pytest.raises(ConfigError, match="bins: expected None for a non-numeric 'by'"):
        errors_by(frame, "part", bins=2)
    with pytest.raises(ConfigError, match="n: expected an integer >= 1, got 0"):
        worst(frame, 0)


def test_a_fitted_forecasters_windows(sine_forecaster):
    forecaster, series = sine_forecaster
    frame = forecaster.predict_windows(series, part="all")
    by_step = errors_by(frame, "step")
    assert list(by_step.index) == [1, 2]
    for step in (1, 2):
        rows = frame[frame["step"] == step]
        assert by_step.loc[step, "mae"] == pytest.approx((rows["y"] - rows["y_pred"]).abs().mean())
    assert set(errors_by(frame, "part").index) == {"train", "val", "test"}
    one_step = frame[frame["step"] == 1]
    diag = residual_diagnostics(one_step["y"] - one_step["y_pred"], lags=5)
    assert diag.acf.shape == (6,)
    assert worst(frame, 3)["error"].abs().is_monotonic_decreasing
