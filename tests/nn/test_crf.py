"""rnnkit.nn.crf against brute-force enumeration of every tag path on tiny sizes.

The reference below scores a path with the textbook formula over the *real* steps only
(start score, emissions, transitions between consecutive real steps, end score), enumerates
all K**n paths of every sequence, and compares log Z (log-sum-exp), the best path (argmax)
and the log-likelihood with the batched, masked implementation.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.crf import CRF


def _crf(K: int, seed: int = 0) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(K).double()
    with torch.no_grad():  # larger than the default init, so the transitions matter
        for p in crf.parameters():
            p.normal_(0.0, 1.0)
    return crf.requires_grad_(False)  # the references read the parameters as floats


def _path_score(crf: CRF, e: torch.Tensor, real: list[int], path: tuple[int, ...]) -> float:
    """Textbook score of ``path`` (one tag per real step) for one sequence's emissions (T, K)."""
    s = float(crf.start_transitions[path[0]]) + float(crf.end_transitions[path[-1]])
    for m, (t, y) in enumerate(zip(real, path)):
        s += float(e[t, y])
        if m:
            s += float(crf.transitions[path[m - 1], y])
    return s


def _brute(crf: CRF, e: torch.Tensor, mask: torch.Tensor) -> tuple[float, tuple[int, ...]]:
    """(log Z, best path) of one sequence by enumerating every path over its real steps."""
    real = [t for t in range(e.shape[0]) if bool(mask[t])]
    scores = {p: _path_score(crf, e, real, p)
              for p in itertools.product(range(crf.num_tags), repeat=len(real))}
    top = max(scores.values())
    log_z = top + math.log(sum(math.exp(v - top) for v in scores.values()))
    return log_z, max(scores, key=scores.__getitem__)


MASKS = {
    "full": [[1, 1, 1, 1], [1, 1, 1, 1]],
    "post": [[1, 1, 1, 1], [1, 1, 0, 0]],
    "pre": [[0, 1, 1, 1], [0, 0, 0, 1]],
    "holes": [[1, 0, 1, 1], [0, 1, 0, 1]],
}


@pytest.mark.parametrize("name", list(MASKS))
def test_log_partition_and_viterbi_equal_brute_force(name):
    crf = _crf(3, seed=1)
    torch.manual_seed(2)
    e = torch.randn(2, 4, 3, dtype=torch.float64)
    mask = torch.tensor(MASKS[name], dtype=torch.bool)
    log_z = crf.log_partition(e, mask=mask)
    best = crf.decode(e, mask=mask)
    for b in range(2):
        ref_z, ref_path = _brute(crf, e[b], mask[b])
        assert float(log_z[b]) == pytest.approx(ref_z, abs=1e-10)
        assert best[b][mask[b]].tolist() == list(ref_path)
        assert (best[b][~mask[b]] == -100).all()


def test_many_random_cases_against_brute_force():
    for seed in range(10):
        g = torch.Generator().manual_seed(seed)
        K = int(torch.randint(2, 5, (1,), generator=g))
        T = int(torch.randint(1, 5, (1,), generator=g))
        crf = _crf(K, seed=seed)
        e = torch.randn(3, T, K, dtype=torch.float64, generator=g) * 2
        mask = torch.rand(3, T, generator=g) < 0.7
        mask[:, int(torch.randint(0, T, (1,), generator=g))] = True  # no empty sequence
        log_z = crf.log_partition(e, mask=mask)
        best = crf.decode(e, mask=mask)
        for b in range(3):
            ref_z, ref_path = _brute(crf, e[b], mask[b])
            assert float(log_z[b]) == pytest.approx(ref_z, abs=1e-9), (seed, b)
            assert best[b][mask[b]].tolist() == list(ref_path), (seed, b)


def test_score_and_log_likelihood_match_the_formula():
    crf = _crf(3, seed=3)
    e = torch.randn(2, 4, 3, dtype=torch.float64)
    mask = torch.tensor(MASKS["holes"], dtype=torch.bool)
    tags = torch.tensor([[2, -100, 0, 1], [-100, 1, -100, 1]])
    score = crf.score(e, tags, mask=mask)
    ll = crf.log_likelihood(e, tags, mask=mask)
    for b in range(2):
        real = [t for t in range(4) if bool(mask[b, t])]
        path = tuple(int(tags[b, t]) for t in real)
        ref = _path_score(crf, e[b], real, path)
        assert float(score[b]) == pytest.approx(ref, abs=1e-12)
        assert float(ll[b]) == pytest.approx(ref - _brute(crf, e[b], mask[b])[0], abs=1e-10)
    assert torch.equal(crf(e, tags, mask=mask), ll)


def test_probabilities_of_all_paths_sum_to_one():
    crf = _crf(2, seed=4)
    e = torch.randn(1, 3, 2, dtype=torch.float64)
    total = sum(math.exp(float(crf.log_likelihood(e, torch.tensor([list(p)]))))
                for p in itertools.product(range(2), repeat=3))
    assert total == pytest.approx(1.0, abs=1e-12)


