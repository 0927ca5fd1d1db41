"""rnnkit.tasks.tagging.network: padding never changes emissions or tags, with or without a
CRF."""

from __future__ import annotations

import pytest
import torch

from rnnkit.tasks.tagging import TaggerNet

from tagger_builders import _small


@pytest.mark.parametrize("crf", [False, True])
def test_padding_never_changes_emissions_or_tags(crf):
    torch.manual_seed(0)
    net = TaggerNet(4, _small(crf=crf), vocab_size=10, suffix_vocab_size=6).eval()
    x = torch.randint(1, 6, (3, 5, 3))
    lengths = torch.tensor([5, 3, 1])
    x[torch.arange(5) >= lengths[:, None]] = 0
    em = net(x, lengths)
    tags = net.decode(em, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = net(x[i : i + 1, :n], torch.tensor([n]))
        torch.testing.assert_close(em[i : i + 1, :n], alone, atol=1e-5, rtol=1e-5)
        assert torch.equal(tags[i, :n], net.decode(alone, torch.tensor([n]))[0])
        assert (tags[i, n:] == -100).all()
    if crf:
        assert torch.equal(tags, net.crf.decode(em, lengths=lengths))
    else:
        assert torch.equal(tags[0], em[0].argmax(-1))
