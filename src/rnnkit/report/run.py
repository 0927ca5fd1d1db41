"""``report.html``: one self-contained page per run directory.

:func:`write_report` reads what a run wrote (``rnnkit train`` or any lab): the marker
(``rnnkit-run.json``), the configuration (``config.toml`` / ``config.json``), the metrics
(``metrics.json`` / ``report.json``), the history (``history.json``: one History, or one per
model), the task's plots (``plots/*.png`` and ``*.png``), forecasts (``predictions.csv``),
and the models (``model/`` or ``models/*/``) with the samples they were probed on
(``report/samples/NAME/``, see :mod:`rnnkit.report.sample`). It renders them with Jinja2 into
``report.html`` beside them: plots embedded as PNG data, no script, no request to any server,
so the file opens anywhere and prints.

Sections: summary and configuration; training curves; metrics against every baseline; the
task's own plots; forecast residuals (ACF with bands and Ljung-Box, histogram, QQ, error by
horizon step, worst forecasts); and per model the diagnostics of
:mod:`rnnkit.report.diagnostics` (gradient flow, weights, hidden states, sensitivity).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from rnnkit._validation import expected
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.report.blocks import Section, code, figure, note, png, table, text
from rnnkit.report.diagnostics import Limits, model_sections
from rnnkit.report.sample import Sample, load_sample
from rnnkit.training.checkpoint import atomic_write_bytes

__all__ = ["REPORT_FILE", "SAMPLES_DIR", "load_network", "render", "save_samples",
           "write_report"]

logger = logging.getLogger(__name__)

#: The page's name inside the run directory.
REPORT_FILE = "report.html"
#: Where the samples the models were probed on are kept, one folder per model.
SAMPLES_DIR = Path("report") / "samples"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        logger.warning("report: %s not read: %s", path, err)
        return None


def _model_dirs(run: Path) -> dict[str, Path]:
    if (run / "model" / "manifest.json").is_file():
        return {"model": run / "model"}
    models = run / "models"
    if models.is_dir():
        return {p.name: p for p in sorted(models.iterdir()) if (p / "manifest.json").is_file()}
    return {}


def load_network(path: str | os.PathLike[str]) -> nn.Module:
    """The trained torch module of a bundle directory (a task's ``model_``, or a lab's
    network saved as a bare bundle)."""
    from rnnkit.bundle import load_bundle

    bundle = load_bundle(path)
    if bundle.task == "long_range":
        from rnnkit.labs._long_range import network_from_bundle

        return network_from_bundle(bundle)
    from rnnkit.tasks.registry import from_bundle

    return from_bundle(bundle).model_


def save_samples(run: str | os.PathLike[str], samples: Mapping[str, Sample]) -> None:
    """Keep each model's probe sample in ``RUN/report/samples/NAME/``."""
    for name, sample in samples.items():
        sample.save(Path(run) / SAMPLES_DIR / name)


# -- run-level sections -----------------------------------------------------------------
def _summary(run: Path, marker: dict[str, Any], config: tuple[str, str] | None,
             metrics: Any) -> Section:
    section = Section("Summary", "summary")
    rows = {"task": marker.get("task", "-"),
            "written": marker.get("created", "-")}
    if isinstance(metrics, Mapping):
        for key in ("name", "n_train", "n_test", "fit_seconds", "epochs_run", "best_epoch",
                    "passed"):
            if key in metrics and not isinstance(metrics[key], (dict, list)):
                rows[key.replace("_", " ")] = metrics[key]
        series = metrics.get("series")
        if isinstance(series, Mapping):
            for key, value in series.items():
                if value not in (None, [], ""):
                    rows[f"series {key.replace('_', ' ')}"] = (
                        ", ".join(map(str, value)) if isinstance(value, list) else value)
    frame = pd.DataFrame({"value": [f"{v:.4g}" if isinstance(v, float) else str(v)
                                    for v in rows.values()]}, index=list(rows))
    section.add(table(frame, "what this run is"))
    if config is not None:
        section.add(code(config[1], f"configuration ({config[0]})"))
    return section


