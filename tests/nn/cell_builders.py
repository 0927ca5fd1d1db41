"""Builders the cell tests share (test_simple_rnn, test_lstm, test_gru): one float64 sequence
and random parameters. Imported by bare name (tests/conftest.py puts this folder on sys.path)."""

import torch

T, I, H = 7, 3, 5


def _seq(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, I, generator=g, dtype=torch.float64)


def _randomize(module, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    return module
