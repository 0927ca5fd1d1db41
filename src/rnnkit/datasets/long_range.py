r"""Long-range dependency problems: the adding problem and the copy task, as seeded tensors.

**Adding problem** (Hochreiter & Schmidhuber 1997; the form of Le et al. 2015): each step
carries two numbers, a value :math:`u_t \sim U[0, 1]` and a marker :math:`m_t \in \{0, 1\}`;
exactly two markers are 1, one in the first half of the sequence and one in the second. The
target is the sum of the two marked values, :math:`y = \sum_t m_t u_t`. Predicting the
constant 1 scores MSE = Var(u_1 + u_2) = 2/12 ≈ 0.167; a model that remembers the first marked
value over ~T/2 steps scores near 0.

**Copy task** (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): ``copy_len`` symbols from
{1, ..., K} (K = ``num_symbols``), then ``delay`` blanks (id 0), a delimiter (id K + 1) and
``copy_len - 1`` blanks; the target is blank everywhere except the last ``copy_len`` steps,
which repeat the symbols. Total length T = ``delay`` + 2 ``copy_len``. Guessing blanks and then
uniform symbols scores a cross-entropy of ``copy_len`` ln K / T nats per step.

Shapes: adding ``X`` (N, T, 2) float, ``y`` (N, 1); copy ``X`` (N, T) int64, ``y`` (N, T) int64.

Example:
    >>> X, y = adding_problem(4, 10, seed=0)
    >>> X.shape, y.shape, X[..., 1].sum(1).tolist()
    (torch.Size([4, 10, 2]), torch.Size([4, 1]), [2.0, 2.0, 2.0, 2.0])
"""

from __future__ import annotations

import math

import torch

from rnnkit._validation import check_positive_int

__all__ = [
    "TASKS",
    "adding_baseline_mse",
    "adding_problem",
    "copy_baseline_loss",
    "copy_task",
]

#: The problems, by the name :class:`~rnnkit.labs._long_range.LongRangeConfig` takes.
TASKS = ("adding", "copy")


def _generator(seed: int | None) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(int(torch.randint(0, 2**62, (1,))) if seed is None else seed)
    return gen


def adding_problem(n: int, length: int, *, seed: int | None = None) -> tuple[torch.Tensor,
                                                                             torch.Tensor]:
    """``n`` adding-problem sequences of ``length`` steps: X (n, T, 2), y (n, 1).

    Channel 0 holds the values U[0, 1], channel 1 the two markers (one uniformly in the first
    ⌊T/2⌋ steps, one in the rest).
    """
    check_positive_int("n", n)
    T = check_positive_int("length", length, minimum=2)
    gen = _generator(seed)
    values = torch.rand(n, T, generator=gen)  # (n, T)
    half = T // 2
    first = torch.randint(0, half, (n,), generator=gen)
    second = torch.randint(half, T, (n,), generator=gen)
    markers = torch.zeros(n, T)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = torch.stack([values, markers], dim=-1)  # (n, T, 2)
    y = (values * markers).sum(1, keepdim=True)  # (n, 1)
    return X, y


def adding_baseline_mse(y: torch.Tensor) -> float:
    """MSE of predicting the constant 1 (the mean of the target), ≈ 0.167 in expectation."""
    return float(((y - 1.0) ** 2).mean())


def copy_task(n: int, delay: int, *, num_symbols: int = 8, copy_len: int = 10,
              seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` copy-task sequences: X, y (n, delay + 2 copy_len) int64 (layout in module doc)."""
    check_positive_int("n", n)
    check_positive_int("delay", delay)
    K = check_positive_int("num_symbols", num_symbols, minimum=2)
    C = check_positive_int("copy_len", copy_len)
    T = delay + 2 * C
    gen = _generator(seed)
    symbols = torch.randint(1, K + 1, (n, C), generator=gen)  # (n, C)
    X = torch.zeros(n, T, dtype=torch.long)
    X[:, :C] = symbols
    X[:, C + delay] = K + 1  # the delimiter: "now copy"
    y = torch.zeros(n, T, dtype=torch.long)
    y[:, T - C :] = symbols
    return X, y


def copy_baseline_loss(delay: int, *, num_symbols: int = 8, copy_len: int = 10) -> float:
    """Cross-entropy (nats per step) of blanks, then uniform guesses over the symbols."""
    return copy_len * math.log(num_symbols) / (delay + 2 * copy_len)
