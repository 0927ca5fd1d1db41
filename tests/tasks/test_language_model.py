"""LanguageModel: sampling support, stateful generation, evaluation, save/load, errors."""

import math

import pytest
import torch

from rnnkit.data.text import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from rnnkit.errors import ConfigError, DataError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.language_model import LanguageModel, LanguageModelConfig, sample_logits

TEXT = "the cat sat on the mat. the dog sat on the log. " * 30


def tiny(**changes) -> LanguageModelConfig:
    base = dict(embedding_dim=8, rnn=RecurrentSpec(cell="lstm", hidden_size=16), seq_len=10,
                batch_size=4, epochs=1.0, rounds_per_epoch=2, lr=1e-2, val_tokens=200,
                device="cpu", seed=0)
    base.update(changes)
    return LanguageModelConfig(**base)


@pytest.fixture(scope="module")
def lm():
    model = LanguageModel(tiny(epochs=2.0))
    model.fit(TEXT, val_text=TEXT[:300])
    return model


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


# --------------------------------------------------------------------------- the model
def test_training_learns_the_text(lm):
    losses = lm.history["loss"]
    assert len(lm.history) == 4  # 2 epochs x 2 rounds
    assert losses[-1] < losses[0]
    result = lm.evaluate(TEXT[:400])
    uniform_bits = math.log2(len(lm.vocab))
    assert result["bits_per_character"] < uniform_bits - 1.0
    assert result["bits_per_character"] == pytest.approx(result["loss"] / math.log(2))
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]))
    assert "val_bits_per_token" in lm.history[-1]


def test_stateful_steps_equal_rereading_the_prefix(lm):
    ids = lm.encode("the dog sat on")
    full = lm.prefix_logits(ids)  # (T, V), each row re-reads from a zero state
    state = None
    for t, token in enumerate(ids):
        logits, state = lm.step(torch.tensor([token]), state)
        torch.testing.assert_close(logits[0], full[t], atol=1e-5, rtol=1e-5)


def test_stateful_generation_equals_stateless(lm):
    for kwargs in ({"greedy": True}, {"temperature": 0.9, "top_k": 5, "seed": 7},
                   {"top_p": 0.8, "seed": 2}):
        fast = lm.generate("the ", 40, **kwargs)
        slow = lm.generate("the ", 40, stateful=False, **kwargs)
        assert fast == slow
        assert len(fast) == 40


def test_generation_is_seeded(lm):
    a = lm.generate("the c", 50, seed=5)
    assert a == lm.generate("the c", 50, seed=5)
    assert any(lm.generate("the c", 50, seed=s) != a for s in range(6, 10))


def test_generation_never_emits_reserved_ids(lm):
    net = lm.net
    saved = net.head.bias.detach().clone()
    with torch.no_grad():
        net.head.bias[[PAD_ID, BOS_ID, EOS_ID]] = 100.0  # make them overwhelmingly likely
    try:
        out = lm.generate("the", 20, seed=0)
        assert len(out) == 20 and "<" not in out
    finally:
        with torch.no_grad():
            net.head.bias.copy_(saved)


def test_save_load_gives_identical_logits(lm, tmp_path):
    path = lm.save(tmp_path / "lm")
    loaded = LanguageModel.load(path)
    ids = lm.encode("the cat")
    assert torch.equal(loaded.prefix_logits(ids), lm.prefix_logits(ids))
    assert loaded.vocab == lm.vocab
    assert loaded.config == lm.config
    assert loaded.generate("the ", 30, seed=1) == lm.generate("the ", 30, seed=1)
    assert loaded.history.rows == lm.history.rows


def test_same_seed_same_model():
    a, b = LanguageModel(tiny()), LanguageModel(tiny())
    a.fit(TEXT)
    b.fit(TEXT)
    ids = a.encode("the mat")
    assert torch.equal(a.prefix_logits(ids), b.prefix_logits(ids))


def test_word_level_gru_with_tied_weights(tmp_path):
    cfg = tiny(level="word", rnn=RecurrentSpec(cell="gru", hidden_size=12), tie_weights=True,
               max_vocab=10, seq_len=5)
    lm = LanguageModel(cfg)
    lm.fit(TEXT)
    assert lm.net.head.weight is lm.net.embedding.weight
    assert lm.net.proj is not None  # H = 12 -> D = 8 before the tied head
    assert len(lm.vocab) == 10
    assert lm.encode("the zebra")[1] == UNK_ID
    words = lm.generate("the cat", 6, seed=0).split()
    assert len(words) == 6 and all(w in lm.vocab for w in words)
    assert "bits_per_character" not in lm.evaluate(TEXT[:200])
    loaded = LanguageModel.load(lm.save(tmp_path / "wlm"))
    ids = lm.encode("the dog sat")
    assert torch.equal(loaded.prefix_logits(ids), lm.prefix_logits(ids))


def test_time_budget_stops_after_a_round():
    lm = LanguageModel(tiny(epochs=50.0, time_budget_s=1e-3))
    lm.fit(TEXT)
    assert len(lm.history) == 1


def test_config_round_trip_and_errors():
    cfg = tiny()
    assert LanguageModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="level: expected one of"):
        tiny(level="byte")
    with pytest.raises(ConfigError, match="rnn.bidirectional: expected False"):
        tiny(rnn=RecurrentSpec(bidirectional=True))
    with pytest.raises(ConfigError, match="rnn.cell: expected one of"):
        tiny(rnn=RecurrentSpec(cell="rnn"))
    with pytest.raises(ConfigError, match="LanguageModelConfig keys: expected a subset"):
        LanguageModelConfig.from_dict({"hiden_size": 3})
    with pytest.raises(ConfigError, match="LanguageModel: expected a fitted model"):
        LanguageModel(tiny()).generate("the", 5)
    with pytest.raises(DataError, match=r"text: expected at least 20 tokens \(2 \* seq_len\)"):
        LanguageModel(tiny()).fit("short")


def test_generate_errors(lm):
    with pytest.raises(DataError, match="prompt: expected at least one token"):
        lm.generate("", 5)
    with pytest.raises(ConfigError, match="max_new_tokens: expected an integer >= 1"):
        lm.generate("the", 0)
