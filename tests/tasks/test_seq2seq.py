"""Seq2Seq: decoding (greedy, beam, brute force), teacher forcing paths, save/load, errors."""

import itertools
import random

import pytest
import torch

from rnnkit.data.text import BOS_ID, EOS_ID, PAD_ID, Vocabulary
from rnnkit.errors import ConfigError, DataError
from rnnkit.nn.spec import RecurrentSpec
from rnnkit.tasks.seq2seq import (
    Seq2Seq,
    Seq2SeqConfig,
    Seq2SeqNet,
    beam_search,
    greedy_decode,
)

ATTN = ["bahdanau", "dot", "general", "general+feeding"]


def tiny_config(attention="general", **changes) -> Seq2SeqConfig:
    if attention.endswith("+feeding"):  # Luong attention with input feeding
        attention, changes = attention.removesuffix("+feeding"), {"input_feeding": True,
                                                                  **changes}
    enc = RecurrentSpec(cell="gru", hidden_size=8, bidirectional=True)
    dec = RecurrentSpec(cell="lstm" if attention != "dot" else "gru", hidden_size=16)
    base = dict(encoder=enc, decoder=dec, attention=attention, src_embedding_dim=8,
                tgt_embedding_dim=8, epochs=2, batch_size=16, lr=1e-2, device="cpu", seed=0)
    base.update(changes)
    return Seq2SeqConfig(**base)


def reverse_pairs(n, seed=0):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = "".join(rng.choice("abcd") for _ in range(rng.randint(2, 4)))
        out.append((s, list(s[::-1].upper())))
    return out


def random_net(attention, tgt_vocab_size=12, seed=0):
    torch.manual_seed(seed)
    net = Seq2SeqNet(10, tgt_vocab_size, tiny_config(attention))
    with torch.no_grad():  # sharpen the random model so sequences differ in interesting ways
        net.head.weight.mul_(8.0)
    return net.eval()


def sources(B=5, S=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, S + 1, (B,), generator=g)
    lengths[0] = S
    x = torch.randint(4, 10, (B, S), generator=g)
    x[torch.arange(S) >= lengths[:, None]] = PAD_ID
    return x, lengths


@pytest.fixture(scope="module")
def trained():
    model = Seq2Seq(tiny_config("bahdanau", epochs=2))
    model.fit(reverse_pairs(120), val_pairs=reverse_pairs(20, seed=1))
    return model


# ------------------------------------------------------------------------------ decoding
@pytest.mark.parametrize("attention", ATTN)
def test_beam_width_one_equals_greedy(attention):
    for seed in range(3):
        net = random_net(attention, seed=seed)
        x, lengths = sources(seed=seed)
        greedy = greedy_decode(net, x, lengths, max_len=7)
        beam = beam_search(net, x, lengths, max_len=7, beam_width=1)
        for g, b in zip(greedy, beam):
            assert g.ids == b.ids
            assert g.score == pytest.approx(b.score, abs=1e-5)
            torch.testing.assert_close(g.attention, b.attention)


def _score_sequence(net, x, lengths, seq):
    """Sum of log p of ``seq`` (ids, possibly ending in <eos>) decoded step by step."""
    mem, state = net.encode(x, lengths)
    prev, total = torch.tensor([BOS_ID]), 0.0
    for tok in seq:
        logits, state, _ = net.decode_step(prev, state, mem)
        total += float(torch.log_softmax(logits.detach().double(), -1)[0, tok])
        prev = torch.tensor([tok])
    return total


@pytest.mark.parametrize("attention", ["bahdanau", "general", "general+feeding"])
def test_beam_search_finds_the_best_sequence_by_brute_force(attention):
    # target vocabulary: 4 reserved ids + 2 tokens; outputs may use <unk>, <eos>, 4, 5
    net = random_net(attention, tgt_vocab_size=6, seed=3)
    with torch.no_grad():
        net.head.weight.mul_(0.25)  # flatter: many sequences compete
    max_len = 3
    choices = [1, EOS_ID, 4, 5]
    for row in range(2):
        x, lengths = sources(B=2, seed=7)
        x, lengths = x[row : row + 1], lengths[row : row + 1]
        candidates = []  # every sequence ending in <eos> within max_len, or max_len long
        for n in range(1, max_len + 1):
            for seq in itertools.product(choices, repeat=n):
                if EOS_ID in seq[:-1] or (n < max_len and seq[-1] != EOS_ID):
                    continue
                candidates.append(list(seq))
        scored = [(_score_sequence(net, x, lengths, s), s) for s in candidates]
        best_score, best_seq = max(scored, key=lambda t: t[0])
        found = beam_search(net, x, lengths, max_len=max_len, beam_width=64)[0]
        expected_ids = [t for t in best_seq if t != EOS_ID]
        assert found.ids == expected_ids
        assert found.score == pytest.approx(best_score, abs=1e-6)
        # a narrow beam can only do as well as the exhaustive one
        narrow = beam_search(net, x, lengths, max_len=max_len, beam_width=2)[0]
        assert narrow.score <= found.score + 1e-9


