"""The forecaster's fitted preprocessing: everything fitted besides the weights.

A :class:`Preprocessing` is set by :meth:`~.forecaster.Forecaster.fit` (columns, scaler,
window sizes, the time index) and written to a bundle's ``preprocessing.json``;
:meth:`~.forecaster.Forecaster.load` reads it back before the network is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnkit.data.scalers import Scaler

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

    @property
    def target_idx(self) -> list[int]:
        return list(range(len(self.targets)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns), "targets": list(self.targets),
            "covariates": list(self.covariates), "target_idx": self.target_idx,
            "scaler": self.scaler.to_dict(), "look_back": self.look_back,
            "horizon": self.horizon, "train_horizon": self.train_horizon, "freq": self.freq,
            "time_index": {"kind": self.time_kind, "name": self.time_name},
            "seasonal_period": self.seasonal_period,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        return cls(tuple(data["columns"]), tuple(data["targets"]), tuple(data["covariates"]),
                   Scaler.from_dict(data["scaler"]), int(data["look_back"]),
                   int(data["horizon"]), int(data["train_horizon"]), data["freq"],
                   data["time_index"]["kind"], data["time_index"]["name"],
                   int(data["seasonal_period"]))
