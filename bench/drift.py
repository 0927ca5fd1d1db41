"""Benchmark: drift detection on real series: the false-positive rate on slices of the same
regime, and the delay from an injected change to the alarm.

For each real series (shipped with statsmodels, :mod:`rnnkit.datasets`) a tiny forecaster is
fitted with ``split.val = 0.15, split.test = 0.35``, so its profile holds the first half of
the series only (the training part) and the second half is out of sample:

* ``nile``: the Nile's flow after the 1898 dam (1899-1970), look_back 6, W = 30 rows;
* ``sunspots``: yearly sunspots 1700-2008, look_back 11, W = 60;
* ``co2-season``: monthly Mauna Loa CO2 minus its centred 2x12 moving average (the seasonal
  cycle and noise around the trend: a stationary series), look_back 12, W = 60.

False positives: every W-row slice (stride 1) of the second half is checked with the default
:class:`~rnnkit.monitoring.drift.Thresholds`; the rate is the share that reports drift
(target <= 5%).

Detection delay: at change points c spread over the second half, a change is injected into
the rows from c on: ``offset`` (+1 training std), ``scale`` (x1.5 around the training mean),
``season`` (co2-season: the seasonal pattern shifted by six months, the same values in another
order). A W-row window slides one row at a time from the one ending at c (its rows before c
are unchanged); the delay is the
number of windows (rows after c) until the first alarm, ``None`` when W windows pass without
one. Prints a table; writes ``bench/results/drift.json``.

    python bench/drift.py [--stride-c 5]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from _common import load, machine, write_result  # bench/_common.py: this folder is on sys.path

#: name -> (rows to drop at the start, look_back, window W, changes to inject)
SERIES: dict[str, tuple[int, int, int, tuple[str, ...]]] = {
    "nile": (28, 6, 30, ("offset", "scale")),
    "sunspots": (0, 11, 60, ("offset", "scale")),
    "co2-season": (0, 12, 60, ("offset", "scale", "season")),
}


def frame_of(name: str) -> pd.DataFrame:
    from rnnkit.datasets import load_dataset

    s = load_dataset("co2" if name == "co2-season" else name).series
    frame = pd.DataFrame(s.values, index=s.time_index, columns=list(s.columns))
    if name == "co2-season":  # minus the centred 2x12 moving average: the trend
        trend = frame.rolling(12).mean().rolling(2).mean().shift(-6)
        frame = (frame - trend).dropna()
    return frame.iloc[SERIES[name][0]:]


def fit(frame: pd.DataFrame, look_back: int):
    from rnnkit.tasks.forecasting import Forecaster

    task = Forecaster({"forecast": {"look_back": look_back}, "model": {"hidden_size": 8},
                       "training": {"epochs": 2, "progress": "off", "seed": 0},
                       "split": {"val": 0.15, "test": 0.35},
                       "evaluation": {"baselines": False}})
    return task.fit(frame)


def inject(frame: pd.DataFrame, start: int, change: str, mean: float, std: float
           ) -> pd.DataFrame:
    """``frame`` with ``change`` applied to the rows from ``start`` on."""
    out = frame.copy()
    col = out.columns[0]
    tail = out[col].to_numpy()[start:].copy()
    if change == "offset":
        tail = tail + std
    elif change == "scale":
        tail = mean + 1.5 * (tail - mean)
    elif change == "season":  # the seasonal pattern six months late: the same values
        tail = np.roll(out[col].to_numpy(), 6)[start:]
    out.iloc[start:, 0] = tail
    return out


def drift_of(task: Any, frame: pd.DataFrame) -> Any:
    from rnnkit.monitoring.drift import detect_drift

    return detect_drift(task, task.read_data(frame, labelled=False))


def run_series(name: str, stride_c: int) -> dict[str, Any]:
    _, look_back, W, changes = SERIES[name]
    frame = frame_of(name)
    task = fit(frame, look_back)
    half = task.split_.val_start  # the profile's rows end here
    ref = frame.iloc[:half, 0]
    mean, std = float(ref.mean()), float(ref.std())
    # false positives: every W-row slice of the out-of-sample rows
    starts = range(half, len(frame) - W + 1)
    drift_of(task, frame.iloc[half:half + W])  # warm-up: the first call loads scipy's code
    fired: dict[str, int] = {}
    alarms, seconds = 0, []
    for a in starts:
        t0 = time.perf_counter()
        report = drift_of(task, frame.iloc[a:a + W])
        seconds.append(time.perf_counter() - t0)
        alarms += report.drift
        for t in report.drifted:
            fired[t.name] = fired.get(t.name, 0) + 1
    result: dict[str, Any] = {
        "rows": len(frame), "profile_rows": half, "look_back": look_back, "window": W,
        "no_drift_slices": len(starts), "false_alarms": alarms,
        "false_positive_rate": alarms / max(len(starts), 1), "false_alarm_tests": fired,
        "ms_per_check": 1e3 * float(np.median(seconds)), "changes": {}}
    # detection delay: change points over the out-of-sample rows, W windows after each
    for change in changes:
        delays: list[int | None] = []
        for c in range(half, len(frame) - W + 1, stride_c):
            changed = inject(frame, c, change, mean, std)
            delay = None
            for d in range(1, W + 1):  # the window ends d rows after c
                if drift_of(task, changed.iloc[c + d - W:c + d]).drift:
                    delay = d
                    break
            delays.append(delay)
        found = [d for d in delays if d is not None]
        result["changes"][change] = {
            "change_points": len(delays), "detected": len(found),
            "detection_rate": len(found) / max(len(delays), 1),
            "median_delay": float(np.median(found)) if found else None,
            "max_delay": max(found) if found else None, "delays": delays}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride-c", type=int, default=5,
                        help="rows between injected change points")
    args = parser.parse_args()
    results = {name: run_series(name, args.stride_c) for name in SERIES}
    print(f"machine: {machine()}; load {load()}")
    print(f"{'series':<10} {'W':>3} {'slices':>6} {'FPR':>6} {'ms/check':>8}  "
          "change: detected, median / max delay (windows)")
    for name, r in results.items():
        changes = "; ".join(
            f"{c}: {v['detected']}/{v['change_points']}, "
            f"{v['median_delay'] if v['median_delay'] is not None else '-'} / "
            f"{v['max_delay'] if v['max_delay'] is not None else '-'}"
            for c, v in r["changes"].items())
        print(f"{name:<10} {r['window']:>3} {r['no_drift_slices']:>6} "
              f"{r['false_positive_rate']:>6.1%} {r['ms_per_check']:>8.1f}  {changes}")
    path = write_result("drift.json", {"date": date.today().isoformat(), "machine": machine(),
                                       "load": load(), "stride_c": args.stride_c,
                                       "series": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