def _histories(raw: Any) -> dict[str, list[dict[str, Any]]]:
    if isinstance(raw, list) and all(isinstance(r, Mapping) for r in raw):
        return {"model": raw} if raw else {}
    if isinstance(raw, Mapping):
        out: dict[str, list[dict[str, Any]]] = {}
        for name, rows in raw.items():
            out.update({str(name): rows} if isinstance(rows, list) and rows
                       and all(isinstance(r, Mapping) for r in rows) else {})
        return out
    return {}


def _curves(histories: dict[str, list[dict[str, Any]]]) -> Section:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    section = Section("Training curves", "training")
    if not histories:
        return section.add(note("No history.json in this run."))
    numeric = {k for rows in histories.values() for r in rows for k, v in r.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    losses = [k for k in ("loss", "val_loss") if k in numeric]
    others = sorted(k for k in numeric if k.startswith("val_") and k != "val_loss")
    panels = [p for p in (losses, others) if p]
    if not panels:
        return section.add(note("The history has no loss or validation metric to draw."))
    fig = Figure(figsize=(11, 4 * len(panels)), dpi=90)
    FigureCanvasAgg(fig)
    for i, keys in enumerate(panels):
        ax = fig.add_subplot(len(panels), 1, i + 1)
        positive = True
        for name, rows in histories.items():
            epochs = [r.get("epoch", j + 1) for j, r in enumerate(rows)]
            for key in keys:
                values = np.array([np.nan if r.get(key) is None else float(r[key])
                                   for r in rows])
                if np.isnan(values).all():
                    continue
                positive &= bool(np.all(values[~np.isnan(values)] > 0))
                label = key if len(histories) == 1 else f"{name} {key}"
                ax.plot(epochs, values, marker="o", markersize=3, label=label)
        if positive and keys is losses:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if keys is losses else "validation metric")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    section.add(figure(fig, "loss per epoch (training and validation)"
                       + (", and validation metrics" if others else "")))
    return section


