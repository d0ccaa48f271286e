"""The built-in strategies as pure functions of their context: no facility, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tomcore.builtins.cadences import RepeatStrategy, ResumeAfterFailureStrategy, RetryFailedStrategy
from tomcore.contracts.base import validate_params
from tomcore.contracts.cadences import CadenceContext, Epoch
from tomcore.domain.observations import ObservationInfo

T0 = datetime(2030, 3, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)


def record(status: str, terminal: bool = True, success: bool = False, failed: bool = False) -> ObservationInfo:
    return ObservationInfo(id=1, target_id=1, target_name="SN", facility="sim", observation_type="IMAGING",
                           facility_id="1", status=status, terminal=terminal, success=success, failed=failed)


DONE = record("COMPLETED", success=True)
FAILED = record("FAILED", failed=True)
PENDING = record("PENDING", terminal=False)


def epoch(number, start, status=DONE, attempt=1, state="submitted", reason=None, hours=24):
    return Epoch(number=number, attempt=attempt, state=state, due_at=start, window_start=start,
                 window_end=start + hours * H, observation=status if state == "submitted" else None, reason=reason)


def context(strategy, now, epochs=(), observable=lambda s, e: None, **params):
    return CadenceContext(now=now, params=validate_params(strategy.params, params), observation_params={},
                          epochs=list(epochs), started=T0, observable=observable)


def test_repeat_submits_each_window_when_it_opens():
    repeat = RepeatStrategy()
    decision = repeat.next(context(repeat, T0, every_hours=24, window_hours=6))
    assert (decision.action, decision.number, decision.window_start, decision.window_end) == ("submit", 1, T0, T0 + 6 * H)
    decision = repeat.next(context(repeat, T0 + H, [epoch(1, T0, PENDING, hours=6)], every_hours=24, window_hours=6))
    assert (decision.action, decision.until) == ("wait", T0 + 24 * H)  # a fixed cadence: not waiting for epoch 1
    decision = repeat.next(context(repeat, T0 + 25 * H, [epoch(1, T0, hours=6)], every_hours=24, window_hours=6))
    assert (decision.action, decision.number, decision.window_start) == ("submit", 2, T0 + 25 * H)  # never in the past


def test_repeat_skips_windows_that_passed_and_unobservable_ones_then_ends():
    repeat = RepeatStrategy()
    decision = repeat.next(context(repeat, T0 + 50 * H, [epoch(1, T0)], every_hours=24, window_hours=6))
    assert (decision.action, decision.number) == ("skip", 2) and "window passed" in decision.reason
    never = context(repeat, T0, observable=lambda s, e: 0.0, every_hours=24)
    decision = repeat.next(never)
    assert decision.action == "skip" and decision.reason.startswith("not observable")
    skipped = [epoch(n, T0 + (n - 1) * 24 * H, state="skipped", reason="not observable in its window (0.00 h)")
               for n in (1, 2, 3)]
    decision = repeat.next(context(repeat, T0 + 50 * H, skipped, every_hours=24))
    assert decision.action == "complete" and "not observable for 3 epochs in a row" in decision.reason


def test_repeat_ends_after_count_until_and_rejections():
    repeat = RepeatStrategy()
    assert repeat.next(context(repeat, T0 + 49 * H, [epoch(1, T0), epoch(2, T0 + 24 * H)], every_hours=24,
                               count=2)).action == "complete"
    assert repeat.next(context(repeat, T0 + 25 * H, [epoch(1, T0)], every_hours=24,
                               until=T0 + 10 * H)).action == "complete"
    refused = [epoch(n, T0 + (n - 1) * 24 * H, state="rejected", reason="refused by sim: not visible") for n in (1, 2)]
    assert repeat.next(context(repeat, T0 + 49 * H, refused, every_hours=24, max_rejections=3)).action == "submit"
    refused.append(epoch(3, T0 + 48 * H, state="rejected", reason="refused by sim: not visible"))
    decision = repeat.next(context(repeat, T0 + 49 * H, refused, every_hours=24, max_rejections=3))
    assert decision.action == "fail" and "refused 3 epochs in a row (refused by sim: not visible)" in decision.reason


def test_resume_after_failure_resubmits_then_continues():
    resume = ResumeAfterFailureStrategy()
    assert resume.next(context(resume, T0, every_hours=24)).action == "submit"
    assert resume.next(context(resume, T0 + H, [epoch(1, T0, PENDING)], every_hours=24)).action == "wait"
    decision = resume.next(context(resume, T0 + 30 * H, [epoch(1, T0, FAILED)], every_hours=24, window_hours=12))
    assert (decision.action, decision.number, decision.attempt) == ("submit", 1, 2)
    assert (decision.window_start, decision.window_end) == (T0 + 30 * H, T0 + 42 * H)  # now, same window length
    history = [epoch(1, T0, FAILED), epoch(1, T0 + 30 * H, DONE, attempt=2)]
    decision = resume.next(context(resume, T0 + 31 * H, history, every_hours=24))
    assert (decision.action, decision.number, decision.window_start) == ("submit", 2, T0 + 54 * H)
    late = resume.next(context(resume, T0 + 100 * H, history, every_hours=24))
    assert late.window_start == T0 + 100 * H  # moved forward, never into the past


def test_resume_after_failure_gives_up_after_max_failures():
    resume = ResumeAfterFailureStrategy()
    history = [epoch(1, T0, FAILED, attempt=a) for a in (1, 2, 3)]
    decision = resume.next(context(resume, T0 + 80 * H, history, every_hours=24, max_failures=3))
    assert decision.action == "fail" and "3 failures in a row" in decision.reason


def test_retry_failed_ends_when_observed_or_when_the_retries_are_spent():
    """tom_base #1413: the TOM Toolkit's retry strategy never ends and retries the same
    failures every run; this one retries each failure once and ends."""
    retry = RetryFailedStrategy()
    assert retry.next(context(retry, T0, every_hours=24, max_retries=2)).action == "submit"
    assert retry.next(context(retry, T0 + H, [epoch(1, T0, PENDING)], every_hours=24)).action == "wait"
    decision = retry.next(context(retry, T0 + 25 * H, [epoch(1, T0, FAILED)], every_hours=24, max_retries=2))
    assert (decision.action, decision.attempt, decision.window_start) == ("submit", 2, T0 + 25 * H)
    assert "retry 1 after sim request 1 FAILED" in decision.reason
    observed = [epoch(1, T0, FAILED), epoch(1, T0 + 25 * H, DONE, attempt=2)]
    assert retry.next(context(retry, T0 + 50 * H, observed, every_hours=24, max_retries=2)).action == "complete"
    spent = [epoch(1, T0, FAILED), epoch(1, T0 + 25 * H, FAILED, attempt=2), epoch(1, T0 + 50 * H, FAILED, attempt=3)]
    decision = retry.next(context(retry, T0 + 80 * H, spent, every_hours=24, max_retries=2))
    assert decision.action == "fail" and "still failing after 2 retries" in decision.reason
    rejected = [epoch(1, T0, state="rejected", reason="refused by sim: not visible")]
    assert retry.next(context(retry, T0 + H, rejected, every_hours=24, max_retries=0)).action == "fail"


@pytest.mark.parametrize("strategy", [RepeatStrategy(), ResumeAfterFailureStrategy(), RetryFailedStrategy()])
def test_strategies_declare_every_hours(strategy):
    assert any(p.name == "every_hours" and p.required for p in strategy.params)
