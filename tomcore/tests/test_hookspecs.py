"""Every hook is typed, documented in docs/hooks.md with its exact signature, and has a test
of its own named ``test_hook_<name>`` somewhere in the repository's tests."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tomcore import hookspecs

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted(
    name for name, value in vars(hookspecs).items()
    if inspect.isfunction(value) and hasattr(value, hookspecs.PROJECT + "_spec")
)


def test_the_hook_families_exist():
    assert {"register_brokers", "register_catalogs", "register_facilities", "register_storage",
            "register_data_processors", "register_notifiers", "register_cadence_strategies",
            "register_commands", "on_targets_created", "on_targets_updated", "on_alerts_ingested",
            "on_observation_status_changed", "on_data_product_saved", "on_reduced_data_saved"} <= set(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_hook_is_typed_and_has_a_docstring(name):
    spec = getattr(hookspecs, name)
    signature = inspect.signature(spec)
    assert inspect.getdoc(spec), f"{name} has no docstring"
    for parameter in signature.parameters.values():
        assert parameter.annotation is not inspect.Parameter.empty, f"{name}({parameter.name}) has no type"
    assert signature.return_annotation is not inspect.Signature.empty


@pytest.mark.parametrize("name", SPECS)
def test_hook_is_documented_with_its_signature(name):
    docs = (REPO / "docs" / "hooks.md").read_text()
    arguments = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"\n## {name}({arguments})\n" in docs, f"docs/hooks.md lacks the heading '## {name}({arguments})'"


def _test_names() -> set[str]:
    names = set()
    for folder in [REPO / "tomcore" / "tests", REPO / "tests", *sorted((REPO / "plugins").glob("*/tests"))]:
        for path in folder.rglob("test_*.py"):
            names.update(re.findall(r"^\s*(?:async\s+)?def (test_hook_\w+)\(", path.read_text(), re.M))
    return names


@pytest.mark.parametrize("name", SPECS)
def test_hook_has_a_test_of_its_own(name):
    assert f"test_hook_{name}" in _test_names(), f"no test named test_hook_{name} in the repository"
