"""Built-in routing of events to notifications: observations changing status, new data
products, new alerts from saved queries. ``tom.notify`` then sends each to the channels
that the rules in ``tom.toml`` name for its event.

Events (``notification.event``):

=========================== ================================================================
``observation.submitted``   a request was submitted (or an observation recorded by hand)
``observation.status_changed`` any other change of status
``observation.completed``   it reached a success state (LCO: COMPLETED)
``observation.failed``      it reached a failed state (LCO: WINDOW_EXPIRED, CANCELED...)
``observation.reopened``    a request the facility had ended came back (LCO: COMPLETED -> PENDING)
``data.new``                files were stored for a target (downloaded or uploaded)
``alerts.new``              a saved broker query created or updated targets
``cadence.ended``           a cadence completed, failed or was stopped (sent by the cadence service)
``runner.step_failed``      a step of ``tom run`` failed (sent by the runner)
=========================== ================================================================
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from tomcore import hookimpl
from tomcore.contracts.notifiers import Notification

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.domain.alerts import AlertIngestReport
    from tomcore.domain.data import DataProductInfo
    from tomcore.domain.observations import StatusChange


def _active(tom: Tom) -> bool:
    """Skip building notifications when nothing would be sent."""
    return bool(tom.notify.enabled and tom.notify.rules())


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def observation_notification(change: StatusChange) -> Notification:
    obs = change.observation
    request = f"{obs.facility} request {obs.facility_id}" if obs.facility_id else f"{obs.facility} observation {obs.id}"
    if change.old_status is None:
        event, what = "observation.submitted", f"{request} submitted ({change.new_status})"
    elif change.reopened:
        event, what = "observation.reopened", f"{request} reopened: {change.old_status} -> {change.new_status}"
    elif obs.failed:
        event, what = "observation.failed", f"{request} {change.new_status} (was {change.old_status})"
    elif obs.success:
        event, what = "observation.completed", f"{request} {change.new_status}"
    else:
        event, what = "observation.status_changed", f"{request}: {change.old_status} -> {change.new_status}"
    lines = [
        f"Target: {obs.target_name}",
        f"Facility: {obs.facility} ({obs.observation_type})",
        f"Request: {obs.facility_id or '-'} (record {obs.id})",
        f"Status: {change.old_status or '-'} -> {change.new_status} at {_when(change.time)}",
    ]
    if obs.scheduled_start or obs.scheduled_end:
        lines.append(f"Scheduled: {_when(obs.scheduled_start)} to {_when(obs.scheduled_end)}")
    if obs.cadence_id:
        lines.append(f"Cadence: {obs.cadence_id}")
    return Notification(
        event=event,
        subject=f"{obs.target_name}: {what}",
        text="\n".join(lines),
        data={
            "observation_id": obs.id, "facility_id": obs.facility_id, "observation_type": obs.observation_type,
            "old_status": change.old_status, "new_status": change.new_status, "failed": obs.failed,
            "completed": obs.success, "cadence_id": obs.cadence_id,
            "scheduled_start": obs.scheduled_start.isoformat() if obs.scheduled_start else None,
            "scheduled_end": obs.scheduled_end.isoformat() if obs.scheduled_end else None,
        },
        target=obs.target_name,
        facility=obs.facility,
        url=obs.url,
        time=change.time,
    )


@hookimpl
def on_observation_status_changed(tom: Tom, changes: list[StatusChange]) -> None:
    if changes and _active(tom):
        tom.notify.send_many([observation_notification(c) for c in changes])


@hookimpl
def on_data_product_saved(tom: Tom, products: list[DataProductInfo]) -> None:
    if not products or not _active(tom):
        return
    groups: dict[tuple[str, int | None], list[DataProductInfo]] = defaultdict(list)
    for product in products:
        groups[(product.target_name, product.observation_id)].append(product)
    notifications = []
    for (target, observation_id), items in groups.items():
        kinds = sorted({p.data_type for p in items})
        sources = sorted({p.source or p.provenance for p in items})
        where = f" from {', '.join(sources)}" if sources else ""
        lines = [f"- {p.original_name} ({p.data_type}{', ' + str(p.size) + ' bytes' if p.size else ''})" for p in items]
        if observation_id:
            lines.insert(0, f"Observation record {observation_id}")
        notifications.append(Notification(
            event="data.new",
            subject=f"{target}: {len(items)} new {'/'.join(kinds)} file{'s' if len(items) != 1 else ''}{where}",
            text="\n".join(lines),
            data={"observation_id": observation_id, "products": [p.id for p in items],
                  "names": [p.original_name for p in items]},
            target=target,
            facility=items[0].source if observation_id else None,
        ))
    tom.notify.send_many(notifications)


@hookimpl
def on_alerts_ingested(tom: Tom, report: AlertIngestReport) -> None:
    if not report.query_name or not (report.created or report.updated) or not _active(tom):
        return
    lines = [f"New: {t.name}" for t in report.created] + [f"Updated: {t.name}" for t in report.updated]
    tom.notify.send(Notification(
        event="alerts.new",
        subject=(f"Saved query {report.query_name} ({report.broker}): {len(report.created)} new, "
                 f"{len(report.updated)} updated target{'s' if len(report.updated) != 1 else ''}"),
        text="\n".join(lines[:200]) + (f"\n... and {len(lines) - 200} more" if len(lines) > 200 else ""),
        data={"query": report.query_name, "broker": report.broker,
              "created": [t.name for t in report.created], "updated": [t.name for t in report.updated],
              "points_added": report.points_added},
    ))
