"""The GRU kernel (rnnkit.nn.backends.gru), both forms (reset_after=True, and the Cho
form reset_after=False), against the reference loop, every option and mask layout, float64
and float32, gradcheck."""

from __future__ import annotations

import pytest
from kernel_builders import (
    VARIANTS,
    check_blockwise_derivatives,
    check_equals_loop_float32_longer,
    check_equals_loop_float64_every_mask,
    check_gradcheck,
    check_layer_equals_loop,
    check_one_step_and_unused_outputs,
    check_same_random_numbers,
)

from rnnkit.nn import GRU

NAMES = ['gru', 'gru_cho']  # kernel_builders.CELLS


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", NAMES)
def test_equals_loop_float64_every_mask_eval_and_train(name, variant):
    check_equals_loop_float64_every_mask(name, variant)


@pytest.mark.parametrize("variant", ["plain", "all"])
@pytest.mark.parametrize("name", NAMES)
def test_blockwise_derivatives_equal_loop(name, variant, monkeypatch):
    check_blockwise_derivatives(name, variant, monkeypatch)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", NAMES)
def test_equals_loop_float32_longer(name, variant, monkeypatch):
    check_equals_loop_float32_longer(name, variant, monkeypatch)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name, variant):
    check_gradcheck(name, variant)


@pytest.mark.parametrize("extra", [{}, {"reset_after": False}])
@pytest.mark.parametrize("variant", ["ln", "all"])
@pytest.mark.parametrize("padding", ["lengths", "ragged"])
def test_bidirectional_stacked_layer_fused_equals_loop(extra, variant, padding):
    check_layer_equals_loop(GRU, extra, variant, padding)


@pytest.mark.parametrize("name", NAMES)
def test_draws_the_same_random_numbers_as_the_loop(name):
    check_same_random_numbers(name)


@pytest.mark.parametrize("name", ['gru', 'gru_cho'])
def test_one_step_one_sequence_and_unused_outputs(name):
    check_one_step_and_unused_outputs(name)