def test_lengths_equal_the_post_padding_mask_and_padding_is_ignored():
    crf = _crf(4, seed=5)
    e = torch.randn(3, 5, 4, dtype=torch.float64)
    lengths = torch.tensor([5, 2, 3])
    mask = torch.arange(5) < lengths[:, None]
    tags = torch.randint(0, 4, (3, 5)).masked_fill(~mask, -100)
    assert torch.equal(crf.nll(e, tags, lengths=lengths, reduction="none"),
                       crf.nll(e, tags, mask=mask, reduction="none"))
    assert torch.equal(crf.decode(e, lengths=lengths), crf.decode(e, mask=mask))
    # garbage in the padded emissions changes nothing
    e2 = e.clone()
    e2[~mask] = 1e3
    assert torch.allclose(crf.log_likelihood(e2, tags, mask=mask),
                          crf.log_likelihood(e, tags, mask=mask), atol=1e-12)
    assert torch.equal(crf.decode(e2, mask=mask), crf.decode(e, mask=mask))
    # a padded sequence scores as the same sequence cut to its length
    assert float(crf.log_likelihood(e[1:2, :2], tags[1:2, :2])) == pytest.approx(
        float(crf.log_likelihood(e, tags, mask=mask)[1]), abs=1e-12)


def test_nll_reductions():
    crf = _crf(3, seed=6)
    e = torch.randn(2, 3, 3, dtype=torch.float64)
    lengths = torch.tensor([3, 1])
    tags = torch.tensor([[0, 1, 2], [1, -100, -100]])
    per = crf.nll(e, tags, lengths=lengths, reduction="none")
    assert torch.allclose(per, -crf.log_likelihood(e, tags, lengths=lengths))
    assert float(crf.nll(e, tags, lengths=lengths)) == pytest.approx(float(per.mean()))
    assert float(crf.nll(e, tags, lengths=lengths, reduction="sum")) == pytest.approx(float(per.sum()))
    assert float(crf.nll(e, tags, lengths=lengths, reduction="token_mean")) == pytest.approx(
        float(per.sum()) / 4)
    assert (per > 0).all()


def test_gradcheck_float64():
    crf = _crf(3, seed=7)
    e = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor(MASKS["holes"], dtype=torch.bool)
    tags = torch.tensor([[2, -100, 0, 1], [-100, 1, -100, 0]])
    names = ["transitions", "start_transitions", "end_transitions"]

    def f(e, *ps):
        return torch.func.functional_call(crf, dict(zip(names, ps)), (e, tags), {"mask": mask})

    inputs = (e, *(getattr(crf, n).detach().clone().requires_grad_() for n in names))
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7)


def test_gradient_of_log_partition_is_the_tag_marginals():
    """d log Z / d e_{t,k} = P(y_t = k), which must sum to 1 over k at real steps, 0 at pads."""
    crf = _crf(3, seed=8)
    e = torch.randn(1, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 1]], dtype=torch.bool)
    crf.log_partition(e, mask=mask).sum().backward()
    sums = e.grad.sum(-1)[0]
    assert torch.allclose(sums, torch.tensor([1.0, 1.0, 0.0, 1.0], dtype=torch.float64))


def test_float32_batches_run_and_train():
    torch.manual_seed(0)
    crf = CRF(5)
    e = torch.randn(8, 6, 5, requires_grad=True)
    tags = torch.randint(0, 5, (8, 6))
    loss = crf.nll(e, tags, lengths=torch.tensor([6, 5, 4, 3, 2, 1, 6, 6]))
    loss.backward()
    assert torch.isfinite(loss) and crf.transitions.grad is not None
    assert crf.decode(e).dtype == torch.long


def test_errors_name_the_argument():
    crf = CRF(3)
    e = torch.randn(2, 4, 3)
    with pytest.raises(ShapeError, match=r"emissions: expected 3 tag scores .* got 5"):
        crf.decode(torch.randn(2, 4, 5))
    with pytest.raises(ShapeError, match=r"emissions: expected a 3D tensor"):
        crf.decode(torch.randn(4, 3))
    with pytest.raises(ShapeError, match=r"mask: expected at least one real step per sequence, got 1 empty"):
        crf.decode(e, mask=torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(ShapeError, match=r"mask: expected shape \(2, 4\)"):
        crf.decode(e, mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ShapeError, match=r"tags: expected values in \[0, 3\) on real steps, got values in \[0, 7\]"):
        crf.nll(e, torch.tensor([[0, 1, 2, 7], [0, 0, 0, 0]]))
    with pytest.raises(ShapeError, match=r"tags: expected shape \(2, 4\)"):
        crf.nll(e, torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ConfigError, match=r"mask/lengths: expected at most one of them"):
        crf.decode(e, mask=torch.ones(2, 4, dtype=torch.bool), lengths=torch.tensor([4, 4]))
    with pytest.raises(ConfigError, match=r"reduction: expected one of"):
        crf.nll(e, torch.zeros(2, 4, dtype=torch.long), reduction="avg")
    with pytest.raises(ConfigError, match=r"num_tags: expected an integer >= 1, got 0"):
        CRF(0)
    assert repr(CRF(4)) == "CRF(num_tags=4)"
