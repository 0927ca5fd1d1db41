"""Residual diagnostics: is what the model leaves behind noise, and where does it err most?

* :func:`residual_diagnostics` takes a 1-D residual series (actual - forecast, in time order)
  and returns its autocorrelation (ACF) with 95% confidence bands, the Ljung-Box test of "no
  autocorrelation up to lag k", a histogram and normal QQ data. Residuals of a good forecaster
  look like white noise: ACF inside the bands, Ljung-Box p-values above 0.05, QQ on the line.
* :func:`errors_by` groups a prediction frame (:meth:`Forecaster.predict_windows`, a
  classifier's ``predict_frame``) by a segment (horizon ``step``, a time period, a class, a
  length bucket) and reports the error per segment.
* :func:`worst` returns the ``n`` rows with the largest error.

The ACF bands are Bartlett's (``statsmodels.tsa.stattools.acf(alpha=0.05)``), centred at zero as
in ``statsmodels.graphics.tsaplots.plot_acf``: under white noise about 95% of lags fall inside.

Example::

    >>> import numpy as np
    >>> diag = residual_diagnostics(np.random.default_rng(0).normal(size=500), lags=10)
    >>> bool(diag.ljung_box["lb_pvalue"].iloc[-1] > 0.05)
    True
    >>> fig = diag.plot("residuals.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rnnkit._validation import Described, check_positive_int, expected
from rnnkit.analysis.plots import save_figure
from rnnkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ResidualDiagnostics", "errors_by", "residual_diagnostics", "worst"]


def _new_figure(n_cols: int, width: float = 14.0, height: float = 4.0) -> tuple[Figure, list[Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.14, top=0.88, wspace=0.25)
    return fig, [fig.add_subplot(1, n_cols, i + 1) for i in range(n_cols)]


@dataclass(frozen=True)
class ResidualDiagnostics:
    """What :func:`residual_diagnostics` measured on N residuals up to lag L.

    Attributes:
        residuals: (N,) the residuals, finite, in time order.
        lags: (L + 1,) lags 0..L.
        acf: (L + 1,) the autocorrelation at each lag (``acf[0] == 1``).
        band: (L + 1, 2) the 95% band around zero (lower, upper) at each lag (Bartlett).
        ljung_box: one row per lag 1..L: ``lb_stat`` and ``lb_pvalue`` (no autocorrelation up
            to that lag).
        hist_counts: (bins,) histogram counts; hist_edges: (bins + 1,) the bin edges.
        qq_theoretical: (N,) normal quantiles; qq_ordered: (N,) sorted residuals;
        qq_fit: (slope, intercept, r) of the least-squares line through the QQ points.
    """

    residuals: np.ndarray
    lags: np.ndarray
    acf: np.ndarray
    band: np.ndarray
    ljung_box: pd.DataFrame
    hist_counts: np.ndarray
    hist_edges: np.ndarray
    qq_theoretical: np.ndarray
    qq_ordered: np.ndarray
    qq_fit: tuple[float, float, float]

    @property
    def outside(self) -> np.ndarray:
        """(L,) bool: lags 1..L whose ACF falls outside the 95% band."""
        acf, band = self.acf[1:], self.band[1:]
        return (acf < band[:, 0]) | (acf > band[:, 1])

    @property
    def inside_fraction(self) -> float:
        """Share of lags 1..L inside the band (about 0.95 for white noise)."""
        return float(1.0 - self.outside.mean())

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """Three panels: the ACF with its band, the histogram, the normal QQ plot.

        Args:
            path: a PNG file to write (atomically); None draws only.

        Returns:
            the matplotlib Figure (Agg canvas, no window).
        """
        fig, (ax_acf, ax_hist, ax_qq) = _new_figure(3)
        ax_acf.fill_between(self.lags[1:], self.band[1:, 0], self.band[1:, 1], color="tab:blue",
                            alpha=0.2, label="95% band")
        ax_acf.vlines(self.lags, 0, self.acf, color="black", linewidth=1)
        ax_acf.scatter(self.lags, self.acf, s=10, color="black")
        ax_acf.axhline(0, color="grey", linewidth=0.8)
        p = float(self.ljung_box["lb_pvalue"].iloc[-1])
        ax_acf.set_title(f"ACF (Ljung-Box p at lag {int(self.lags[-1])}: {p:.3g})")
        ax_acf.set_xlabel("lag")
        ax_acf.legend(loc="upper right")
        ax_hist.stairs(self.hist_counts, self.hist_edges, fill=True, alpha=0.6)
        ax_hist.set_title("histogram")
        ax_hist.set_xlabel("residual")
        slope, intercept, r = self.qq_fit
        ax_qq.scatter(self.qq_theoretical, self.qq_ordered, s=6)
        ends = np.array([self.qq_theoretical.min(), self.qq_theoretical.max()])
        ax_qq.plot(ends, slope * ends + intercept, color="tab:red", linewidth=1)
        ax_qq.set_title(f"normal QQ (r = {r:.3f})")
        ax_qq.set_xlabel("theoretical quantile")
        ax_qq.set_ylabel("ordered residual")
        if path is not None:
            save_figure(fig, path)
        return fig


def _as_residuals(residuals: Any) -> np.ndarray:
    if isinstance(residuals, pd.DataFrame):
        if residuals.shape[1] != 1:
            raise DataError(expected("residuals", "one column (a 1-D series)",
                                     Described(f"a DataFrame with {residuals.shape[1]} columns"),
                                     "pick one column, e.g. frame['y'] - frame['y_pred']"))
        residuals = residuals.iloc[:, 0]
    try:
        values = np.asarray(residuals, dtype=float)
    except (TypeError, ValueError):
        raise DataError(expected("residuals", "numbers",
                                 Described(type(residuals).__name__))) from None
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise DataError(expected("residuals", "a 1-D series",
                                 Described(f"an array of shape {values.shape}")))
    if not np.isfinite(values).all():
        bad = int((~np.isfinite(values)).sum())
        raise DataError(expected("residuals", "finite values", Described(f"{bad} NaN/inf"),
                                 "drop the missing rows first"))
    return values


def residual_diagnostics(residuals: Any, *, lags: int = 20, bins: int = 30) -> ResidualDiagnostics:
    """ACF with 95% bands, Ljung-Box test, histogram and QQ data of a residual series.

    Args:
        residuals: (N,) actual - predicted, in time order (array, list or Series).
        lags: the largest lag L (needs N > L + 1).
        bins: histogram bins.

    Returns:
        a :class:`ResidualDiagnostics`; ``.plot(path)`` draws it.

    Raises:
        DataError: not 1-D, not finite, constant, or too short for ``lags``.
        ConfigError: ``lags`` or ``bins`` not a positive integer.
    """
    from scipy import stats
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.tsa.stattools import acf

    check_positive_int("lags", lags)
    check_positive_int("bins", bins)
    values = _as_residuals(residuals)
    n = values.size
    if n <= lags + 1:
        raise DataError(expected("residuals", f"more than lags + 1 = {lags + 1} values",
                                 Described(f"{n} values"), f"pass lags <= {max(n - 2, 0)}"))
    if np.ptp(values) == 0.0:
        raise DataError(expected("residuals", "values that vary", Described(f"{n} equal values"),
                                 "a constant series has no autocorrelation"))
    with warnings.catch_warnings():  # statsmodels 0.15 announces a result object; same values
        warnings.simplefilter("ignore", FutureWarning)
        rho, confint = acf(values, nlags=lags, alpha=0.05, fft=True)
    band = confint - rho[:, None]  # (L + 1, 2) centred at zero
    lb = acorr_ljungbox(values, lags=list(range(1, lags + 1)))
    lb = pd.DataFrame({"lb_stat": lb["lb_stat"].to_numpy(float),
                       "lb_pvalue": lb["lb_pvalue"].to_numpy(float)},
                      index=pd.RangeIndex(1, lags + 1, name="lag"))
    counts, edges = np.histogram(values, bins=bins)
    (theoretical, ordered), (slope, intercept, r) = stats.probplot(values, dist="norm")
    return ResidualDiagnostics(
        residuals=values, lags=np.arange(lags + 1), acf=np.asarray(rho, float), band=band,
        ljung_box=lb, hist_counts=counts, hist_edges=edges,
        qq_theoretical=np.asarray(theoretical, float), qq_ordered=np.asarray(ordered, float),
        qq_fit=(float(slope), float(intercept), float(r)))


def _columns(frame: pd.DataFrame, actual: str | None, predicted: str | None) -> tuple[str, str]:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(expected("frame", "a pandas DataFrame of predictions",
                                 Described(type(frame).__name__)))
    cols = [str(c) for c in frame.columns]
    if actual is None and predicted is None:
        pairs = [(c[: -len("_pred")], c) for c in cols if c.endswith("_pred")
                 and c[: -len("_pred")] in cols]
        if pairs:
            actual, predicted = pairs[0]
        elif "prediction" in cols and "label" in cols:
            actual, predicted = "label", "prediction"
    elif predicted is None and actual is not None:
        predicted = f"{actual}_pred"
    if actual is None or predicted is None:
        raise DataError(expected("frame", "actual and predicted columns ('<target>' and "
                                 "'<target>_pred', or 'label' and 'prediction')", cols,
                                 "name them with actual=... and predicted=..."))
    for name, col in (("actual", actual), ("predicted", predicted)):
        if col not in cols:
            raise ConfigError(expected(name, f"a column of frame {cols}", col))
    return actual, predicted


def _errors(frame: pd.DataFrame, actual: str, predicted: str) -> tuple[pd.Series, bool]:
    """(signed error for numbers, or 1.0 where wrong for labels; whether numeric)."""
    a, p = frame[actual], frame[predicted]
    numeric = pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(p)
    if numeric:
        return (a - p).astype(float), True
    return (a.astype(str) != p.astype(str)).astype(float), False


def errors_by(frame: pd.DataFrame, by: str | Sequence[Any] | pd.Series, *,
              actual: str | None = None, predicted: str | None = None,
              bins: int | None = None) -> pd.DataFrame:
    """The error of each segment of a prediction frame.

    Args:
        frame: one row per prediction: :meth:`Forecaster.predict_windows` (``<target>``,
            ``<target>_pred``, ``step``, ``part``) or a classifier's ``predict_frame``
            (``label``, ``prediction``); other frames name their columns.
        by: a column name (``"step"``, ``"part"``, ``"label"``), or one value per row (e.g.
            ``frame.index.year`` for a time period).
        actual, predicted: the columns compared (default: detected as above).
        bins: cut a numeric ``by`` (a length) into this many equal-width buckets.

    Returns:
        one row per segment (sorted): ``count`` and, for numbers, ``bias`` (mean of actual -
        predicted), ``mae``, ``rmse``; for labels, ``error_rate``.

    Example::

        >>> frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "y_pred": [1.0, 1.0, 3.0, 6.0],
        ...                       "step": [1, 2, 1, 2]})
        >>> errors_by(frame, "step")["mae"].tolist()
        [0.0, 1.5]
    """
    actual, predicted = _columns(frame, actual, predicted)
    error, numeric = _errors(frame, actual, predicted)
    if isinstance(by, str):
        if by not in frame.columns:
            raise ConfigError(expected("by", f"a column of frame {list(frame.columns)}", by,
                                       "or pass one value per row"))
        key = frame[by].to_numpy()
        name = by
    else:
        key = np.asarray(by)
        name = getattr(by, "name", None) or "segment"
        if key.ndim != 1 or len(key) != len(frame):
            raise DataError(expected("by", f"a column name or {len(frame)} values (one per row)",
                                     Described(f"values of shape {key.shape}")))
    if bins is not None:
        check_positive_int("bins", bins)
        if not pd.api.types.is_numeric_dtype(key):
            raise ConfigError(expected("bins", "None for a non-numeric 'by'", bins))
        key = pd.cut(key, bins=bins)
    groups = error.to_frame("e").assign(_key=key).groupby("_key", observed=True, sort=True)["e"]
    if numeric:
        out = pd.DataFrame({"count": groups.size(), "bias": groups.mean(),
                            "mae": groups.apply(lambda e: float(e.abs().mean())),
                            "rmse": groups.apply(lambda e: float(np.sqrt((e ** 2).mean())))})
    else:
        out = pd.DataFrame({"count": groups.size(), "error_rate": groups.mean()})
    out.index.name = str(name)
    return out


def worst(frame: pd.DataFrame, n: int = 10, *, actual: str | None = None,
          predicted: str | None = None) -> pd.DataFrame:
    """The ``n`` rows with the largest absolute error (for labels: the wrong ones), largest
    first, with an added ``error`` column (actual - predicted, or 1.0 where wrong).

    Args: ``frame``, ``actual``, ``predicted`` as :func:`errors_by`; ``n`` rows to keep.
    """
    check_positive_int("n", n)
    actual, predicted = _columns(frame, actual, predicted)
    error, numeric = _errors(frame, actual, predicted)
    ranked = frame.assign(error=error.to_numpy())
    if not numeric:
        ranked = ranked[ranked["error"] > 0]
    order = np.argsort(-np.abs(ranked["error"].to_numpy()), kind="stable")[:n]
    return ranked.iloc[order]
