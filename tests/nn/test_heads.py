import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.heads import OutputHead, pool


def test_pooling_over_real_steps_only():
    h = torch.arange(2 * 4 * 1, dtype=torch.float32).view(2, 4, 1)  # [[0,1,2,3],[4,5,6,7]]
    mask = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]], dtype=torch.bool)
    assert pool(h, "last", mask).flatten().tolist() == [2.0, 7.0]
    assert pool(h, "mean", mask).flatten().tolist() == [1.0, 6.0]
    h2 = h.clone()
    h2[0, 3] = 100.0  # a padded step never wins the max
    assert pool(h2, "max", mask).flatten().tolist() == [2.0, 7.0]
    assert pool(h, "last").flatten().tolist() == [3.0, 7.0]


def test_head_many_to_one_and_many_to_many():
    torch.manual_seed(0)
    head = OutputHead(3, 2)
    h = torch.randn(4, 5, 3)
    torch.testing.assert_close(head(h), head.linear(h[:, -1]))
    torch.testing.assert_close(head(h[:, -1]), head.linear(h[:, -1]))
    tagger = OutputHead(3, 2, many_to_many=True)
    mask = torch.ones(4, 5, dtype=torch.bool)
    mask[0, 3:] = False
    y = tagger(h, mask)
    assert y.shape == (4, 5, 2) and not y[0, 3:].any()
    torch.testing.assert_close(y[1], tagger.linear(h[1]))


def test_head_errors():
    with pytest.raises(ConfigError, match="pooling: expected one of"):
        OutputHead(3, 2, pooling="first")
    with pytest.raises(ShapeError, match="h: expected 3 features"):
        OutputHead(3, 2)(torch.randn(2, 4))
