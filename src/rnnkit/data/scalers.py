"""Feature scaling fitted on the training part only, and per-window (instance) normalization.

Two ways to put features on a common scale live here:

1. **Global scalers** (:class:`MinMaxScaler`, :class:`StandardScaler`, :class:`RobustScaler`,
   :class:`IdentityScaler`) learn one affine map per feature, ``z = (x - center) / scale``,
   from the *training rows only*, then apply it to every part.

   Why training rows only: fitting on the whole series, as quick tutorials do (a
   ``MinMaxScaler`` fitted on all 1000 battery cycles before the 80/20 split), lets the test
   period shape the training inputs. The degradation curve reaches its lowest capacity in the
   test period, so the scaled training data already "know" where the future minimum lies;
   the validation score is then measured on data that were partly seen, and a deployed model,
   which cannot see the future, does worse than reported. :func:`rnnkit.data.split_windows`
   fits the scaler on rows before the validation start.

2. **Window normalization** (:class:`WindowNormalizer`, :func:`window_stats`,
   :func:`normalize`, :func:`denormalize`) normalizes each input window by its *own*
   statistics inside the model and maps the model's outputs back (reversible instance
   normalization). It uses only the window the model already sees, so it cannot leak, and
   it copes with level shifts that a global scaler fitted on the past cannot.

Symbols: ``T`` rows, ``F`` features, ``B`` batch, ``L`` look-back steps, ``H`` horizon steps,
``n_targets`` predicted features.

Example::

    >>> import numpy as np
    >>> train, test = np.array([[0.0], [10.0]]), np.array([[20.0]])
    >>> scaler = make_scaler("minmax").fit(train)
    >>> scaler.transform(test).tolist()           # may leave [0, 1]: the future is new
    [[2.0]]
    >>> scaler.inverse_transform_targets(np.array([[0.5]]), target_idx=[0]).tolist()
    [[5.0]]
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple, Self, cast

import numpy as np
import numpy.typing as npt
import torch

from rnnkit._validation import Described, check_choice, expected
from rnnkit.errors import ConfigError, DataError, ShapeError

__all__ = [
    "IdentityScaler",
    "MinMaxScaler",
    "RobustScaler",
    "Scaler",
    "StandardScaler",
    "WindowNormalizer",
    "WindowStats",
    "denormalize",
    "make_scaler",
    "normalize",
    "scaler_names",
    "window_stats",
]

_EPS = float(np.finfo(np.float64).eps)


def _safe_scale(scale: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Replace scales that are zero up to rounding (a constant feature) by 1.

    A constant feature then maps to a constant (0 for standard/robust, the low end of the
    range for min-max) instead of NaN/inf. "Zero" is relative to the feature's magnitude,
    because the std of ``[0.1, 0.1, 0.1]`` computes to ~1e-17, not 0.
    """
    tiny = scale <= 10.0 * _EPS * np.maximum(np.abs(level), 1.0)
    return np.where(tiny, 1.0, scale)


# Statistics that are spreads: never negative in a fitted scaler.
_SPREADS = ("std", "iqr")


