"""The kernels' buffer pool (rnnkit.nn.backends.workspace): a configurable cap, off at 0,
read from the environment, and the same numbers with or without it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn import LSTM, set_buffer_pool_limit
from rnnkit.nn.backends.workspace import WORKSPACE


def test_the_buffer_pool_has_a_configurable_cap():
    torch.manual_seed(0)
    layer = LSTM(16, 256, layer_norm=True)  # a variant: rnnkit's kernel runs it
    x = torch.randn(16, 80, 16, requires_grad=True)
    old = set_buffer_pool_limit(64 << 20)
    try:
        layer(x)[0].sum().backward()
        assert layer.last_backend == "rnnkit"
        assert 0 < WORKSPACE.pooled_bytes() <= 64 << 20  # large buffers kept, within the cap
        expected = x.grad.clone()
        assert set_buffer_pool_limit(0) == 64 << 20  # off: the pool lets go of everything
        assert WORKSPACE.pooled_bytes() == 0
        x.grad = None
        layer(x)[0].sum().backward()
        assert WORKSPACE.pooled_bytes() == 0
        torch.testing.assert_close(x.grad, expected, rtol=0, atol=0)  # same numbers, no pool
    finally:
        set_buffer_pool_limit(old)
    with pytest.raises(ConfigError, match="max_bytes: expected an integer >= 0"):
        set_buffer_pool_limit(-1)


def test_a_freed_buffer_is_handed_out_again():
    like = torch.empty(0)
    a = WORKSPACE.empty((1 << 19,), like)  # 2 MiB of float32: pooled
    ptr = a.data_ptr()
    del a
    b = WORKSPACE.empty((1 << 19,), like)
    assert b.data_ptr() == ptr
    c = WORKSPACE.empty((1 << 19,), like)  # b still in use: a new buffer
    assert c.data_ptr() != b.data_ptr()


def test_the_pool_cap_is_read_from_the_environment():
    code = ("from rnnkit.nn.backends.workspace import Workspace; "
            "print(Workspace.max_bytes)")
    env = {**os.environ, "RNNKIT_BUFFER_POOL_MB": "2.5"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == str(int(2.5 * (1 << 20)))
    env["RNNKIT_BUFFER_POOL_MB"] = "lots"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "RNNKIT_BUFFER_POOL_MB: expected a number of MiB >= 0" in bad.stderr
