"""Finding and making a TOM's home: the directory holding ``tom.toml``.

A command finds its TOM from ``--home PATH``, else ``TOM_HOME``, else the current directory
and its parents (the first one holding a ``tom.toml``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from tomcore.config import CONFIG_FILE
from tomcore.errors import NoTomError, TomError

DATABASE_FILE = "tom.db"
DATA_DIR = "data"


def find_home(explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> Path:
    """The TOM's home directory; :class:`NoTomError` saying how to make one if none."""
    env = os.environ if env is None else env
    for given, where in ((explicit, "--home"), (env.get("TOM_HOME") or None, "TOM_HOME")):
        if given:
            path = Path(given).expanduser().resolve()
            if (path / CONFIG_FILE).is_file():
                return path
            raise NoTomError(f"{where} points to {path}, which is not a TOM (no {CONFIG_FILE}); "
                             f"create one with `tom init {path}`")
    start = (cwd or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    raise NoTomError(f"no TOM here: neither {start} nor its parents hold a {CONFIG_FILE}. "
                     "Create one with `tom init [PATH]`, or point to one with --home or TOM_HOME")


def config_template(name: str, database_url: str | None, storage_url: str | None) -> str:
    import json

    db_line = f"url = {json.dumps(database_url)}" if database_url else \
        '# url = "postgresql+psycopg://user:password@host/dbname"   # default: SQLite tom.db here'
    storage_line = f"url = {json.dumps(storage_url)}" if storage_url else \
        '# url = "s3://bucket/prefix"   # default: the data/ directory here (s3:// needs tom-storage-s3)'
    return f"""# A tomcore TOM. Every setting can be overridden by an environment variable
# TOM_<SECTION>_<KEY> (TOM_DATABASE_URL, TOM_ALERCE_BASE_URL...) and by command-line options.
# `tom config show` prints the effective settings, secrets masked.

[tom]
name = {json.dumps(name)}

[database]
{db_line}

[storage]
{storage_line}

[matcher]
# Two targets closer than this are taken for the same object.
radius_arcsec = 2.0

# Each plugin reads its own section, e.g.:
# [plugins.alerce]
# base_url = "https://api.alerce.online/ztf/v1"
"""


def init_home(path: Path, *, name: str | None = None, database_url: str | None = None,
              storage_url: str | None = None) -> tuple[Path, bool]:
    """Create the home directory, ``tom.toml`` and the data directory.

    Returns ``(home, created)``; an existing TOM is left as it is (``created`` False).
    The database is created and migrated by the caller (:meth:`tomcore.app.Tom.open`).
    """
    home = path.expanduser().resolve()
    config = home / CONFIG_FILE
    if config.exists():
        return home, False
    if home.exists() and not home.is_dir():
        raise TomError(f"{home} exists and is not a directory")
    home.mkdir(parents=True, exist_ok=True)
    config.write_text(config_template(name or home.name or "My TOM", database_url, storage_url), encoding="utf-8")
    if not storage_url:
        (home / DATA_DIR).mkdir(exist_ok=True)
    return home, True


def discard_new_home(home: Path) -> None:
    """Undo :func:`init_home` for a new TOM whose database could not be made: remove its
    ``tom.toml``, its data directory and the home itself when they are empty, so that
    ``tom init`` can simply be run again."""
    (home / CONFIG_FILE).unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        (home / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)
    for directory in (home / DATA_DIR, home):
        with contextlib.suppress(OSError):  # not empty (or not there): leave it
            directory.rmdir()
