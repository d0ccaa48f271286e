"""Storage of data product files: ``tom.storage``.

A storage is chosen by URL (``storage.url``, ``TOM_STORAGE_URL``, ``tom init --storage``):
a local directory (the default: ``data/`` in the TOM's home) or anything a storage plugin
serves (``s3://bucket/prefix`` with tom-storage-s3). :class:`StorageService` finds the
backend for a URL and gives a :class:`Store`, which reads and writes files by *key* (a
relative path such as ``sn2024abc/lco/frame.fits``) in chunks, computing SHA-256 and MD5 as
the bytes go by: no file is ever held in memory whole.

Keys are laid out by target and facility (:meth:`StorageService.key_for`) from names made
safe by :func:`safe_name`: whatever a facility or a user calls a file, it cannot climb out
of the storage (``../../etc/passwd`` becomes ``passwd``), hide itself (``.bashrc``), or
carry control characters.

A local storage inside the TOM's home is recorded relative to the home (``data``), so a TOM
directory can be moved or copied with its data.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from tomcore.config import mask_text
from tomcore.errors import StorageError, TomError

if TYPE_CHECKING:  # pragma: no cover
    import fsspec

    from tomcore.app import Tom
    from tomcore.contracts.storage import StorageBackend

#: Chunk size for streaming when a backend does not say.
CHUNK = 8 * 2**20
MAX_NAME = 150

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=@-]+")
_REPEATS = re.compile(r"_{2,}")


def safe_name(name: str, *, default: str = "file", max_length: int = MAX_NAME) -> str:
    """A file or directory name that is safe in every storage.

    Only the last component of a path is kept (``/`` and ``\\`` both separate), accents are
    folded, anything but letters, digits and ``. _ + = @ -`` becomes ``_``, leading dots and
    dashes are removed (no hidden files, no ``..``, no option-like names), and the name is
    cut to ``max_length`` keeping its extension.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text)
    text = _REPEATS.sub("_", text).lstrip(".-_").rstrip("._ ")
    if not text:
        return default
    if len(text) > max_length:
        parts = text.split(".")
        suffix = ""
        while len(parts) > 1 and suffix.count(".") < 2 and 0 < len(parts[-1]) <= 8:
            suffix = "." + parts.pop() + suffix
        text = ".".join(parts)[: max_length - len(suffix)].rstrip("._") + suffix
    return text


def safe_label(name: str, *, default: str = "target") -> str:
    """:func:`safe_name` of a whole name whose ``/`` is part of it (a target such as
    ``C/2020 F3`` -> ``C_2020_F3``, a facility): for directories and default file names."""
    return safe_name(str(name).replace("/", "_").replace("\\", "_"), default=default)


