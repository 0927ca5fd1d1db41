"""examples/onnx_forecast.py runs where torch, rnnkit and pandas cannot be imported, and
prints Forecaster.predict's numbers within 1e-5 (with and without future covariates)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from export_builders import fitted_forecaster

from rnnkit.export import export_onnx

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "onnx_forecast.py"

# Run a script with an import hook that refuses torch, rnnkit and pandas.
BLOCKED_RUN = """
import runpy, sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "rnnkit", "pandas"}:
            raise ImportError("blocked: " + name)
        return None
sys.meta_path.insert(0, Blocker())
for module in [m for m in sys.modules if m.split(".")[0] in {"torch", "rnnkit", "pandas"}]:
    del sys.modules[module]
script, *args = sys.argv[1:]
if script == "-":
    import torch  # must fail
sys.argv = [script, *args]
runpy.run_path(script, run_name="__main__")
"""


def _run(*args):
    return subprocess.run([sys.executable, "-c", BLOCKED_RUN, *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_the_blocker_blocks():
    result = _run("-")
    assert result.returncode != 0 and "blocked: torch" in result.stderr


@pytest.mark.parametrize("name", ["direct_lstm_bi", "direct_lstm_ln_future"])
def test_example_prints_the_forecast_of_predict(tmp_path, name):
    task, frame = fitted_forecaster(name)
    export_onnx(task, tmp_path / "model.onnx")
    history = frame.iloc[:-10]
    csv = frame.iloc[:-10 + task._prep().horizon].copy() if "x" in frame else history.copy()
    if "x" in frame:
        csv.loc[csv.index[len(history):], "y"] = np.nan
        future = frame[["x"]].iloc[len(history):len(history) + task._prep().horizon]
        want = task.predict(history, future=future).to_numpy()
    else:
        want = task.predict(history).to_numpy()
    csv.to_csv(tmp_path / "history.csv")
    result = _run(SCRIPT, tmp_path / "model.onnx", tmp_path / "history.csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "step,y"
    got = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