def _comparisons(metrics: Any, path: str = "") -> list[tuple[str, pd.DataFrame]]:
    """Every ``{"model": {...}, "baselines": {name: {...}}}`` found in ``metrics``, as a
    frame (one row per model), and every mapping of mappings of numbers."""
    found: list[tuple[str, pd.DataFrame]] = []
    if not isinstance(metrics, Mapping):
        return found
    model, baselines = metrics.get("model"), metrics.get("baselines")
    if isinstance(model, Mapping) and isinstance(baselines, Mapping):
        rows = {"model": model, **{str(k): v for k, v in baselines.items()
                                   if isinstance(v, Mapping)}}
        found.append((path or "test", _frame(rows)))
        return found
    inner = {k: v for k, v in metrics.items() if isinstance(v, Mapping)}
    scalar_rows = {k: v for k, v in inner.items()
                   if v and all(_number(x) for x in v.values())}
    if len(scalar_rows) >= 2:
        found.append((path or "metrics", _frame(scalar_rows)))
    for key, value in inner.items():
        if key not in scalar_rows:
            found.extend(_comparisons(value, f"{path}.{key}" if path else str(key)))
    return found


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _frame(rows: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    columns = list(dict.fromkeys(k for r in rows.values() for k, v in r.items() if _number(v)))
    return pd.DataFrame([[r.get(c, np.nan) if _number(r.get(c)) else np.nan for c in columns]
                         for r in rows.values()], index=list(rows), columns=columns)


def _scalars(metrics: Any) -> pd.DataFrame | None:
    if not isinstance(metrics, Mapping):
        return None
    flat = {k: v for k, v in metrics.items() if _number(v) or isinstance(v, (str, bool))}
    if not flat:
        return None
    return pd.DataFrame({"value": [str(v) if not _number(v) else v for v in flat.values()]},
                        index=list(flat))


def _metrics_section(metrics: Any) -> Section:
    section = Section("Metrics against the baselines", "metrics")
    if metrics is None:
        return section.add(note("No metrics.json or report.json in this run."))
    tables = _comparisons(metrics)
    for where, frame in tables:
        section.add(table(frame, f"{where}: the model (first row) against every baseline"
                          if "model" in frame.index else where))
    scalars = _scalars(metrics) if not tables else None
    if scalars is not None:
        section.add(table(scalars, "results"))
    if not tables and scalars is None:
        section.add(note("The metrics file holds no table of numbers."))
    return section


def _plots_section(run: Path) -> Section:
    section = Section("The task's plots", "plots")
    files = sorted((run / "plots").glob("*.png")) + sorted(run.glob("*.png"))
    for path in files:
        section.add(png(path.read_bytes(), path.relative_to(run).as_posix()))
    if not files:
        section.add(note("This run drew no plots of its own."))
    return section


def _residuals_section(run: Path) -> Section | None:
    from rnnkit.analysis.residuals import errors_by, residual_diagnostics, worst

    path = run / "predictions.csv"
    if not path.is_file():
        return None
    section = Section("Forecast residuals", "residuals")
    frame = pd.read_csv(path)
    predicted = [c for c in frame.columns if c.endswith("_pred")]
    if not predicted:
        return section.add(note("predictions.csv has no *_pred column."))
    target = predicted[0][: -len("_pred")]
    if target not in frame.columns:
        return section.add(note(f"predictions.csv has {predicted[0]} but no {target}."))
    part = frame[frame["part"] == "test"] if "part" in frame.columns else frame
    if not len(part):
        part = frame
    which = part["part"].iloc[0] if "part" in part.columns else "all"
    one = part[part["step"] == 1] if "step" in part.columns else part
    residuals = (one[target] - one[predicted[0]]).to_numpy(dtype=np.float64)
    residuals = residuals[np.isfinite(residuals)]
    section.add(text(f"Residuals (actual - forecast) of {target}, one step ahead, on the "
                     f"{which} part ({len(residuals)} forecasts)."))
    diag = residual_diagnostics(residuals, lags=min(20, max(1, len(residuals) // 4)))
    section.add(figure(diag.plot(), f"ACF with 95% bands ({100 * diag.inside_fraction:.0f}% "
                                    f"of lags inside), histogram and QQ plot; Ljung-Box "
                                    f"p = {diag.ljung_box['lb_pvalue'].iloc[-1]:.3g}"))
    if "step" in part.columns and part["step"].nunique() > 1:
        section.add(table(errors_by(part, "step", actual=target, predicted=predicted[0]),
                          "error by horizon step"))
    cols = [c for c in ("origin", "step", target, predicted[0]) if c in part.columns]
    bad = worst(part[cols], 10, actual=target, predicted=predicted[0])
    section.add(table(bad, "the 10 worst forecasts", index=False))
    return section


def _find_confusion(metrics: Any) -> tuple[Any, Any] | None:
    """The first ``confusion_matrix`` with its ``labels`` anywhere in ``metrics``."""
    if isinstance(metrics, Mapping):
        if "confusion_matrix" in metrics and "labels" in metrics:
            return metrics["confusion_matrix"], metrics["labels"]
        for value in metrics.values():
            found = _find_confusion(value)
            if found is not None:
                return found
    return None


def _classes_section(metrics: Any) -> Section | None:
    from rnnkit.analysis.confusion import from_counts

    found = _find_confusion(metrics)
    if found is None:
        return None
    section = Section("Classes", "classes")
    try:
        cm = from_counts(*found)
    except RnnkitError as err:
        return section.add(note(f"The confusion matrix in the metrics could not be read: {err}"))
    if len(cm.labels) <= 40:
        section.add(figure(cm.plot(), f"confusion matrix (rows: true class; accuracy "
                                      f"{cm.accuracy:.4g})"))
    else:
        section.add(note(f"{len(cm.labels)} classes: the matrix is not drawn; the tables "
                         "below hold it."))
    section.add(table(cm.per_class(), "precision, recall and F1 per class"))
    confused = cm.confused(10)
    if confused:
        section.add(table(pd.DataFrame(confused, columns=["true", "predicted", "count"]),
                          "the most frequent mistakes", index=False))
    return section


# -- the page ---------------------------------------------------------------------------
def _config(run: Path) -> tuple[str, str] | None:
    for name in ("config.toml", "config.json"):
        if (run / name).is_file():
            return name, (run / name).read_text(encoding="utf-8")
    return None


def render(title: str, sections: list[Section], *, subtitle: str = "") -> str:
    """The page's HTML from its sections (Jinja2, autoescaped; figures are data URIs)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("rnnkit", "report"),
                      autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("report.html.j2")
    from rnnkit import __version__

    return template.render(title=title, subtitle=subtitle, sections=sections,
                           version=__version__,
                           generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def write_report(run: str | os.PathLike[str], *,
                 models: Mapping[str, nn.Module] | None = None,
                 samples: Mapping[str, Sample] | None = None,
                 limits: Limits | None = None, seed: int = 0,
                 diagnostics: bool = True, name: str | None = None) -> Path:
    """Write ``RUN/report.html`` (atomically) from what the run directory holds.

    Args:
        run: the run directory (or a lab's working directory before it is renamed).
        models: trained networks by name, when the caller has them (a lab at its end);
            default: loaded from ``model/`` or ``models/NAME/``.
        samples: each model's probe sample by name; default: ``report/samples/NAME/``.
            Also saved there, so that ``rnnkit report RUN`` draws the same page later.
        limits: bounds of the heavy diagnostics (:class:`~rnnkit.report.diagnostics.Limits`).
        seed: t-SNE's and the fresh initialization's seed.
        diagnostics: False leaves out the model diagnostics (a fast page).
        name: the run's name in the title (default: the directory's name; a lab writing
            into its temporary directory passes the final one).

    Returns:
        the path of ``report.html``.

    Raises:
        ConfigError: ``run`` is not a directory.
    """
    run = Path(run)
    if not run.is_dir():
        raise ConfigError(expected("RUN", "a run directory", str(run),
                                   "pass the folder rnnkit train or rnnkit lab wrote"))
    if samples:
        save_samples(run, samples)
    marker_file = run / "rnnkit-run.json"  # a lab's working directory has none yet
    marker = (_read_json(marker_file) if marker_file.is_file() else None) or {}
    metrics = None
    for file in ("metrics.json", "report.json"):
        if (run / file).is_file():
            metrics = _read_json(run / file)
            break
    history = _read_json(run / "history.json") if (run / "history.json").is_file() else None
    sections = [_summary(run, marker, _config(run), metrics), _curves(_histories(history)),
                _metrics_section(metrics), _plots_section(run)]
    for extra in (_residuals_section(run), _classes_section(metrics)):
        if extra is not None:
            sections.append(extra)
    if diagnostics:
        sections.extend(_model_diagnostics(run, models or {}, limits, seed))
    task = marker.get("task") or (metrics.get("task") if isinstance(metrics, Mapping) else None)
    title = f"rnnkit run: {name or run.resolve().name}"
    page = render(title, sections, subtitle=f"task {task}" if task else "")
    return atomic_write_bytes(run / REPORT_FILE, page.encode("utf-8"))


def _model_diagnostics(run: Path, given: Mapping[str, nn.Module], limits: Limits | None,
                       seed: int) -> list[Section]:
    names = list(dict.fromkeys([*given, *_model_dirs(run)]))
    sections: list[Section] = []
    if not names:
        return [Section("Model diagnostics", "diagnostics",
                        [note("No model in this run (model/ or models/NAME/).")])]
    for name in names:
        label = "model" if len(names) == 1 else name
        try:
            sample = load_sample(run / SAMPLES_DIR / name)
        except RnnkitError as err:
            sections.append(Section(f"Model diagnostics ({name})", f"diagnostics-{name}",
                                    [note(f"The probe sample could not be read: {err}")]))
            continue
        if sample is None:
            sections.append(Section(f"Model diagnostics ({name})", f"diagnostics-{name}", [
                note("No probe sample was kept for this model (report/samples/"
                     f"{name}/), so its gradient flow, hidden states and sensitivity are "
                     "not drawn; runs written by rnnkit train and rnnkit lab keep one.")]))
            continue
        try:
            network = given.get(name) or load_network(_model_dirs(run)[name])
        except (RnnkitError, KeyError, OSError) as err:
            sections.append(Section(f"Model diagnostics ({name})", f"diagnostics-{name}",
                                    [note(f"The model could not be loaded: {err}")]))
            continue
        sections.extend(model_sections(network, sample, name=label, seed=seed,
                                       limits=limits))
    return sections
