"""tom-brightening: tell people when a target brightens by more than 0.5 mag.

Whenever new photometry is saved (an upload, a broker's light curve, a facility's
pipeline), each new detection is compared with the detection just before it in the same
band. A rise of more than ``THRESHOLD`` magnitudes sends one notification per target
(event ``photometry.brightening``) through ``tom.notify``, which routes it to the channels
that the ``[[notify.rules]]`` of ``tom.toml`` name for that event.

Install it as a plugin with an entry point in the ``tom`` group::

    [project.entry-points.tom]
    brightening = "tom_brightening"
"""

from __future__ import annotations

from tomcore import hookimpl
from tomcore.contracts.notifiers import Notification

THRESHOLD = 0.5  # magnitudes


@hookimpl
def on_reduced_data_saved(tom, batch):
    """Look at each batch of new photometry once, after it is committed."""
    if batch.kind != "photometry":
        return
    notifications = []
    for target_id, new_points in batch.photometry.items():
        rises = brightenings(tom, target_id, new_points)
        if rises:
            notifications.append(notification(batch.target_names.get(target_id, str(target_id)), rises))
    for item in notifications:
        tom.notify.send(item)


def brightenings(tom, target_id, new_points):
    """(band, previous point, new point, rise) for each new detection brighter than the
    detection before it by more than THRESHOLD; the largest rise per band."""
    new_detections = [p for p in new_points if p.mag is not None]
    if not new_detections:
        return []
    bands = sorted({p.band for p in new_detections})
    history = tom.data.points(target_id, band=bands, since=min(p.time for p in new_detections) - 365.0)
    new_keys = {(p.band, p.source, p.time) for p in new_detections}
    largest = {}
    previous = {}
    for point in history:  # in time order
        if point.mag is None:
            continue
        before = previous.get(point.band)
        if before is not None and (point.band, point.source, point.time) in new_keys:
            rise = before.mag - point.mag
            if rise > THRESHOLD and rise > largest.get(point.band, (None, None, None, 0.0))[3]:
                largest[point.band] = (point.band, before, point, rise)
        previous[point.band] = point
    return [largest[band] for band in sorted(largest)]


def notification(target_name, rises):
    best = max(rises, key=lambda item: item[3])
    lines = [f"{target_name} brightened:"]
    for band, before, after, rise in rises:
        lines.append(f"  {band}: {before.mag:.2f} (MJD {before.time:.3f}) -> {after.mag:.2f} (MJD {after.time:.3f}), "
                     f"{rise:.2f} mag brighter")
    return Notification(
        event="photometry.brightening",
        subject=f"{target_name} brightened by {best[3]:.2f} mag in {best[0]}",
        text="\n".join(lines),
        target=target_name,
        data={"target": target_name, "rises": [
            {"band": band, "from_mag": before.mag, "from_mjd": before.time, "to_mag": after.mag,
             "to_mjd": after.time, "rise": round(rise, 4), "source": after.source}
            for band, before, after, rise in rises]},
    )
