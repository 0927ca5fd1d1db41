"""Warm start: a challenger's network starts from the champion's weights instead of a random
initialization.

Every task fits its preprocessing on the data it is given, then builds its network
(``Task._build``) and trains it. :func:`warm_start` wraps that build for one fit: the freshly
built network gets the champion's weights when they mean the same thing in it, that is when

1. every parameter and buffer has the same name and shape, and
2. the fitted preprocessing that gives the weights their meaning is the same: the column
   order, targets and window sizes of a forecaster; the classes, the input kind and the
   vocabulary of a classifier; the tags and vocabularies of a tagger; the vocabulary of a
   language model; both vocabularies of a seq2seq model. Fitted *statistics* may differ (a
   scaler's mean and scale, word counts, baselines): the network then continues training from
   the champion's weights on inputs scaled by the new data's scaler.

In practice a forecaster (and a classifier of numeric series with the same classes) always
warm-starts on new data of the same columns; a text task warm-starts only when the new data
yields exactly the champion's vocabulary (tokens and order), which rebuilt vocabularies rarely
do. Otherwise the challenger trains from scratch and :attr:`WarmStart.reason` says why (it is
in the retrain report).

Example::

    >>> with warm_start(challenger, champion) as warm:      # doctest: +SKIP
    ...     challenger.fit(train)
    >>> warm.applied, warm.reason                          # doctest: +SKIP
    (True, None)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from torch import nn

from rnnkit._validation import Described, expected
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.tasks.base import Task

__all__ = ["STATISTICS", "WarmStart", "compatibility", "warm_start"]

logger = logging.getLogger(__name__)

#: Preprocessing keys (at any depth) that hold fitted statistics, not the meaning of a weight:
#: they may differ between champion and challenger.
STATISTICS = frozenset({"scaler", "counts", "baselines", "class_counts", "ngram_counts",
                        "translation_memory", "max_len", "seasonal_period", "freq",
                        "time_index"})


@dataclass
class WarmStart:
    """What :func:`warm_start` did: ``applied`` (the champion's weights were loaded) or not,
    and the ``reason`` when not (None when applied, or before the network was built)."""

    applied: bool = False
    reason: str | None = None

    def describe(self) -> str:
        """One phrase for a report."""
        if self.applied:
            return "warm start: the champion's weights"
        return f"from scratch ({self.reason})" if self.reason else "from scratch"


def _meaning(value: Any) -> Any:
    """``value`` without its :data:`STATISTICS` keys, at every depth."""
    if isinstance(value, dict):
        return {k: _meaning(v) for k, v in value.items() if k not in STATISTICS}
    if isinstance(value, (list, tuple)):
        return [_meaning(v) for v in value]
    return value


def _first_difference(a: Any, b: Any, where: str) -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{where}[{key!r}]"
            found = _first_difference(a[key], b[key], f"{where}[{key!r}]")
            if found:
                return found
        return None
    return None if a == b else where


def compatibility(champion: Task, challenger: Task, network: nn.Module) -> str | None:
    """None when ``champion``'s weights can be loaded into ``network`` (the challenger's
    freshly built one, its preprocessing fitted); else the reason they cannot."""
    if type(champion) is not type(challenger):
        return f"the champion is a {champion.name} task, the challenger a {challenger.name} one"
    mine = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in champion._require_fitted().state_dict().items()}
    if mine.keys() != theirs.keys():
        extra = sorted(mine.keys() ^ theirs.keys())
        return f"the networks differ in their tensors ({', '.join(extra[:3])})"
    for key, shape in mine.items():
        if theirs[key] != shape:
            return f"tensor {key} has shape {theirs[key]} in the champion, {shape} now"
    previous = challenger.model_
    challenger.model_ = network  # some tasks read their preprocessing only once they have one
    try:
        now = challenger._preprocessing()
    except RnnkitError as err:
        return f"the new preprocessing could not be read ({err})"
    finally:
        challenger.model_ = previous
    where = _first_difference(_meaning(champion._preprocessing()), _meaning(now),
                              "preprocessing")
    if where is not None:
        return f"the new data's {where} differs from the champion's"
    return None


@contextmanager
def warm_start(challenger: Task, champion: Task) -> Iterator[WarmStart]:
    """For the block, the network ``challenger`` builds when it fits starts from
    ``champion``'s weights where :func:`compatibility` allows, else from its own seeded
    initialization; the yielded :class:`WarmStart` says which, and why.

    Args:
        challenger: an unfitted task of the champion's class (its config may differ in
            training settings, not in the network's shape).
        champion: the fitted task whose weights are copied.
    """
    if not champion.is_fitted:
        raise ConfigError(expected("champion", "a fitted task", Described("an unfitted one")))
    if "_build" in vars(challenger):
        raise ConfigError(expected("challenger", "a task not already warm-starting",
                                   Described("one inside another warm_start block")))
    state = WarmStart()
    build = challenger._build

    def warm_build() -> nn.Module:
        network = build()
        reason = compatibility(champion, challenger, network)
        if reason is None:
            champion_state = champion._require_fitted().state_dict()
            network.load_state_dict({k: v.detach().clone() for k, v in champion_state.items()})
            state.applied, state.reason = True, None
        else:
            state.applied, state.reason = False, reason
            logger.warning("warm start not possible, training from scratch: %s", reason)
        return network

    challenger._build = warm_build  # type: ignore[method-assign]
    try:
        yield state
    finally:
        del challenger._build
