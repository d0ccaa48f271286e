"""tom-storage-s3: data products in S3 or an S3-compatible server, through s3fs.

Set ``storage.url`` (or ``TOM_STORAGE_URL``, or ``tom init --storage``) to
``s3://bucket/prefix``. Settings (``[plugins.s3]`` or ``TOM_S3_<KEY>``, falling back to the
usual AWS variables) are listed in :mod:`tom_storage_s3.backend`.

This module is the entry point: it stays cheap to import (s3fs is imported only when a
storage is opened).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tomcore import hookimpl

__version__ = "0.1.0.dev0"


@hookimpl
def register_storage(register: Callable[[Any], None]) -> None:
    from tom_storage_s3.backend import S3Storage

    register(S3Storage())
