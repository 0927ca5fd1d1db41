"""Decoding: beam width 1 is greedy, and a wide beam finds the brute-force best sequence."""

import itertools

import pytest
import torch

from rnnkit.data.vocabulary import BOS_ID, EOS_ID
from rnnkit.tasks.seq2seq import beam_search, greedy_decode

ATTN = ["bahdanau", "dot", "general", "general+feeding"]


@pytest.mark.parametrize("attention", ATTN)
def test_beam_width_one_equals_greedy(attention, random_net, sources):
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
def test_beam_search_finds_the_best_sequence_by_brute_force(attention, random_net, sources):
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
