r"""A linear-chain conditional random field (CRF) over per-step tag scores, batched, in torch.

A tagger's network scores every tag at every step (the *emissions*); the CRF adds a learned
score for every pair of consecutive tags, so the best sequence is chosen as a whole (a
determiner is rarely followed by a verb) instead of one step at a time.

Symbols: B batch, T timesteps, K tags; :math:`e_{t,k}` the emission score of tag k at step
t; :math:`A_{ij}` the transition score from tag i to tag j; :math:`s_j`, :math:`f_j` the
start and end scores. For a sequence whose real steps are :math:`t_1 < \dots < t_n` and a
tag path :math:`y`:

.. math::

    \operatorname{score}(y) = s_{y_{t_1}} + \sum_{m=1}^{n} e_{t_m, y_{t_m}}
        + \sum_{m=2}^{n} A_{y_{t_{m-1}}, y_{t_m}} + f_{y_{t_n}}

    \log p(y \mid e) = \operatorname{score}(y) - \log Z, \qquad
    \log Z = \log \sum_{y'} \exp \operatorname{score}(y')

:math:`\log Z` comes from the forward algorithm (a log-sum-exp recursion over steps,
:math:`O(T K^2)`), the best path :math:`\arg\max_y \operatorname{score}(y)` from the Viterbi
algorithm (the same recursion with max, then a backtrack).

Masks: ``mask`` (B, T) bool is True on real steps; padded steps leave the recursion's state
unchanged, exactly as they leave a recurrent layer's state unchanged (see
:mod:`rnnkit.nn.recurrent`), so post-, pre- and any other padding are all served, and a
transition links each real step to the previous *real* step. ``lengths`` (B,) is the usual
post-padding shorthand. Every sequence needs at least one real step.

Shapes:

* ``emissions``: (B, T, K) float;
* ``tags``: (B, T) integer in [0, K) on real steps (padded steps may hold anything, e.g. -100);
* ``mask``: (B, T) bool, or ``lengths``: (B,) integers in [1, T];
* :meth:`CRF.log_likelihood`, :meth:`CRF.log_partition`, :meth:`CRF.score`: (B,);
* :meth:`CRF.decode`: (B, T) long, the best tags, ``pad_value`` on padded steps.

Example:
    >>> import torch
    >>> crf = CRF(num_tags=3)
    >>> emissions = torch.randn(2, 4, 3)
    >>> tags = torch.tensor([[0, 1, 2, 1], [2, 2, -100, -100]])
    >>> crf.nll(emissions, tags, lengths=torch.tensor([4, 2])).shape
    torch.Size([])
    >>> crf.decode(emissions, lengths=torch.tensor([4, 2]))[1, 2:].tolist()
    [-100, -100]
"""

from __future__ import annotations

import torch
from torch import nn

from rnnkit._validation import Described, check_choice, check_positive_int, expected
from rnnkit.errors import ConfigError, ShapeError

__all__ = ["CRF"]

_REDUCTIONS = ("mean", "sum", "token_mean", "none")


