"""Tests of rnnkit.datasets.kjv: the KJV versification, and the verse ranges written with
its references (rnnkit.datasets.sword's MISALIGNED lists)."""

from __future__ import annotations

import pytest

from rnnkit.datasets import sword
from rnnkit.datasets.kjv import kjv_references
from rnnkit.errors import ConfigError

# -- versification and modules ------------------------------------------------------------


def test_kjv_references():
    refs = kjv_references()
    assert len(refs) == 31_102 and len(set(refs)) == 31_102
    assert refs[0] == "Gen.1.1" and refs[-1] == "Rev.22.21"
    assert refs[23_144:23_146] == ["Mal.4.6", "Matt.1.1"]  # 23,145 OT verses
    assert "Ps.119.176" in refs and "Ps.119.177" not in refs and "3John.1.14" in refs
    assert len(sword._expand(("Job.38.39-40.24",))) == 3 + 30 + 24
    assert sword._expand(("John.3.16",)) == {"John.3.16"}
    for bad in ("John.3.17-16", "Gen.51.1", "Job.38.39-99.1"):
        with pytest.raises(ConfigError, match="verse range"):
            sword._expand((bad,))
