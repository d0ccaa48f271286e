"""The test kit for tomcore and plugin authors.

Installed with tomcore as a pytest plugin (``tomcore.testing.pytest_plugin``), it offers:

* ``tom``: a throw-away TOM (SQLite in ``tmp_path``, or a fresh PostgreSQL database when
  ``TOM_TEST_DATABASE_URL`` points to a server), with the installed plugins loaded;
* ``tom_plugin``: register a temporary plugin object on that TOM, unregistered afterwards;
* ``fake_service``: serve a WSGI app (a fake of an external API) on 127.0.0.1 in a thread;
* ``run_tom``: run ``tom ...`` in-process against that TOM and get its output.

See docs/testing-plugins.md.
"""

from tomcore.testing.fakehttp import FakeService, JsonApp, serve
from tomcore.testing.toms import make_tom

__all__ = ["FakeService", "JsonApp", "make_tom", "serve"]
