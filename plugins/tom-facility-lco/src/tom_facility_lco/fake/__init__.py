"""A fake LCO Observation Portal and Science Archive, built from the API reference (apis.md §5-7).

Two WSGI apps sharing one state: ``fake.portal`` (``/api/...``) and ``fake.archive``
(``/frames/...`` and signed downloads). Serve them with the ``fake_service`` fixture (or
:func:`tomcore.testing.fakehttp.start`), then tell the fake where it lives::

    lco = FakeLCO()
    portal, archive = fake_service(lco.portal), fake_service(lco.archive)
    lco.set_base_urls(portal.url, archive.url)
    tom = tom_factory(config=lco.config_toml())

What it reproduces: token auth (403 on the portal, 401 on the archive), DRF limit/offset
paging with absolute ``next`` links (portal default limit 10, archive 100, max 1000),
validation of request groups with errors in the nested DRF shape (the validate endpoint
answers 200 with them, submission 400), durations, request-group filters, cancel with its
400 on terminal groups, the request and group states and the transitions of §5.6 (a test
drives them: :meth:`FakeLCO.complete`, :meth:`expire`, :meth:`reopen`...), scheduled
blocks, frames with both snake_case and legacy keys, signed download URLs that expire.
Failures are injected with ``lco.portal.fail(500, ...)`` (see :class:`JsonApp`).
"""

from tom_facility_lco.fake.archive import FakeArchive
from tom_facility_lco.fake.data import default_instruments, fits_bytes, real_semesters
from tom_facility_lco.fake.portal import FakePortal
from tom_facility_lco.fake.state import FakeLCO
from tom_facility_lco.fake.validation import Validator

__all__ = ["FakeArchive", "FakeLCO", "FakePortal", "Validator", "default_instruments", "fits_bytes", "real_semesters"]
