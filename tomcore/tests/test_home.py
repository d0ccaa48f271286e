"""Finding a TOM (--home, TOM_HOME, the current directory and its parents) and making one."""

from __future__ import annotations

import pytest

from tomcore.errors import NoTomError
from tomcore.home import find_home, init_home


def test_init_makes_config_and_data_directory(tmp_path):
    home, created = init_home(tmp_path / "t", name="Mine")
    assert created and (home / "tom.toml").is_file() and (home / "data").is_dir()
    assert 'name = "Mine"' in (home / "tom.toml").read_text()
    assert init_home(home) == (home, False)


def test_find_order_is_option_then_env_then_cwd_and_parents(tmp_path):
    a, _ = init_home(tmp_path / "a")
    b, _ = init_home(tmp_path / "b")
    nested = b / "x" / "y"
    nested.mkdir(parents=True)
    assert find_home(a, env={"TOM_HOME": str(b)}, cwd=nested) == a
    assert find_home(None, env={"TOM_HOME": str(a)}, cwd=nested) == a
    assert find_home(None, env={}, cwd=nested) == b


def test_no_tom_says_how_to_make_one(tmp_path):
    with pytest.raises(NoTomError, match="tom init"):
        find_home(None, env={}, cwd=tmp_path)
    with pytest.raises(NoTomError, match="TOM_HOME points to"):
        find_home(None, env={"TOM_HOME": str(tmp_path)}, cwd=tmp_path)
    with pytest.raises(NoTomError, match="--home points to"):
        find_home(tmp_path / "missing", env={}, cwd=tmp_path)