class CRF(nn.Module):
    r"""Linear-chain CRF with start, end and transition scores (see the module doc).

    Args:
        num_tags: K, the number of tags.

    Parameters (initialized uniformly in [-0.1, 0.1]):
        transitions: (K, K), ``transitions[i, j]`` scores tag i followed by tag j.
        start_transitions: (K,), scores a sequence starting with each tag.
        end_transitions: (K,), scores a sequence ending with each tag.
    """

    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = check_positive_int("num_tags", num_tags)
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        self.end_transitions = nn.Parameter(torch.empty(num_tags))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for p in (self.transitions, self.start_transitions, self.end_transitions):
            nn.init.uniform_(p, -0.1, 0.1)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"

    # ------------------------------------------------------------------------------ checks
    def _resolve(self, emissions: torch.Tensor, mask: torch.Tensor | None,
                 lengths: torch.Tensor | None) -> torch.Tensor:
        """Validate ``emissions`` and return the (B, T) bool mask of real steps."""
        if not isinstance(emissions, torch.Tensor) or emissions.dim() != 3:
            got = (Described(f"shape {tuple(emissions.shape)}")
                   if isinstance(emissions, torch.Tensor) else type(emissions).__name__)
            raise ShapeError(expected("emissions", "a 3D tensor (batch, timesteps, num_tags)", got))
        B, T, K = emissions.shape
        if self.num_tags != K:
            raise ShapeError(expected("emissions", f"{self.num_tags} tag scores in the last "
                                      "dimension (num_tags)", Described(f"{K} (shape {(B, T, K)})")))
        if T == 0:
            raise ShapeError(expected("emissions", "at least one timestep", (B, T, K)))
        if not emissions.is_floating_point():
            raise ShapeError(expected("emissions", "a floating-point tensor", emissions.dtype))
        if mask is not None and lengths is not None:
            raise ConfigError(expected("mask/lengths", "at most one of them", "both"))
        steps = torch.arange(T, device=emissions.device)
        if lengths is not None:
            lens = torch.as_tensor(lengths, device=emissions.device)
            if lens.dim() != 1 or lens.shape[0] != B or lens.is_floating_point():
                raise ShapeError(expected("lengths", f"a 1D integer tensor of {B} lengths",
                                          Described(f"shape {tuple(lens.shape)}, {lens.dtype}")))
            m = steps < lens[:, None]  # (B, T)
        elif mask is not None:
            m = torch.as_tensor(mask, device=emissions.device)
            if tuple(m.shape) != (B, T):
                raise ShapeError(expected("mask", f"shape ({B}, {T}) (batch, timesteps)",
                                          tuple(m.shape)))
            if m.dtype != torch.bool:
                if m.is_floating_point() or not bool(((m == 0) | (m == 1)).all()):
                    raise ShapeError(expected("mask", "a boolean (or 0/1) tensor", m.dtype))
                m = m.bool()
        else:
            return torch.ones(B, T, dtype=torch.bool, device=emissions.device)
        empty = int((~m.any(1)).sum())
        if empty:
            raise ShapeError(expected("mask", "at least one real step per sequence",
                                      Described(f"{empty} empty sequence(s)")))
        return m

    def _check_tags(self, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if not isinstance(tags, torch.Tensor) or tuple(tags.shape) != tuple(mask.shape):
            got = tuple(tags.shape) if isinstance(tags, torch.Tensor) else type(tags).__name__
            raise ShapeError(expected("tags", f"shape {tuple(mask.shape)} like the emissions' "
                                      "(batch, timesteps)", got))
        if tags.is_floating_point() or tags.dtype == torch.bool:
            raise ShapeError(expected("tags", "integer tag indices", tags.dtype))
        real = tags[mask]
        if real.numel() and (int(real.min()) < 0 or int(real.max()) >= self.num_tags):
            raise ShapeError(expected("tags", f"values in [0, {self.num_tags}) on real steps",
                                      Described(f"values in [{int(real.min())}, {int(real.max())}]")))
        return tags.long().masked_fill(~mask, 0)  # padded steps: any valid index, masked out

    # ------------------------------------------------------------------------------ scores
    def score(self, emissions: torch.Tensor, tags: torch.Tensor, *,
              mask: torch.Tensor | None = None,
              lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The unnormalized score of the given tag paths, (B,)."""
        m = self._resolve(emissions, mask, lengths)
        y = self._check_tags(tags, m)
        return self._score(emissions, y, m)

    def _score(self, emissions: torch.Tensor, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        B, T, _ = emissions.shape
        mf = m.to(emissions.dtype)  # (B, T)
        emit = emissions.gather(2, y.unsqueeze(-1)).squeeze(-1)  # (B, T): e_{t, y_t}
        steps = torch.arange(T, device=y.device).expand(B, T)
        # the last real step at or before each step (-1 before the first real step)
        last_real = torch.where(m, steps, -1).cummax(dim=1).values  # (B, T)
        prev = torch.cat([last_real.new_full((B, 1), -1), last_real[:, :-1]], dim=1)  # (B, T)
        linked = m & (prev >= 0)  # a real step with an earlier real step: one transition
        prev_tag = y.gather(1, prev.clamp_min(0))  # (B, T)
        trans = self.transitions[prev_tag, y] * linked.to(emissions.dtype)  # (B, T)
        first = y.gather(1, m.to(torch.uint8).argmax(dim=1, keepdim=True)).squeeze(1)  # (B,)
        last = y.gather(1, last_real[:, -1:]).squeeze(1)  # (B,)
        return ((emit * mf).sum(1) + trans.sum(1) + self.start_transitions[first]
                + self.end_transitions[last])

    def log_partition(self, emissions: torch.Tensor, *, mask: torch.Tensor | None = None,
                      lengths: torch.Tensor | None = None) -> torch.Tensor:
        r""":math:`\log Z` by the forward algorithm, (B,)."""
        m = self._resolve(emissions, mask, lengths)
        return self._log_partition(emissions, m)

    def _log_partition(self, emissions: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        B, T, K = emissions.shape
        trans = self.transitions.unsqueeze(0)  # (1, K, K)
        alpha = self.start_transitions + emissions[:, 0]  # (B, K): log-sum over paths to step 0
        real = m.unsqueeze(2)  # (B, T, 1)
        if bool(m[:, 0].all()):  # every sequence starts at step 0 (post-padding): fewer ops
            for t in range(1, T):
                # (B, K, 1) + (1, K, K) -> logsumexp over the previous tag -> (B, K), + e_t
                nxt = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]
                alpha = torch.where(real[:, t], nxt, alpha)
            return torch.logsumexp(alpha + self.end_transitions, dim=1)
        fresh = self.start_transitions + emissions  # (B, T, K): a sequence's first real step
        started = m.cummax(dim=1).values  # (B, T): a real step at or before t
        for t in range(1, T):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]
            new = torch.where(started[:, t - 1 : t], nxt, fresh[:, t])
            alpha = torch.where(real[:, t], new, alpha)
        return torch.logsumexp(alpha + self.end_transitions, dim=1)

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, *,
                       mask: torch.Tensor | None = None,
                       lengths: torch.Tensor | None = None) -> torch.Tensor:
        r""":math:`\log p(y \mid e) = \operatorname{score}(y) - \log Z` per sequence, (B,)."""
        m = self._resolve(emissions, mask, lengths)
        y = self._check_tags(tags, m)
        return self._score(emissions, y, m) - self._log_partition(emissions, m)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, *,
            mask: torch.Tensor | None = None, lengths: torch.Tensor | None = None,
            reduction: str = "mean") -> torch.Tensor:
        """Negative log-likelihood, the training loss.

        ``reduction``: ``"mean"`` over sequences (default), ``"sum"``, ``"token_mean"`` (the
        sum divided by the number of real steps, comparable with a per-token cross-entropy)
        or ``"none"`` ((B,) per sequence).
        """
        check_choice("reduction", reduction, _REDUCTIONS)
        m = self._resolve(emissions, mask, lengths)
        y = self._check_tags(tags, m)
        nll = self._log_partition(emissions, m) - self._score(emissions, y, m)  # (B,)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        if reduction == "token_mean":
            return nll.sum() / m.sum()
        return nll.mean()

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor, *,
                mask: torch.Tensor | None = None,
                lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The log-likelihood per sequence, (B,) (same as :meth:`log_likelihood`)."""
        return self.log_likelihood(emissions, tags, mask=mask, lengths=lengths)

    # ------------------------------------------------------------------------------ decoding
    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, *, mask: torch.Tensor | None = None,
               lengths: torch.Tensor | None = None, pad_value: int = -100) -> torch.Tensor:
        """The highest-scoring tag path of every sequence (Viterbi), (B, T) long.

        Padded steps hold ``pad_value`` (-100, PyTorch's ignore index, by default).
        """
        m = self._resolve(emissions, mask, lengths)
        B, T, K = emissions.shape
        trans = self.transitions.unsqueeze(0)  # (1, K, K)
        ident = torch.arange(K, device=emissions.device).expand(B, K)  # "stay" backpointers
        delta = self.start_transitions + emissions[:, 0]  # (B, K): best score of a path to step 0
        real = m.unsqueeze(2)  # (B, T, 1)
        started = m.cummax(dim=1).values.unsqueeze(2)  # (B, T, 1): a real step at or before t
        post = bool(m[:, 0].all())  # every sequence starts at step 0: no "first step" case
        fresh = None if post else self.start_transitions + emissions  # (B, T, K)
        pointers = [ident]
        for t in range(1, T):
            best, arg = (delta.unsqueeze(2) + trans).max(dim=1)  # (B, K prev, K next) -> (B, K)
            new = best + emissions[:, t]
            linked = real[:, t]  # a real step linked to an earlier real step
            if fresh is not None:
                new = torch.where(started[:, t - 1], new, fresh[:, t])
                linked = linked & started[:, t - 1]
            delta = torch.where(real[:, t], new, delta)
            # a padded step, or the first real step, points back to the same tag
            pointers.append(torch.where(linked, arg, ident))
        tags = torch.empty(B, T, dtype=torch.long, device=emissions.device)
        cur = (delta + self.end_transitions).argmax(dim=1)  # (B,)
        tags[:, T - 1] = cur
        for t in range(T - 1, 0, -1):
            cur = pointers[t].gather(1, cur.unsqueeze(1)).squeeze(1)
            tags[:, t - 1] = cur
        return tags.masked_fill(~m, pad_value)