def _checked_stats(scaler: Scaler, stats: dict[str, Any]) -> dict[str, np.ndarray]:
    """The statistics of a saved scaler as ``(F,)`` arrays, refused unless they are what
    :meth:`Scaler.fit` writes: lists of finite numbers of one length, spreads >= 0, minimum
    <= maximum, a positive whole feature count."""
    arrays: dict[str, np.ndarray] = {}
    for key in scaler._stat_names:
        value = stats[key]
        ok = isinstance(value, list) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        arr = np.asarray(value, dtype=np.float64) if ok else np.empty(0)
        if not ok or not np.isfinite(arr).all():
            raise ConfigError(expected(f"state['stats'][{key!r}]",
                                       "a non-empty list of finite numbers", value))
        if key in _SPREADS and (arr < 0).any():
            raise ConfigError(expected(f"state['stats'][{key!r}]", "spreads >= 0", value))
        if key == "n_features" and (arr.shape != (1,) or arr[0] < 1 or arr[0] != round(arr[0])):
            raise ConfigError(expected("state['stats']['n_features']",
                                       "[a whole number >= 1]", value))
        arrays[key] = arr
    lengths = {key: arr.shape[0] for key, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ConfigError(expected("state['stats']", "one value per feature in every statistic",
                                   Described(f"lengths {lengths}")))
    if "data_min" in arrays and (arrays["data_min"] > arrays["data_max"]).any():
        raise ConfigError(expected("state['stats']", "data_min <= data_max",
                                   Described(f"data_min {arrays['data_min'].tolist()}, "
                                             f"data_max {arrays['data_max'].tolist()}")))
    return arrays


class Scaler:
    """Per-feature affine scaling ``z = (x - center) / scale`` with a JSON-able state.

    Subclasses compute named statistics in :meth:`_statistics` and turn them into
    ``center``/``scale`` in :meth:`_affine`; everything else (shape checks, transforms,
    serialization) lives here.

    Arrays are ``(..., F)``: the last axis is the features, so a ``(T, F)`` table, ``(N, L, F)``
    windows and ``(N, H, F)`` targets all transform the same way.
    """

    name: ClassVar[str] = ""
    _stat_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.stats_: dict[str, np.ndarray] | None = None
        self.center_: np.ndarray | None = None  # (F,)
        self.scale_: np.ndarray | None = None  # (F,), never 0

    # -- to override ------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""
        return {}

    def _statistics(self, data: np.ndarray) -> dict[str, np.ndarray]:
        """Per-feature statistics of ``data`` ``(T, F)``, each shape ``(F,)``."""
        raise NotImplementedError

    def _affine(self, stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(center, scale)``, each ``(F,)``, from the statistics."""
        raise NotImplementedError

    # -- fitting --------------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self.stats_ is not None

    @property
    def n_features(self) -> int:
        """``F`` seen in :meth:`fit`."""
        return int(self._require_fitted()[0].shape[0])

    def fit(self, data: npt.ArrayLike) -> Self:
        """Learn the per-feature statistics from ``data`` ``(T, F)`` (or ``(T,)``).

        Pass the training rows only (see the module docstring for why).
        """
        arr = np.asarray(data, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]  # (T,) -> (T, 1)
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ShapeError(expected("data", "a non-empty (time, features) array",
                                      Described(f"shape {arr.shape}")))
        if not np.isfinite(arr).all():
            raise DataError(expected("data", "finite values",
                                     Described(f"{int((~np.isfinite(arr)).sum())} NaN/inf entries"),
                                     "load the series with a missing-value policy"))
        self._set_stats(self._statistics(arr))
        return self

    def _set_stats(self, stats: dict[str, np.ndarray]) -> None:
        center, scale = self._affine(stats)
        self.stats_ = stats
        self.center_, self.scale_ = center, scale

    def _require_fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.center_ is None or self.scale_ is None:
            raise ConfigError(expected(type(self).__name__, "a fitted scaler",
                                       Described("an unfitted one"),
                                       "call fit(train_data) first"))
        return self.center_, self.scale_

    def _stat(self, key: str) -> np.ndarray:
        """A fitted statistic, ``(F,)``."""
        self._require_fitted()
        return cast(dict[str, np.ndarray], self.stats_)[key]

    def _features(self, data: npt.ArrayLike, name: str) -> np.ndarray:
        arr = np.asarray(data, dtype=np.float64)
        center, _ = self._require_fitted()
        if arr.ndim == 0 or arr.shape[-1] != center.shape[0]:
            raise ShapeError(expected(name, f"last dimension {center.shape[0]} (features seen "
                                      "in fit)", Described(f"shape {arr.shape}")))
        return arr

    # -- transforms -----------------------------------------------------------------------------
    def transform(self, data: npt.ArrayLike) -> np.ndarray:
        """``(x - center) / scale``; ``data`` is ``(..., F)``, the result float64 ``(..., F)``."""
        arr = self._features(data, "data")
        center, scale = self._require_fitted()
        return (arr - center) / scale

    def fit_transform(self, data: npt.ArrayLike) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same ``(T, F)`` data."""
        return self.fit(data).transform(data)

    def inverse_transform(self, data: npt.ArrayLike) -> np.ndarray:
        """``z * scale + center``; ``data`` is ``(..., F)``."""
        arr = self._features(data, "data")
        center, scale = self._require_fitted()
        return arr * scale + center

    def _target_affine(self, values: npt.ArrayLike, target_idx: Sequence[int]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        center, scale = self._require_fitted()
        idx = np.asarray(list(target_idx), dtype=np.int64)
        if idx.ndim != 1 or idx.size == 0 or idx.min() < 0 or idx.max() >= center.shape[0]:
            raise ConfigError(expected("target_idx", f"feature positions in [0, {center.shape[0]})",
                                       list(target_idx)))
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[-1] != idx.size:
            raise ShapeError(expected("values", f"last dimension {idx.size} (len(target_idx))",
                                      Described(f"shape {arr.shape}")))
        return arr, center[idx], scale[idx]

    def transform_targets(self, values: npt.ArrayLike, target_idx: Sequence[int]) -> np.ndarray:
        """Scale target values only: ``values`` is ``(..., n_targets)``, matching ``target_idx``."""
        arr, center, scale = self._target_affine(values, target_idx)
        return (arr - center) / scale

    def inverse_transform_targets(self, values: npt.ArrayLike, target_idx: Sequence[int]
                                  ) -> np.ndarray:
        """Map scaled predictions ``(..., n_targets)`` back to the units of the targets.

        ``target_idx`` gives the feature position of each column of ``values`` (for a
        :class:`~rnnkit.data.TimeSeries`, ``series.target_idx``).
        """
        arr, center, scale = self._target_affine(values, target_idx)
        return arr * scale + center

    # -- serialization --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"name", "params", "stats"}``: plain lists and floats, ready for ``json.dumps``."""
        stats = None if self.stats_ is None else {k: v.tolist() for k, v in self.stats_.items()}
        return {"name": self.name, "params": self.get_params(), "stats": stats}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Scaler:
        """Rebuild a scaler written by :meth:`to_dict` (``Scaler.from_dict`` picks the class)."""
        if not isinstance(state, dict) or "name" not in state:
            raise ConfigError(expected("state", "a dict from Scaler.to_dict()", state))
        name = state["name"]
        if cls is not Scaler and name != cls.name:
            raise ConfigError(expected("state['name']", repr(cls.name), name))
        params = state.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(expected("state['params']", "a dict of constructor arguments",
                                       params))
        scaler = make_scaler(name, **params)
        stats = state.get("stats")
        if stats is not None:
            if not isinstance(stats, dict):
                raise ConfigError(expected("state['stats']", "a dict of per-feature lists",
                                           stats))
            missing = [k for k in scaler._stat_names if k not in stats]
            if missing:
                raise ConfigError(expected("state['stats']", f"keys {list(scaler._stat_names)}",
                                           sorted(stats)))
            scaler._set_stats(_checked_stats(scaler, stats))
            center, scale = scaler._require_fitted()
            if not (np.isfinite(center).all() and np.isfinite(scale).all() and (scale > 0).all()):
                raise ConfigError(expected("state['stats']", "statistics giving a finite, "
                                           "positive scale", Described(
                                               f"center {center.tolist()}, scale "
                                               f"{scale.tolist()}")))
        return scaler

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._non_default_params().items())
        return f"{type(self).__name__}({params})"

    def _non_default_params(self) -> dict[str, Any]:
        defaults = type(self)().get_params()
        return {k: v for k, v in self.get_params().items() if defaults.get(k) != v}


class MinMaxScaler(Scaler):
    """Map each feature's training range ``[min, max]`` linearly to ``feature_range``.

    ``z = lo + (x - min) * (hi - lo) / (max - min)``. Values outside the training range map
    outside ``feature_range`` (they are not clipped: a forecast may leave the past's range).
    A constant feature maps to ``lo``.

    Fitted statistics: ``data_min_``, ``data_max_`` (each ``(F,)``).
    """

    name = "minmax"
    _stat_names = ("data_min", "data_max")

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        lo, hi = (float(v) for v in feature_range)
        if not lo < hi:
            raise ConfigError(expected("feature_range", "(low, high) with low < high",
                                       feature_range))
        self.feature_range = (lo, hi)

    def get_params(self) -> dict[str, Any]:
        return {"feature_range": list(self.feature_range)}

    def _statistics(self, data: np.ndarray) -> dict[str, np.ndarray]:
        return {"data_min": data.min(axis=0), "data_max": data.max(axis=0)}

    def _affine(self, stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.feature_range
        level = np.maximum(np.abs(stats["data_min"]), np.abs(stats["data_max"]))
        data_range = _safe_scale(stats["data_max"] - stats["data_min"], level)
        scale = data_range / (hi - lo)
        return stats["data_min"] - lo * scale, scale

    @property
    def data_min_(self) -> np.ndarray:
        """Per-feature training minimum, ``(F,)``."""
        return self._stat("data_min")

    @property
    def data_max_(self) -> np.ndarray:
        """Per-feature training maximum, ``(F,)``."""
        return self._stat("data_max")


class StandardScaler(Scaler):
    """``z = (x - mean) / std`` per feature (population std, ``ddof=0``).

    A constant feature maps to 0. Fitted statistics: ``mean_``, ``std_`` (each ``(F,)``).
    """

    name = "standard"
    _stat_names = ("mean", "std")

    def _statistics(self, data: np.ndarray) -> dict[str, np.ndarray]:
        return {"mean": data.mean(axis=0), "std": data.std(axis=0)}

    def _affine(self, stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return stats["mean"], _safe_scale(stats["std"], stats["mean"])

    @property
    def mean_(self) -> np.ndarray:
        """Per-feature training mean, ``(F,)``."""
        return self._stat("mean")

    @property
    def std_(self) -> np.ndarray:
        """Per-feature training standard deviation (``ddof=0``), ``(F,)``."""
        return self._stat("std")


class RobustScaler(Scaler):
    """``z = (x - median) / (q_hi - q_lo)`` per feature: outliers barely move the map.

    ``quantile_range`` is in percent (default the interquartile range ``(25, 75)``). A feature
    with zero spread maps to 0. Fitted statistics: ``median_``, ``iqr_`` (each ``(F,)``).
    """

    name = "robust"
    _stat_names = ("median", "iqr")

    def __init__(self, quantile_range: tuple[float, float] = (25.0, 75.0)) -> None:
        super().__init__()
        q_lo, q_hi = (float(v) for v in quantile_range)
        if not 0.0 <= q_lo < q_hi <= 100.0:
            raise ConfigError(expected("quantile_range", "(low, high) percents with "
                                       "0 <= low < high <= 100", quantile_range))
        self.quantile_range = (q_lo, q_hi)

    def get_params(self) -> dict[str, Any]:
        return {"quantile_range": list(self.quantile_range)}

    def _statistics(self, data: np.ndarray) -> dict[str, np.ndarray]:
        q_lo, q_hi = np.percentile(data, self.quantile_range, axis=0)
        return {"median": np.median(data, axis=0), "iqr": q_hi - q_lo}

    def _affine(self, stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return stats["median"], _safe_scale(stats["iqr"], stats["median"])

    @property
    def median_(self) -> np.ndarray:
        """Per-feature training median, ``(F,)``."""
        return self._stat("median")

    @property
    def iqr_(self) -> np.ndarray:
        """Per-feature spread between the two quantiles of ``quantile_range``, ``(F,)``."""
        return self._stat("iqr")


class IdentityScaler(Scaler):
    """No scaling (``"none"``): the same interface, ``center = 0`` and ``scale = 1``.

    It still records ``F`` in :meth:`fit`, so shape checks keep working.
    """

    name = "none"
    _stat_names = ("n_features",)

    def _statistics(self, data: np.ndarray) -> dict[str, np.ndarray]:
        return {"n_features": np.array([data.shape[1]], dtype=np.float64)}

    def _affine(self, stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        n_features = int(stats["n_features"][0])
        return np.zeros(n_features), np.ones(n_features)


_SCALERS: dict[str, type[Scaler]] = {
    cls.name: cls for cls in (MinMaxScaler, StandardScaler, RobustScaler, IdentityScaler)
}


def scaler_names() -> list[str]:
    """The names :func:`make_scaler` accepts."""
    return sorted(_SCALERS)


def make_scaler(name: str | Scaler, **params: Any) -> Scaler:
    """A new, unfitted scaler by name: ``"minmax"``, ``"standard"``, ``"robust"``, ``"none"``.

    ``params`` go to the constructor (``feature_range`` for minmax, ``quantile_range`` for
    robust). Given a :class:`Scaler` instance, returns an unfitted copy of it.
    """
    if isinstance(name, Scaler):
        if params:
            raise ConfigError(expected("params", "none when copying a Scaler instance",
                                       sorted(params), "set them on the instance"))
        clone = copy.deepcopy(name)
        clone.stats_ = clone.center_ = clone.scale_ = None
        return clone
    if not isinstance(name, str) or name not in _SCALERS:
        raise ConfigError(expected("scaler", f"one of {scaler_names()}", name))
    try:
        return _SCALERS[name](**params)
    except TypeError as err:
        raise ConfigError(expected(f"params for scaler {name!r}",
                                   f"{list(_SCALERS[name]().get_params())}", sorted(params))
                          ) from err


# --------------------------------------------------------------------------------------------
# Per-window (instance) normalization, in torch
# --------------------------------------------------------------------------------------------

WindowMode = Literal["standard", "last"]
_WINDOW_MODES: tuple[str, ...] = ("standard", "last")


class WindowStats(NamedTuple):
    """Per-window statistics from :func:`window_stats`; both ``(B, 1, F)``.

    ``loc`` is subtracted and ``scale`` divided by (``scale`` is never below the floor).
    """

    loc: torch.Tensor
    scale: torch.Tensor


def window_stats(x: torch.Tensor, mode: WindowMode = "standard", eps: float = 1e-5
                 ) -> WindowStats:
    """Statistics of each input window over its own time axis.

    Args:
        x: input windows, shape ``(B, L, F)``.
        mode: ``"standard"``: ``loc`` = window mean, ``scale`` = window std (population);
            ``"last"``: ``loc`` = the window's last value, ``scale`` = 1.
        eps: relative floor for ``scale``: ``scale >= eps * max(max|x| over the window, 1)``.
            A flat window (std 0) therefore normalizes to zeros instead of NaN, and rounding
            noise on a large level is not blown up to unit variance.

    Returns:
        :class:`WindowStats` with ``loc`` and ``scale`` of shape ``(B, 1, F)``.

    The statistics are computed on the graph (no ``detach``), so gradients flow through them
    as in reversible instance normalization.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[1] == 0:
        raise ShapeError(expected("x", "a (batch, time, features) tensor with time >= 1",
                                  tuple(x.shape) if isinstance(x, torch.Tensor)
                                  else Described(type(x).__name__)))
    check_choice("mode", mode, _WINDOW_MODES)
    if not eps > 0:
        raise ConfigError(expected("eps", "a positive float", eps))
    if mode == "last":
        loc = x[:, -1:, :]  # (B, 1, F)
        return WindowStats(loc, torch.ones_like(loc))
    loc = x.mean(dim=1, keepdim=True)  # (B, 1, F)
    var = x.var(dim=1, keepdim=True, correction=0)  # (B, 1, F), population variance
    floor = eps * x.detach().abs().amax(dim=1, keepdim=True).clamp_min(1.0)  # (B, 1, F)
    # Floor the variance, then take the root: sqrt'(0) is infinite, so flooring the std after
    # the root would still send NaN gradients back through a flat window.
    return WindowStats(loc, torch.maximum(var, floor.square()).sqrt())


def normalize(x: torch.Tensor, stats: WindowStats) -> torch.Tensor:
    """``(x - loc) / scale``: ``x`` ``(B, L, F)`` with the stats of the same windows."""
    if x.dim() != 3 or x.shape[0] != stats.loc.shape[0] or x.shape[2] != stats.loc.shape[2]:
        raise ShapeError(expected("x", f"shape (B={stats.loc.shape[0]}, L, "
                                  f"F={stats.loc.shape[2]})", tuple(x.shape)))
    return (x - stats.loc) / stats.scale


def denormalize(y: torch.Tensor, stats: WindowStats,
                target_idx: Sequence[int] | None = None) -> torch.Tensor:
    """Map normalized outputs back: ``y * scale[target_idx] + loc[target_idx]``.

    Args:
        y: model outputs, shape ``(B, H, n_targets)`` or ``(B, n_targets)``.
        stats: the statistics of the input windows the outputs were predicted from.
        target_idx: the input feature each output column corresponds to (default: all
            ``F`` features, so ``n_targets == F``).

    Returns:
        A tensor shaped like ``y``.
    """
    n_batch, _, n_features = stats.loc.shape
    idx = list(range(n_features)) if target_idx is None else list(target_idx)
    if not idx or min(idx) < 0 or max(idx) >= n_features:
        raise ConfigError(expected("target_idx", f"feature positions in [0, {n_features})", idx))
    if y.dim() not in (2, 3) or y.shape[0] != n_batch or y.shape[-1] != len(idx):
        raise ShapeError(expected("y", f"shape (B={n_batch}, H, {len(idx)}) or "
                                  f"(B={n_batch}, {len(idx)})", tuple(y.shape)))
    loc, scale = stats.loc[..., idx], stats.scale[..., idx]  # (B, 1, n_targets)
    if y.dim() == 2:
        loc, scale = loc[:, 0], scale[:, 0]  # (B, n_targets)
    return y * scale + loc


@dataclass(frozen=True)
class WindowNormalizer:
    """Reversible per-window normalization for use inside a model's ``forward``.

    Each input window is normalized by its own statistics, the network predicts in that
    normalized space, and its outputs are mapped back with the same statistics::

        norm = WindowNormalizer(mode="standard")
        x_n, stats = norm.normalize(x)                 # x: (B, L, F)
        y_n = net(x_n)                                 # (B, H, n_targets)
        y = norm.denormalize(y_n, stats, target_idx)   # (B, H, n_targets), data units

    Args:
        mode: ``"standard"`` (subtract the window mean, divide by the window std) or
            ``"last"`` (subtract the last observed value; no division).
        eps: relative floor for the scale; see :func:`window_stats`.
    """

    mode: WindowMode = "standard"
    eps: float = 1e-5

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, _WINDOW_MODES)
        if not self.eps > 0:
            raise ConfigError(expected("eps", "a positive float", self.eps))

    def stats(self, x: torch.Tensor) -> WindowStats:
        """:func:`window_stats` of ``x`` ``(B, L, F)``."""
        return window_stats(x, self.mode, self.eps)

    def normalize(self, x: torch.Tensor) -> tuple[torch.Tensor, WindowStats]:
        """Normalize ``x`` ``(B, L, F)``; returns ``(x_normalized, stats)``."""
        stats = self.stats(x)
        return normalize(x, stats), stats

    def denormalize(self, y: torch.Tensor, stats: WindowStats,
                    target_idx: Sequence[int] | None = None) -> torch.Tensor:
        """:func:`denormalize` ``y`` ``(B, H, n_targets)`` or ``(B, n_targets)``."""
        return denormalize(y, stats, target_idx)
