"""The reference profile: what "normal" looked like when the model was trained.

A fitted task keeps a :class:`Profile` as ``task.profile_``, computed at fit time on the
TRAINING part only (validation predictions and residuals come from the validation part), and
its bundle stores it as ``profile.json`` (listed and checksummed in the manifest like every
other file). A bundle saved before profiles existed has no ``profile.json`` and loads with
``profile_ = None``; :func:`profile_of` returns that None, and drift detection says so.

What a profile holds:

- ``features``: a :class:`Distribution` of every input column (forecasting: targets,
  covariates and calendar columns of the training rows).
- ``window_stats``: for every target, the distribution of four statistics of every training
  window of ``look_back`` rows (stride 1): ``level`` (mean), ``slope`` (least-squares slope per
  step), ``volatility`` (std of the first differences) and ``autocorr`` (lag-1
  autocorrelation). They capture the dynamics, not only the marginals: a series whose values
  stay in range but start to oscillate moves ``volatility`` and ``autocorr``.
- ``predictions`` and ``residuals``: per output (forecasting: per target, every forecast step
  of every validation window, in original units; classification: the predicted labels'
  shares), and ``validation_metrics`` (forecasting ``{"rmse", "mae"}``, classification
  ``{"accuracy", "log_loss"}``).
- text tasks: ``lengths`` (tokens per text), ``oov_rate`` (share of tokens outside the
  vocabulary) and ``labels`` (share of each training label).

A :class:`Distribution` keeps the training quantiles (which are also the fixed bin edges of
PSI: deciles by default), the counts per bin, the mean and std, and a bounded seeded sample
(at most 2,000 values) that the Kolmogorov-Smirnov test compares against.

Example::

    >>> import numpy as np
    >>> d = Distribution.of(np.arange(100.0))
    >>> len(d.cuts), sum(d.counts), d.n
    (9, 100, 100)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, DataError

__all__ = ["PROFILE_FILE", "PROFILE_VERSION", "SAMPLE_SIZE", "WINDOW_STATS", "Distribution",
           "Profile", "ess_factor", "expected_oov_rate", "label_shares", "profile_of", "series_profile", "text_profile", "window_statistics"]

#: the bundle file that holds the profile
PROFILE_FILE = "profile.json"
#: the layout version of :meth:`Profile.to_dict`
PROFILE_VERSION = 1
#: the most reference values a Distribution keeps for the KS test
SAMPLE_SIZE = 2000
#: the window-level statistics, in order
WINDOW_STATS = ("level", "slope", "volatility", "autocorr")
#: the quantiles every Distribution records
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass(frozen=True)
class Distribution:
    """The reference distribution of one quantity.

    Attributes:
        n: how many values it was computed from.
        mean, std: of those values.
        quantiles: ``{"0.01": q, ..., "0.99": q}``.
        cuts: the inner PSI bin edges (training quantiles, increasing, duplicates removed);
            bin i is ``(cuts[i-1], cuts[i]]``, the outer bins are open-ended.
        counts: training values per bin, ``len(cuts) + 1`` of them.
        sample: at most :data:`SAMPLE_SIZE` of the values (seeded), for the KS test.
        ess: the effective-sample-size factor of the values in their order, in
            [1/19, 1] (1 for unordered ones): ``n * ess`` independent values carry as much
            information as these ``n`` autocorrelated ones (:func:`ess_factor`). Under no
            drift new values share this dependence, so the tests use it for both samples.
    """

    n: int
    mean: float
    std: float
    quantiles: dict[str, float]
    cuts: list[float]
    counts: list[int]
    sample: list[float]
    ess: float = 1.0

    @classmethod
    def of(cls, values: Any, *, bins: int = 10, sample_size: int = SAMPLE_SIZE,
           seed: int = 0, ordered: bool = True) -> Distribution:
        """The distribution of the finite ``values`` (any shape, flattened): ``bins``
        quantile bins, a seeded sample of at most ``sample_size`` values. ``ordered``: the
        values are a series (their effective-size factor is recorded)."""
        x = np.asarray(values, dtype=np.float64).ravel()
        x = x[np.isfinite(x)]
        if x.size == 0:
            raise DataError(expected("values", "at least one finite value",
                                     Described("none")))
        cuts = np.unique(np.quantile(x, np.arange(1, bins) / bins))
        counts = np.bincount(np.searchsorted(cuts, x, side="left"), minlength=cuts.size + 1)
        if x.size > sample_size:
            idx = np.sort(np.random.default_rng(seed).choice(x.size, sample_size, replace=False))
            sample = x[idx]
        else:
            sample = x
        return cls(n=int(x.size), mean=float(x.mean()), std=float(x.std()),
                   quantiles={f"{q:g}": float(np.quantile(x, q)) for q in QUANTILES},
                   cuts=[float(c) for c in cuts], counts=[int(c) for c in counts],
                   sample=[float(v) for v in sample],
                   ess=ess_factor(x) if ordered else 1.0)

    def shares(self) -> np.ndarray:
        """The training share of each PSI bin, (len(cuts) + 1,)."""
        counts = np.asarray(self.counts, dtype=np.float64)
        return counts / counts.sum()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        return cls(n=int(data["n"]), mean=float(data["mean"]), std=float(data["std"]),
                   quantiles={str(k): float(v) for k, v in data["quantiles"].items()},
                   cuts=[float(v) for v in data["cuts"]], counts=[int(v) for v in data["counts"]],
                   sample=[float(v) for v in data["sample"]], ess=float(data.get("ess", 1.0)))


#: the smallest effective-size factor: a trending series, whose autocorrelations stay near 1
#: from the trend rather than from dependence, still counts as n / 19 independent values
MIN_ESS = 1 / 19


def ess_factor(x: np.ndarray, max_lag: int | None = None) -> float:
    """The effective-sample-size factor ``1 / (1 + 2 sum_k rho_k)`` of a 1-D series, the sum
    over lags k = 1, 2, ... up to the first autocorrelation inside the noise band 2 / sqrt(n)
    (an initial positive sequence in Geyer's sense, without the noisy tail that would sum
    chance correlations; at most ``max_lag``, default n // 4), clipped to
    [:data:`MIN_ESS`, 1]. An AR(1) series with r = 0.5 gives about 1/3; white noise 1; a
    quasi-periodic series (sunspots) counts its cycles, not only its lag-1 correlation.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    if n < 8:
        return 1.0
    d = x - x.mean()
    den = float(d @ d)
    if den <= 0:
        return 1.0
    total, band = 0.0, 2.0 / np.sqrt(n)
    for k in range(1, max_lag or n // 4):
        rho = float(d[k:] @ d[:-k]) / den
        if rho <= band:
            break
        total += rho
    return float(min(max(1.0 / (1.0 + 2.0 * total), MIN_ESS), 1.0))


def window_statistics(values: Any, look_back: int) -> dict[str, np.ndarray]:
    """The four statistics of every window of ``look_back`` rows of a 1-D series (stride 1).

    Args:
        values: (T,) the series.
        look_back: L, the window length (>= 3).

    Returns:
        ``{"level", "slope", "volatility", "autocorr"}``, each (T - L + 1,): the window mean,
        its least-squares slope per step, the std of its first differences and its lag-1
        autocorrelation (0 for a constant window). Empty arrays when T < L.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    L = int(look_back)
    if L < 3 or x.size < L:
        return {name: np.empty(0) for name in WINDOW_STATS}
    w = np.lib.stride_tricks.sliding_window_view(x, L)  # (N, L)
    level = w.mean(axis=1)
    t = np.arange(L) - (L - 1) / 2  # centred time
    d = w - level[:, None]  # (N, L)
    slope = d @ t / float(t @ t)
    volatility = np.diff(w, axis=1).std(axis=1)
    den = np.einsum("ij,ij->i", d, d)
    num = np.einsum("ij,ij->i", d[:, 1:], d[:, :-1])
    autocorr = np.divide(num, den, out=np.zeros_like(num), where=den > 1e-12)
    return {"level": level, "slope": slope, "volatility": volatility, "autocorr": autocorr}


@dataclass
class Profile:
    """A fitted task's reference profile (see the module docstring); JSON-able through
    :meth:`to_dict` / :meth:`from_dict`.

    Attributes:
        task: the task name.
        n_rows: training rows (forecasting) or training examples it was computed on.
        features: column -> Distribution of the training values.
        look_back: the window length of ``window_stats`` (forecasting), else None.
        window_stats: target -> statistic (:data:`WINDOW_STATS`) -> Distribution.
        predictions: output -> Distribution of the validation predictions (forecasting).
        residuals: output -> Distribution of validation actual - predicted (forecasting).
        validation_metrics: the validation error, e.g. ``{"rmse": .., "mae": ..}``.
        lengths: tokens per training text (text tasks), else None.
        oov_rate: share of training tokens outside the vocabulary (text tasks), else None.
        labels: label -> training share (classification, tagging), else None.
        predicted_labels: label -> share among the validation predictions (classification).
    """

    task: str
    n_rows: int
    features: dict[str, Distribution] = field(default_factory=dict)
    look_back: int | None = None
    window_stats: dict[str, dict[str, Distribution]] = field(default_factory=dict)
    predictions: dict[str, Distribution] = field(default_factory=dict)
    residuals: dict[str, Distribution] = field(default_factory=dict)
    validation_metrics: dict[str, float] = field(default_factory=dict)
    lengths: Distribution | None = None
    oov_rate: float | None = None
    labels: dict[str, float] | None = None
    predicted_labels: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able dict that ``profile.json`` holds (with a ``version`` key)."""
        def dists(d: Mapping[str, Distribution]) -> dict[str, Any]:
            return {k: v.to_dict() for k, v in d.items()}

        return {"version": PROFILE_VERSION, "task": self.task, "n_rows": self.n_rows,
                "features": dists(self.features), "look_back": self.look_back,
                "window_stats": {k: dists(v) for k, v in self.window_stats.items()},
                "predictions": dists(self.predictions), "residuals": dists(self.residuals),
                "validation_metrics": dict(self.validation_metrics),
                "lengths": None if self.lengths is None else self.lengths.to_dict(),
                "oov_rate": self.oov_rate, "labels": self.labels,
                "predicted_labels": self.predicted_labels}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """The profile :meth:`to_dict` wrote (a wrong layout raises KeyError / TypeError /
        ValueError, which bundle loading reports as a BundleError naming profile.json)."""
        if data.get("version") != PROFILE_VERSION:
            raise ConfigError(expected("version", f"profile version {PROFILE_VERSION}",
                                       data.get("version"), "save the bundle again"))

        def dists(d: Mapping[str, Any]) -> dict[str, Distribution]:
            return {str(k): Distribution.from_dict(v) for k, v in d.items()}

        lengths = data.get("lengths")
        return cls(task=str(data["task"]), n_rows=int(data["n_rows"]),
                   features=dists(data["features"]),
                   look_back=None if data["look_back"] is None else int(data["look_back"]),
                   window_stats={str(k): dists(v) for k, v in data["window_stats"].items()},
                   predictions=dists(data["predictions"]), residuals=dists(data["residuals"]),
                   validation_metrics={str(k): float(v)
                                       for k, v in data["validation_metrics"].items()},
                   lengths=None if lengths is None else Distribution.from_dict(lengths),
                   oov_rate=None if data.get("oov_rate") is None else float(data["oov_rate"]),
                   labels=_shares(data.get("labels")),
                   predicted_labels=_shares(data.get("predicted_labels")))


def _shares(d: Any) -> dict[str, float] | None:
    return None if d is None else {str(k): float(v) for k, v in d.items()}


def series_profile(task: str, columns: Sequence[str], values: Any, *,
                   targets: Sequence[str], look_back: int,
                   val_actual: Any = None, val_pred: Any = None) -> Profile:
    """The profile of a forecaster from its training rows and validation forecasts.

    Args:
        task: the task name.
        columns: the F column names of ``values``.
        values: (T, F) the training rows, in original units.
        targets: the K target names (a subset of ``columns``, in the forecasts' order).
        look_back: L, the window length of the window statistics.
        val_actual, val_pred: (N, H, K) the validation windows' actual values and forecasts,
            in original units (None when there are no validation windows).

    Example::

        >>> import numpy as np
        >>> p = series_profile("forecasting", ["y"], np.sin(np.arange(200.0))[:, None],
        ...                    targets=["y"], look_back=12)
        >>> sorted(p.window_stats["y"])
        ['autocorr', 'level', 'slope', 'volatility']
    """
    x = np.asarray(values, dtype=np.float64)  # (T, F)
    if x.ndim != 2 or x.shape[1] != len(columns):
        raise DataError(expected("values", f"(T, {len(columns)}) training rows",
                                 Described(f"shape {x.shape}")))
    features = {c: Distribution.of(x[:, i]) for i, c in enumerate(columns)}
    window_stats = {}
    for name in targets:
        stats = window_statistics(x[:, list(columns).index(name)], look_back)
        if stats["level"].size:
            window_stats[name] = {k: Distribution.of(v) for k, v in stats.items()}
    predictions, residuals, metrics = {}, {}, {}
    if val_actual is not None and val_pred is not None and np.size(val_pred):
        y = np.asarray(val_actual, dtype=np.float64)  # (N, H, K)
        p = np.asarray(val_pred, dtype=np.float64)  # (N, H, K)
        for k, name in enumerate(targets):
            predictions[name] = Distribution.of(p[..., k])  # window by window: ordered
            residuals[name] = Distribution.of(y[..., k] - p[..., k], ordered=False)
        err = y - p
        metrics = {"rmse": float(np.sqrt(np.nanmean(err ** 2))),
                   "mae": float(np.nanmean(np.abs(err)))}
    return Profile(task=task, n_rows=int(x.shape[0]), features=features, look_back=look_back,
                   window_stats=window_stats, predictions=predictions, residuals=residuals,
                   validation_metrics=metrics)


def text_profile(task: str, lengths: Any, *, oov_rate: float | None = None,
                 labels: Sequence[Any] | None = None,
                 predicted: Sequence[Any] | None = None,
                 validation_metrics: Mapping[str, float] | None = None,
                 ordered: bool = False) -> Profile:
    """The profile of a text task: token lengths of the training texts, their OOV rate
    against the vocabulary, the training labels' shares and (optionally) the shares of the
    validation predictions and the validation metrics. ``ordered``: the lengths are those of
    consecutive pieces of one text (a language model's lines), whose autocorrelation counts.

    Example::

        >>> p = text_profile("classification", [3, 5, 4], oov_rate=0.0, labels=["a", "b", "a"])
        >>> p.labels
        {'a': 0.6666666666666666, 'b': 0.3333333333333333}
    """
    return Profile(task=task, n_rows=len(lengths),
                   lengths=Distribution.of(lengths, ordered=ordered),
                   oov_rate=None if oov_rate is None else float(oov_rate),
                   labels=None if labels is None else label_shares(labels),
                   predicted_labels=None if predicted is None else label_shares(predicted),
                   validation_metrics=dict(validation_metrics or {}))


def expected_oov_rate(tokens: Sequence[Sequence[str]], vocab: Any) -> float:
    """The out-of-vocabulary rate to expect on new texts from the training distribution.

    The vocabulary was built from these very ``tokens``, so their own OOV rate understates it
    (0 with ``min_freq = 1``). Good-Turing's estimate of the probability that the next token
    is of a type never seen is N1 / N (N1: tokens of types seen exactly once, N: all tokens);
    the types the vocabulary dropped (rarer than ``min_freq``) add their training share. So:
    (N1 + tokens outside the vocabulary) / N.

    Example::

        >>> expected_oov_rate([["a", "b"], ["a", "c"]], {"a", "b", "c"})
        0.5
    """
    counts: dict[str, int] = {}
    for text in tokens:
        for tok in text:
            counts[tok] = counts.get(tok, 0) + 1
    total = sum(counts.values())
    if total == 0:
        return 0.0
    dropped = sum(c for tok, c in counts.items() if tok not in vocab)
    singletons = sum(1 for c in counts.values() if c == 1)
    return min((singletons + dropped) / total, 1.0)


def label_shares(labels: Sequence[Any]) -> dict[str, float]:
    """label (as a string) -> share of ``labels``."""
    names, counts = np.unique(np.asarray([str(v) for v in labels]), return_counts=True)
    total = counts.sum()
    return {str(n): float(c / total) for n, c in zip(names, counts, strict=True)}


def profile_of(task: Any) -> Profile | None:
    """The reference profile of a fitted task (``task.profile_``), None when it has none (a
    task loaded from a bundle saved before profiles existed)."""
    profile = getattr(task, "profile_", None)
    return profile if isinstance(profile, Profile) else None
