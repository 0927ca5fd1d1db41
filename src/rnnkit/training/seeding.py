"""Reproducibility and device choice: seed every random number generator, capture and restore
their states (for exact resume), and resolve ``device="auto"`` to a concrete device.

Reproducibility contract (tested): on the CPU, the same seed gives the same history and the
same predictions. On a GPU, cuDNN's recurrent kernels are deterministic only with
``seed_everything(seed, deterministic=True)``, which may be slower.

Example:
    >>> seed_everything(7)
    7
    >>> select_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import logging
import os
import random
from typing import Any

import numpy as np
import torch

from rnnkit._validation import expected
from rnnkit.errors import ConfigError

__all__ = [
    "DEVICES",
    "capture_rng_state",
    "restore_rng_state",
    "seed_everything",
    "select_device",
]

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "mps")


def seed_everything(seed: int, *, deterministic: bool = False) -> int:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every GPU).

    Args:
        seed: an integer in [0, 2**32).
        deterministic: also ask torch for deterministic kernels
            (``torch.use_deterministic_algorithms(True, warn_only=True)``, cuDNN benchmark off).

    Returns:
        ``seed``, so the call can be logged or stored.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ConfigError(expected("seed", "an integer in [0, 2**32)", seed))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return seed


def select_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve a device name: ``"auto"`` picks CUDA, then Apple MPS, then the CPU.

    ``"cuda:1"`` style indices are accepted. Asking for an accelerator that is not present
    raises :class:`~rnnkit.errors.ConfigError` rather than silently running on the CPU.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ConfigError(expected("device", f"one of {list(DEVICES)} or a torch.device", device))
    kind = device.split(":", 1)[0]
    if kind not in DEVICES or (kind == "auto" and device != "auto"):
        raise ConfigError(expected("device", f"one of {list(DEVICES)} (optionally 'cuda:N')", device))
    if kind == "auto":
        if torch.cuda.is_available():
            chosen = torch.device("cuda")
        elif _mps_available():
            chosen = torch.device("mps")
        else:
            chosen = torch.device("cpu")
        logger.debug("device='auto' resolved to %s", chosen)
        return chosen
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(expected("device", "an available device", device,
                                   "no CUDA GPU is visible to torch; use device='auto' or 'cpu'"))
    if kind == "mps" and not _mps_available():
        raise ConfigError(expected("device", "an available device", device,
                                   "Apple MPS is not available; use device='auto' or 'cpu'"))
    return torch.device(device)


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def capture_rng_state() -> dict[str, Any]:
    """Every global RNG state as plain containers and tensors (loadable with
    ``torch.load(weights_only=True)``): torch CPU, each CUDA device, NumPy, Python ``random``."""
    np_state = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": [s for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
        "numpy": {
            "kind": str(np_state[0]),
            "keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),  # (624,) uint32 as int64
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": {"version": int(py_version), "internal": list(py_internal), "gauss": py_gauss},
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state["torch"])
    cuda_states = state.get("cuda") or []
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[: torch.cuda.device_count()])
    np_s = state["numpy"]
    np.random.set_state((
        np_s["kind"],
        np_s["keys"].numpy().astype(np.uint32),
        np_s["pos"],
        np_s["has_gauss"],
        np_s["cached_gaussian"],
    ))
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
