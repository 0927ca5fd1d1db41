"""rnnkit.tasks.language_model.network: the next-token sampler (greedy, temperature, top-k,
top-p: its support and its errors) and LMNet (shapes, tied weights, the input check)."""

import pytest
import torch

from rnnkit.errors import ConfigError, DataError
from rnnkit.nn import GRU
from rnnkit.tasks.language_model import sample_logits
from rnnkit.tasks.language_model.network import LMNet


# ------------------------------------------------------------------------------ sampling
def test_greedy_is_argmax():
    logits = torch.randn(5, 11)
    assert torch.equal(sample_logits(logits, greedy=True), logits.argmax(-1))


def test_top_k_samples_only_the_k_most_likely():
    torch.manual_seed(0)
    logits = torch.randn(3, 20)
    allowed = logits.topk(4, dim=-1).indices
    gen = torch.Generator().manual_seed(1)
    seen = torch.stack([sample_logits(logits, top_k=4, generator=gen) for _ in range(400)], 1)
    for b in range(3):
        assert set(seen[b].tolist()) == set(allowed[b].tolist())  # all of them, nothing else


def test_top_p_support_is_the_smallest_set_reaching_p():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    gen = torch.Generator().manual_seed(0)

    def support(p):
        return set(torch.cat([sample_logits(logits, top_p=p, generator=gen)
                              for _ in range(600)]).tolist())

    assert support(0.5) == {0}  # 0.5 alone reaches 0.5
    assert support(0.7) == {0, 1}  # 0.5 < 0.7 <= 0.8
    assert support(0.9) == {0, 1, 2}  # 0.8 < 0.9 <= 0.95
    assert support(1.0) == {0, 1, 2, 3}
    assert support(0.01) == {0}  # the most likely token is always kept


def test_top_k_and_top_p_compose_and_temperature_sharpens():
    logits = torch.tensor([[3.0, 2.9, 2.8, -5.0, -5.0]])
    gen = torch.Generator().manual_seed(0)
    draws = torch.cat([sample_logits(logits, top_k=2, top_p=0.99, generator=gen)
                       for _ in range(200)])
    assert set(draws.tolist()) == {0, 1}
    cold = torch.cat([sample_logits(logits, temperature=0.01, generator=gen) for _ in range(50)])
    assert set(cold.tolist()) == {0}


def test_sampling_is_reproducible_with_a_seed():
    logits = torch.randn(4, 30)
    a = sample_logits(logits, generator=torch.Generator().manual_seed(3))
    b = sample_logits(logits, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_sampling_errors():
    with pytest.raises(ConfigError, match="temperature: expected a number > 0"):
        sample_logits(torch.randn(1, 4), temperature=0)
    with pytest.raises(ConfigError, match=r"top_p: expected a probability in \(0, 1\]"):
        sample_logits(torch.randn(1, 4), top_p=1.5)
    with pytest.raises(ConfigError, match="top_k: expected an integer >= 1"):
        sample_logits(torch.randn(1, 4), top_k=0)
    with pytest.raises(DataError, match=r"logits: expected shape \(batch, vocab\)"):
        sample_logits(torch.randn(4))



# ------------------------------------------------------------------------------- LMNet
def test_lmnet_maps_ids_to_next_token_logits_and_carries_the_state():
    torch.manual_seed(0)
    net = LMNet(11, 4, GRU(4, 6)).eval()
    assert net.proj is None and net.head.in_features == 6  # untied: the head reads H
    x = torch.randint(0, 11, (2, 5))
    logits, state = net(x)
    assert logits.shape == (2, 5, 11) and state.shape == (2, 1, 6)
    torch.testing.assert_close(net(x.unsqueeze(-1))[0], logits)  # the trainer's (B, T, 1)
    first, st = net(x[:, :3])
    rest, _ = net(x[:, 3:], st)
    torch.testing.assert_close(torch.cat([first, rest], 1), logits)


def test_lmnet_tied_weights_share_the_embedding_through_a_projection():
    net = LMNet(11, 4, GRU(4, 6), tie_weights=True)
    assert net.head.weight is net.embedding.weight
    assert (net.proj.in_features, net.proj.out_features) == (6, 4)  # H = 6 -> D = 4
    same = LMNet(11, 6, GRU(6, 6), tie_weights=True)
    assert same.proj is None and same.head.weight is same.embedding.weight
    n_params = sum(p.numel() for p in same.parameters())
    untied = sum(p.numel() for p in LMNet(11, 6, GRU(6, 6)).parameters())
    assert untied - n_params == 11 * 6  # one (V, D) matrix fewer


def test_lmnet_refuses_what_is_not_token_ids():
    net = LMNet(11, 4, GRU(4, 6))
    with pytest.raises(DataError) as info:
        net(torch.randn(2, 5))
    assert str(info.value) == "x: expected token ids of shape (batch, steps), got (2, 5)"
    with pytest.raises(DataError, match=r"got \(5,\)$"):
        net(torch.zeros(5, dtype=torch.long))
    with pytest.raises(ConfigError, match=r"^vocab_size: expected an integer >= 1, got 0$"):
        LMNet(0, 4, GRU(4, 6))