@pytest.mark.parametrize("attention", ATTN)
def test_parallel_teacher_forcing_equals_stepping(attention):
    net = random_net(attention)
    x, lengths = sources()
    B = x.shape[0]
    tgt = torch.randint(4, 12, (B, 5))
    tgt_in = torch.cat([torch.full((B, 1), BOS_ID), tgt[:, :-1]], 1)
    L = max(x.shape[1], tgt_in.shape[1])
    X = torch.zeros(B, L, 2, dtype=torch.long)
    X[:, : x.shape[1], 0] = x
    X[:, :5, 1] = tgt_in
    logits = net(X, lengths)  # (B, 5, V): one pass for Luong, a loop for Bahdanau
    mem, state = net.encode(x, lengths)
    for t in range(5):
        step, state, w = net.decode_step(tgt_in[:, t], state, mem)
        torch.testing.assert_close(logits[:, t], step, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(w.sum(-1), torch.ones(B))


def test_input_feeding_follows_luongs_equations():
    """Two decoder steps by hand: s_t = LSTM([E y_{t-1}; o_{t-1}], s_{t-1}), o_0 = 0,
    c_t = softmax(s_t W_a h^T) h, o_t = tanh(W_c [s_t; c_t]), logits = W_o o_t."""
    net = random_net("general+feeding").double()
    x, lengths = sources(B=3)
    mem, state = net.encode(x, lengths)
    assert torch.equal(state.feed, torch.zeros(3, 16, dtype=torch.float64))
    (h, c), o_prev = state.rnn, state.feed
    h, c = h[:, 0], c[:, 0]  # one decoder layer
    cell = net.decoder.cells[0]
    W_ih, W_hh, b = cell.weight_ih, cell.weight_hh, cell.bias  # gates i, f, g, o
    keys, mask = mem.keys, mem.mask  # (B, S, K), (B, S)
    prev = torch.full((3,), BOS_ID)
    for tok in (BOS_ID, 5):
        prev = torch.full((3,), tok)
        inp = torch.cat([net.tgt_embedding(prev), o_prev], -1)  # (B, E + H)
        i, f, g, o = (inp @ W_ih.T + h @ W_hh.T + b).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        scores = torch.einsum("bh,bsh->bs", h, keys @ net.attention.weight.T)  # s_t W_a h_j
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), -1)
        ctx = torch.einsum("bs,bsk->bk", weights, keys)
        o_prev = torch.tanh(net.combine(torch.cat([h, ctx], -1)))
        expected = net.head(o_prev)
        logits, state, w = net.decode_step(prev, state, mem)
        torch.testing.assert_close(logits, expected)
        torch.testing.assert_close(w, weights)
        torch.testing.assert_close(state.feed, o_prev)


def test_input_feeding_needs_luong_attention_and_learns():
    with pytest.raises(ConfigError, match="input_feeding: expected False with "
                                          "attention='bahdanau', got True"):
        tiny_config("bahdanau", input_feeding=True)
    model = Seq2Seq(tiny_config("general+feeding", epochs=3))
    history = model.fit(reverse_pairs(120), val_pairs=reverse_pairs(20, seed=1))
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert model.net.decoder.cells[0].input_size == 8 + 16  # embedding + o_{t-1}


def test_scheduled_sampling_reads_own_predictions():
    net = random_net("general")
    x, lengths = sources()
    B = x.shape[0]
    X = torch.zeros(B, 6, 2, dtype=torch.long)
    X[..., 0] = x
    X[:, :4, 1] = torch.tensor([BOS_ID, 4, 5, 6])
    net.eval()
    forced = net(X, lengths)
    net.train()
    net.teacher_forcing = 0.0
    own = net(X, lengths)
    torch.testing.assert_close(own[:, 0], forced[:, 0])  # the first step reads <bos> either way
    assert not torch.allclose(own[:, 1:], forced[:, 1:])
    net.teacher_forcing = 1.0
    torch.testing.assert_close(net(X, lengths), forced)


# ------------------------------------------------------------------------- the task API
def test_training_learns_and_schedules_teacher_forcing():
    model = Seq2Seq(tiny_config("general", epochs=3, teacher_forcing_final=0.5))
    history = model.fit(reverse_pairs(120), val_pairs=reverse_pairs(20, seed=1))
    assert history["teacher_forcing"] == [1.0, 0.75, 0.5]
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_predictions_attention_and_likelihood(trained):
    decoded = trained.decode(["abc", "dcba", "a"], beam_width=1)
    for src, d in zip(["abc", "dcba", "a"], decoded):
        assert d.attention.shape == (len(d.ids), len(src))
        if d.ids:
            torch.testing.assert_close(d.attention.sum(1), torch.ones(len(d.ids)))
        tokens = trained.tgt_vocab.decode(d.ids, stop_at_eos=False)
        assert trained.log_likelihood(src, tokens) == pytest.approx(d.score, abs=1e-4)
    beams = trained.decode(["abc", "dcba"], beam_width=3)
    assert all(b.score >= -1e9 for b in beams)


