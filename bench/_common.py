"""Helpers shared by the benchmark scripts: the machine line, the load average and the JSON
record under ``bench/results/``.

The scripts run as ``python bench/NAME.py``, so this folder is first on ``sys.path`` and they
import this module as ``_common``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch

#: Where the scripts write their JSON records.
RESULTS = Path(__file__).parent / "results"


def cpu_model() -> str:
    """The CPU's model name from ``lscpu`` (``platform.processor()`` when that fails)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                     if ln.startswith("Model name")), platform.processor())
    except OSError:
        return platform.processor()


def machine(*, cores: bool = False) -> str:
    """``"CPU, N torch thread(s), torch VERSION"``; with ``cores``, the machine's core count
    in place of torch's thread count."""
    detail = f"{os.cpu_count()} cores" if cores else f"{torch.get_num_threads()} torch thread(s)"
    return f"{cpu_model()}, {detail}, torch {torch.__version__}"


def load() -> str:
    """The 1- and 5-minute load averages."""
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min) / {five:.1f} (5 min)"


def write_json(path: str | Path, data: Any, *, newline: bool = True) -> Path:
    """Write ``data`` as indented JSON to ``path``, creating its folder; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + ("\n" if newline else ""), encoding="utf-8")
    return out


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Write ``result`` to ``bench/results/NAME`` (see :func:`write_json`); returns the path."""
    return write_json(RESULTS / name, result)
