"""tomcore: a Target and Observation Manager for time-domain astronomy.

A plugin needs only::

    from tomcore import hookimpl

Everything heavier (the :class:`tomcore.app.Tom` object, services, the database) is imported
from its own module when needed, so that ``import tomcore`` and ``tom --help`` stay fast.
"""

from tomcore.hookspecs import hookimpl

__version__ = "0.1.0.dev0"

__all__ = ["__version__", "hookimpl"]
