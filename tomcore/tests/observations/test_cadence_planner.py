"""Cadences with the real planner: observability decides what a `repeat` cadence submits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

H = timedelta(hours=1)
OBS = {"filter": ["r"], "exposure_time": 30}


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_repeat_follows_the_planner(tom_factory):
    """A real planner (no stub): a target in the night sky is submitted; one next to the Sun
    is skipped epoch after epoch and the cadence ends when its season is over."""
    from tomcore.domain.targets import Target
    from tomcore.testing.facility import SimulatedFacility

    clock = Clock(datetime(2030, 3, 1, 12, tzinfo=UTC))
    sim = SimulatedFacility(clock=clock)
    tom = tom_factory("planner", plugins={"sim": sim.plugin()})
    tom.clock = clock
    tom.targets.save([Target(name="Night", ra=160.0, dec=-30.0), Target(name="Day", ra=345.0, dec=-5.0)])
    params = {"every_hours": 24, "unobservable_limit": 3}
    night = tom.cadences.start("Night", "sim", "repeat", strategy_params=params, observation_params=OBS)
    assert len(night.report.submitted) == 1
    assert night.plan[0].observable_hours > 4  # a March night at latitude -30
    day = tom.cadences.start("Day", "sim", "repeat", strategy_params=params, observation_params=OBS)
    assert day.report.submitted == [] and day.report.skipped == 1
    for hours in (24, 48):
        clock.now = datetime(2030, 3, 1, 12, tzinfo=UTC) + hours * H
        tom.cadences.advance()
    info = tom.cadences.get(day.cadence.id)
    assert [e.state for e in info.epochs] == ["skipped"] * 3
    assert info.epochs[0].reason.startswith("not observable in its window (0.00 h)")
    assert info.state == "completed" and info.reason == "the target was not observable for 3 epochs in a row"
    assert len(tom.cadences.get(night.cadence.id).epochs) == 3 and len(sim.submissions) == 3
