"""Shared setup of the tagger tests: their builders (tagger_builders.py: a synthetic corpus,
small configs) import by bare name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
