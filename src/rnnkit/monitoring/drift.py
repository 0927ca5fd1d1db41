"""Drift detection: new data against a fitted task's reference profile.

:func:`detect_drift` runs these tests and returns a :class:`DriftReport` (``drift`` is true when
any test crosses its threshold):

========================  =====================================================================
test                      what it compares (new data vs the profile)
========================  =====================================================================
``psi``                   each input column's values, over the training deciles (PSI)
``ks``                    each input column's values against the stored training sample
                          (two-sample Kolmogorov-Smirnov, Bonferroni over the tests, the
                          effective sample sizes of autocorrelated series)
``window_psi``            each target's window statistics (level, slope, volatility, lag-1
                          autocorrelation of every ``look_back`` window), PSI
``prediction_psi``        the model's forecasts on the new windows against its validation
                          forecasts (PSI), or the predicted labels' (tags') shares against
                          the validation predictions' (classification, tagging)
``length_psi``            tokens per text (text tasks), PSI
``oov_increase``          the out-of-vocabulary rate minus the expected one (text tasks;
                          :func:`~rnnkit.monitoring.profile.expected_oov_rate`)
========================  =====================================================================

PSI (population stability index) is ``sum((p - q) * ln(p / q))`` over the profile's fixed bins,
p the new shares, q the training shares, each at least ``1e-4`` (an empty bin stays finite).
A PSI test drifts when the index is above its threshold AND above its noise floor
(:func:`psi_floor`): the PSI that sampling noise alone reaches at this sample size, at the
Bonferroni level, autocorrelation counted; so a small or autocorrelated slice (30 rows of a
yearly series) is not flagged for being small. Every call is fast (no training, no refit):
about 10 ms for a few hundred rows of a tiny forecaster on a CPU, the forecasts included.

Example::

    report = detect_drift(task, task.read_data("new.csv", labelled=False))
    report.drift, report.to_dict()["tests"][0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, DataError
from rnnkit.monitoring.profile import (
    WINDOW_STATS,
    Distribution,
    Profile,
    label_shares,
    profile_of,
    window_statistics,
)

__all__ = ["DriftReport", "DriftTest", "Thresholds", "detect_drift", "ks_test", "psi", "psi_floor",
           "share_psi"]

#: the floor of a bin's share in PSI, so that an empty bin gives a finite index
EPSILON = 1e-4


@dataclass(frozen=True)
class Thresholds:
    """When each test reports drift. The defaults, and why:

    Attributes:
        psi: 0.2 per input column. The credit-scoring rule of thumb reads PSI < 0.1 as
            stable, 0.1-0.25 as a moderate shift, > 0.25 as a major one; 0.2 sits inside the
            moderate band because a scale or offset change of a sensor is what we want to see,
            while a window of 100 independent rows from the training regime gives PSI about
            (bins - 1) / n = 0.09 by sampling noise alone over 10 bins (smaller or
            autocorrelated samples get the higher noise floor of :func:`psi_floor`).
        ks_alpha: 0.01, the family-wise level of one check, Bonferroni-divided over its m
            tests (each KS p-value is compared with ``ks_alpha / m``; the PSI noise floors use
            the same level). The p-values use the effective sample size ``n * ess``, ess from
            the sum of autocorrelations of the training values (both samples, see
            :func:`~rnnkit.monitoring.profile.ess_factor`), since the rows of a series are not
            independent and the textbook p-value would flag every slow cycle.
        window_psi: 0.25 per window statistic. The windows of a slice overlap (stride 1), so
            their histogram is noisier than the rows': the "major shift" band.
        prediction_psi: 0.25 on the forecasts (or the predicted labels' shares): the model's
            outputs moving out of their validation range is a major shift, not noise.
        length_psi: 0.2 on tokens per text, as ``psi``.
        oov_increase: 0.05, the OOV rate rising by five points above the training rate (one
            token in twenty new to the vocabulary) is a vocabulary shift.
        min_rows: 20, fewer new values than this skip a test (it says so) rather than guess.
    """

    psi: float = 0.2
    ks_alpha: float = 0.01
    window_psi: float = 0.25
    prediction_psi: float = 0.25
    length_psi: float = 0.2
    oov_increase: float = 0.05
    min_rows: int = 20

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value > 0):
                raise ConfigError(expected(f"thresholds.{f.name}", "a positive number", value))
        if self.ks_alpha >= 1:
            raise ConfigError(expected("thresholds.ks_alpha", "a level in (0, 1)",
                                       self.ks_alpha))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Thresholds:
        """Defaults overridden by ``data`` (an unknown key is a ConfigError naming it)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(expected(f"thresholds.{unknown[0]}", f"one of {sorted(known)}",
                                       Described("an unknown threshold")))
        return replace(cls(), **data)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class DriftTest:
    """One test's result: ``drift`` when ``statistic`` crosses ``threshold`` (for KS: when
    ``p_value`` falls below it). ``note``: ``"too few rows"`` (windows, texts): the test was
    skipped; ``"noise floor"``: the threshold reported is the PSI noise floor of this sample
    size, above the configured one (:func:`psi_floor`)."""

    name: str
    feature: str
    statistic: float
    threshold: float
    p_value: float | None = None
    drift: bool = False
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    """All tests of one :func:`detect_drift` call; ``drift`` is true when any test drifts."""

    tests: list[DriftTest] = field(default_factory=list)
    n_rows: int = 0
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def drift(self) -> bool:
        return any(t.drift for t in self.tests)

    @property
    def drifted(self) -> list[DriftTest]:
        return [t for t in self.tests if t.drift]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``{"drift": bool, "n_rows", "thresholds", "tests": [...]}``."""
        return {"drift": self.drift, "n_rows": self.n_rows,
                "thresholds": self.thresholds.to_dict(),
                "tests": [t.to_dict() for t in self.tests]}

    def summary(self) -> str:
        if not self.drift:
            return f"no drift: {len(self.tests)} tests on {self.n_rows} rows"
        names = ", ".join(f"{t.name}[{t.feature}]" for t in self.drifted)
        return f"DRIFT: {len(self.drifted)} of {len(self.tests)} tests ({names})"

    def __rich__(self) -> Any:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=escape(self.summary()))
        for col in ("test", "feature", "statistic", "threshold", "p-value", "drift"):
            table.add_column(col, justify="left" if col in ("test", "feature") else "right")
        for t in self.tests:
            table.add_row(t.name, t.feature, f"{t.statistic:.4g}", f"{t.threshold:.4g}",
                          "-" if t.p_value is None else f"{t.p_value:.3g}",
                          "[bold red]yes[/]" if t.drift else
                          f"no ({t.note})" if t.note else "no")
        return table


def psi(reference: Distribution, values: Any) -> float:
    """The population stability index of ``values`` over ``reference``'s fixed bins."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    cuts = np.asarray(reference.cuts)
    counts = np.bincount(np.searchsorted(cuts, x, side="left"), minlength=cuts.size + 1)
    p = np.maximum(counts / max(x.size, 1), EPSILON)
    q = np.maximum(reference.shares(), EPSILON)
    return float(np.sum((p - q) * np.log(p / q)))


def share_psi(reference: Mapping[str, float], values: Sequence[Any]) -> float:
    """PSI between categorical shares: ``reference`` (label -> share) and the labels in
    ``values`` (labels unseen in the reference count as their own bins)."""
    new = label_shares(values) if len(values) else {}
    keys = set(reference) | set(new)
    return float(sum((max(new.get(k, 0.0), EPSILON) - max(reference.get(k, 0.0), EPSILON))
                     * math.log(max(new.get(k, 0.0), EPSILON)
                                / max(reference.get(k, 0.0), EPSILON)) for k in keys))


def ks_test(reference: Distribution, values: Any) -> tuple[float, float]:
    """``(D, p)``: the two-sample KS statistic of ``values`` against the reference sample
    (``scipy.stats.ks_2samp``) and Kolmogorov's asymptotic p-value at the effective sample
    sizes ``n * reference.ess`` of both samples (under no drift the new values share the
    training dependence; with independent values, ess = 1, it is the textbook p-value)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    from scipy import stats  # imported where used: importing this module stays cheap

    d = float(stats.ks_2samp(reference.sample, x).statistic)
    n1 = max(min(reference.n, len(reference.sample)) * reference.ess, 1.0)
    n2 = max(x.size * reference.ess, 1.0)
    return d, float(stats.kstwobign.sf(d * math.sqrt(n1 * n2 / (n1 + n2))))


def psi_floor(reference: Distribution, n: int, alpha: float) -> float:
    """The PSI that sampling noise alone exceeds with probability ``alpha``: under no drift
    ``PSI * n_e`` is about chi-square with ``bins - 1`` degrees of freedom, ``n_e`` the
    harmonic effective size ``n1 n2 / (n1 + n2)`` of the two samples, each ``n *
    reference.ess`` (autocorrelation counted); a small or strongly autocorrelated slice needs
    a larger PSI to be drift."""
    n1, n2 = max(reference.n * reference.ess, 1.0), max(n * reference.ess, 1.0)
    from scipy import stats

    return float(stats.chi2.isf(alpha, len(reference.counts) - 1) * (n1 + n2) / (n1 * n2))


def _psi_test(name: str, feature: str, reference: Distribution, values: np.ndarray,
              threshold: float, alpha: float) -> DriftTest:
    """PSI of ``values`` against ``reference``: drift when above both ``threshold`` and the
    noise floor at ``alpha`` (the threshold reported is the larger)."""
    value = psi(reference, values)
    limit = max(threshold, psi_floor(reference, values.size, alpha))
    return DriftTest(name, feature, value, limit, drift=value > limit,
                     note="" if limit == threshold else "noise floor")


def detect_drift(task: Any, data: Any, *, thresholds: Thresholds | Mapping[str, Any] | None = None,
                 predictions: Any = None) -> DriftReport:
    """Compare ``data`` with the reference profile that ``task`` carries.

    Args:
        task: a fitted task with a profile (``task.profile_``): fitted, or loaded from a
            bundle saved with one.
        data: what ``task.read_data(path, labelled=False)`` returns: a TimeSeries for a
            forecaster (T rows, the fitted columns), texts / Examples for text tasks.
        thresholds: a :class:`Thresholds`, a dict of overrides, or None for the defaults.
        predictions: the model's outputs on ``data`` when already computed (forecasting:
            (N, H, K) forecasts in original units; classification: the predicted labels);
            else :func:`detect_drift` computes them (no training, no refit).

    Returns:
        a :class:`DriftReport`.
    """
    limits = thresholds if isinstance(thresholds, Thresholds) else Thresholds.from_dict(
        thresholds)
    profile = profile_of(task)
    if profile is None:
        raise ConfigError(expected("task", "a fitted task with a reference profile",
                                   Described("one without (a bundle saved before profiles)"),
                                   "retrain it, or fit and save it again with this rnnkit"))
    if profile.look_back is not None:
        return _series_drift(task, profile, data, limits, predictions)
    return _text_drift(task, profile, data, limits, predictions)


# ------------------------------------------------------------------------- forecasting
def _series_drift(task: Any, profile: Profile, data: Any, limits: Thresholds,
                  predictions: Any) -> DriftReport:
    columns = tuple(getattr(data, "columns", ()))
    values = getattr(data, "values", None)
    if values is None or not columns:
        raise DataError(expected("data", "a TimeSeries (task.read_data(path, labelled=False))",
                                 Described(type(data).__name__)))
    x = np.asarray(values, dtype=np.float64)  # (T, F)
    report = DriftReport(n_rows=int(x.shape[0]), thresholds=limits)
    tested = [c for c in profile.features if c in columns]
    L = int(profile.look_back or 0)
    stats_of = {name: window_statistics(x[:, columns.index(name)], L)
                for name in profile.window_stats if name in columns}
    # Bonferroni over every test of this call: ks + psi per column, 4 per target, predictions
    m = 2 * len(tested) + len(WINDOW_STATS) * len(stats_of) + len(profile.predictions)
    alpha = limits.ks_alpha / max(m, 1)
    for name in tested:
        ref = profile.features[name]
        col = x[:, columns.index(name)]
        col = col[np.isfinite(col)]
        if col.size < limits.min_rows:
            report.tests.append(DriftTest("psi", name, 0.0, limits.psi, note="too few rows"))
            continue
        if ref.std == 0 and np.all(col == ref.mean):
            continue  # a constant column (a calendar column of a yearly series) stayed constant
        report.tests.append(_psi_test("psi", name, ref, col, limits.psi, alpha))
        d, p = ks_test(ref, col)
        report.tests.append(DriftTest("ks", name, d, alpha, p_value=p, drift=p < alpha))
    for name, new in stats_of.items():
        refs = profile.window_stats[name]
        for stat in WINDOW_STATS:
            if new[stat].size < limits.min_rows:
                report.tests.append(DriftTest("window_psi", f"{name}.{stat}", 0.0,
                                              limits.window_psi, note="too few windows"))
                continue
            report.tests.append(_psi_test("window_psi", f"{name}.{stat}", refs[stat],
                                          new[stat], limits.window_psi, alpha))
    if profile.predictions:
        pred = predictions if predictions is not None else _window_forecasts(task, data, L)
        if pred is not None:
            pred = np.asarray(pred, dtype=np.float64)  # (N, H, K)
            for k, name in enumerate(profile.predictions):
                if pred.shape[0] < limits.min_rows:
                    report.tests.append(DriftTest("prediction_psi", name, 0.0,
                                                  limits.prediction_psi,
                                                  note="too few windows"))
                    continue
                report.tests.append(_psi_test("prediction_psi", name,
                                              profile.predictions[name], pred[..., k].ravel(),
                                              limits.prediction_psi, alpha))
    return report


def _window_forecasts(task: Any, data: Any, look_back: int) -> np.ndarray | None:
    """Forecasts (N, H, K) from every ``look_back`` window of ``data`` (stride 1); with
    known-future covariates (calendar columns included) only the windows whose H future rows
    are in ``data``, which hold those covariates' values. None when no window fits."""
    prep = task.preprocessing_
    if prep is None:
        return None
    x = np.asarray(data.values, dtype=np.float64)  # (T, F)
    H = int(prep.horizon)
    n = x.shape[0] - look_back + 1 - (H if prep.future_idx else 0)  # windows
    if n < 1:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(x, look_back, axis=0)[:n]  # (N, F, L)
    windows = np.ascontiguousarray(windows.transpose(0, 2, 1))  # (N, L, F)
    future = None
    if prep.future_idx:
        rows = x[look_back:][:, list(prep.future_idx)]  # (T - L, F_u)
        future = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(
            rows, H, axis=0)[:n].transpose(0, 2, 1))  # (N, H, F_u)
    ok = np.isfinite(windows).all(axis=(1, 2))
    if future is not None:
        ok &= np.isfinite(future).all(axis=(1, 2))
        future = future[ok]
    if not ok.any():
        return None
    return np.asarray(task._forecast(windows[ok], H, future))


