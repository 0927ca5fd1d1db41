"""Datasets by name: exact generators, reproducible seeds, real series with known first values."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from rnnkit.datasets import (
    Dataset,
    DatasetInfo,
    battery_capacity,
    dataset_info,
    list_datasets,
    load_dataset,
    noisy_sinusoid,
    register_dataset,
)
from rnnkit.datasets.registry import _REGISTRY
from rnnkit.errors import ConfigError

BUILT_IN = ["airline", "battery", "co2", "macrodata", "nile", "sinusoid", "sunspots"]
HAS_PMDARIMA = importlib.util.find_spec("pmdarima") is not None


def test_list_datasets_names_and_descriptions() -> None:
    listed = list_datasets()
    assert set(BUILT_IN) <= set(listed)
    assert list(listed) == sorted(listed)
    assert all(isinstance(text, str) and text for text in listed.values())
    info = dataset_info("co2")
    assert (info.frequency, info.seasonal_period, info.licence) == ("MS", 12, "public domain")


def test_unknown_name_and_arguments() -> None:
    with pytest.raises(ConfigError, match=r"^name: expected one of \['airline', 'battery', "
                                          r"'co2', .*'sunspots'\], got 'batery'$"):
        load_dataset("batery")
    with pytest.raises(ConfigError, match=r"arguments of dataset 'battery': expected some of "
                                          r"\['n_cycles', 'initial_capacity', 'noise_std', "
                                          r"'seed'\], got \['cycles'\]"):
        load_dataset("battery", cycles=10)


# -- synthetic --------------------------------------------------------------------------------


def test_battery_matches_the_formula_exactly() -> None:
    data = load_dataset("battery", seed=7)
    series = data.series
    assert series.n_steps == 1000 and series.targets == ("capacity",)
    assert series.time_index.name == "cycle" and series.time_index.tolist() == list(range(1000))
    c = np.arange(1000.0)
    noise = np.random.default_rng(7).normal(0.0, 0.01, 1000)
    expected = np.maximum(1.0 - (0.0005 * c + 5e-7 * c**2) + noise, 0.1)
    np.testing.assert_array_equal(series.values[:, 0], expected)
    assert series.values[0, 0] == 1.0 + noise[0]
    noiseless = data.extras["noiseless"]
    np.testing.assert_array_equal(noiseless, np.maximum(1.0 - (0.0005 * c + 5e-7 * c**2), 0.1))
    assert noiseless[0] == 1.0 and noiseless[500] == pytest.approx(0.625, abs=1e-15)
    assert noiseless.min() == 0.1 and series.values.min() >= 0.1  # floored at the end of life


def test_battery_is_reproducible_with_a_seed() -> None:
    a, _ = battery_capacity(200, seed=1)
    b, _ = battery_capacity(200, seed=1)
    c, _ = battery_capacity(200, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert load_dataset("battery").series.equals(load_dataset("battery").series)  # default seed 0


def test_sinusoid_and_its_period() -> None:
    data = load_dataset("sinusoid", n_steps=120, period=12, noise_std=0.0)
    np.testing.assert_allclose(data.series.values[:13, 0],
                               np.sin(2 * np.pi * np.arange(13) / 12), atol=1e-15)
    assert data.info.seasonal_period == 12 and dataset_info("sinusoid").seasonal_period == 50
    values, noiseless = noisy_sinusoid(50, seed=3)
    np.testing.assert_array_equal(values, noiseless + np.random.default_rng(3).normal(0.0, 0.1, 50))


# -- real series shipped with packages -------------------------------------------------------------


def _check_real(data: Dataset, n_steps: int, first: float, start: str) -> None:
    series = data.series
    assert series.n_steps == n_steps
    assert series.values[0, 0] == first
    assert series.time_index[0] == pd.Timestamp(start)
    assert np.isfinite(series.values).all()
    # the registered frequency is the one the index really has
    assert pd.tseries.frequencies.to_offset(data.info.frequency) == \
        pd.tseries.frequencies.to_offset(str(series.freq))


def test_co2_monthly_means_with_gaps_interpolated() -> None:
    data = load_dataset("co2")
    _check_real(data, 526, 316.1, "1958-03-01")
    from statsmodels.datasets import co2

    monthly = co2.load_pandas().data["co2"].resample("MS").mean()
    assert monthly.isna().sum() == 5  # months without a single weekly sample
    expected = monthly.interpolate(method="time").to_numpy()
    np.testing.assert_allclose(data.series.values[:, 0], expected, rtol=0, atol=1e-12)


def test_sunspots_nile_macrodata() -> None:
    _check_real(load_dataset("sunspots"), 309, 5.0, "1700-01-01")
    _check_real(load_dataset("nile"), 100, 1120.0, "1871-01-01")
    macro = load_dataset("macrodata")
    _check_real(macro, 203, 2710.349, "1959-01-01")
    assert macro.series.covariates == ("realcons", "realinv", "unemp", "infl")
    assert macro.series.values.shape == (203, 5)


@pytest.mark.skipif(not HAS_PMDARIMA, reason="airline needs the optional package pmdarima")
def test_airline() -> None:
    data = load_dataset("airline")
    _check_real(data, 144, 112.0, "1949-01-01")
    assert data.series.values[-1, 0] == 432.0
    assert data.series.time_index[-1] == pd.Timestamp("1960-12-01")


# -- registry -----------------------------------------------------------------------------------


def test_register_a_dataset() -> None:
    info = DatasetInfo("ramp", "a ramp", "step", 1, "test", "MIT")

    def loader(info: DatasetInfo, n: int = 5) -> Dataset:
        frame = pd.DataFrame({"y": np.arange(float(n))})
        from rnnkit.data import load_series

        return Dataset(load_series(frame), info)

    register_dataset(info, loader)
    try:
        assert load_dataset("ramp", n=3).series.values[:, 0].tolist() == [0.0, 1.0, 2.0]
        assert list_datasets()["ramp"] == "a ramp"
        with pytest.raises(ConfigError, match=r"info.name: expected a name not yet registered"):
            register_dataset(info, loader)
    finally:
        _REGISTRY.pop("ramp")
