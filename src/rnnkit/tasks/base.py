"""The one shape of every rnnkit task: :class:`Task` and its configuration :class:`TaskConfig`.

Every task (forecasting, classification, tagging, language model, seq2seq) answers the same
calls, whatever its internals::

    task = SequenceClassifier.from_toml("sentiment.toml")   # or Task(config), from_dict(...)
    task.fit(data)                  # -> the task itself; the record is task.history_
    task.predict(new_data)          # the task's own output: labels, tags, text, forecast rows
    report = task.evaluate(data)    # -> Report: the model and every baseline side by side
    task.save("model/")             # one bundle directory (rnnkit.bundle)
    task = SequenceClassifier.load("model/")   # or rnnkit.tasks.load("model/") for any task

``data`` is what the task's :meth:`Task.read_data` returns for its file format, so the command
line (``rnnkit train CONFIG.toml``) and the Python API run the same code.

Fitted state lives in attributes ending in ``_`` (scikit-learn's convention): ``model_`` (the
network), ``history_`` (:class:`~rnnkit.training.History`), ``fit_seconds_``; a task adds its
own (``classes_``, ``vocab_``...). A task's configuration composes sections, never copies them:
``training`` is a :class:`~rnnkit.training.TrainerConfig`, the model is a spec of the encoder.

Inheritance is one level: a task subclasses :class:`Task` and implements ``fit``, ``predict``,
``evaluate``, ``read_data`` and three small bundle hooks (``_build``, ``_preprocessing`` and
``_restore``).
"""

from __future__ import annotations

import abc
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
import torch
from pydantic import Field, field_validator, model_validator
from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.bundle import (
    Bundle,
    BundleError,
    load_bundle,
    load_weights,
    reading,
    save_bundle,
)
from rnnkit.config import ConfigFile, Section, non_defaults
from rnnkit.errors import ConfigError, DataError
from rnnkit.monitoring.profile import Profile
from rnnkit.training.callbacks import EarlyStopping
from rnnkit.training.config import TrainerConfig
from rnnkit.training.history import History

__all__ = ["EarlyStoppingSection", "Examples", "Report", "Task", "TaskConfig", "split_examples"]


class Examples(NamedTuple):
    """Labelled (or unlabelled) examples of the sequence tasks, as :meth:`Task.read_data`
    returns them: ``inputs`` (texts, token lists, series, sentences, source sequences) and
    ``targets`` (labels, tag lists, target sequences; None for unlabelled inputs)."""

    inputs: Sequence[Any]
    targets: Sequence[Any] | None = None

    def take(self, index: Sequence[int]) -> Examples:
        """The examples at ``index``, in that order."""
        pick = [int(i) for i in index]
        return Examples([self.inputs[i] for i in pick],
                        None if self.targets is None else [self.targets[i] for i in pick])


def split_examples(examples: Examples, fraction: float, seed: int = 0
                   ) -> tuple[Examples, Examples]:
    """``(rest, held_out)``: a random ``fraction`` of the examples held out (seeded)."""
    n = len(examples.inputs)
    n_out = round(n * fraction)
    if fraction and not 0 < n_out < n:
        raise DataError(expected("examples", f"enough examples to hold out {fraction:.0%}",
                                 Described(f"{n} examples")))
    order = np.random.default_rng(seed).permutation(n)
    return examples.take(sorted(order[n_out:])), examples.take(sorted(order[:n_out]))


class EarlyStoppingSection(Section):
    """Early stopping on a validation metric, the best epoch's weights restored (the same
    ``[early_stopping]`` table in every task's config). It runs only when the fit has
    validation data.

    Attributes:
        patience: epochs without improvement before stopping; 0 turns early stopping off
            (TOML has no null; None is accepted in Python and means 0).
        monitor: the History key watched (``val_loss``, ``val_accuracy``...).
        min_delta: the smallest change that counts as an improvement.
        restore_best_weights: put the best epoch's weights back when training ends.
    """

    patience: int = Field(5, ge=0)
    monitor: str = "val_loss"
    min_delta: float = Field(0.0, ge=0.0)
    restore_best_weights: bool = True

    @field_validator("patience", mode="before")
    @classmethod
    def _none_is_off(cls, value: Any) -> Any:
        return 0 if value is None else value

    @property
    def enabled(self) -> bool:
        return self.patience > 0

    def callback(self) -> EarlyStopping | None:
        """The :class:`~rnnkit.training.EarlyStopping` callback (None when off)."""
        if not self.enabled:
            return None
        return EarlyStopping(self.monitor, patience=self.patience, min_delta=self.min_delta,
                             restore_best_weights=self.restore_best_weights)


