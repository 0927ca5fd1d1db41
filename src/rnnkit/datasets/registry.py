"""Datasets by name: synthetic generators and real series shipped inside installed packages.

Nothing here touches the network: the real series are read from data files that
``statsmodels`` (and, for ``airline``, the optional ``pmdarima``) install with themselves.

=========  =========================================================  =========  ====
name       series                                                     frequency  m
=========  =========================================================  =========  ====
battery    synthetic capacity fade over charge cycles (+ noiseless)   cycle      1
sinusoid   noisy sine wave (+ noiseless)                              step       50
co2        Mauna Loa CO2, weekly data averaged to monthly means       MS         12
sunspots   yearly sunspot activity 1700-2008                          YS         11
nile       yearly Nile flow at Aswan 1871-1970                        YS         1
macrodata  US real GDP with consumption, investment, unemployment...  QS         4
airline    monthly airline passengers 1949-1960 (needs pmdarima)      MS         12
=========  =========================================================  =========  ====

``m`` is the seasonal period (for seasonal-naive baselines and seasonal metrics such as MASE);
for sunspots it is the approximate 11-year solar cycle.

Example::

    >>> data = load_dataset("battery", n_cycles=100, seed=1)
    >>> data.series.n_steps, data.series.targets, data.extras["noiseless"].shape
    (100, ('capacity',), (100,))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.data.timeseries import TimeSeries, load_series
from rnnkit.errors import ConfigError

__all__ = [
    "Dataset",
    "DatasetInfo",
    "battery_capacity",
    "dataset_info",
    "list_datasets",
    "load_dataset",
    "noisy_sinusoid",
    "register_dataset",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, before loading it.

    Attributes:
        name: registry key.
        description: one line.
        frequency: pandas offset alias of the index (``"MS"``), or ``"cycle"``/``"step"`` for
            integer steps.
        seasonal_period: ``m``, steps per seasonal cycle (1: none).
        source: where the numbers come from.
        licence: the terms of use as stated by the shipping package.
        requires: the optional package needed to load it, if any.
    """

    name: str
    description: str
    frequency: str
    seasonal_period: int
    source: str
    licence: str
    requires: str | None = None


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: the series, its info, and extra arrays.

    Attributes:
        series: the :class:`~rnnkit.data.TimeSeries`.
        info: its :class:`DatasetInfo` (with the arguments it was generated with applied).
        extras: named extra arrays of length ``T``, e.g. ``"noiseless"`` for synthetic data
            (the curve before noise: a reference, never a model input).
    """

    series: TimeSeries
    info: DatasetInfo
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)


#: A loader gets the registered info (and the user's keyword arguments) and returns a Dataset.
Loader = Callable[..., Dataset]
_REGISTRY: dict[str, tuple[DatasetInfo, Loader]] = {}


def register_dataset(info: DatasetInfo, loader: Loader, *, overwrite: bool = False) -> None:
    """Add a dataset to the registry; ``loader(info, **kwargs)`` must return a :class:`Dataset`."""
    if info.name in _REGISTRY and not overwrite:
        raise ConfigError(expected("info.name", "a name not yet registered", info.name,
                                   "pass overwrite=True to replace it"))
    _REGISTRY[info.name] = (info, loader)


def list_datasets() -> dict[str, str]:
    """Registered names with their one-line descriptions, sorted by name."""
    return {name: _REGISTRY[name][0].description for name in sorted(_REGISTRY)}


def _lookup(name: str) -> tuple[DatasetInfo, Loader]:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ConfigError(expected("name", f"one of {sorted(_REGISTRY)}", name))
    return _REGISTRY[name]


def dataset_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of ``name`` without loading the data."""
    return _lookup(name)[0]


def load_dataset(name: str, **kwargs: object) -> Dataset:
    """Load a registered dataset; ``kwargs`` go to its generator (e.g. ``seed``, ``n_cycles``).

    Raises:
        ConfigError: unknown name (the message lists the available ones), unknown keyword
            arguments, or a missing optional package.
    """
    info, loader = _lookup(name)
    params = inspect.signature(loader).parameters
    accepted = [p for p in params if p != "info"]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown and not takes_any:
        raise ConfigError(expected(f"arguments of dataset {name!r}", f"some of {accepted}",
                                   unknown))
    return loader(info, **kwargs)


