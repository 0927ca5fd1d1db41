"""Decoding a :class:`~rnnkit.tasks.seq2seq.network.Seq2SeqNet`: greedy and beam search.

Greedy decoding takes the most likely token at every step. Beam search of width k keeps the k
best hypotheses; scores are sums of log-probabilities, optionally divided by
``len^length_penalty``; an ``<eos>`` hypothesis is kept only when it ranks in the top k, so
width 1 is exactly greedy. Both return, per source, the token ids, the attention weights of
every output token (T_out, S) for plotting, and the score. ``<pad>`` and ``<bos>`` are never
emitted.

Symbols: B batch, S source steps, k beam width, V target vocabulary size.

Example::

    >>> x, lengths = torch.tensor([[5, 6, 7]]), torch.tensor([3])   # (B, S), (B,)
    >>> best = beam_search(net, x, lengths, max_len=10, beam_width=4)[0]  # doctest: +SKIP
    >>> best.ids, best.attention.shape                                   # doctest: +SKIP
    ([8, 9], torch.Size([2, 3]))
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from rnnkit._validation import check_positive_int
from rnnkit.data.vocabulary import BOS_ID, EOS_ID, PAD_ID
from rnnkit.tasks.seq2seq.network import Seq2SeqNet, _select_state

__all__ = ["Decoded", "beam_search", "greedy_decode"]


class Decoded(NamedTuple):
    """One decoded sequence: token ids (without ``<eos>``), attention weights (T_out, S)
    over the real source steps, and the score (sum of log-probabilities, ``<eos>``
    included)."""

    ids: list[int]
    attention: torch.Tensor
    score: float


def _ban(logp: torch.Tensor) -> torch.Tensor:
    logp[:, PAD_ID] = float("-inf")
    logp[:, BOS_ID] = float("-inf")
    return logp


@torch.no_grad()
def greedy_decode(net: Seq2SeqNet, src: torch.Tensor, lengths: torch.Tensor,
                  max_len: int) -> list[Decoded]:
    """The most likely token at every step, until ``<eos>`` or ``max_len`` tokens."""
    B = src.shape[0]
    mem, state = net.encode(src, lengths)
    prev = torch.full((B,), BOS_ID, dtype=torch.long, device=src.device)
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    toks, weights, scores = [], [], torch.zeros(B, dtype=torch.float64, device=src.device)
    for _ in range(max_len):
        logits, state, w = net.decode_step(prev, state, mem)
        logp = _ban(torch.log_softmax(logits.float(), -1))  # (B, V)
        best, prev = logp.max(-1)
        scores += torch.where(done, 0.0, best.double())
        toks.append(prev)
        weights.append(w)
        done |= prev == EOS_ID
        if bool(done.all()):
            break
    tok = torch.stack(toks, 1).cpu()  # (B, T)
    att = torch.stack(weights, 1).cpu()  # (B, T, S)
    out = []
    for b in range(B):
        ids = tok[b].tolist()
        n = ids.index(EOS_ID) if EOS_ID in ids else len(ids)
        S_b = int(lengths[b])
        out.append(Decoded(ids[:n], att[b, :n, :S_b], float(scores[b])))
    return out


@torch.no_grad()
def beam_search(net: Seq2SeqNet, src: torch.Tensor, lengths: torch.Tensor, max_len: int,
                beam_width: int, length_penalty: float = 0.0) -> list[Decoded]:
    """Beam search of width k (see the module doc); returns the best hypothesis of each row.

    At each step the top 2k extensions of the k live hypotheses are ranked; an ``<eos>``
    extension (or any extension at step ``max_len``) is finished if it ranks in the top k,
    the best k others stay live. A row stops when no live hypothesis can beat its best
    finished one (exact with ``length_penalty=0``, as scores only fall).
    """
    k = check_positive_int("beam_width", beam_width)
    B, device = src.shape[0], src.device
    mem, state = net.encode(src, lengths)
    rows = torch.arange(B, device=device).repeat_interleave(k)  # (B*k,)
    mem, state = mem.select(rows), _select_state(state, rows)
    S = mem.keys.shape[1]
    scores = torch.full((B, k), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0
    prev = torch.full((B * k,), BOS_ID, dtype=torch.long, device=device)
    hist = torch.zeros(B, k, 0, dtype=torch.long)  # tokens so far
    hist_w = torch.zeros(B, k, 0, S)  # attention so far
    finished: list[list[tuple[float, float, list[int], torch.Tensor]]] = [[] for _ in range(B)]
    done = [False] * B

    def norm(score: float, n: int) -> float:
        return score / (max(n, 1) ** length_penalty) if length_penalty else score

    for t in range(max_len):
        logits, state, w = net.decode_step(prev, state, mem)
        logp = _ban(torch.log_softmax(logits.float(), -1)).double().cpu()  # (B*k, V)
        V = logp.shape[-1]
        cand = (scores.unsqueeze(-1) + logp.view(B, k, V)).view(B, k * V)
        top_s, top_i = cand.topk(min(2 * k, k * V), dim=1)  # (B, 2k), best first
        w = w.float().cpu().view(B, k, S)
        new_scores = torch.full((B, k), float("-inf"), dtype=torch.float64)
        new_src = torch.zeros(B, k, dtype=torch.long)
        new_tok = torch.full((B, k), EOS_ID, dtype=torch.long)
        last = t == max_len - 1
        for b in range(B):
            if done[b]:
                continue
            live = 0
            for rank in range(top_s.shape[1]):
                s = float(top_s[b, rank])
                if s == float("-inf") or live == k:
                    break
                src_beam, tok = divmod(int(top_i[b, rank]), V)
                if tok == EOS_ID or last:
                    if rank < k:
                        ids = [*hist[b, src_beam].tolist(), *([] if tok == EOS_ID else [tok])]
                        att = torch.cat([hist_w[b, src_beam], w[b, src_beam : src_beam + 1]])
                        att = att[: len(ids)]  # the <eos> step's row is not an output
                        finished[b].append((norm(s, len(ids) + 1), s, ids, att))
                    continue
                new_scores[b, live], new_src[b, live], new_tok[b, live] = s, src_beam, tok
                live += 1
            best_live = float(new_scores[b].max())
            if live == 0 or (finished[b] and length_penalty == 0
                             and max(f[1] for f in finished[b]) >= best_live):
                done[b] = True
                new_scores[b] = float("-inf")
        if all(done) or last:
            break
        flat = (torch.arange(B)[:, None] * k + new_src).view(-1)  # (B*k,) rows to keep
        state = _select_state(state, flat.to(device))
        hist = torch.cat([hist.gather(1, new_src[..., None].expand(-1, -1, hist.shape[2])),
                          new_tok[..., None]], dim=2)
        hist_w = torch.cat([hist_w.gather(1, new_src[..., None, None].expand(
            -1, -1, hist_w.shape[2], S)), w.gather(1, new_src[..., None].expand(-1, -1, S))
            .unsqueeze(2)], dim=2)
        prev = new_tok.view(-1).to(device)
        scores = new_scores
    out = []
    for b in range(B):
        S_b = int(lengths[b])
        if not finished[b]:  # cannot happen: the last step finishes the top k
            out.append(Decoded([], torch.zeros(0, S_b), float("-inf")))
            continue
        _, raw, ids, att = max(finished[b], key=lambda f: f[0])
        out.append(Decoded(ids, att[:, :S_b], raw))
    return out

