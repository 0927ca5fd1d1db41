"""Run a forecasting experiment from a config into a run directory.

:func:`run_experiment` loads the data, fits, evaluates against the baselines (and against a
known noiseless curve when the dataset has one), optionally backtests, and writes::

    RUN_DIR/
      config.toml          the validated config (rerun it with ``run_experiment``)
      history.json         the training History (also history.csv)
      metrics.json         test metrics of the model and every baseline, fit time, backtest
      predictions.csv      one-step (or H-step) forecasts from true history, every part
      plots/               loss.png, forecast.png, residuals.png
      checkpoints/         last.pt and best.pt (resumable training checkpoints)
      model/               the bundle (Forecaster.load(RUN_DIR / "model"))
      rnnkit-run.json      the marker that makes RUN_DIR rnnkit's own (rnnkit._files.MARKER)

``metrics.json``'s ``evaluation`` is the test report's layout (:func:`.evaluation.
results_dict`: ``part``, ``n_windows``, ``per_step``... beside ``model`` and ``baselines``).

Everything is written into a hidden sibling ``.NAME.partial-XXXX`` and renamed to ``RUN_DIR``
only when complete, so a crash or Ctrl-C never leaves a directory that looks like a finished
run. The partial directory is kept (its checkpoints make ``resume=True`` possible) and removed
once a run completes. While a run (or its resume) writes, it holds the lock file
``.NAME.lock`` beside ``RUN_DIR`` (:func:`rnnkit._files.write_lock`): a second writer to the
same path is refused with a ConfigError naming the lock and the other process.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from rnnkit._files import (
    check_replaceable,
    check_run_path,
    is_run,
    replace_directory,
    write_lock,
    write_marker,
)
from rnnkit._validation import Described, expected
from rnnkit.data.splitting import ChronoSplit
from rnnkit.data.timeseries import TimeSeries
from rnnkit.datasets.registry import Dataset, DatasetInfo, load_dataset
from rnnkit.errors import ConfigError
from rnnkit.tasks.base import Report
from rnnkit.tasks.forecasting.config import DataSection, ForecastConfig
from rnnkit.tasks.forecasting.evaluation import reference_report, results_dict, results_table
from rnnkit.tasks.forecasting.forecaster import Forecaster
from rnnkit.tasks.forecasting.reading import read_series
from rnnkit.training import Callback, History

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["LoadedData", "RunResult", "load_data", "run_experiment"]

logger = logging.getLogger(__name__)

_PARTIAL = ".partial-"
#: What ``tempfile.mkdtemp`` puts after the prefix (8 characters of ``[a-z0-9_]``): a partial
#: directory of run ``a`` is ``.a.partial-`` and exactly that, never one of run ``a.partial-b``.
_RANDOM = re.compile(r"[a-z0-9_]{8}")


@dataclass(frozen=True, eq=False)
class LoadedData:
    """The series of a ``[data]`` section, with the dataset's info and extra arrays (e.g. the
    ``"noiseless"`` curve of a synthetic dataset) when it is a packaged one."""

    series: TimeSeries
    info: DatasetInfo | None = None
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)


def load_data(data: DataSection | ForecastConfig) -> LoadedData:
    """Load what a ``[data]`` section describes (a packaged dataset or a file; a file is read
    by :func:`.reading.read_series`, as :meth:`Forecaster.read_data` reads it)."""
    section = data.data if isinstance(data, ForecastConfig) else data
    if section is None:
        raise ConfigError(expected("data", "a [data] section naming a dataset or a file",
                                   Described("none"),
                                   "add [data] path = \"series.csv\" (or dataset = ...)"))
    if section.dataset is not None:
        loaded: Dataset = load_dataset(section.dataset, **section.dataset_args)
        return LoadedData(loaded.series, loaded.info, dict(loaded.extras))
    return LoadedData(read_series(None, section))


@dataclass(eq=False)
class RunResult:
    """What :func:`run_experiment` wrote and measured."""

    run_dir: Path
    metrics: dict[str, Any]
    history: History
    forecaster: Forecaster
    series: TimeSeries
    report: Report | None = None

    @property
    def config_path(self) -> Path:
        return self.run_dir / "config.toml"

    @property
    def history_json(self) -> Path:
        return self.run_dir / "history.json"

    @property
    def history_csv(self) -> Path:
        return self.run_dir / "history.csv"

    @property
    def metrics_path(self) -> Path:
        return self.run_dir / "metrics.json"

    @property
    def predictions_path(self) -> Path:
        return self.run_dir / "predictions.csv"

    @property
    def plots(self) -> dict[str, Path]:
        return {name: self.run_dir / "plots" / f"{name}.png"
                for name in ("loss", "forecast", "residuals")}

    @property
    def checkpoints_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    @property
    def model_dir(self) -> Path:
        return self.run_dir / "model"

    def table(self, title: str | None = None) -> Table:
        """The model against every baseline (and reference curve) as a rich table."""
        part = self.metrics["evaluation"]
        return results_table(
            part, references=self.metrics.get("references"),
            title=title or f"{self.forecaster.config.name or 'forecast'}: {part['part']} part, "
                           f"{part['n_windows']} windows")


def run_experiment(
    config: ForecastConfig | Mapping[str, Any] | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    series: TimeSeries | None = None,
    overwrite: bool = False,
    resume: bool | str | os.PathLike[str] = False,
    callbacks: Sequence[Callback] = (),
    plots: bool = True,
) -> RunResult:
    """Train, evaluate against the baselines and write a complete run directory atomically.

    Args:
        config: a :class:`ForecastConfig`, a dict of sections, or a path to a TOML file.
        out_dir: the run directory to create.
        series: use this series instead of loading ``config.data``.
        overwrite: replace an existing run directory (only once the new one is complete).
            Only a run rnnkit wrote is replaced: a directory with the marker file
            (``rnnkit-run.json``), or, for runs written before markers existed, one that has
            ``config.toml``, ``metrics.json`` and ``model/manifest.json``. A user's own folder
            or file at ``out_dir`` is never replaced (ConfigError), whatever ``overwrite`` says.
        resume: ``True`` continues the newest interrupted run of ``out_dir`` from its last
            checkpoint (``.NAME.partial-*/checkpoints/last.pt``); a path names a checkpoint.
            The run's ``config.toml`` must match ``config``: only ``training.progress``,
            ``training.num_threads`` and ``training.max_time`` may differ, and
            ``training.epochs`` may grow; any other change is refused (ConfigError listing
            the keys, old -> new), since the checkpoint could not honour it.
        callbacks: extra trainer callbacks (e.g. a progress bar).
        plots: draw ``plots/*.png`` (about a second; off for sweeps).

    Returns:
        a :class:`RunResult` (paths, metrics, History, the fitted Forecaster).
    """
    if isinstance(config, (str, os.PathLike)):
        config = ForecastConfig.from_toml(config)
    config = ForecastConfig.from_dict(config)
    final = check_run_path(Path(out_dir), "out_dir")
    with write_lock(final, "out_dir"):  # one writer per run: its partials are its own
        _check_free(final, overwrite)
        data = LoadedData(series) if series is not None else load_data(config)
        work, checkpoint = _work_dir(final, resume, config)
        try:
            metrics, forecaster, report = _run(config, data, work, checkpoint, callbacks, plots)
            write_marker(work, "forecasting")
            _commit(work, final, overwrite)
        except BaseException:
            logger.warning("the run did not complete; its partial directory %s is kept "
                           "(continue it with rnnkit train CONFIG --out RUN --resume, or "
                           "resume=True in Python)", work)
            raise
        for stale in _partials(final):  # older interrupted attempts of this run
            shutil.rmtree(stale, ignore_errors=True)
    return RunResult(final, metrics, forecaster.history_, forecaster, data.series, report)


def _run(config: ForecastConfig, data: LoadedData, work: Path, checkpoint: Path | None,
         callbacks: Sequence[Callback], plots: bool
         ) -> tuple[dict[str, Any], Forecaster, Report]:
    # matplotlib is imported only by a run that draws (not a cycle: plots imports no task)
    from rnnkit.analysis.plots import plot_forecast, plot_history, plot_residuals

    series = data.series
    (work / "config.toml").write_text(config.to_toml(), encoding="utf-8")
    forecaster = Forecaster(config)
    forecaster.fit(series, callbacks=callbacks, run_dir=work, resume_from=checkpoint)
    split = cast(ChronoSplit, forecaster.split_)  # fit sets it
    part = "test" if split.stop > split.test_start else "val"
    report = forecaster.evaluate(series, part)
    results = results_dict(report)
    references: dict[str, dict[str, float]] = {}
    if "noiseless" in data.extras:
        windows = forecaster._raw_windows(series, split)[0].part(part)  # type: ignore[arg-type]
        references["noiseless curve (floor)"] = reference_report(
            data.extras["noiseless"], windows, series.target_values[: split.val_start],
            results["seasonal_period"])
    history = forecaster.history_
    best_epoch = history.best("val_loss")["epoch"] if "val_loss" in history else None
    metrics: dict[str, Any] = {
        "name": config.name,
        "series": {"name": series.name, "n_steps": series.n_steps,
                   "targets": list(series.targets), "covariates": list(series.covariates),
                   "future_covariates": list(forecaster.future_covariates)},
        "split": {"val_start": split.val_start, "test_start": split.test_start,
                  "stop": split.stop},
        "fit_seconds": forecaster.fit_seconds_,
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "evaluation": results,
        "references": references,
    }
    if config.evaluation.backtest_folds:
        metrics["backtest"] = forecaster.backtest(series, config.evaluation.backtest_folds)
    history.to_json(work / "history.json")
    history.to_dataframe().to_csv(work / "history.csv")
    frame = forecaster.predict_windows(series, "all")
    frame.to_csv(work / "predictions.csv")
    if plots:
        folder = work / "plots"
        plot_history(history, folder / "loss.png")
        target = series.targets[0]
        plot_forecast(frame, folder / "forecast.png", actual=series.frame[target],
                      title=f"{config.name or series.name or target}: forecasts from true "
                            "history")
        plot_residuals(frame, folder / "residuals.png")
    forecaster.save(work / "model", metrics={"evaluation": results, "references": references})
    (work / "metrics.json").write_text(
        json.dumps(metrics, indent=2, default=_json_default, allow_nan=True) + "\n",
        encoding="utf-8")
    return metrics, forecaster, report


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def _partials(final: Path) -> list[Path]:
    """Interrupted attempts at ``final``, newest first."""
    if not final.parent.is_dir():
        return []
    # listed and compared, never globbed: a run named "a*" or "[ab]" must not match others
    prefix = f".{final.name}{_PARTIAL}"
    found = [p for p in final.parent.iterdir()
             if p.name.startswith(prefix) and _RANDOM.fullmatch(p.name[len(prefix):])
             and p.is_dir() and not p.is_symlink()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


#: Keys that may differ between a checkpoint's run and its resume: they cannot change the
#: result (``training.epochs`` may grow, see :func:`_check_resumable`).
_FREE_ON_RESUME = frozenset({"training.progress", "training.num_threads", "training.max_time"})


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"hidden_size": 4}}`` as ``{"model.hidden_size": 4}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _check_resumable(config: ForecastConfig, run_config: Path) -> None:
    """Refuse to resume the run whose config is ``run_config`` with an incompatible
    ``config``: the message lists every key that differs, old -> new."""
    if not run_config.is_file():
        logger.warning("resume: no config.toml beside the checkpoint (%s); the new config "
                       "cannot be checked against it", run_config)
        return
    try:
        old = ForecastConfig.from_toml_string(run_config.read_text(encoding="utf-8"),
                                              source=str(run_config))
    except (ConfigError, OSError, UnicodeDecodeError) as err:
        raise ConfigError(expected("resume", "an interrupted run whose config.toml reads",
                                   Described(f"{run_config}: {err}"),
                                   "start a new run without resume")) from None
    before, after = _flat(old.to_dict()), _flat(config.to_dict())
    changed = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, "<unset>"), after.get(key, "<unset>")
        if was == now or key in _FREE_ON_RESUME:
            continue
        if key == "training.epochs" and isinstance(was, int) and isinstance(now, int) \
                and now >= was:
            continue
        changed.append(f"{key}: {was!r} -> {now!r}")
    if changed:
        raise ConfigError(expected(
            "resume", "the config the interrupted run was started with (only "
            "training.progress, training.num_threads and training.max_time may change, and "
            "training.epochs grow)", Described("changed " + ", ".join(changed)),
            "restore these keys, or start a new run without resume"))


def _work_dir(final: Path, resume: bool | str | os.PathLike[str], config: ForecastConfig
              ) -> tuple[Path, Path | None]:
    """The partial directory to write into and the checkpoint to resume from (if any)."""
    if resume is True:
        for candidate in _partials(final):
            last = candidate / "checkpoints" / "last.pt"
            if last.is_file():
                _check_resumable(config, candidate / "config.toml")
                logger.info("resuming %s from %s", final, last)
                return candidate, last
        raise ConfigError(expected("resume", f"an interrupted run of {str(final)!r} with a "
                                   "checkpoint", Described("none found"),
                                   "run it without resume"))
    checkpoint = None
    if resume is not False:
        checkpoint = Path(resume)  # type: ignore[arg-type]
        if not checkpoint.is_file():
            raise ConfigError(expected("resume", "True or an existing checkpoint file",
                                       str(checkpoint)))
        _check_resumable(config, checkpoint.parent.parent / "config.toml")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}{_PARTIAL}", dir=final.parent))
    return work, checkpoint


def _is_own_run(path: Path) -> bool:
    """Whether ``path`` is a forecasting run rnnkit wrote: it has the marker, or (a run from
    before markers existed) ``config.toml``, ``metrics.json`` and ``model/manifest.json``."""
    if is_run(path):
        return True
    return path.is_dir() and not path.is_symlink() and all(
        (path / name).is_file() for name in ("config.toml", "metrics.json", "model/manifest.json"))


def _check_free(final: Path, overwrite: bool) -> None:
    """Refuse a taken ``final``: always without ``overwrite``, and with it unless it is a run
    rnnkit wrote (a user's own folder or file is never replaced)."""
    if not (final.exists() or final.is_symlink()):
        return
    if not overwrite:
        raise ConfigError(expected("out_dir", "a path that does not exist yet", str(final),
                                   "choose another run directory, or replace it: --overwrite "
                                   "on the command line (rnnkit train, rnnkit lab), "
                                   "overwrite=True in Python"))
    if not _is_own_run(final):
        check_replaceable(final, overwrite=True, option="out_dir",
                          expected_what="a path that does not exist yet")


def _commit(work: Path, final: Path, overwrite: bool) -> None:
    """Move the finished ``work`` directory to ``final`` (replacing an old run only now, and
    checking again that what is there now may be replaced)."""
    _check_free(final, overwrite)
    replace_directory(work, final)