class TaskConfig(ConfigFile):
    """The root of a task's configuration file.

    Every task config has ``task`` (its name, so one TOML file says which task it trains),
    an optional run ``name``, ``training`` (a :class:`~rnnkit.training.TrainerConfig`),
    ``early_stopping``, and task-specific sections (``data``, ``model``...).

    A task sets :attr:`section_defaults` where its sections differ from their classes'
    defaults (more epochs for forecasting, truncated BPTT for a language model, a longer
    patience...): a ``[training]`` table then changes only the keys it names, and the task's
    defaults stay for the others.
    """

    task: str
    name: str | None = None
    training: TrainerConfig = Field(default_factory=TrainerConfig)
    early_stopping: EarlyStoppingSection = Field(default_factory=EarlyStoppingSection)

    #: the task's own defaults of shared sections: ``{"training": {"epochs": 50}, ...}``
    section_defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _sections_over_task_defaults(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        for name, defaults in cls.section_defaults.items():
            value = out.get(name)
            if value is None:
                out[name] = dict(defaults)
            elif isinstance(value, Mapping):
                out[name] = {**defaults, **value}
        return out

    @classmethod
    def default_training(cls) -> TrainerConfig:
        """The TrainerConfig this task trains with when ``[training]`` is left out."""
        return TrainerConfig(**cls.section_defaults.get("training", {}))

    #: the ``[data]`` keys that name files (resolved against a TOML file's folder)
    path_keys: ClassVar[tuple[str, ...]] = ("path", "test_path")

    def resolve_paths(self, folder: Path) -> Self:
        """Relative file paths of the ``[data]`` section (:attr:`path_keys`) made absolute
        against ``folder``, the TOML file's, so a config runs from any working directory."""
        data = getattr(self, "data", None)
        changed = {}
        for key in self.path_keys:
            value = getattr(data, key, None)
            if isinstance(value, str) and not Path(value).is_absolute():
                changed[key] = str((folder / value).resolve())
        return self.with_overrides({"data": changed}) if changed else self

    def __repr__(self) -> str:
        try:
            base: TaskConfig | None = type(self)()
        except ConfigError:  # a config with required sections has no all-defaults instance
            base = None
        return f"{type(self).__name__}({non_defaults(self, base=base)})"


class Report(Mapping[str, Any]):
    """What ``evaluate`` returns: the model's metrics and every baseline's, side by side.

    Renders as a table: ``rich`` in a terminal (``rich.print(report)``), :meth:`to_frame` for
    pandas (one row per model, one column per metric), :meth:`to_dict` for JSON. It is also a
    read-only mapping: ``report["accuracy"]`` is the model's metric, ``report["model"]`` its
    metrics, ``report["baselines"]`` the baselines', and any detail (``report["confusion"]``,
    ``report["n_windows"]``) by its name.

    Args:
        task: the task's name.
        model: the model's scalar metrics, ``{name: value}``.
        baselines: ``{baseline name: {metric: value}}``, the same metrics where they apply.
        primary: the headline metric (what tuning optimizes and the summary line compares).
        higher_is_better: the direction of ``primary``.
        details: everything else (confusion matrix, per-step metrics, counts), JSON-able.
    """

    def __init__(self, task: str, model: Mapping[str, Any], *,
                 baselines: Mapping[str, Mapping[str, Any]] | None = None,
                 primary: str, higher_is_better: bool,
                 details: Mapping[str, Any] | None = None) -> None:
        self.task = task
        self.model = dict(model)
        self.baselines = {k: dict(v) for k, v in (baselines or {}).items()}
        self.primary = primary
        self.higher_is_better = higher_is_better
        self.details = dict(details or {})

    # -- the mapping view -------------------------------------------------------------
    def _flat(self) -> dict[str, Any]:
        return {**self.details, **self.model, "model": self.model, "baselines": self.baselines}

    def __getitem__(self, key: str) -> Any:
        flat = self._flat()
        if key not in flat:
            raise KeyError(f"{key!r}: not in this {self.task} report; it has {sorted(flat)}")
        return flat[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._flat())

    def __len__(self) -> int:
        return len(self._flat())

    # -- summaries --------------------------------------------------------------------
    @property
    def score(self) -> float:
        """The model's primary metric."""
        return float(self.model[self.primary])

    def best_baseline(self) -> tuple[str, float] | None:
        """The baseline with the best primary metric, and that metric (None if none has it)."""
        scored = [(name, float(m[self.primary])) for name, m in self.baselines.items()
                  if _is_number(m.get(self.primary))]
        if not scored:
            return None
        pick = max if self.higher_is_better else min
        return pick(scored, key=lambda item: item[1])

    def summary(self) -> str:
        """One line: the model's primary metric against the best baseline's, with the gap."""
        line = f"{self.task}: {self.primary} {self.score:.4g}"
        best = self.best_baseline()
        if best is not None:
            name, value = best
            gap = (self.score - value) if self.higher_is_better else (value - self.score)
            rel = f" ({100.0 * gap / abs(value):+.1f}%)" if abs(value) > 1e-12 else ""
            word = "better" if gap > 0 else ("worse" if gap < 0 else "tied")
            line += f" vs best baseline {name} {value:.4g}: {word}{rel}"
        return line

    # -- renderings -------------------------------------------------------------------
    def rows(self) -> dict[str, dict[str, Any]]:
        """``{"model": metrics, baseline: metrics, ...}``: scalar metrics only."""
        out = {"model": {k: v for k, v in self.model.items() if _is_scalar(v)}}
        for name, metrics in self.baselines.items():
            out[name] = {k: v for k, v in metrics.items() if _is_scalar(v)}
        return out

    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per model (the model first), one column per metric."""
        import pandas as pd

        rows = self.rows()
        columns = list(dict.fromkeys(k for metrics in rows.values() for k in metrics))
        return pd.DataFrame([[m.get(c, math.nan) for c in columns] for m in rows.values()],
                            index=pd.Index(list(rows)), columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: task, primary metric, model, baselines and details."""
        return {"task": self.task, "primary": self.primary,
                "higher_is_better": self.higher_is_better, "model": self.model,
                "baselines": self.baselines, "details": self.details}

    def __rich__(self) -> Any:
        from rich.table import Table

        rows = self.rows()
        columns = list(dict.fromkeys(k for metrics in rows.values() for k in metrics))
        table = Table(title=self.summary(), title_justify="left")
        table.add_column("model")
        for c in columns:
            table.add_column(c, justify="right", style="bold" if c == self.primary else None)
        for name, metrics in rows.items():
            table.add_row(name, *(_fmt(metrics.get(c)) for c in columns))
        return table

    def __str__(self) -> str:
        frame = self.to_frame()
        return f"{self.summary()}\n{frame.to_string(float_format=lambda v: f'{v:.4g}')}"

    def __repr__(self) -> str:
        return f"Report({self.summary()!r})"


class Task(abc.ABC):
    """The base of every task: configure, fit, predict, evaluate, save, load.

    Subclasses set :attr:`name` (the config's ``task`` and the bundle's task name) and
    :attr:`config_class`, and implement :meth:`fit`, :meth:`predict`, :meth:`evaluate`,
    :meth:`read_data`, and the bundle hooks :meth:`_build` (the network from the fitted
    preprocessing), :meth:`_preprocessing` and :meth:`_restore` (that preprocessing as JSON and
    back).

    Args:
        config: the task's configuration (its :attr:`config_class`, or a dict of it).
    """

    name: ClassVar[str]
    config_class: ClassVar[type[TaskConfig]]
    #: task names that older bundles of this task were saved under
    legacy_names: ClassVar[tuple[str, ...]] = ()
    #: the headline metric of :meth:`evaluate`'s Report (what tuning optimizes on the
    #: validation part) and whether higher is better; see :meth:`objective`
    primary_metric: ClassVar[str]
    higher_is_better: ClassVar[bool]

    def __init__(self, config: TaskConfig | Mapping[str, Any] | None = None) -> None:
        self.config = self._coerce_config(config)
        self.model_: nn.Module | None = None
        self.history_ = History()
        self.fit_seconds_ = 0.0
        #: the reference profile of the training data (rnnkit.monitoring), None when unknown
        self.profile_: Profile | None = None

    @classmethod
    def _coerce_config(cls, config: Any) -> Any:
        if isinstance(config, cls.config_class):
            return config
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise ConfigError(expected("config", f"a {cls.config_class.__name__} or a dict",
                                       Described(type(config).__name__)))
        return cls.config_class.from_dict({"task": cls.name, **config})

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The task configured by a nested dict (a parsed TOML or JSON file)."""
        return cls(data)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str],
                  overrides: Mapping[str, Any] | None = None) -> Self:
        """The task configured by a TOML file (relative data paths resolved against the
        file's folder), with optional ``overrides`` (a nested dict, as ``--set`` gives)."""
        config = cls.config_class.from_toml(path)
        return cls(config.with_overrides(dict(overrides)) if overrides else config)

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "unfitted"
        return f"{type(self).__name__}({self.config!r}, {state})"

    # -- the workflow -----------------------------------------------------------------
    @abc.abstractmethod
    def read_data(self, path: str | os.PathLike[str] | None = None, *,
                  labelled: bool = True) -> Any:
        """Read a file in the task's documented format (``path``, else the config's
        ``data.path``) into what :meth:`fit`, :meth:`evaluate` and :meth:`predict` take.
        ``labelled=False`` reads inputs only (for prediction)."""

    @abc.abstractmethod
    def split(self, data: Any) -> tuple[Any, Any]:
        """``(fit_data, test_data)`` as the config's split settings say; ``fit`` holds out its
        own validation part from ``fit_data``."""

    @abc.abstractmethod
    def predict_frame(self, data: Any) -> Any:
        """Predictions for ``data`` as a pandas DataFrame, what ``rnnkit predict --output``
        writes (inputs beside outputs, in the task's own terms)."""

    @abc.abstractmethod
    def fit(self, data: Any, *args: Any, **kwargs: Any) -> Self:
        """Fit the preprocessing and train the network; returns ``self``."""

    @abc.abstractmethod
    def predict(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        """The task's output for new inputs."""

    @abc.abstractmethod
    def evaluate(self, data: Any, *args: Any, **kwargs: Any) -> Report:
        """Score the model and the baselines on labelled data."""

    def objective(self) -> tuple[str, bool]:
        """``(primary metric, higher is better)`` of this task's reports (a task whose
        headline metric depends on its config overrides this)."""
        return self.primary_metric, self.higher_is_better

    # -- fitted state -----------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self.model_ is not None

    def _require_fitted(self) -> nn.Module:
        if self.model_ is None:
            cls = type(self).__name__
            raise ConfigError(expected(cls, f"a fitted {self.name} task",
                                       Described("an unfitted one"),
                                       f"call fit(...) or {cls}.load(path) first"))
        return self.model_

    # -- the bundle -------------------------------------------------------------------
    @abc.abstractmethod
    def _build(self) -> nn.Module:
        """The network, from the config and the fitted preprocessing."""

    @abc.abstractmethod
    def _preprocessing(self) -> dict[str, Any]:
        """The fitted preprocessing as JSON-able data (vocabularies, scalers, labels)."""

    @abc.abstractmethod
    def _restore(self, preprocessing: dict[str, Any]) -> None:
        """Set the fitted preprocessing from :meth:`_preprocessing`'s output."""

    def save(self, path: str | os.PathLike[str], *,
             metrics: Mapping[str, Any] | None = None) -> Path:
        """Write the one bundle directory (:mod:`rnnkit.bundle`): safetensors weights, the
        config, the fitted preprocessing and the training record, atomically."""
        model = self._require_fitted()
        record = {"history": self.history_.to_list(), "fit_seconds": self.fit_seconds_,
                  "epochs": len(self.history_)}
        return save_bundle(path, task=self.name, model=model,
                           config={"config": self.config.to_dict()},
                           preprocessing=self._preprocessing(),
                           metrics={**record, **(metrics or {})},
                           profile=None if self.profile_ is None else self.profile_.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Rebuild a task saved by :meth:`save`; it predicts exactly what the saved one did.
        Loading executes no pickled code."""
        bundle = load_bundle(path)
        if bundle.task != cls.name and bundle.task not in cls.legacy_names:
            raise BundleError(expected("task", f"a bundle of task {cls.name!r}", bundle.task,
                                       "rnnkit.tasks.load(path) loads a bundle of any task"))
        return cls._from_bundle(bundle)

    @classmethod
    def _config_from_bundle(cls, bundle: Bundle) -> TaskConfig:
        """The config saved in ``bundle`` (a task overrides this to read older layouts)."""
        return cls.config_class.from_dict(bundle.config["config"])

    @classmethod
    def _from_bundle(cls, bundle: Bundle) -> Self:
        """The task a verified bundle holds; a content that does not fit the task (a missing
        key, a wrong type, weights of another shape) is a BundleError naming the file."""
        with reading("config.json"):
            task = cls(cls._config_from_bundle(bundle))
        with reading("preprocessing.json"):
            task._restore(bundle.preprocessing)
            model = task._build()
        load_weights(model, bundle.state_dict)
        task.model_ = model.eval()
        with reading("metrics.json"):
            task.history_ = History(bundle.metrics.get("history", []))
            task.fit_seconds_ = float(bundle.metrics.get("fit_seconds", 0.0))
        if bundle.profile is not None:  # bundles saved before profiles existed have none
            with reading("profile.json"):
                task.profile_ = Profile.from_dict(bundle.profile)
        return task

    def device(self) -> torch.device:
        """Where the fitted network's parameters live."""
        return next(self._require_fitted().parameters()).device


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
