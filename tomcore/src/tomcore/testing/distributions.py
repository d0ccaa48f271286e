"""Make a directory look like installed distributions, for tests of plugin discovery.

:func:`write_distribution` writes modules and a ``*.dist-info`` with entry points into a
directory; put the directory on ``sys.path`` (or ``PYTHONPATH`` for a subprocess) and
``importlib.metadata`` finds the distribution as if pip had installed it. Useful to test a
broken plugin beside good ones without touching the real environment.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def write_distribution(
    directory: Path,
    name: str,
    *,
    version: str = "1.0.0",
    modules: Mapping[str, str] | None = None,
    entry_points: Mapping[str, str] | None = None,
) -> Path:
    """Write ``modules`` (dotted name -> source) and a dist-info for distribution ``name``
    whose ``tom`` entry points are ``entry_points`` (name -> "module[:attr]")."""
    directory.mkdir(parents=True, exist_ok=True)
    for module, source in (modules or {}).items():
        parts = module.split(".")
        path = directory.joinpath(*parts[:-1])
        path.mkdir(parents=True, exist_ok=True)
        for i in range(1, len(parts)):
            init = directory.joinpath(*parts[:i], "__init__.py")
            if not init.exists():
                init.write_text("")
        path.joinpath(parts[-1] + ".py").write_text(textwrap.dedent(source))
    normalized = name.replace("-", "_")
    info = directory / f"{normalized}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[tom]"] + [f"{ep} = {target}" for ep, target in (entry_points or {}).items()]
    info.joinpath("entry_points.txt").write_text("\n".join(lines) + "\n")
    info.joinpath("RECORD").write_text("")
    return directory


@contextmanager
def on_sys_path(directory: Path) -> Iterator[None]:
    """Put ``directory`` first on ``sys.path`` for the duration; forget its modules after."""
    before = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))
        for module in set(sys.modules) - before:
            file = getattr(sys.modules[module], "__file__", None) or ""
            if file.startswith(str(directory)):
                del sys.modules[module]