# --------------------------------------------------------------------------------------------
# Synthetic generators
# --------------------------------------------------------------------------------------------


def battery_capacity(
    n_cycles: int = 1000,
    *,
    initial_capacity: float = 1.0,
    noise_std: float = 0.01,
    floor: float = 0.1,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic battery capacity fade over charge cycles ``c = 0 .. n_cycles-1``.

    ``capacity(c) = max(initial_capacity - (0.0005 c + 5e-7 c^2) + noise_c, floor)`` with
    ``noise_c ~ N(0, noise_std)`` drawn by ``numpy.random.default_rng(seed).normal``.

    Returns:
        ``(capacity, noiseless)``, each shape ``(n_cycles,)``; ``noiseless`` is the same
        curve without noise (also floored).
    """
    check_positive_int("n_cycles", n_cycles)
    cycles = np.arange(n_cycles, dtype=np.float64)
    fade = 0.0005 * cycles + 5e-7 * cycles**2
    noise = np.random.default_rng(seed).normal(0.0, noise_std, n_cycles)
    noiseless = np.maximum(initial_capacity - fade, floor)
    capacity = np.maximum(initial_capacity - fade + noise, floor)
    return capacity, noiseless


def noisy_sinusoid(
    n_steps: int = 1000,
    *,
    period: int = 50,
    amplitude: float = 1.0,
    noise_std: float = 0.1,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``amplitude * sin(2 pi t / period) + N(0, noise_std)`` for ``t = 0 .. n_steps-1``.

    Returns:
        ``(values, noiseless)``, each shape ``(n_steps,)``.
    """
    check_positive_int("n_steps", n_steps)
    check_positive_int("period", period)
    t = np.arange(n_steps, dtype=np.float64)
    noiseless = amplitude * np.sin(2.0 * np.pi * t / period)
    noise = np.random.default_rng(seed).normal(0.0, noise_std, n_steps)
    return noiseless + noise, noiseless


def _integer_series(values: np.ndarray, index_name: str, column: str, name: str) -> TimeSeries:
    frame = pd.DataFrame({column: values}, index=pd.RangeIndex(len(values), name=index_name))
    return load_series(frame, targets=[column], name=name)


def _load_battery(info: DatasetInfo, n_cycles: int = 1000, initial_capacity: float = 1.0,
                  noise_std: float = 0.01, seed: int | None = 0) -> Dataset:
    capacity, noiseless = battery_capacity(n_cycles, initial_capacity=initial_capacity,
                                           noise_std=noise_std, seed=seed)
    series = _integer_series(capacity, "cycle", "capacity", info.name)
    return Dataset(series, info, {"noiseless": noiseless})


def _load_sinusoid(info: DatasetInfo, n_steps: int = 1000, period: int = 50,
                   amplitude: float = 1.0, noise_std: float = 0.1,
                   seed: int | None = 0) -> Dataset:
    values, noiseless = noisy_sinusoid(n_steps, period=period, amplitude=amplitude,
                                       noise_std=noise_std, seed=seed)
    series = _integer_series(values, "t", "value", info.name)
    return Dataset(series, replace(info, seasonal_period=period), {"noiseless": noiseless})


# --------------------------------------------------------------------------------------------
# Real series shipped with installed packages
# --------------------------------------------------------------------------------------------


def _yearly_index(years: pd.Series, name: str = "year") -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(years.astype(int).astype(str), format="%Y"),
                            name=name)


def _load_co2(info: DatasetInfo) -> Dataset:
    from statsmodels.datasets import co2

    weekly = co2.load_pandas().data  # weekly (Saturdays) from 1958-03-29, with gaps (NaN)
    monthly = weekly.resample("MS").mean()  # months with no observation stay NaN
    monthly.index.name = "month"
    series = load_series(monthly, targets=["co2"], missing="interpolate", freq="MS",
                         name=info.name)
    return Dataset(series, info)


