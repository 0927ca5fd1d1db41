"""Shared builders of the seq2seq tests: a tiny config, a random network, toy pairs."""

import random

import pytest
import torch

from rnnkit.data.vocabulary import PAD_ID
from rnnkit.tasks.seq2seq import Seq2SeqConfig, Seq2SeqNet

ATTN = ["bahdanau", "dot", "general", "general+feeding"]
_TRAINING = {"epochs", "batch_size", "lr", "seed", "device", "max_time"}


def make_config(attention="general", **changes) -> Seq2SeqConfig:
    """A tiny model (GRU encoder 2 x 8, decoder 16) trained fast on the CPU; ``changes`` are
    [model] keys, [training] keys (epochs, lr...) or whole sections by name."""
    if attention.endswith("+feeding"):  # Luong attention with input feeding
        attention, changes = attention.removesuffix("+feeding"), {"input_feeding": True,
                                                                  **changes}
    sections = {s: changes.pop(s) for s in ("data", "decoding", "evaluation", "early_stopping")
                if s in changes}
    training = {"epochs": 2, "batch_size": 16, "lr": 1e-2, "device": "cpu", "seed": 0,
                **{k: changes.pop(k) for k in list(changes) if k in _TRAINING}}
    model = {"encoder": {"cell": "gru", "hidden_size": 8, "bidirectional": True},
             "decoder": {"cell": "lstm" if attention != "dot" else "gru", "hidden_size": 16},
             "attention": attention, "src_embedding_dim": 8, "tgt_embedding_dim": 8, **changes}
    return Seq2SeqConfig.from_dict({"model": model, "training": training, **sections})


def make_pairs(n, seed=0):
    """(word, its letters reversed and upper-cased) pairs over the letters a-d."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = "".join(rng.choice("abcd") for _ in range(rng.randint(2, 4)))
        out.append((s, list(s[::-1].upper())))
    return out


def make_net(attention, tgt_vocab_size=12, seed=0):
    torch.manual_seed(seed)
    net = Seq2SeqNet(10, tgt_vocab_size, make_config(attention).model)
    with torch.no_grad():  # sharpen the random model so sequences differ in interesting ways
        net.head.weight.mul_(8.0)
    return net.eval()


def make_sources(B=5, S=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, S + 1, (B,), generator=g)
    lengths[0] = S
    x = torch.randint(4, 10, (B, S), generator=g)
    x[torch.arange(S) >= lengths[:, None]] = PAD_ID
    return x, lengths


@pytest.fixture(scope="session")
def tiny_config():
    return make_config


@pytest.fixture(scope="session")
def reverse_pairs():
    return make_pairs


@pytest.fixture(scope="session")
def random_net():
    return make_net


@pytest.fixture(scope="session")
def sources():
    return make_sources
