"""rnnkit.training.seeding: the same seed gives the same numbers from every generator, RNG
states round trip (for exact resume), and device names resolve or are refused."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.training import seed_everything, select_device
from rnnkit.training.seeding import capture_rng_state, restore_rng_state


def test_seed_everything_seeds_all_generators() -> None:
    seed_everything(42)
    first = (random.random(), float(np.random.rand()), torch.rand(1).item())
    seed_everything(42)
    assert (random.random(), float(np.random.rand()), torch.rand(1).item()) == first
    with pytest.raises(ConfigError, match=r"seed: expected an integer in \[0, 2\*\*32\), got 'a'"):
        seed_everything("a")  # type: ignore[arg-type]


def test_rng_state_capture_and_restore_round_trip(tmp_path: Path) -> None:
    seed_everything(1)
    state = capture_rng_state()
    torch.save(state, tmp_path / "rng.pt")
    expected = (random.random(), float(np.random.randn()), torch.randn(2).tolist())
    seed_everything(999)
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (random.random(), float(np.random.randn()), torch.randn(2).tolist()) == expected


def test_select_device() -> None:
    assert select_device("cpu") == torch.device("cpu")
    assert select_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else select_device("auto").type
    assert select_device("auto").type == expected
    with pytest.raises(ConfigError, match=r"device: expected one of \['auto', 'cpu', 'cuda', 'mps'\]"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU is visible to torch"):
            select_device("cuda")



def test_same_seed_same_numbers_and_the_seed_is_returned() -> None:
    def draw() -> tuple:
        return (random.randint(0, 10**9), np.random.randint(0, 10**9, 3).tolist(),
                torch.randint(0, 10**9, (3,)).tolist(), torch.nn.Linear(2, 2).weight.tolist())

    assert seed_everything(2**32 - 1) == 2**32 - 1
    first = draw()
    seed_everything(2**32 - 1)
    assert draw() == first
    seed_everything(0)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 2**32, True, 1.0, None])
def test_seed_out_of_range_is_refused(bad) -> None:
    with pytest.raises(ConfigError) as info:
        seed_everything(bad)
    assert str(info.value) == f"seed: expected an integer in [0, 2**32), got {bad!r}"


def test_captured_state_holds_plain_containers_and_tensors() -> None:
    state = capture_rng_state()
    assert set(state) == {"torch", "cuda", "numpy", "python"}
    assert isinstance(state["torch"], torch.Tensor) and state["numpy"]["keys"].shape == (624,)
    assert state["numpy"]["kind"] == "MT19937" and isinstance(state["python"]["internal"], list)


def test_select_device_refuses_malformed_names() -> None:
    assert select_device("cpu:0") == torch.device("cpu:0")
    with pytest.raises(ConfigError) as info:
        select_device("auto:1")
    assert str(info.value) == ("device: expected one of ['auto', 'cpu', 'cuda', 'mps'] "
                               "(optionally 'cuda:N'), got 'auto:1'")
    with pytest.raises(ConfigError, match=r"^device: expected one of \['auto', 'cpu', 'cuda', "
                                          r"'mps'\] or a torch.device, got 3$"):
        select_device(3)  # type: ignore[arg-type]
