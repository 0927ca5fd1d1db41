from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.nn import GRU
from rnnkit.report.sample import SAMPLE_FILES, capture_sample, load_sample


class Embedded(nn.Module):
    """Token ids -> embedding -> GRU -> class logits from the last real step."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 3)
        self.rnn = GRU(3, 4)
        self.head = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        out, _ = self.rnn(self.embed(x), lengths=lengths)  # (B, T, 4)
        return self.head(out[:, -1])  # (B, 5)


@pytest.fixture
def net():
    torch.manual_seed(0)
    return Embedded().eval()


def test_the_first_batch_is_kept_cut_to_max_examples(net):
    ids = torch.randint(1, 10, (6, 7))
    lengths = torch.tensor([7, 5, 3, 7, 2, 1])
    with torch.no_grad():
        sample = capture_sample(net, lambda: (net(ids, lengths=lengths), net(ids[:2])),
                                max_examples=4, color_from="class")
    assert sample.size == 4 and sample.total == 6
    torch.testing.assert_close(sample.inputs[0], ids[:4])
    torch.testing.assert_close(sample.kwargs["lengths"], lengths[:4])
    torch.testing.assert_close(sample.lengths, lengths[:4])
    # what the recurrent layer received: the embedded tokens
    torch.testing.assert_close(sample.layer_input, net.embed(ids[:4]).detach())
    # the colour is the predicted class of the same four sequences
    expected = net(ids[:4], lengths=lengths[:4]).argmax(-1).numpy()
    np.testing.assert_array_equal(sample.color, expected)


def test_save_and_load_round_trip(tmp_path, net):
    ids = torch.randint(1, 10, (3, 5))
    sample = capture_sample(net, lambda: net(ids, None), color=["b", "a", "b"],
                            color_name="label")
    assert sample.inputs[1] is None  # a None argument stays None
    sample.save(tmp_path / "s")
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(SAMPLE_FILES)
    back = load_sample(tmp_path / "s")
    torch.testing.assert_close(back.layer_input, sample.layer_input)
    torch.testing.assert_close(back.inputs[0], ids)
    assert back.inputs[1] is None and back.lengths is None
    assert back.color.tolist() == ["b", "a", "b"] and back.color_name == "label"
    numeric = capture_sample(net, lambda: net(ids), color=np.array([0.5, 1.5, 2.5]))
    numeric.save(tmp_path / "n")
    np.testing.assert_array_equal(load_sample(tmp_path / "n").color, [0.5, 1.5, 2.5])
    assert load_sample(tmp_path / "nothing") is None


def test_value_colour_and_unbatched_layer_calls():
    torch.manual_seed(1)
    layer = GRU(2, 3)
    x = torch.randn(5, 2)  # one unbatched sequence (T, F)
    sample = capture_sample(layer, lambda: layer(x), color_from="value")
    assert sample.layer_input.shape == (1, 5, 2)
    assert sample.color is None  # an unbatched output has no batch axis to read
    xb = torch.randn(3, 4, 2)
    sample = capture_sample(layer, lambda: layer(xb), color_from="value")
    out = layer(xb)[0].detach()  # (B, T, H): the first value of each sequence's output
    np.testing.assert_allclose(sample.color, out.reshape(3, -1)[:, 0].numpy(), rtol=1e-6)
    assert capture_sample(layer, lambda: layer(xb), color_from="class").color is None


def test_misuse_is_named(net):
    with pytest.raises(ConfigError, match="run: expected a callable that runs the network's "
                                          "recurrent layer"):
        capture_sample(net, lambda: None)
    with pytest.raises(ConfigError, match="max_examples: expected an integer >= 1, got 0"):
        capture_sample(net, lambda: None, max_examples=0)
    with pytest.raises(ConfigError, match="color_from: expected None or one of"):
        capture_sample(net, lambda: None, color_from="label")
    with pytest.raises(ConfigError, match="model_or_task: expected a fitted task or a torch "
                                          "module, got str"):
        capture_sample("model", lambda: None)
    # the hooks are removed whatever happens
    assert not net._forward_hooks and not net.rnn._forward_pre_hooks


def test_an_unreadable_sample_is_a_data_error_naming_its_folder(tmp_path, net):
    from rnnkit.errors import DataError

    sample = capture_sample(net, lambda: net(torch.randint(1, 10, (2, 4))))
    sample.save(tmp_path / "s")
    (tmp_path / "s" / SAMPLE_FILES[0]).write_bytes(b"not safetensors")
    with pytest.raises(DataError, match=r"s: expected a probe sample written by Sample.save, "
                                        r"got unreadable files"):
        load_sample(tmp_path / "s")