def check_key(key: str) -> str:
    """Refuse a key that would leave the storage (absolute, ``..``, empty parts)."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise StorageError(f"refusing the storage path {key!r}: it must be relative, without '..' or empty parts")
    return key


@attrs.define
class Written:
    """What :meth:`Store.write` wrote: bytes and checksums (hex)."""

    size: int
    sha256: str
    md5: str


def iter_chunks(source: Any, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """Bytes from a file object, bytes, a path, an iterable of chunks, or a zero-argument
    callable returning any of these (called only now, so a download starts only when the
    file is really wanted)."""
    if callable(source) and not hasattr(source, "read"):
        source = source()
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start:start + chunk_size])
        return
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield from iter_chunks(fh, chunk_size)
        return
    if hasattr(source, "read"):
        while True:
            chunk = source.read(chunk_size)
            if not chunk:
                return
            yield bytes(chunk) if not isinstance(chunk, bytes) else chunk
    for chunk in source:
        if chunk:
            yield bytes(chunk) if not isinstance(chunk, bytes) else chunk


class Store:
    """One storage location: a filesystem and a root, read and written by key."""

    def __init__(self, url: str, backend: StorageBackend, fs: fsspec.AbstractFileSystem, root: str,
                 display: str | None = None) -> None:
        self.url = url
        self.backend = backend
        self.fs = fs
        self.root = root.rstrip("/")
        self.display = display or mask_text(url)
        self._prepared = False

    def __repr__(self) -> str:
        return f"<Store {self.display}>"

    @property
    def is_local(self) -> bool:
        protocol = self.fs.protocol
        return "file" in (protocol if isinstance(protocol, (tuple, list)) else (protocol,))

    @property
    def chunk_size(self) -> int:
        return int(getattr(self.backend, "block_size", CHUNK) or CHUNK)

    def path_of(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    def url_of(self, key: str) -> str:
        return self.backend.url_for(self.root, check_key(key))

    def _fail(self, action: str, key: str | None, exc: BaseException) -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        reason = self.backend.explain(exc)
        if reason is None:
            if isinstance(exc, PermissionError):
                reason = f"access denied ({exc})"
            elif isinstance(exc, FileNotFoundError):
                reason = "no such file" if key else f"not found ({exc})"
            else:
                reason = f"{type(exc).__name__}: {exc}"
        where = f"{key!r} in {self.display}" if key else self.display
        return StorageError(mask_text(f"cannot {action} {where}: {reason}"))

    def prepare(self) -> None:
        """Create the storage if needed and check it can be reached (once per process)."""
        if self._prepared:
            return
        try:
            self.backend.prepare(self.fs, self.root)
        except Exception as exc:
            raise self._fail("prepare", None, exc) from exc
        self._prepared = True

    def write(self, key: str, source: Any, *, progress: Callable[[int], None] | None = None) -> Written:
        """Stream ``source`` (see :func:`iter_chunks`) into ``key``; return size and checksums.

        A local file appears under its name only when complete (written under a temporary
        name, then renamed); object stores publish an object only when its upload completes.
        On failure nothing is left behind.
        """
        self.prepare()
        path = self.path_of(key)
        sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        parent = path.rsplit("/", 1)[0]
        temp = f"{parent}/.{key.rsplit('/', 1)[-1]}.{uuid.uuid4().hex[:8]}.part" if self.is_local else path
        try:
            if self.is_local:
                self.fs.makedirs(parent, exist_ok=True)
            with self.fs.open(temp, "wb", block_size=self.chunk_size) as out:
                for chunk in iter_chunks(source, self.chunk_size):
                    out.write(chunk)
                    sha256.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
            if temp != path:
                self.fs.mv(temp, path)
        except BaseException as exc:
            self._discard(temp)
            if isinstance(exc, (KeyboardInterrupt, SystemExit, TomError)):
                raise
            raise self._fail("write", key, exc) from exc
        return Written(size, sha256.hexdigest(), md5.hexdigest())

    def _discard(self, path: str) -> None:
        try:
            if self.fs.exists(path):
                self.fs.rm(path)
        except Exception:  # best effort: the original error matters more
            pass

    def open(self, key: str, mode: str = "rb") -> IO[bytes]:
        """Open a stored file for reading (binary, seekable)."""
        try:
            return self.fs.open(self.path_of(key), mode, block_size=self.chunk_size)
        except Exception as exc:
            raise self._fail("open", key, exc) from exc

    def read_chunks(self, key: str) -> Iterator[bytes]:
        with self.open(key) as fh:
            yield from iter_chunks(fh, self.chunk_size)

    def head(self, key: str, size: int = 65536) -> bytes:
        with self.open(key) as fh:
            return fh.read(size)

    def exists(self, key: str) -> bool:
        try:
            return bool(self.fs.exists(self.path_of(key)))
        except Exception as exc:
            raise self._fail("check", key, exc) from exc

    def size(self, key: str) -> int:
        try:
            return int(self.fs.size(self.path_of(key)))
        except Exception as exc:
            raise self._fail("read the size of", key, exc) from exc

    def delete(self, key: str, *, missing_ok: bool = True) -> None:
        path = self.path_of(key)
        try:
            self.fs.rm(path)
        except FileNotFoundError:
            if not missing_ok:
                raise self._fail("delete", key, FileNotFoundError(path)) from None
        except Exception as exc:
            raise self._fail("delete", key, exc) from exc
        if self.is_local:  # remove directories left empty, up to the root
            parent = Path(path).parent
            root = Path(self.root)
            while parent != root and root in parent.parents:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

    def keys(self) -> list[str]:
        """Every stored key (for checks and tests; storages may be large)."""
        try:
            found = self.fs.find(self.root)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._fail("list", None, exc) from exc
        prefix = self.root.rstrip("/") + "/"
        return sorted(p[len(prefix):] if p.startswith(prefix) else p for p in found)


class StorageService:
    """The storages of one TOM: ``tom.storage.default`` is where new files go."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom
        self._stores: dict[str, Store] = {}

    # -- URLs ----------------------------------------------------------------------------------

    @staticmethod
    def scheme(url: str) -> str:
        match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
        return match.group(1).lower() if match else "file"

    def normalise(self, url: str) -> str:
        """The form recorded on products: object-store URLs as given (no trailing slash),
        local paths absolute, or relative to the TOM's home when inside it."""
        url = str(url).strip()
        if not url:
            raise StorageError("an empty storage URL")
        if self.scheme(url) != "file":
            return url.rstrip("/")
        path = url[len("file://"):] if url.startswith("file://") else url
        home = self.tom.home
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = (home or Path.cwd()) / candidate
        candidate = Path(os.path.normpath(candidate))
        if home is not None:
            try:
                return candidate.relative_to(home.resolve()).as_posix() or "."
            except ValueError:
                pass
        return candidate.as_posix()

    def resolve_local(self, url: str) -> str:
        """An absolute path for a recorded local storage (relative ones are in the home)."""
        if self.scheme(url) != "file":
            return url
        path = url[len("file://"):] if url.startswith("file://") else url
        if not Path(path).is_absolute():
            path = str((self.tom.home or Path.cwd()) / path)
        return os.path.normpath(path)

    @property
    def default_url(self) -> str:
        """The recorded form of ``storage.url`` (default: ``data`` in the TOM's home)."""
        return self.normalise(self.tom.storage_url)

    # -- stores --------------------------------------------------------------------------------

    def backend_for(self, url: str) -> StorageBackend:
        scheme = self.scheme(url)
        for backend in self.tom.components.storage:
            if scheme in backend.schemes:
                return backend
        known = sorted({s for b in self.tom.components.storage for s in b.schemes})
        hint = " (pip install tom-storage-s3)" if scheme == "s3" else ""
        raise StorageError(f"no storage backend serves {scheme}:// URLs{hint}; installed: "
                           f"{', '.join(s + '://' for s in known) or 'none'}")

    def open(self, url: str | None = None) -> Store:
        """The :class:`Store` for a storage URL (default: ``storage.url``)."""
        recorded = self.normalise(url) if url is not None else self.default_url
        store = self._stores.get(recorded)
        if store is None:
            backend = self.backend_for(recorded)
            location = self.resolve_local(recorded)
            try:
                fs, root = backend.filesystem(location)
            except TomError:
                raise
            except Exception as exc:
                raise StorageError(mask_text(f"cannot open the storage {location}: {type(exc).__name__}: {exc}")) from exc
            store = Store(recorded, backend, fs, root, display=mask_text(location))
            self._stores[recorded] = store
        return store

    @property
    def default(self) -> Store:
        return self.open()

    # -- layout --------------------------------------------------------------------------------

    @staticmethod
    def key_for(target_name: str, group: str | None, filename: str) -> str:
        """``<target>/<facility or source>/<file name>``, every part made safe. A ``/`` in a
        target's or facility's name is part of the name (``C/2020 F3`` -> ``C_2020_F3``, apart
        from ``P/2020 F3``), not a directory; a file name keeps only its last component."""
        return "/".join((safe_label(target_name), safe_label(group or "upload", default="upload"),
                         safe_name(filename)))

    @staticmethod
    def variant(key: str, tag: str) -> str:
        """``a/b/name.csv`` -> ``a/b/name-<tag>.csv``: another key for a different file of
        the same name."""
        directory, _, name = key.rpartition("/")
        stem, dot, suffix = name.partition(".")
        new = f"{stem}-{tag}{dot}{suffix}"
        return f"{directory}/{new}" if directory else new


def copy_between(source: Store, key: str, target: Store, new_key: str,
                 progress: Callable[[int], None] | None = None) -> Written:
    """Stream one file from a store to another (or the same one under another key)."""
    return target.write(new_key, source.read_chunks(key), progress=progress)


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Local files named on a command line (directories are refused with a clear error)."""
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            raise TomError(f"{path} is a directory; name the files to upload")
        if not path.is_file():
            raise TomError(f"{path}: no such file")
        yield path
