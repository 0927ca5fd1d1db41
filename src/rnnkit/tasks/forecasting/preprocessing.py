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

from rnnkit.data.scalers import Scaler
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
        return cls(tuple(data["columns"]), tuple(data["targets"]), tuple(data["covariates"]),
                   Scaler.from_dict(data["scaler"]), int(data["look_back"]),
                   int(data["horizon"]), int(data["train_horizon"]), data["freq"],
                   data["time_index"]["kind"], data["time_index"]["name"],
                   int(data["seasonal_period"]), tuple(data.get("future_covariates", ())),
                   tuple(data.get("calendar", ())))
