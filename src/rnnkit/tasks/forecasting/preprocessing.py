"""The forecaster's fitted preprocessing: everything fitted besides the weights.

A :class:`Preprocessing` is set by :meth:`~.forecaster.Forecaster.fit` (columns, scaler,
window sizes, the time index) and written to a bundle's ``preprocessing.json``;
:meth:`~.forecaster.Forecaster.load` reads it back before the network is built.

The columns are ``targets + covariates + future_covariates``; the future covariates include
the calendar columns (``calendar`` names their features), which are computed from the time
stamps, and :attr:`Preprocessing.supplied_future` are the others, which a forecast needs as
input. A bundle written before future covariates existed has neither key and loads with none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnkit._validation import Described, expected
from rnnkit.data.scalers import Scaler
from rnnkit.errors import ConfigError
from rnnkit.tasks.forecasting.calendar import calendar_columns

__all__ = ["Preprocessing"]


@dataclass
class Preprocessing:
    """Everything fitted besides the weights: written to ``preprocessing.json``."""

    columns: tuple[str, ...]
    targets: tuple[str, ...]
    covariates: tuple[str, ...]
    scaler: Scaler
    look_back: int
    horizon: int
    train_horizon: int
    freq: str | int | None
    time_kind: str  # "datetime" or "integer"
    time_name: str | None
    seasonal_period: int
    future_covariates: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()

    @property
    def target_idx(self) -> list[int]:
        return list(range(len(self.targets)))

    @property
    def future_idx(self) -> list[int]:
        """Positions of the future covariates among :attr:`columns` (the last ones)."""
        first = len(self.targets) + len(self.covariates)
        return list(range(first, first + len(self.future_covariates)))

    @property
    def supplied_future(self) -> tuple[str, ...]:
        """The future covariates a forecast needs as input (all but the calendar's)."""
        computed = set(calendar_columns(self.calendar))
        return tuple(c for c in self.future_covariates if c not in computed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns), "targets": list(self.targets),
            "covariates": list(self.covariates), "target_idx": self.target_idx,
            "scaler": self.scaler.to_dict(), "look_back": self.look_back,
            "horizon": self.horizon, "train_horizon": self.train_horizon, "freq": self.freq,
            "time_index": {"kind": self.time_kind, "name": self.time_name},
            "seasonal_period": self.seasonal_period,
            "future_covariates": list(self.future_covariates), "future_idx": self.future_idx,
            "calendar": list(self.calendar),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """Read back what :meth:`to_dict` wrote; a value it could not have written (a missing
        key, a wrong type, a look-back below 1, a scaler with a zero scale, column lists that
        do not add up) is a ConfigError naming the key (a loading bundle reports it as a
        BundleError naming ``preprocessing.json``)."""
        if not isinstance(data, dict):
            raise ConfigError(expected("preprocessing", "a dict from Preprocessing.to_dict()",
                                       Described(type(data).__name__)))
        for key in _REQUIRED:
            if key not in data:
                raise ConfigError(expected(key, "a value (this key is required)",
                                           Described("nothing")))
        names = {key: _names(key, data.get(key, [])) for key in _NAME_LISTS}
        if not names["targets"]:
            raise ConfigError(expected("targets", "at least one target column", []))
        parts = names["targets"] + names["covariates"] + names["future_covariates"]
        if names["columns"] != parts:
            raise ConfigError(expected("columns", f"targets + covariates + future_covariates "
                                       f"{list(parts)}", list(names["columns"])))
        sizes = {key: _positive_int(key, data[key]) for key in
                 ("look_back", "horizon", "train_horizon", "seasonal_period")}
        freq = data["freq"]
        if isinstance(freq, bool) or not (freq is None or isinstance(freq, str)
                                          or (isinstance(freq, int) and freq >= 1)):
            raise ConfigError(expected("freq", "a pandas offset alias, an integer step >= 1 "
                                       "or None", freq))
        time_index = data["time_index"]
        if not isinstance(time_index, dict) or time_index.get("kind") not in _TIME_KINDS \
                or not isinstance(time_index.get("name"), (str, type(None))):
            raise ConfigError(expected("time_index", f"{{'kind': one of {list(_TIME_KINDS)}, "
                                       "'name': a string or None}", time_index))
        expected_idx = {"target_idx": list(range(len(names["targets"]))),
                        "future_idx": list(range(len(parts) - len(names["future_covariates"]),
                                                 len(parts)))}
        for key, positions in expected_idx.items():
            if key in data and data[key] != positions:
                raise ConfigError(expected(key, f"the positions {positions} of its columns "
                                           f"among {len(parts)}", data[key]))
        calendar_columns(names["calendar"])  # an unknown calendar feature is a ConfigError
        scaler = Scaler.from_dict(data["scaler"])
        if not scaler.is_fitted:
            raise ConfigError(expected("scaler", "a fitted scaler (with stats)",
                                       Described("an unfitted one")))
        if scaler.n_features != len(parts):
            raise ConfigError(expected("scaler", f"statistics for the {len(parts)} columns",
                                       Described(f"statistics for {scaler.n_features}")))
        return cls(names["columns"], names["targets"], names["covariates"], scaler,
                   sizes["look_back"], sizes["horizon"], sizes["train_horizon"], freq,
                   time_index["kind"], time_index["name"], sizes["seasonal_period"],
                   names["future_covariates"], names["calendar"])


_REQUIRED = ("columns", "targets", "covariates", "scaler", "look_back", "horizon",
             "train_horizon", "freq", "time_index", "seasonal_period")
_NAME_LISTS = ("columns", "targets", "covariates", "future_covariates", "calendar")
_TIME_KINDS = ("datetime", "integer")


def _names(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(expected(key, "a list of column names (strings)", value))
    return tuple(value)


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(expected(key, "an integer >= 1", value))
    return value
