"""Textbook equations, one step at a time, in float64, written independently of rnnkit.nn.

Each function takes the cell's parameters as plain tensors and a single sequence x (T, I),
and returns the list of hidden states h_1..h_T (and cell states for the LSTM).
"""

from __future__ import annotations

import torch


def sigmoid(v):
    return 1.0 / (1.0 + torch.exp(-v))


def layer_norm(v, gain, bias=None, eps=1e-5):
    mu = v.mean()
    var = ((v - mu) ** 2).mean()
    out = gain * (v - mu) / torch.sqrt(var + eps)
    return out if bias is None else out + bias


def simple_rnn(x, W_xh, W_hh, b_h, h0, f=torch.tanh, ln_gain=None):
    h, hs = h0, []
    for t in range(x.shape[0]):
        a = W_xh @ x[t] + W_hh @ h
        h = f(layer_norm(a, ln_gain, b_h)) if ln_gain is not None else f(a + b_h)
        hs.append(h)
    return hs


def lstm(x, W, U, b, h0, c0, ln=None):
    """W (4H, I), U (4H, H), b (4H,) stacked (i, f, C~, o)."""
    H = h0.shape[0]
    h, c, hs, cs = h0, c0, [], []
    for t in range(x.shape[0]):
        if ln is None:
            z = W @ x[t] + U @ h + b
        else:
            z = layer_norm(W @ x[t], ln["ih"]) + layer_norm(U @ h, ln["hh"]) + b
        i_t = sigmoid(z[0:H])
        f_t = sigmoid(z[H : 2 * H])
        c_tilde = torch.tanh(z[2 * H : 3 * H])
        o_t = sigmoid(z[3 * H : 4 * H])
        c = f_t * c + i_t * c_tilde
        c_out = c if ln is None else layer_norm(c, ln["cell_w"], ln["cell_b"])
        h = o_t * torch.tanh(c_out)
        hs.append(h)
        cs.append(c)
    return hs, cs


def gru(x, W, U, b, h0, b_hn=None, reset_after=True):
    """W (3H, I), U (3H, H), b (3H,) stacked (r, z, n)."""
    H = h0.shape[0]
    h, hs = h0, []
    Wr, Wz, Wn = W[:H], W[H : 2 * H], W[2 * H :]
    Ur, Uz, Un = U[:H], U[H : 2 * H], U[2 * H :]
    br, bz, bn = b[:H], b[H : 2 * H], b[2 * H :]
    for t in range(x.shape[0]):
        r = sigmoid(Wr @ x[t] + Ur @ h + br)
        z = sigmoid(Wz @ x[t] + Uz @ h + bz)
        if reset_after:
            n = torch.tanh(Wn @ x[t] + bn + r * (Un @ h + b_hn))
        else:
            n = torch.tanh(Wn @ x[t] + Un @ (r * h) + bn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return hs
