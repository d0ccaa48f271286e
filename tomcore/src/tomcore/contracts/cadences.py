"""The cadence strategy contract: decide what a cadence does next.

A cadence submits observations of one target at one facility over time. Its *strategy*
is a pure function of the cadence so far: :meth:`CadenceStrategy.next` looks at the epochs
(each planned observation, its retries, and the record of what was submitted) and returns
one :class:`CadenceDecision`: submit an epoch with its window, skip one, wait, or end the
cadence. The core does everything else: it claims each epoch in the database (two runners
never submit the same epoch twice), submits it through ``tom.observations``, records
refusals, keeps statuses current, and shows a dry run by asking the strategy repeatedly
with simulated outcomes. Because a decision depends only on its context, a strategy is
tested without any facility or database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import attrs

from tomcore.contracts.base import Component, Param
from tomcore.domain.observations import ObservationInfo

__all__ = ["CadenceContext", "CadenceDecision", "CadenceStrategy", "Epoch"]

#: Decision actions.
SUBMIT, SKIP, WAIT, COMPLETE, FAIL = "submit", "skip", "wait", "complete", "fail"
ACTIONS = (SUBMIT, SKIP, WAIT, COMPLETE, FAIL)

#: Epoch states.
CLAIMED, SUBMITTED, SKIPPED, REJECTED = "claimed", "submitted", "skipped", "rejected"


@attrs.define(kw_only=True)
class Epoch:
    """One planned observation of a cadence (``attempt`` > 1: a retry of it).

    :param state: ``submitted`` (see ``observation``), ``rejected`` (the facility refused
        it: ``reason``), ``skipped`` (not observable, or its window passed: ``reason``),
        ``claimed`` (being submitted right now).
    :param observation: the record submitted for it, with its current status.
    """

    number: int
    attempt: int
    state: str
    due_at: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None
    observation: ObservationInfo | None = None
    reason: str | None = None

    @property
    def pending(self) -> bool:
        """Submitted and not yet ended at the facility (or still being submitted)."""
        return self.state == CLAIMED or (self.state == SUBMITTED and (self.observation is None
                                                                      or not self.observation.terminal))

    @property
    def succeeded(self) -> bool:
        return self.state == SUBMITTED and self.observation is not None and self.observation.success

    @property
    def failed(self) -> bool:
        """Refused by the facility, or ended there in a failed state."""
        return self.state == REJECTED or (self.state == SUBMITTED and self.observation is not None
                                          and self.observation.failed)


@attrs.define(kw_only=True)
class CadenceContext:
    """What a strategy decides from.

    :param params: the strategy's parameters, checked against :attr:`CadenceStrategy.params`.
    :param observation_params: the observation parameters every epoch starts from.
    :param epochs: every epoch so far, oldest first (by number, then attempt).
    :param started: when the cadence was created.
    :param observable: ``observable(start, end)`` is how many hours the target can be
        observed from the facility's sites in that window (None when it cannot be told).
    """

    now: datetime
    params: Mapping[str, Any]
    observation_params: Mapping[str, Any]
    epochs: Sequence[Epoch]
    started: datetime
    observable: Callable[[datetime, datetime], float | None] = lambda start, end: None

    @property
    def last(self) -> Epoch | None:
        return self.epochs[-1] if self.epochs else None

    def latest(self, number: int) -> Epoch | None:
        """The last attempt of epoch ``number``."""
        found = [e for e in self.epochs if e.number == number]
        return found[-1] if found else None

    @property
    def next_number(self) -> int:
        return max((e.number for e in self.epochs), default=0) + 1

    def trailing(self, predicate: Callable[[Epoch], bool]) -> int:
        """How many of the most recent epochs (and attempts) in a row satisfy ``predicate``."""
        count = 0
        for epoch in reversed(self.epochs):
            if not predicate(epoch):
                break
            count += 1
        return count


@attrs.define(kw_only=True)
class CadenceDecision:
    """What a strategy wants now.

    :param action: ``submit`` epoch ``number`` (attempt ``attempt``) with its window (and
        ``params`` added to the observation parameters); ``skip`` it (``reason``); ``wait``
        until ``until`` (the cadence is not looked at again before then; None: until
        something changes, checked every round); ``complete`` or ``fail`` the cadence
        (``reason``), which ends it.
    """

    action: str = attrs.field(validator=attrs.validators.in_(ACTIONS))
    number: int | None = None
    attempt: int = 1
    window_start: datetime | None = None
    window_end: datetime | None = None
    params: dict[str, Any] | None = None
    until: datetime | None = None
    reason: str = ""

    @classmethod
    def submit(cls, number: int, start: datetime, end: datetime, *, attempt: int = 1, reason: str = "",
               params: dict[str, Any] | None = None) -> CadenceDecision:
        return cls(action=SUBMIT, number=number, attempt=attempt, window_start=start, window_end=end, reason=reason,
                   params=params)

    @classmethod
    def skip(cls, number: int, start: datetime | None, end: datetime | None, reason: str) -> CadenceDecision:
        return cls(action=SKIP, number=number, window_start=start, window_end=end, reason=reason)

    @classmethod
    def wait(cls, until: datetime | None = None, reason: str = "") -> CadenceDecision:
        return cls(action=WAIT, until=until, reason=reason)

    @classmethod
    def complete(cls, reason: str) -> CadenceDecision:
        return cls(action=COMPLETE, reason=reason)

    @classmethod
    def fail(cls, reason: str) -> CadenceDecision:
        return cls(action=FAIL, reason=reason)


class CadenceStrategy(Component):
    """Base class of cadence strategies."""

    #: The strategy's own parameters (``--every-hours 24``...).
    params: ClassVar[tuple[Param, ...]] = ()

    def next(self, context: CadenceContext) -> CadenceDecision:
        """Decide the next step. Must depend only on ``context`` (no clock, no I/O): the
        core calls it repeatedly with simulated outcomes for dry runs."""
        raise NotImplementedError
