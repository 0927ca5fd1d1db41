"""Forecast from a CSV with an exported rnnkit forecaster, using only onnxruntime and numpy.

    rnnkit export runs/battery --format onnx --out model.onnx   # writes model.json beside
    python examples/onnx_forecast.py model.onnx history.csv

The CSV has a header and the model's columns (``columns`` in model.json; other columns, such
as the time column, are ignored). The last ``look_back`` rows with targets are the history;
for a model with known-future covariates, the rows after them, with empty targets, hold the
covariates' values at the forecast steps (the one CSV that ``rnnkit predict`` reads).
Scaling and its inverse are inside the graph: the numbers go in raw and come out in original
units. Prints one line per forecast step: ``step,<target>,...``.
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main(model_path, csv_path):
    meta = json.loads(Path(model_path).with_suffix(".json").read_text(encoding="utf-8"))
    if meta["task"] != "forecasting" or meta["step"]:
        sys.exit("this example runs the full graph of a forecaster")
    if meta["calendar"]:
        sys.exit("calendar features are computed from time stamps: compute them first")
    rows = read_rows(csv_path)
    targets, columns = meta["targets"], meta["columns"]
    n_history = max(i + 1 for i, row in enumerate(rows) if row[targets[0]].strip())
    look_back, horizon = meta["look_back"], meta["horizon"]
    if n_history < look_back:
        sys.exit(f"need at least look_back = {look_back} rows with targets, got {n_history}")
    history = np.array([[float(row[c]) for c in columns]
                        for row in rows[n_history - look_back : n_history]], np.float32)
    feeds = {"history": history[None]}  # (1, look_back, F)
    if meta["future_covariates"]:
        future = rows[n_history : n_history + horizon]
        if len(future) < horizon:
            sys.exit(f"need {horizon} rows of future covariates after the history")
        feeds["future"] = np.array([[float(row[c]) for c in meta["future_covariates"]]
                                    for row in future], np.float32)[None]  # (1, H, F_u)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    (forecast,) = session.run(["forecast"], feeds)  # (1, H, K), original units
    print("step," + ",".join(targets))
    for step, values in enumerate(forecast[0], start=1):
        print(f"{step}," + ",".join(f"{v:.9g}" for v in values))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python onnx_forecast.py MODEL.onnx HISTORY.csv")
    main(sys.argv[1], sys.argv[2])
