"""Seq2SeqNet: teacher forcing in one pass equals stepping, Luong's input feeding by hand,
scheduled sampling, custom cells."""

import pytest
import torch

from rnnkit.data.vocabulary import BOS_ID
from rnnkit.errors import DataError
from rnnkit.nn.gru import GRUCell
from rnnkit.tasks.seq2seq import Seq2SeqNet

ATTN = ["bahdanau", "dot", "general", "general+feeding"]


@pytest.mark.parametrize("attention", ATTN)
def test_parallel_teacher_forcing_equals_stepping(attention, random_net, sources):
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


def test_input_feeding_follows_luongs_equations(random_net, sources):
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


def test_scheduled_sampling_reads_own_predictions(random_net, sources):
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


def test_bad_input_shape(random_net):
    with pytest.raises(DataError, match="x: expected ids of shape"):
        random_net("general")(torch.zeros(2, 3, dtype=torch.long))


class LeakyGRUCell(GRUCell):
    """A user's cell: a GRU whose new state keeps a little of the old one."""

    def step(self, xp, state, w_hh, h_mask):
        (new,) = super().step(xp, state, w_hh, h_mask)
        return (0.9 * new + 0.1 * state[0],)


def test_a_cell_class_of_ones_own_builds_the_stacks(tiny_config):
    model = tiny_config("bahdanau", encoder={"cell": LeakyGRUCell, "hidden_size": 8,
                                             "bidirectional": True},
                        decoder={"cell": LeakyGRUCell, "hidden_size": 16}).model
    net = Seq2SeqNet(10, 12, model)
    assert isinstance(net.encoder.cells[0], LeakyGRUCell)
    assert isinstance(net.decoder.cells[0], LeakyGRUCell)
    x = torch.randint(4, 10, (3, 5, 2))
    assert net(x).shape == (3, 5, 12)
