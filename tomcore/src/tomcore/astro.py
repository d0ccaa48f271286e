"""astropy set up for a TOM that must work offline.

astropy refuses Earth-rotation (IERS) predictions older than 30 days and tries to download
new ones; on a machine without internet every "now" coordinate transform would fail a month
after the astropy-iers-data release. :func:`configure_offline` makes astropy use the
bundled tables without age limit and never download. The planner and the tests call it.
"""

from __future__ import annotations

_done = False


def configure_offline(allow_internet: bool = False) -> None:
    """Use bundled IERS data at any age; no downloads (idempotent)."""
    global _done
    if _done:
        return
    from astropy.utils import iers
    from astropy.utils.data import conf as data_conf

    iers.conf.auto_download = False
    iers.conf.auto_max_age = None
    iers.conf.iers_degraded_accuracy = "warn"
    data_conf.allow_internet = allow_internet
    _done = True
