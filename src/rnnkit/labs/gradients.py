r"""Lab: vanishing gradients through time on the adding problem, tanh RNN vs LSTM vs GRU, and
orthogonal vs Glorot-uniform initialization of W_hh.

Data: :func:`rnnkit.datasets.long_range.adding_problem` (the adding lab's generator) at
T = 100 and T = 200: a fixed batch of ``data.flow_size`` sequences on which gradients are
measured, and ``data.train_size`` training sequences (another seed).

Models: the adding lab's :class:`~rnnkit.labs._long_range.LongRangeNet` (one recurrent layer of
64 units and a linear head on the last step) for every cell and every ``recurrent_init``.

Measurement: :func:`rnnkit.analysis.gradients.gradient_flow` of the model's own loss (the MSE
of the last step's prediction) in float64, giving :math:`\|\partial L/\partial h_t\|` for
t = 1..T, (i) at initialization, averaged over ``measure.seeds`` seeds (the mean of
:math:`\log_{10}` norms), and (ii) after a short training (Adam, gradient norm clipped, at most
``training.time_budget_s`` seconds or ``training.max_steps`` steps per model, random
mini-batches of the training set). Per configuration:

- ``decades_per_100``: the least-squares slope of :math:`\log_{10}\|\partial L/\partial h_t\|`
  against t, times 100: how many orders of magnitude the gradient loses per 100 steps back in
  time (negative: it grows);
- ``ratio_first_last``: :math:`\|\partial L/\partial h_1\| / \|\partial L/\partial h_T\|`.

Bar (``bar``), what the measurements support (BENCHMARKS.md "Vanishing gradients"): the tanh
RNN decays faster than ``bar.min_tanh_decay`` decades per 100 steps at initialization, with
either W_hh; the LSTM (forget-gate bias 1) decays slower than the tanh RNN at initialization
with orthogonal W_hh; and after training the GRU decays slower than the tanh RNN with the same
W_hh. Every length counts, and every check is reported on its own under ``"checks"``.

What does not hold, and why the bar does not claim it: at initialization the GRU loses the
gradient fastest of all (its update gate starts at sigmoid(0) = 0.5 and halves the carried
state every step), and Glorot-uniform W_hh is not reliably worse than orthogonal at 64 units
(its spectral radius is near 1 and its decay varies from seed to seed). Gating keeps the
gradient once the gates have learned to keep the state.

Run directory: ``config.json``, ``metrics.json`` (every rate under ``"rows"``, each check
under ``"checks"``, ``passed``), ``norms.json`` (the measured norms per configuration, and the
per-gate norms of the LSTM and GRU), ``history.json`` (the training loss of every trained
model) and ``gradients.png`` (one panel per cell at the longest T: norms against t on a log
scale, orthogonal vs Glorot, at initialization and trained).

Example:
    >>> metrics = run(quick=True, out_dir="runs/gradients-quick")  # doctest: +SKIP
    >>> metrics["rows"][0]["decades_per_100"]                      # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from rnnkit._validation import check_choice, check_positive_int, expected
from rnnkit.analysis.gradients import gradient_flow
from rnnkit.analysis.plots import save_figure
from rnnkit.datasets.long_range import adding_problem
from rnnkit.errors import ConfigError
from rnnkit.labs._common import lab_report, lab_run, setup_run, verdict, write_json
from rnnkit.labs._long_range import LongRangeNet, cell_spec
from rnnkit.nn.initializers import INITIALIZERS
from rnnkit.training import History, seed_everything

__all__ = ["CELLS", "DEFAULTS", "QUICK", "decay_rate", "measure_flow", "run", "train_briefly"]

#: The compared cells (names of :func:`~rnnkit.labs._long_range.cell_spec`).
CELLS = ("rnn", "lstm", "gru")

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"lengths": [100, 200], "train_size": 4096, "flow_size": 64},
    "model": {"cells": list(CELLS), "inits": ["orthogonal", "glorot_uniform"],
              "hidden_size": 64},
    "measure": {"seeds": 5},
    "training": {"train": True, "time_budget_s": 20.0, "max_steps": 500, "batch_size": 64,
                 "lr": 3e-3, "clipnorm": 1.0, "log_every": 25, "seed": 0,
                 "num_threads": None},
    "bar": {"min_tanh_decay": 1.0},
}

QUICK: dict[str, dict[str, Any]] = {
    "data": {"lengths": [20, 40], "train_size": 128, "flow_size": 8},
    "model": {"hidden_size": 8},
    "measure": {"seeds": 2},
    "training": {"time_budget_s": 10.0, "max_steps": 3, "batch_size": 16, "log_every": 1},
}

_NAMES = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}
_INIT_NAMES = {"orthogonal": "orthogonal", "glorot_uniform": "Glorot"}


def decay_rate(norms: np.ndarray) -> tuple[float, float]:
    """The decay of gradient norms (T,) through time: ``(decades_per_100, ratio_first_last)``.

    ``decades_per_100`` is 100 times the least-squares slope of log10(norm) against t (steps
    where the norm is 0 are left out; NaN when fewer than two remain); positive when the norm
    shrinks going back from t = T to t = 1. ``ratio_first_last`` is norm[0] / norm[-1].

    Example:
        >>> decay_rate(10.0 ** (np.arange(201) / 100))
        (1.0, 0.01)
    """
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 1 or norms.size < 2:
        raise ConfigError(expected("norms", "a 1D array of at least 2 steps",
                                   f"shape {norms.shape}"))
    t = np.arange(1, norms.size + 1, dtype=np.float64)
    keep = norms > 0
    if keep.sum() < 2:
        return float("nan"), float("nan")
    slope = np.polyfit(t[keep], np.log10(norms[keep]), 1)[0]
    ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("nan")
    return float(f"{slope * 100:.12g}"), float(f"{ratio:.12g}")  # 12 significant digits


def _net(cell: str, init: str, hidden_size: int) -> LongRangeNet:
    spec = dataclasses.replace(cell_spec(cell, hidden_size), recurrent_init=init)
    return LongRangeNet("adding", spec)


def measure_flow(net: LongRangeNet, X: torch.Tensor, y: torch.Tensor
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """||dL/dh_t|| (T,) of ``net``'s MSE loss on (X (B, T, 2), y (B, 1)), in float64 (no
    underflow over hundreds of steps), and the per-gate norms (gate -> (T,)); ``net`` is not
    changed."""
    net64 = copy.deepcopy(net).double()
    target = y.double()
    flow = gradient_flow(net64.rnn, X.double(),
                         loss_fn=lambda out: F.mse_loss(net64.head(out[:, -1]), target))
    return flow.norms[0], {name: g[0] for name, g in flow.gates.items()}


def train_briefly(net: LongRangeNet, X: torch.Tensor, y: torch.Tensor, *, time_budget_s: float,
                  max_steps: int, batch_size: int, lr: float, clipnorm: float | None,
                  log_every: int, seed: int) -> tuple[History, int, float]:
    """Adam on random mini-batches of (X, y) for at most ``max_steps`` steps or
    ``time_budget_s`` seconds; -> (History: one row per ``log_every`` steps with ``step`` and
    the mean ``loss``, steps taken, seconds). Stops early if the loss is not finite."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history = History()
    net.train()
    start = time.perf_counter()
    steps, losses = 0, []
    while steps < max_steps and time.perf_counter() - start < time_budget_s:
        idx = torch.randint(0, len(X), (min(batch_size, len(X)),), generator=gen)
        loss = F.mse_loss(net(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        if clipnorm:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clipnorm)
        opt.step()
        steps += 1
        losses.append(float(loss.detach()))
        if steps % log_every == 0 or steps == max_steps or not math.isfinite(losses[-1]):
            history.new_epoch(len(history) + 1)
            history.record("step", steps)
            history.record("loss", float(np.mean(losses)))
            history.record("seconds", time.perf_counter() - start)
            losses = []
        if not math.isfinite(float(loss.detach())):
            break
    net.eval()
    return history, steps, time.perf_counter() - start


def _check(cfg: dict[str, Any]) -> None:
    lengths = cfg["data"]["lengths"]
    if isinstance(lengths, (str, int)) or not lengths:
        raise ConfigError(expected("data.lengths", "a non-empty list of sequence lengths",
                                   lengths))
    for T in lengths:
        check_positive_int("data.lengths", T, minimum=2)
    for key in ("train_size", "flow_size"):
        check_positive_int(f"data.{key}", cfg["data"][key])
    for key, known in (("cells", CELLS), ("inits", tuple(INITIALIZERS))):
        names = cfg["model"][key]
        if isinstance(names, str) or not names:
            raise ConfigError(expected(f"model.{key}", f"a non-empty list of {list(known)}",
                                       names))
        for name in names:
            check_choice(f"model.{key}", name, known)
    check_positive_int("model.hidden_size", cfg["model"]["hidden_size"])
    check_positive_int("measure.seeds", cfg["measure"]["seeds"])
    for key in ("max_steps", "batch_size", "log_every"):
        check_positive_int(f"training.{key}", cfg["training"][key])


def _plot(norms: dict[str, Any], T: int, cells: list[str], inits: list[str], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * len(cells), 4.5), dpi=100)
    FigureCanvasAgg(fig)
    steps = np.arange(1, T + 1)
    colors = {"orthogonal": "tab:blue", "glorot_uniform": "tab:orange"}
    first = fig.add_subplot(1, len(cells), 1)
    axes = [first] + [fig.add_subplot(1, len(cells), k + 1, sharey=first)  # one y scale
                      for k in range(1, len(cells))]
    for ax, cell in zip(axes, cells):
        for init in inits:
            for stage, style in (("init", "-"), ("trained", "--")):
                row = norms.get(f"T={T}/{cell}/{init}/{stage}")
                if row is None:
                    continue
                values = np.asarray(row["h"], dtype=np.float64)
                ax.plot(steps, np.where(values > 0, values, np.nan), style,
                        color=colors.get(init), label=f"{_INIT_NAMES.get(init, init)}, {stage}")
        ax.set_yscale("log")
        ax.set_title(f"{_NAMES[cell]}, T = {T}")
        ax.set_xlabel("time step t")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("||dL/dh_t||")
    fig.suptitle("Gradient flow through time on the adding problem (log scale)")
    fig.tight_layout()
    save_figure(fig, path)


