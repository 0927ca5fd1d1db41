"""Retraining: a challenger trained on new data against the registry's champion, promoted only
when it is better by a margin.

:func:`retrain` takes the current version of a name in a :class:`~.store.Registry` (or a run
directory, registered as the name's first version), trains a challenger with the same config on
the new data (warm-started from the champion's weights, :mod:`.warm`, or from scratch), scores
champion and challenger on the same most recent holdout of the new data with the baselines, and
registers the challenger as the next version, its parent the champion. It becomes current only
if its primary metric (``Task.objective()``) beats the champion's by ``margin``, relative, in
the metric's direction: for RMSE (lower is better) ``(champion - challenger) / champion >=
margin``, for accuracy ``(challenger - champion) / champion >= margin``. The result says why
either way.

The holdout is the task's own test part of the new data: the last ``split.test`` rows of a
series (forecasting), the seeded ``test`` fraction of labelled examples (the other tasks).

Example::

    >>> result = retrain("registry", "nile", "nile_2024.csv", margin=0.01)   # doctest: +SKIP
    >>> result.promoted, result.reason                                      # doctest: +SKIP
    (True, 'promoted v2: rmse 101.2 against the champion v1's 130.4, 22.4% better ...')
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit._files import check_name, is_run
from rnnkit._validation import expected
from rnnkit.bundle.schema import is_bundle
from rnnkit.errors import ConfigError
from rnnkit.registry.store import BUNDLE_DIR, Registry, VersionInfo, file_sha256
from rnnkit.registry.warm import WarmStart, warm_start
from rnnkit.tasks.base import Report, Task
from rnnkit.tasks.registry import load

__all__ = ["RetrainResult", "relative_improvement", "retrain"]


def relative_improvement(champion: float, challenger: float, higher_is_better: bool) -> float:
    """How much better ``challenger`` is than ``champion``, relative to ``champion`` (0.1:
    10% better, negative: worse). A champion of exactly 0 gives +inf, 0 or -inf; a NaN
    score gives NaN."""
    gain = (challenger - champion) if higher_is_better else (champion - challenger)
    if math.isnan(gain):
        return math.nan
    if champion == 0:
        return math.inf if gain > 0 else (-math.inf if gain < 0 else 0.0)
    return gain / abs(champion)


@dataclass
class RetrainResult:
    """What :func:`retrain` did: both versions, both reports, the decision and why.

    Attributes:
        name: the model's name in the registry.
        champion: the version the challenger was compared with (its parent).
        challenger: the version registered from the new data.
        promoted: whether the challenger became current.
        reason: one sentence saying why, either way.
        metric, higher_is_better: the primary metric compared and its direction.
        margin: the relative improvement required.
        improvement: the challenger's relative improvement (:func:`relative_improvement`).
        champion_report, challenger_report: both on the same holdout, with the baselines.
        warm: whether the challenger started from the champion's weights, and why not.
        data: the new data file, and its sha256 in ``data_sha256``.
        registered_run: the champion was registered from a run directory by this call.
    """

    name: str
    champion: VersionInfo
    challenger: VersionInfo
    promoted: bool
    reason: str
    metric: str
    higher_is_better: bool
    margin: float
    improvement: float
    champion_report: Report
    challenger_report: Report
    warm: WarmStart
    data: Path
    data_sha256: str
    registered_run: bool = False

    def decision(self) -> dict[str, Any]:
        """The decision alone (what the challenger's lineage stores)."""
        return {"promoted": self.promoted, "reason": self.reason, "metric": self.metric,
                "higher_is_better": self.higher_is_better, "margin": self.margin,
                "improvement": _json_number(self.improvement),
                "champion": {"version": self.champion.version,
                             self.metric: _json_number(self.champion_report.score)},
                "challenger": {self.metric: _json_number(self.challenger_report.score)},
                "warm_start": {"applied": self.warm.applied, "reason": self.warm.reason}}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: the decision, the data and both reports."""
        return {"name": self.name, **self.decision(),
                "data": {"path": str(self.data), "sha256": self.data_sha256},
                "registered_run": self.registered_run,
                "reports": {"champion": self.champion_report.to_dict(),
                            "challenger": self.challenger_report.to_dict()}}

    def __rich__(self) -> Any:
        from rich.table import Table

        table = Table(title=self.reason, title_justify="left")
        for column in ("model", self.metric, "vs champion"):
            table.add_column(column, justify="left" if column == "model" else "right")
        champion = self.champion_report.score
        rows = [(f"challenger {self.challenger.label}, {self.warm.describe()}",
                 self.challenger_report.score),
                (f"champion {self.champion.label}", champion)]
        rows += [(f"baseline {name}", float(m[self.metric]))
                 for name, m in self.champion_report.baselines.items()
                 if isinstance(m.get(self.metric), (int, float))]
        for label, score in rows:
            gain = relative_improvement(champion, score, self.higher_is_better)
            table.add_row(label, f"{score:.4g}",
                          "-" if label.startswith("champion") else f"{100 * gain:+.1f}%")
        return table


def retrain(registry: Registry | str | os.PathLike[str], source: str | os.PathLike[str],
            data: str | os.PathLike[str], *, name: str | None = None, warm: bool = True,
            margin: float = 0.01, overrides: Mapping[str, Any] | None = None) -> RetrainResult:
    """Train a challenger on ``data`` against the champion and promote it only if better.

    Args:
        registry: a :class:`~.store.Registry` or its root directory.
        source: a name in the registry (its current version is the champion), or a run
            directory / bundle (registered first as a new name's v1, then the champion).
        data: the new data file, in the task's format (``Task.read_data``).
        name: the registry name of a run ``source`` (default: its config's ``name``, else the
            directory's name).
        warm: start from the champion's weights (:func:`~.warm.warm_start`) or from scratch.
        margin: the relative improvement the challenger needs (0.01: 1% better), >= 0.
        overrides: changes to the champion's config for the challenger (``--set``), e.g.
            more epochs; the network's shape must stay for a warm start.

    Returns:
        the :class:`RetrainResult`; the challenger is registered either way.
    """
    reg = registry if isinstance(registry, Registry) else Registry(registry)
    if (isinstance(margin, bool) or not isinstance(margin, (int, float))
            or not math.isfinite(margin) or margin < 0):
        raise ConfigError(expected("margin", "a relative improvement >= 0 (0.01: 1% better)",
                                   margin))
    data = Path(data)
    data_sha = file_sha256(data)
    champion_info, registered = _champion(reg, source, name)
    champion = load(champion_info.bundle)
    config = champion.config.with_overrides(_with_data(champion, data, overrides))
    challenger = type(champion)(config)

    new = champion.read_data(data)  # as the champion reads it: its columns, its time index
    fit_data, holdout = challenger.split(new)
    if warm:
        with warm_start(challenger, champion) as started:
            challenger.fit(fit_data)
    else:
        challenger.fit(fit_data)
        started = WarmStart(False, "--scratch")
    challenger_report = challenger.evaluate(holdout)
    champion_report = champion.evaluate(holdout)

    metric, higher = challenger.objective()
    gain = relative_improvement(champion_report.score, challenger_report.score, higher)
    promoted = not math.isnan(gain) and gain > 0 and gain >= margin
    reason = _reason(promoted, metric, champion_info, champion_report.score,
                     challenger_report.score, gain, margin)
    result = RetrainResult(
        name=champion_info.name, champion=champion_info, challenger=champion_info,
        promoted=promoted, reason=reason, metric=metric, higher_is_better=higher,
        margin=float(margin), improvement=gain, champion_report=champion_report,
        challenger_report=challenger_report, warm=started, data=data, data_sha256=data_sha,
        registered_run=registered)
    metrics = {"test": challenger_report.to_dict(), "retrain": result.decision()}
    info = reg.register(champion_info.name, challenger, parent=champion_info.version,
                        data_sha256={data.name: data_sha}, metrics=metrics)
    if promoted:
        try:  # only over the champion it beat: another process may have moved `current`
            info = reg.promote(info.name, info.version, only_if_current=champion_info.version)
        except ConfigError as err:
            result.promoted = False
            result.reason += f"; not promoted after all: {err}"
    result.challenger = info
    return result


def _reason(promoted: bool, metric: str, champion: VersionInfo, champion_score: float,
            challenger_score: float, gain: float, margin: float) -> str:
    scores = (f"the challenger's {metric} {challenger_score:.4g} against the champion "
              f"{champion.label}'s {champion_score:.4g} on the same holdout")
    if math.isnan(gain):
        return f"kept {champion.label}: no comparable {metric} ({scores})"
    change = f"{100 * abs(gain):.1f}% {'better' if gain > 0 else 'worse'}" if math.isfinite(
        gain) else ("better" if gain > 0 else "worse")
    if gain == 0:
        change = "no better"
    if promoted:
        return f"promoted: {scores}, {change} (margin {100 * margin:.1f}%)"
    return (f"kept {champion.label}: {scores}, {change}; promotion needs "
            f"{100 * margin:.1f}% better")


def _champion(reg: Registry, source: str | os.PathLike[str], name: str | None
              ) -> tuple[VersionInfo, bool]:
    """The champion's version, and whether ``source`` (a run or bundle) was registered now."""
    path = Path(source)
    bundle = path / BUNDLE_DIR if (path / BUNDLE_DIR).is_dir() else path
    if path.is_dir() and is_bundle(bundle):
        task = load(bundle)
        chosen = check_name(name or task.config.name or path.name, "--name")
        if chosen in reg.names():
            raise ConfigError(expected(
                "--name", "a name not yet in the registry for a run", chosen,
                f"retrain the registered model by its name (rnnkit retrain {chosen} --data "
                "FILE), or register this run under another --name"))
        info = reg.register(chosen, bundle, data_sha256=_training_data(task),
                            metrics=_run_report(path), promote=True)
        return info, True
    if name is not None:
        raise ConfigError(expected("--name", "no --name when retraining a registered model",
                                   name, f"{str(source)!r} is already its name"))
    if path.exists():
        raise ConfigError(expected("RUN_OR_NAME", "a run directory, a bundle or a registered "
                                   "name", str(source), "it is not a run or a bundle"))
    chosen = check_name(str(source), "RUN_OR_NAME")
    current = reg.current(chosen)
    if current is None:
        raise ConfigError(expected("RUN_OR_NAME", f"a model with a current version ({chosen!r} "
                                   "has none)", chosen,
                                   f"rnnkit registry promote {chosen} VERSION"))
    return current, False


def _with_data(champion: Task, data: Path, overrides: Mapping[str, Any] | None
               ) -> dict[str, Any]:
    """``overrides``, with ``data.path`` set to the new data when the champion's config names
    a file (so the challenger's config says what it was trained on)."""
    out = dict(overrides or {})
    if isinstance(getattr(getattr(champion.config, "data", None), "path", None), str):
        section = dict(out.get("data") or {})
        section.setdefault("path", str(data.resolve()))
        out["data"] = section
    return out


def _training_data(task: Task) -> dict[str, str]:
    """``{file: sha256}`` of the file the run's config trained on, when it names one."""
    path = getattr(getattr(task.config, "data", None), "path", None)
    if isinstance(path, str) and Path(path).is_file():
        return {Path(path).name: file_sha256(path)}
    return {}


def _run_report(run: Path) -> dict[str, Any]:
    """The test report a run directory wrote (``report.json``, or forecasting's
    ``metrics.json``), else nothing."""
    if not is_run(run):
        return {}
    for file in ("report.json", "metrics.json"):
        try:
            return {"test": json.loads((run / file).read_text(encoding="utf-8"))}
        except (OSError, ValueError):
            continue
    return {}


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)
