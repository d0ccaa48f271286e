"""The storage contract: where data product files live, chosen by URL scheme.

A backend turns a storage URL (``/srv/tom/data``, ``file:///srv/tom/data``,
``s3://bucket/prefix``) into an fsspec filesystem and the root path inside it. The core does
the rest, the same way for every backend: it lays files out by target and facility, makes
names safe, streams content in and out in chunks (never a whole file in memory), computes
checksums, and moves products between storages (``tom data migrate-storage``).

A plugin registers one with ``register_storage``::

    class MyStorage(StorageBackend):
        name = "mystore"
        schemes = ("mystore",)

        def filesystem(self, url):
            import myfs
            return myfs.FileSystem(**self.options()), url.removeprefix("mystore://")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tomcore.contracts.base import Component

if TYPE_CHECKING:  # pragma: no cover
    import fsspec


class StorageBackend(Component):
    """Base class of storage backends."""

    #: The URL schemes it serves (``("s3",)``); the built-in local backend serves ``file``
    #: and plain paths.
    schemes: ClassVar[tuple[str, ...]] = ()
    #: Chunk size (bytes) the core reads and writes with; also the multipart part size for
    #: object stores. Backends may override it (from a setting, say).
    block_size: int = 8 * 2**20

    def filesystem(self, url: str) -> tuple[fsspec.AbstractFileSystem, str]:
        """The filesystem for ``url`` and the root path inside it (no trailing slash).

        Called once per storage URL per process; raise :class:`tomcore.errors.ConfigError`
        for a URL it cannot serve (a missing bucket name, say).
        """
        raise NotImplementedError

    def prepare(self, fs: fsspec.AbstractFileSystem, root: str) -> None:
        """Make the storage ready for writing (create the directory or bucket) and check
        that it is reachable. Raise :class:`tomcore.errors.StorageError` saying what is wrong."""
        fs.makedirs(root, exist_ok=True)

    def explain(self, exc: BaseException) -> str | None:
        """A one-line, credential-free explanation of a backend exception (access denied,
        no such bucket...), or None to let the core describe it."""
        return None

    def url_for(self, root: str, path: str) -> str:
        """The fsspec URL of ``path`` (relative to the root), shown to users and plugins."""
        scheme = self.schemes[0] if self.schemes else "file"
        full = f"{root}/{path}" if path else root
        return full if scheme == "file" else f"{scheme}://{full}"