def _checks(rows: list[dict[str, Any]], bar: dict[str, Any]) -> dict[str, bool]:
    """Each part of the bar, by a sentence naming it: see the module docstring."""
    by = {(r["length"], r["cell"], r["init"], r["stage"]): r for r in rows}
    low = bar["min_tanh_decay"]
    out: dict[str, bool] = {}
    for (T, cell, init, st), r in by.items():
        rate = r["decades_per_100"]
        if cell == "rnn" and st == "init":
            out[f"T={T}, {init}: tanh RNN decays > {low} decades per 100 steps at init"] = \
                bool(rate > low)
        rnn = by.get((T, "rnn", init, st), {}).get("decades_per_100")
        if rnn is None:
            continue
        if cell == "lstm" and init == "orthogonal" and st == "init":
            out[f"T={T}, orthogonal, init: LSTM decays slower than the tanh RNN"] = \
                bool(rate < rnn)
        if cell == "gru" and st == "trained":
            out[f"T={T}, {init}, trained: GRU decays slower than the tanh RNN"] = \
                bool(rate < rnn)
    return out


def run(config: dict[str, Any] | None = None, *, out_dir: str | Path | None = None,
        quick: bool = False, seed: int | None = None,
        overwrite: bool = False) -> dict[str, Any]:
    """Measure gradient flow at initialization and after a short training for every cell,
    initialization and length; write the run directory.

    Returns the metrics (also in ``metrics.json``): ``rows`` (one per length, cell, init and
    stage ``"init"``/``"trained"``: ``decades_per_100``, ``ratio_first_last``, and for trained
    rows ``steps``, ``seconds``, ``final_loss``), ``checks`` (each part of the bar) and
    ``passed``.
    """
    from rich.console import Console
    from rich.table import Table

    cfg, run_dir = setup_run(DEFAULTS, QUICK, config, quick=quick, seed=seed,
                             name="gradients", out_dir=out_dir)
    _check(cfg)
    data, model, measure, training = cfg["data"], cfg["model"], cfg["measure"], cfg["training"]
    console = Console()
    with lab_run(run_dir, "gradients", overwrite=overwrite) as work:
        rows: list[dict[str, Any]] = []
        norms: dict[str, Any] = {}
        histories: dict[str, Any] = {}
        base = training["seed"]
        for T in data["lengths"]:
            X, y = adding_problem(data["flow_size"], T, seed=base + 1000)
            X_train, y_train = adding_problem(data["train_size"], T, seed=base)
            for cell in model["cells"]:
                for init in model["inits"]:
                    key = f"T={T}/{cell}/{init}"
                    logs, gate_logs = [], []
                    for s in range(measure["seeds"]):
                        seed_everything(base + s)
                        h, gates = measure_flow(_net(cell, init, model["hidden_size"]), X, y)
                        with np.errstate(divide="ignore"):  # log10(0) = -inf: mean stays 0
                            logs.append(np.log10(h))
                            gate_logs.append({g: np.log10(v) for g, v in gates.items()})
                    h_init = 10.0 ** np.mean(logs, axis=0)  # geometric mean over seeds
                    rate, ratio = decay_rate(h_init)
                    per_seed = [decay_rate(10.0 ** lg)[0] for lg in logs]
                    rows.append({"length": T, "cell": cell, "init": init, "stage": "init",
                                 "decades_per_100": rate, "ratio_first_last": ratio,
                                 "decades_per_100_per_seed": per_seed})
                    norms[f"{key}/init"] = {"h": h_init.tolist(), "gates": {
                        g: (10.0 ** np.mean([gl[g] for gl in gate_logs], axis=0)).tolist()
                        for g in gate_logs[0]}}
                    if not training["train"]:
                        continue
                    seed_everything(base)
                    net = _net(cell, init, model["hidden_size"])
                    history, steps, seconds = train_briefly(
                        net, X_train, y_train, time_budget_s=training["time_budget_s"],
                        max_steps=training["max_steps"], batch_size=training["batch_size"],
                        lr=training["lr"], clipnorm=training["clipnorm"],
                        log_every=training["log_every"], seed=base)
                    h, gates = measure_flow(net, X, y)
                    rate, ratio = decay_rate(h)
                    with torch.no_grad():
                        final = float(F.mse_loss(net(X), y))
                    rows.append({"length": T, "cell": cell, "init": init, "stage": "trained",
                                 "decades_per_100": rate, "ratio_first_last": ratio,
                                 "steps": steps, "seconds": seconds, "final_loss": final})
                    norms[f"{key}/trained"] = {"h": h.tolist(),
                                               "gates": {g: v.tolist() for g, v in gates.items()}}
                    histories[key] = history.to_list()

        checks = _checks(rows, cfg["bar"])
        metrics: dict[str, Any] = {"lengths": list(data["lengths"]), "rows": rows,
                                   "checks": checks,
                                   "passed": bool(checks) and all(checks.values())}
        table = Table(title="Gradient decay through time, adding problem "
                            "(decades of ||dL/dh_t|| lost per 100 steps back)")
        for col in ("T", "model", "W_hh init", "stage", "decades / 100 steps",
                    "||dL/dh_1|| / ||dL/dh_T||", "steps"):
            table.add_column(col, justify="left" if col in ("model", "W_hh init", "stage")
                             else "right")
        for r in rows:
            table.add_row(str(r["length"]), _NAMES[r["cell"]], _INIT_NAMES.get(r["init"],
                          r["init"]), r["stage"], f"{r['decades_per_100']:.2f}",
                          f"{r['ratio_first_last']:.1e}", str(r.get("steps", "-")))
        console.print(table)
        for name, ok in checks.items():
            console.print(f"  {'ok ' if ok else 'NO '} {name}")
        console.print(f"bar {verdict(metrics['passed'], quick)}")

        write_json(work / "config.json", cfg)
        write_json(work / "metrics.json", metrics)
        write_json(work / "norms.json", norms)
        if histories:
            write_json(work / "history.json", histories)
        _plot(norms, max(data["lengths"]), list(model["cells"]), list(model["inits"]),
              work / "gradients.png")
        lab_report(work, final=run_dir, quick=quick)  # the models are not kept: no model diagnostics
    metrics["run_dir"] = str(run_dir)
    return metrics
