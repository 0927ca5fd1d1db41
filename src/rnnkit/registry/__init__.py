"""The model registry and retraining: numbered versions of a model with their lineage, an
atomic ``current`` pointer (:mod:`.store`), and champion-versus-challenger retraining on new
data (:mod:`.challenger`, warm-started by :mod:`.warm`).

Names are imported lazily, so ``import rnnkit.registry`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Registry", "RetrainResult", "VersionInfo", "file_sha256", "retrain", "warm_start"]

_WHERE = {
    "Registry": "rnnkit.registry.store",
    "VersionInfo": "rnnkit.registry.store",
    "file_sha256": "rnnkit.registry.store",
    "RetrainResult": "rnnkit.registry.challenger",
    "retrain": "rnnkit.registry.challenger",
    "warm_start": "rnnkit.registry.warm",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'rnnkit.registry' has no attribute {name!r}")
