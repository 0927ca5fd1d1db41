"""rnnkit.tasks.classification.network: padding never changes a prediction, whatever the
pooling."""

from __future__ import annotations

import pytest
import torch

from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.classification import ClassifierNet


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "attention"])
@pytest.mark.parametrize("kind", ["tokens", "numeric"])
def test_padding_never_changes_a_prediction(pooling, kind):
    """A sequence scored alone equals the same sequence padded inside a longer batch."""
    torch.manual_seed(0)
    spec = RecurrentSpec(cell="gru", hidden_size=5, bidirectional=True, num_layers=2)
    if kind == "tokens":
        net = ClassifierNet(3, spec, vocab_size=20, pooling=pooling, embedding_dim=4).eval()
        x = torch.randint(1, 20, (3, 7))
        x[1, 4:] = 0
        x[2, 2:] = 0
    else:
        net = ClassifierNet(3, spec, n_features=2, pooling=pooling).eval()
        x = torch.randn(3, 7, 2)
        x[1, 4:] = 99.0  # garbage in the padding
        x[2, 2:] = -99.0
    lengths = torch.tensor([7, 4, 2])
    batch = net(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = net(x[i : i + 1, :n], torch.tensor([n]))
        torch.testing.assert_close(batch[i : i + 1], alone, atol=1e-5, rtol=1e-5)