def test_evaluate_metrics(trained):
    pairs = reverse_pairs(30, seed=5)
    result = trained.evaluate(pairs)
    assert set(result) == {"exact_match", "token_error_rate", "character_error_rate",
                           "bleu", "n"}
    assert 0 <= result["exact_match"] <= 1 and result["n"] == 30
    own = [(s, p) for (s, _), p in zip(pairs, trained.predict([s for s, _ in pairs]))
           if p]  # the model's own outputs as references: a perfect score
    perfect = trained.evaluate(own)
    assert perfect["exact_match"] == 1.0 and perfect["token_error_rate"] == 0.0


def test_save_load_same_predictions(trained, tmp_path):
    path = trained.save(tmp_path / "s2s")
    loaded = Seq2Seq.load(path)
    srcs = ["abcd", "ba", "ccd"]
    assert loaded.predict(srcs) == trained.predict(srcs)
    assert loaded.predict(srcs, beam_width=3) == trained.predict(srcs, beam_width=3)
    X, y, lengths = trained._tensors([list(s) for s in srcs], [["A"], ["B", "C"], ["D"]])
    assert torch.equal(loaded.net(X, lengths), trained.net(X, lengths))
    assert loaded.config == trained.config and loaded.max_len == trained.max_len
    assert isinstance(loaded.tgt_vocab, Vocabulary) and loaded.tgt_vocab == trained.tgt_vocab


def test_same_seed_same_model():
    pairs = reverse_pairs(32)
    a, b = Seq2Seq(tiny_config(epochs=1)), Seq2Seq(tiny_config(epochs=1))
    a.fit(pairs)
    b.fit(pairs)
    for pa, pb in zip(a.net.parameters(), b.net.parameters()):
        assert torch.equal(pa, pb)


def test_errors():
    with pytest.raises(ConfigError, match="attention: expected one of"):
        tiny_config("luong")
    with pytest.raises(ConfigError, match="attention: expected 'general' or 'bahdanau'"):
        Seq2SeqConfig(attention="dot", decoder=RecurrentSpec(hidden_size=100))  # 256 vs 100
    with pytest.raises(ConfigError, match="decoder.bidirectional: expected False"):
        Seq2SeqConfig(decoder=RecurrentSpec(bidirectional=True))
    with pytest.raises(ConfigError, match="Seq2SeqConfig keys: expected a subset"):
        Seq2SeqConfig.from_dict({"beam": 3})
    with pytest.raises(ConfigError, match="Seq2Seq: expected a fitted model"):
        Seq2Seq().predict(["abc"])
    model = Seq2Seq(tiny_config())
    with pytest.raises(DataError, match=r"pairs\[1\]: expected a \(source, target\) pair"):
        model.fit([("ab", "BA"), ("ab",)])
    with pytest.raises(DataError, match=r"pairs\[0\]: expected a non-empty source and target"):
        model.fit([("", "BA")])


def test_decode_errors(trained):
    with pytest.raises(DataError, match="sources: expected a list of sources"):
        trained.predict("abc")
    with pytest.raises(ConfigError, match="beam_width: expected an integer >= 1"):
        trained.predict(["abc"], beam_width=0)
    with pytest.raises(DataError, match="x: expected ids of shape"):
        trained.net(torch.zeros(2, 3, dtype=torch.long))


def test_vocabulary_caps_and_min_freq():
    pairs = [("ab", ["X", "Y"]), ("ab", ["X", "Z"]), ("ac", ["X", "W"])]
    model = Seq2Seq(tiny_config(epochs=1, min_freq=2))
    model.fit(pairs)
    assert model.src_vocab.tokens[4:] == ["a", "b"]  # "c" seen once -> <unk>
    assert model.tgt_vocab.tokens[4:] == ["X"]
    capped = Seq2Seq(tiny_config(epochs=1, max_src_vocab=5, max_tgt_vocab=6))
    capped.fit(pairs)
    assert len(capped.src_vocab) == 5 and len(capped.tgt_vocab) == 6
    with pytest.raises(ConfigError, match="max_tgt_vocab: expected an integer >= 5"):
        tiny_config(max_tgt_vocab=3)


def test_bucketed_batches_keep_whole_targets_and_train():
    from rnnkit.tasks.seq2seq import _bucketed_loader

    rng = random.Random(0)
    pairs = []
    for _ in range(96):  # targets longer than sources: a cut at the source length would lose them
        s = "".join(rng.choice("abcd") for _ in range(rng.randint(1, 6)))
        pairs.append((s, list((s + s).upper())))
    model = Seq2Seq(tiny_config(epochs=2, bucket=True))
    history = model.fit(pairs)
    assert len(history) == 2
    X, y, lengths = model._tensors(*model._split_pairs("pairs", pairs))
    seen = 0
    for xb, yb, lb in _bucketed_loader(X, y, lengths, 16, seed=0):
        need = int(torch.maximum(lb, (yb != PAD_ID).sum(1)).max())
        assert xb.shape[1] == yb.shape[1] == need  # cut to the longest need, nothing lost
        seen += len(lb)
    assert seen == 96
    total_targets = int((y != PAD_ID).sum())
    kept = sum(int((yb != PAD_ID).sum()) for _, yb, _ in _bucketed_loader(X, y, lengths, 16, 0))
    assert kept == total_targets
