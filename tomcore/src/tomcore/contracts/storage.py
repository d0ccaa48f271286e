"""The storage contract: where data product files live, chosen by URL scheme."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tomcore.contracts.base import Component

if TYPE_CHECKING:  # pragma: no cover
    import fsspec


class StorageBackend(Component):
    """Base class of storage backends.

    The core lays files out (by target and facility), makes names safe, streams, and
    checksums; a backend only turns a URL into an fsspec filesystem and a root path.
    """

    #: The URL schemes it serves (``("s3",)``); ``"file"`` also serves plain paths.
    schemes: ClassVar[tuple[str, ...]] = ()

    def filesystem(self, url: str) -> tuple[fsspec.AbstractFileSystem, str]:
        """The filesystem for ``url`` and the root path inside it."""
        raise NotImplementedError