def _load_sunspots(info: DatasetInfo) -> Dataset:
    from statsmodels.datasets import sunspots

    raw = sunspots.load_pandas().data
    frame = pd.DataFrame({"sunactivity": raw["SUNACTIVITY"].to_numpy()},
                         index=_yearly_index(raw["YEAR"]))
    return Dataset(load_series(frame, targets=["sunactivity"], name=info.name), info)


def _load_nile(info: DatasetInfo) -> Dataset:
    from statsmodels.datasets import nile

    raw = nile.load_pandas().data
    frame = pd.DataFrame({"volume": raw["volume"].to_numpy()}, index=_yearly_index(raw["year"]))
    return Dataset(load_series(frame, targets=["volume"], name=info.name), info)


_MACRO_COVARIATES = ("realcons", "realinv", "unemp", "infl")


def _load_macrodata(info: DatasetInfo) -> Dataset:
    from statsmodels.datasets import macrodata

    raw = macrodata.load_pandas().data
    index = pd.date_range(f"{int(raw['year'].iloc[0])}-01-01", periods=len(raw), freq="QS",
                          name="quarter")
    frame = raw[["realgdp", *_MACRO_COVARIATES]].set_index(index)
    series = load_series(frame, targets=["realgdp"], covariates=list(_MACRO_COVARIATES),
                         name=info.name)
    return Dataset(series, info)


def _load_airline(info: DatasetInfo) -> Dataset:
    try:
        from pmdarima.datasets import load_airpassengers
    except ModuleNotFoundError as err:
        raise ConfigError(expected("dataset 'airline'", "the optional package pmdarima",
                                   Described("ModuleNotFoundError"), "pip install pmdarima")) from err
    values = np.asarray(load_airpassengers(), dtype=np.float64)
    index = pd.date_range("1949-01-01", periods=len(values), freq="MS", name="month")
    frame = pd.DataFrame({"passengers": values}, index=index)
    return Dataset(load_series(frame, targets=["passengers"], name=info.name), info)


_STATSMODELS = "statsmodels.datasets"
_BUILTIN: tuple[tuple[DatasetInfo, Loader], ...] = (
    (DatasetInfo("battery", "synthetic battery capacity fade over charge cycles, with the "
                 "noiseless curve", "cycle", 1, "rnnkit synthetic generator", "MIT (rnnkit)"),
     _load_battery),
    (DatasetInfo("sinusoid", "noisy sine wave, with the noiseless curve", "step", 50,
                 "rnnkit synthetic generator", "MIT (rnnkit)"), _load_sinusoid),
    (DatasetInfo("co2", "Mauna Loa atmospheric CO2 (ppm), weekly samples averaged to monthly "
                 "means 1958-2001, empty months interpolated", "MS", 12,
                 f"{_STATSMODELS}.co2 (Keeling & Whorf, Scripps Institution of Oceanography)",
                 "public domain"), _load_co2),
    (DatasetInfo("sunspots", "yearly sunspot activity 1700-2008", "YS", 11,
                 f"{_STATSMODELS}.sunspots (NOAA National Geophysical Data Center)",
                 "public domain"), _load_sunspots),
    (DatasetInfo("nile", "yearly volume of the Nile at Aswan 1871-1970 (10^8 m^3)", "YS", 1,
                 f"{_STATSMODELS}.nile (Cobb 1978)", "public domain"), _load_nile),
    (DatasetInfo("macrodata", "US real GDP (target) with real consumption, investment, "
                 "unemployment and inflation (covariates), quarterly 1959-2009", "QS", 4,
                 f"{_STATSMODELS}.macrodata (FRED, Federal Reserve Bank of St. Louis)",
                 "public domain"), _load_macrodata),
    (DatasetInfo("airline", "monthly international airline passengers (thousands) "
                 "1949-1960, Box & Jenkins", "MS", 12,
                 "pmdarima.datasets.load_airpassengers (Box, Jenkins & Reinsel, Series G)",
                 "classic textbook data, shipped by pmdarima (MIT)", requires="pmdarima"),
     _load_airline),
)

for _info, _loader in _BUILTIN:
    register_dataset(_info, _loader)
