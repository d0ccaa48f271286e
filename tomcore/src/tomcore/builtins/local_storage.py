"""The built-in local-directory storage: ``file://`` URLs and plain paths.

The default storage of every TOM is the ``data/`` directory of its home; ``storage.url``
may name any other directory (``/srv/tom-data``, ``file:///srv/tom-data``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tomcore import hookimpl
from tomcore.contracts.storage import StorageBackend

if TYPE_CHECKING:  # pragma: no cover
    import fsspec


class LocalStorage(StorageBackend):
    """Files in a directory of the local filesystem."""

    name = "local"
    title = "Local directory"
    description = "Data products in a local directory (default: data/ in the TOM's home)."
    schemes = ("file",)

    def filesystem(self, url: str) -> tuple[fsspec.AbstractFileSystem, str]:
        from fsspec.implementations.local import LocalFileSystem

        path = url[len("file://"):] if url.startswith("file://") else url
        return LocalFileSystem(), path.rstrip("/") or "/"

    def explain(self, exc: BaseException) -> str | None:
        if isinstance(exc, PermissionError):
            return f"permission denied ({exc.filename or exc})"
        if isinstance(exc, OSError) and exc.errno == 28:
            return "no space left on the device"
        return None


@hookimpl
def register_storage(register: Callable[[Any], None]) -> None:
    register(LocalStorage())
