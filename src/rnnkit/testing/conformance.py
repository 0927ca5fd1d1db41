"""One conformance checker for recurrent cells and layers.

``check_cell(factory)`` and ``check_layer(factory)`` build fresh modules from a zero-argument
factory and verify the contract every rnnkit component keeps; a violation raises
:class:`ConformanceError` naming the check. Use them on your own cells::

    from rnnkit.testing import check_cell, check_layer
    check_cell(lambda: MyCell(3, 8))
    check_layer(lambda: Recurrent(MyCell, 3, 8, num_layers=2, bidirectional=True))

Checks: output and state shapes; parameter count (when given); state_dict round trip; one
training step (finite gradients for every parameter, parameters move); float64 and device
moves; unbatched equals batched; and for layers also eval determinism, padding invariance
(a padded batch equals each sequence run alone), pre-padding equals post-padding, chunked
stateful runs equal one pass, and every backend equals the loop reference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from rnnkit.errors import RnnkitError
from rnnkit.nn.cell import RecurrentCell
from rnnkit.nn.recurrent import Recurrent

__all__ = ["ConformanceError", "check_cell", "check_layer"]


class ConformanceError(RnnkitError, AssertionError):
    """A cell or layer broke the contract; the message names the check."""


def _close(name: str, a: torch.Tensor, b: torch.Tensor, atol: float = 1e-5) -> None:
    if a.shape != b.shape:
        raise ConformanceError(f"{name}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
    err = (a - b).abs().max().item() if a.numel() else 0.0
    if not err <= atol:
        raise ConformanceError(f"{name}: max abs difference {err:.3g} > {atol:g}")


def _first(out) -> torch.Tensor:
    return out if isinstance(out, torch.Tensor) else out[0]


def _flat_state(state) -> list[torch.Tensor]:
    return [state] if isinstance(state, torch.Tensor) else list(state)


def _training_step(module: nn.Module, run: Callable[[nn.Module], torch.Tensor]) -> None:
    module.train()
    before = [p.detach().clone() for p in module.parameters()]
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    opt.zero_grad()
    run(module).pow(2).mean().backward()
    for name, p in module.named_parameters():
        if p.grad is None:
            raise ConformanceError(f"training step: parameter {name!r} received no gradient")
        if not torch.isfinite(p.grad).all():
            raise ConformanceError(f"training step: gradient of {name!r} is not finite")
    opt.step()
    if all(torch.equal(a, b) for a, b in zip(before, module.parameters())):
        raise ConformanceError("training step: no parameter changed after an SGD step")


def check_cell(factory: Callable[[], RecurrentCell], *, batch: int = 3,
               expected_params: int | None = None, seed: int = 0) -> None:
    """Verify a one-step cell built by ``factory`` (see the module doc)."""
    torch.manual_seed(seed)
    cell = factory().eval()
    I, H = cell.input_size, cell.hidden_size
    x = torch.randn(batch, I)
    h, state = cell(x)
    if tuple(h.shape) != (batch, H):
        raise ConformanceError(f"output shape: expected {(batch, H)}, got {tuple(h.shape)}")
    states = _flat_state(state)
    if [tuple(s.shape) for s in states] != [(batch, n) for n in cell.state_size]:
        raise ConformanceError(f"state shapes: expected sizes {cell.state_size}, got "
                               f"{[tuple(s.shape) for s in states]}")
    n_params = sum(p.numel() for p in cell.parameters())
    if expected_params is not None and n_params != expected_params:
        raise ConformanceError(f"parameter count: expected {expected_params}, got {n_params}")
    # a second step from the returned state
    h2, _ = cell(x, state)
    # state_dict round trip
    torch.manual_seed(seed + 1)
    other = factory().eval()
    other.load_state_dict(cell.state_dict())
    _close("state_dict round trip", other(x, state)[0], h2)
    # unbatched equals batched
    single_state = tuple(s[0] for s in states)
    h_single, _ = cell(x[0], single_state if len(states) > 1 else states[0][0])
    _close("unbatched equals batched", h_single, h2[0])
    # float64 move
    cell64 = factory().eval()
    cell64.load_state_dict(cell.state_dict())
    cell64 = cell64.double().to("cpu")
    h64, _ = cell64(x.double())
    if h64.dtype != torch.float64:
        raise ConformanceError(f"dtype move: expected float64 output, got {h64.dtype}")
    _close("float64 equals float32", h64.float(), h, atol=1e-4)
    _training_step(cell, lambda m: m(x)[0])


def check_layer(factory: Callable[[], Recurrent], *, batch: int = 3, steps: int = 6,
                expected_params: int | None = None, seed: int = 0,
                backends: tuple[str, ...] = ("auto", "loop")) -> None:
    """Verify a recurrent layer built by ``factory`` (see the module doc)."""
    torch.manual_seed(seed)
    layer = factory().eval()
    B, T, I = batch, steps, layer.input_size
    x = torch.randn(B, T, I)
    out, state = layer(x)
    D, L, H = layer.num_directions, layer.num_layers, layer.hidden_size
    want = (B, T, layer.output_size) if layer.return_sequences else (B, layer.output_size)
    if tuple(out.shape) != want:
        raise ConformanceError(f"output shape: expected {want}, got {tuple(out.shape)}")
    for s in _flat_state(state):
        if tuple(s.shape) != (B, L * D, H):
            raise ConformanceError(f"state shape: expected {(B, L * D, H)}, got {tuple(s.shape)}")
    n_params = sum(p.numel() for p in layer.parameters())
    if expected_params is not None and n_params != expected_params:
        raise ConformanceError(f"parameter count: expected {expected_params}, got {n_params}")
    _close("eval determinism", layer(x)[0], out, atol=0.0)
    torch.manual_seed(seed + 1)
    other = factory().eval()
    other.load_state_dict(layer.state_dict())
    _close("state_dict round trip", other(x)[0], out)
    _close("unbatched equals batched", layer(x[1])[0], out[1])
    # padding invariance: each sequence alone equals its row of a padded batch
    lengths = torch.tensor([T - (b % T) for b in range(B)])
    out_pad, st_pad = layer(x, lengths=lengths)
    for b in range(B):
        n = int(lengths[b])
        alone, st_alone = layer(x[b : b + 1, :n])
        if layer.return_sequences:
            _close(f"padding invariance (sequence {b}, outputs)", out_pad[b, :n], alone[0])
            _close(f"padded outputs are zero (sequence {b})", out_pad[b, n:],
                   torch.zeros_like(out_pad[b, n:]), atol=0.0)
        else:
            _close(f"padding invariance (sequence {b}, output)", out_pad[b], alone[0])
        for s_pad, s_alone in zip(_flat_state(st_pad), _flat_state(st_alone)):
            _close(f"padding invariance (sequence {b}, final state)", s_pad[b], s_alone[0])
    # pre-padding equals post-padding on the real steps
    steps_idx = torch.arange(T)
    shift = (steps_idx + T - lengths[:, None]) % T  # post position -> pre position
    x_pre = torch.zeros_like(x)
    x_pre.scatter_(1, shift[..., None].expand(-1, -1, I), x)
    mask_pre = steps_idx >= (T - lengths)[:, None]
    out_pre, st_pre = layer(x_pre, mask=mask_pre)
    for b in range(B):
        n = int(lengths[b])
        if layer.return_sequences:
            _close(f"pre-padding equals post-padding (sequence {b})", out_pre[b, T - n :],
                   out_pad[b, :n])
        else:
            _close(f"pre-padding equals post-padding (sequence {b})", out_pre[b], out_pad[b])
    for a, b_ in zip(_flat_state(st_pre), _flat_state(st_pad)):
        _close("pre-padding final state", a, b_)
    # chunked stateful equals one pass (a backward direction cannot be chunked)
    if layer.num_directions == 1:
        _check_stateful_chunks(layer, x, out, state)
    # every backend equals the loop reference
    for name in backends:
        other = factory()
        other.load_state_dict(layer.state_dict())
        other.backend = name
        other.eval()
        _close(f"backend {name!r} equals the layer", other(x, lengths=lengths)[0], out_pad)
    # float64 move
    layer64 = factory()
    layer64.load_state_dict(layer.state_dict())
    layer64 = layer64.double().eval()
    out64, _ = layer64(x.double())
    if out64.dtype != torch.float64:
        raise ConformanceError(f"dtype move: expected float64 output, got {out64.dtype}")
    _close("float64 equals float32", out64.float(), out, atol=1e-4)
    _training_step(layer, lambda m: _first(m(x, lengths=lengths)))


def _check_stateful_chunks(layer: Recurrent, x: torch.Tensor, out: torch.Tensor, state) -> None:
    layer.stateful, was_stateful = True, layer.stateful
    layer.reset_state()
    try:
        cut = x.shape[1] // 2
        first, _ = layer(x[:, :cut])
        second, st_chunk = layer(x[:, cut:])
        if layer.return_sequences:
            _close("chunked stateful equals one pass", torch.cat([first, second], 1), out)
        for a, b in zip(_flat_state(st_chunk), _flat_state(state)):
            _close("chunked stateful final state", a, b)
    finally:
        layer.reset_state()
        layer.stateful = was_stateful