# ---------------------------------------------------------------------------- text
def _text_drift(task: Any, profile: Profile, data: Any, limits: Thresholds,
                predictions: Any) -> DriftReport:
    samples = list(data.inputs if hasattr(data, "inputs") else data)
    report = DriftReport(n_rows=len(samples), thresholds=limits)
    read = _tokens(task, samples)
    tokens, vocab = read if read is not None else (None, None)
    m = len(profile.features) * 2 + 3
    alpha = limits.ks_alpha / m
    if profile.features:  # a classifier of numeric series: every step's features
        steps = np.concatenate([np.asarray(q, dtype=np.float64).reshape(len(q), -1)
                                for q in samples], axis=0)  # (sum T_i, F)
        for j, (name, ref) in enumerate(profile.features.items()):
            col = steps[:, j]
            if col.size < limits.min_rows:
                report.tests.append(DriftTest("psi", name, 0.0, limits.psi, note="too few rows"))
                continue
            report.tests.append(_psi_test("psi", name, ref, col, limits.psi, alpha))
            d, p = ks_test(ref, col)
            report.tests.append(DriftTest("ks", name, d, alpha, p_value=p, drift=p < alpha))
    lengths = ([len(t) for t in tokens] if tokens is not None else
               [len(q) for q in samples] if profile.features else None)
    if profile.lengths is not None and lengths is not None:
        if len(lengths) < limits.min_rows:
            report.tests.append(DriftTest("length_psi", "length", 0.0, limits.length_psi,
                                          note="too few texts"))
        else:
            report.tests.append(_psi_test("length_psi", "length", profile.lengths,
                                          np.asarray(lengths, dtype=np.float64),
                                          limits.length_psi, alpha))
    if profile.oov_rate is not None and tokens is not None:
        rate = _oov_rate(tokens, vocab)
        if rate is not None:
            increase = rate - profile.oov_rate
            report.tests.append(DriftTest("oov_increase", "tokens", increase,
                                          limits.oov_increase,
                                          drift=increase > limits.oov_increase))
    reference = profile.predicted_labels or profile.labels
    if reference:
        if predictions is None and len(samples) >= limits.min_rows:
            predictions = task.predict(samples)
        if predictions is not None and len(predictions) >= limits.min_rows:
            flat = [v for p in predictions for v in (p if isinstance(p, list) else [p])]
            value = share_psi(reference, flat)  # a tagger's: every token's tag
            report.tests.append(DriftTest("prediction_psi", "labels", value,
                                          limits.prediction_psi,
                                          drift=value > limits.prediction_psi))
    return report


def _tokens(task: Any, samples: Sequence[Any]) -> tuple[list[list[str]], Any] | None:
    """``(tokens of each sample, vocabulary)`` as the task's own fitted tokenizer reads them,
    None for a task that reads no tokens (a classifier of numeric series)."""
    inputs = getattr(task, "inputs_", None)  # a classifier of texts or token lists
    if inputs is not None and getattr(inputs, "vocab", None) is not None:
        return inputs._tokens(samples, "data"), inputs.vocab
    features = getattr(task, "features_", None)  # a tagger: its word vocabulary's view
    if features is not None and getattr(features, "words", None) is not None:
        return [[features._word(t) for t in s] for s in samples], features.words
    if getattr(task, "src_vocab_", None) is not None:  # seq2seq: the tokens the model reads
        return [task._model_source(s) for s in task._sources(samples)], task.src_vocab_
    if getattr(task, "vocab_", None) is not None:  # a language model: prompts are lines
        return [task.tokenize(str(s)) for s in samples], task.vocab_
    return None


def _oov_rate(tokens: Sequence[Sequence[str]], vocab: Any) -> float | None:
    total = sum(len(t) for t in tokens)
    if total == 0:
        return None
    return sum(1 for t in tokens for tok in t if tok not in vocab) / total
