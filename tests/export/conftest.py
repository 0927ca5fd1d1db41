"""Shared setup of the export tests: their builders (export_builders.py: tiny fitted tasks
and an onnxruntime session helper) import by bare name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
