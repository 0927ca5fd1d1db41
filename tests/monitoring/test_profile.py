import json

import numpy as np
import pytest

from rnnkit.errors import DataError
from rnnkit.monitoring.profile import (
    SAMPLE_SIZE,
    Distribution,
    Profile,
    ess_factor,
    profile_of,
    series_profile,
    text_profile,
    window_statistics,
)
from rnnkit.tasks.forecasting import Forecaster


def test_distribution_bins_are_training_deciles():
    d = Distribution.of(np.arange(1000.0))
    assert len(d.cuts) == 9 and d.counts == [100] * 10
    assert d.quantiles["0.5"] == pytest.approx(499.5)
    assert d.n == 1000 and d.sample == list(np.arange(1000.0))


def test_distribution_sample_is_bounded_and_seeded():
    x = np.random.default_rng(1).normal(size=5000)
    a, b = Distribution.of(x), Distribution.of(x)
    assert len(a.sample) == SAMPLE_SIZE and a.sample == b.sample and a.n == 5000
    assert Distribution.from_dict(json.loads(json.dumps(a.to_dict()))) == a


def test_distribution_of_nothing_finite_is_an_error():
    with pytest.raises(DataError, match="values: expected at least one finite value"):
        Distribution.of([np.nan])


def test_ess_factor_of_known_processes():
    rng = np.random.default_rng(0)
    assert ess_factor(rng.normal(size=5000)) == pytest.approx(1, abs=0.1)
    ar = np.zeros(5000)
    for t in range(1, 5000):
        ar[t] = 0.5 * ar[t - 1] + rng.normal()
    assert ess_factor(ar) == pytest.approx(1 / 3, abs=0.05)  # (1 - r) / (1 + r)
    assert ess_factor(np.arange(500.0)) == pytest.approx(1 / 19)  # a trend: the floor


def test_window_statistics_equal_the_textbook_formulas():
    x = np.random.default_rng(0).normal(size=30).cumsum()
    got = window_statistics(x, 8)
    for i in (0, 11, 22):
        w = x[i:i + 8]
        t = np.arange(8.0)
        assert got["level"][i] == pytest.approx(w.mean())
        assert got["slope"][i] == pytest.approx(np.polyfit(t, w, 1)[0])
        assert got["volatility"][i] == pytest.approx(np.diff(w).std())
        d = w - w.mean()
        assert got["autocorr"][i] == pytest.approx((d[1:] @ d[:-1]) / (d @ d))
    assert got["level"].shape == (23,)


def test_series_profile_uses_the_rows_it_is_given():
    x = np.column_stack([np.arange(100.0), np.ones(100)])
    p = series_profile("forecasting", ["y", "c"], x, targets=["y"], look_back=10)
    assert p.features["y"].n == 100 and p.features["y"].mean == pytest.approx(49.5)
    assert set(p.window_stats) == {"y"} and p.window_stats["y"]["slope"].mean == pytest.approx(1)
    assert p.predictions == {} and p.validation_metrics == {}


def test_fit_profiles_the_training_part_only(nile):
    task, frame = nile
    split = task.split_
    p = profile_of(task)
    assert p.n_rows == split.val_start
    train = frame.iloc[28:].to_numpy()[: split.val_start, 0]
    assert p.features["volume"].mean == pytest.approx(train.mean())
    val = task.predict_windows(frame.iloc[28:], part="val")
    err = val["volume"] - val["volume_pred"]
    assert p.validation_metrics["rmse"] == pytest.approx(np.sqrt((err ** 2).mean()))
    assert p.validation_metrics["mae"] == pytest.approx(err.abs().mean())
    assert p.predictions["volume"].n == len(val)
    assert p.predictions["volume"].mean == pytest.approx(val["volume_pred"].mean())


def test_profile_survives_save_and_load(nile, tmp_path):
    task, _ = nile
    path = task.save(tmp_path / "model")
    manifest = json.loads((path / "manifest.json").read_text())
    assert "profile.json" in manifest["files"]
    loaded = Forecaster.load(path)
    assert loaded.profile_ == task.profile_
    assert Profile.from_dict(json.loads(json.dumps(task.profile_.to_dict()))) == task.profile_


def test_a_bundle_without_profile_loads_with_none(nile, tmp_path):
    task, _ = nile
    old = Forecaster(task.config)
    old.model_, old.preprocessing_ = task.model_, task.preprocessing_
    path = old.save(tmp_path / "old")  # as before this issue: no profile.json
    assert not (path / "profile.json").exists()
    assert profile_of(Forecaster.load(path)) is None


def test_text_profile_shares():
    p = text_profile("classification", [1, 2, 3, 4], oov_rate=0.25, labels=["a", "b", "b", "b"])
    assert p.labels == {"a": 0.25, "b": 0.75} and p.oov_rate == 0.25 and p.lengths.n == 4
    assert Profile.from_dict(p.to_dict()) == p


def test_a_tampered_profile_is_refused(nile, tmp_path):
    from rnnkit.bundle import BundleError
    from rnnkit.bundle.schema import sha256

    task, _ = nile
    path = task.save(tmp_path / "model")
    profile = path / "profile.json"
    profile.write_text(profile.read_text().replace('"task"', '"TASK"'))
    with pytest.raises(BundleError, match="profile.json"):  # its checksum no longer fits
        Forecaster.load(path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["profile.json"] = sha256(profile)  # re-hashed: the content is read
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="bundle file profile.json: expected the content"):
        Forecaster.load(path)
    assert profile.exists()


def test_calendar_columns_are_not_profiled():
    import pandas as pd

    from rnnkit.datasets import load_dataset

    s = load_dataset("macrodata").series
    frame = pd.DataFrame(s.values, index=s.time_index, columns=list(s.columns))
    task = Forecaster({"data": {"targets": ["realgdp"], "covariates": ["unemp"],
                                "calendar": ["month"]},
                       "forecast": {"look_back": 8, "strategy": "direct"},
                       "model": {"hidden_size": 4},
                       "training": {"epochs": 1, "progress": "off", "seed": 0}})
    task.fit(frame[["realgdp", "unemp"]])
    assert list(task.profile_.features) == ["realgdp", "unemp"]
    assert list(task.profile_.window_stats) == ["realgdp"]
    from rnnkit.monitoring.drift import detect_drift

    report = detect_drift(task, task.read_data(frame[["realgdp", "unemp"]].iloc[120:180],
                                               labelled=False))
    assert {(t.name, t.feature) for t in report.tests} >= {
        ("psi", "unemp"), ("ks", "unemp"), ("prediction_psi", "realgdp")}
    # the forecasts prediction drift reads are predict's, window by window
    from rnnkit.monitoring.drift import _window_forecasts

    part = frame[["realgdp", "unemp"]].iloc[120:180]
    got = _window_forecasts(task, task.read_data(part, labelled=False), 8)  # (N, H, 1)
    H = task.preprocessing_.horizon
    assert got.shape == (60 - 8 + 1 - H, H, 1)
    for i in (0, got.shape[0] - 1):
        want = task.predict(part.iloc[i:i + 8]).to_numpy()  # (H, 1)
        np.testing.assert_allclose(got[i], want, rtol=1e-6)


def test_a_profile_of_another_version_names_it():
    from rnnkit.errors import ConfigError
    from rnnkit.monitoring.profile import PROFILE_VERSION, Profile

    with pytest.raises(ConfigError, match=rf"^version: expected profile version "
                                          rf"{PROFILE_VERSION}, got 99"):
        Profile.from_dict({"version": 99})
