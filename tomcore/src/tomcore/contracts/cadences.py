"""The cadence strategy contract: decide when to submit the next observation of a cadence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import attrs

from tomcore.contracts.base import Component, Param
from tomcore.domain.observations import ObservationInfo


@attrs.define(kw_only=True)
class CadenceDecision:
    """What a strategy wants now.

    :param submit_at: submit the next epoch at this time (now or later); None to wait.
    :param params: observation parameters for that epoch (the cadence's, possibly changed,
        e.g. a new window).
    :param stop: end the cadence, with ``reason``.
    """

    submit_at: datetime | None = None
    params: dict[str, Any] | None = None
    stop: bool = False
    reason: str = ""


class CadenceStrategy(Component):
    """Base class of cadence strategies."""

    #: The strategy's own parameters (``--cadence-frequency 24``...).
    params: ClassVar[tuple[Param, ...]] = ()

    def next(
        self,
        *,
        now: datetime,
        strategy_params: Mapping[str, Any],
        observation_params: Mapping[str, Any],
        history: Sequence[ObservationInfo],
    ) -> CadenceDecision:
        """Decide the next step from the cadence's observations so far (oldest first)."""
        raise NotImplementedError
