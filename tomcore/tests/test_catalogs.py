"""The catalog side of the core: the register_catalogs hook, tom.catalogs and `tom catalog`.

A stub catalog plugin stands in for SIMBAD and Horizons (their own packages test them
against their fake services); it counts how the core calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tomcore import hookimpl
from tomcore.contracts.base import Param
from tomcore.contracts.catalogs import Catalog
from tomcore.domain.catalogs import CatalogEntry, Resolution
from tomcore.domain.targets import Target
from tomcore.errors import AmbiguousError, NotFoundError, UnknownComponentError, ValidationError
from tomcore.services.catalogs import parse_spec, read_names
from tomcore.testing.pytest_plugin import make_runner


class StubCatalog(Catalog):
    name = "stub"
    title = "Stub Catalog"
    description = "Objects for tests."
    batch_size = 2
    target_type = "SIDEREAL"
    params = (Param("flavour", "str", choices=("plain", "fancy"), help="a choice"),)

    def __init__(self) -> None:
        self.objects: dict[str, Target] = {
            "alpha": Target(name="Alpha", ra=10.0, dec=20.0, pm_ra=1.5, aliases=["HD 1", "A-1"], extras={"object_type": "*"}),
            "beta": Target(name="Beta", ra=30.0, dec=-5.0, aliases=["HD 2"]),
            "gamma": Target(name="Gamma", ra=200.0, dec=60.0),
            "nocoord": Target(name="No Coords"),
        }
        self.batches: list[list[str]] = []
        self.options: list[dict[str, Any]] = []

    def _entries(self, term: str) -> list[CatalogEntry]:
        key = term.strip().lower()
        if key == "twin":
            return [CatalogEntry(catalog=self.name, term=term, target=Target(name=f"Twin {i}", ra=i, dec=0.0),
                                 identifier=f"T{i}") for i in (1, 2)]
        found = self.objects.get(key)
        if found is None:
            return []
        target = Target(**{**found.fields(), "aliases": list(found.aliases), "extras": dict(found.extras)})
        return [CatalogEntry(catalog=self.name, term=term, target=target, identifier=found.name.upper(),
                             raw={"key": key})]

    def resolve(self, term: str, **options: Any) -> list[CatalogEntry]:
        self.options.append(options)
        if term.strip().lower() == "vague":
            raise AmbiguousError("Stub: 'vague' could be several things", [("V1", "first"), ("V2", "second")])
        return self._entries(term)

    def resolve_many(self, terms: Sequence[str], *, progress: Callable[[int], None] | None = None,
                     **options: Any) -> list[Resolution]:
        self.batches.append(list(terms))
        return super().resolve_many(terms, progress=progress, **options)


class StubPlugin:
    def __init__(self) -> None:
        self.catalog = StubCatalog()

    @hookimpl
    def register_catalogs(self, register: Callable[[Any], None]) -> None:
        register(self.catalog)


@pytest.fixture
def stub(tom: Any, tom_plugin: Any) -> StubCatalog:
    plugin = StubPlugin()
    tom_plugin(plugin, "stub-plugin")
    return plugin.catalog


@pytest.fixture
def cli(tom: Any) -> Any:
    return make_runner(tom)


def test_hook_register_catalogs(tom: Any, tom_plugin: Any) -> None:
    plugin = StubPlugin()
    tom_plugin(plugin, "stub-plugin")
    catalog = tom.components.catalogs.get("stub")
    assert catalog is plugin.catalog
    assert catalog.plugin_name == "stub-plugin"
    assert catalog.config.name == "stub"  # bound to its [plugins.stub] section
    assert tom.catalogs.get("STUB") is catalog
    assert "stub" in [row["name"] for row in tom.catalogs.describe()]
    info = next(i for i in tom.plugins.infos() if i.name == "stub-plugin")
    assert info.registered.get("catalogs") == ["stub"]


def test_unknown_catalog_names_the_installed_ones(tom: Any, stub: StubCatalog) -> None:
    with pytest.raises(UnknownComponentError, match=r"no catalog named 'nope' \(available: .*stub"):
        tom.catalogs.query("nope", "x")


def test_describe_lists_options_and_plugin(tom: Any, stub: StubCatalog) -> None:
    row = next(r for r in tom.catalogs.describe() if r["name"] == "stub")
    assert row == {"name": "stub", "title": "Stub Catalog", "description": "Objects for tests.",
                   "target_type": "SIDEREAL", "batch_size": 2, "plugin": "stub-plugin", "info_url": None,
                   "options": [{"name": "flavour", "type": "str", "help": "a choice", "choices": ("plain", "fancy")}]}


def test_query_and_lookup(tom: Any, stub: StubCatalog) -> None:
    (entry,) = tom.catalogs.query("stub", "  alpha ", {"flavour": "fancy"})
    assert entry.name == "Alpha" and stub.options[-1] == {"flavour": "fancy"}
    assert tom.catalogs.query("stub", "nothing") == []
    with pytest.raises(NotFoundError, match=r"^Stub Catalog: nothing found for 'nothing'$"):
        tom.catalogs.lookup("stub", "nothing")
    with pytest.raises(AmbiguousError) as info:
        tom.catalogs.lookup("stub", "twin")
    assert info.value.candidates == [("T1", "Twin 1"), ("T2", "Twin 2")]
    with pytest.raises(ValidationError) as bad:
        tom.catalogs.query("stub", "alpha", {"flavour": "sour", "colour": "red"})
    assert set(bad.value.errors) == {"flavour", "colour"}
    with pytest.raises(ValidationError, match="nothing to look up"):
        tom.catalogs.query("stub", "   ")


def test_create_through_the_matcher(tom: Any, stub: StubCatalog) -> None:
    result = tom.catalogs.create("stub", "alpha", lists=["bright"])
    assert result.action == "created"
    saved = tom.targets.get("Alpha")
    assert (saved.ra, saved.dec, saved.pm_ra) == (10.0, 20.0, 1.5)
    assert saved.aliases == ["HD 1", "A-1"] and saved.extras == {"object_type": "*"} and saved.lists == ["bright"]
    assert saved.galactic_lat is not None
    assert tom.targets.get("hd1").id == saved.id  # aliases are names the matcher knows

    again = tom.catalogs.create("stub", "alpha")
    assert again.action == "exists" and again.target.id == saved.id
    assert again.matches[0].by == ("name", "position")
    assert tom.targets.count() == 1


def test_an_existing_target_is_matched_by_position_too(tom: Any, stub: StubCatalog) -> None:
    tom.targets.create(Target(name="My star", ra=10.0001, dec=20.0))
    result = tom.catalogs.create("stub", "alpha")
    assert result.action == "exists" and result.target.name == "My star"
    assert result.matches[0].by == ("position",) and result.matches[0].separation_arcsec == pytest.approx(0.338, abs=0.01)


def test_update_refreshes_the_existing_target(tom: Any, stub: StubCatalog) -> None:
    tom.targets.create(Target(name="Alpha", ra=10.0, dec=20.0, pm_ra=0.0))
    stub.objects["alpha"].pm_ra = 2.5
    stub.objects["alpha"].aliases.append("HIP 3")
    result = tom.catalogs.create("stub", "alpha", update=True)
    assert result.action == "updated"
    saved = tom.targets.get("Alpha")
    assert saved.pm_ra == 2.5 and "HIP 3" in saved.aliases and saved.extras["object_type"] == "*"
    assert tom.catalogs.create("stub", "alpha", update=True).action == "unchanged"


def test_create_with_another_name_keeps_the_catalog_name_as_alias(tom: Any, stub: StubCatalog) -> None:
    result = tom.catalogs.create("stub", "beta", name="My Beta", aliases=["B!"], extras={"priority": 2})
    saved = tom.targets.get("My Beta")
    assert result.target.id == saved.id
    assert saved.aliases == ["Beta", "HD 2", "B!"] and saved.extras == {"priority": 2}


def test_on_duplicate_error_refuses(tom: Any, stub: StubCatalog) -> None:
    tom.catalogs.create("stub", "gamma")
    with pytest.raises(ValidationError, match="matches existing target 'Gamma'"):
        tom.catalogs.add_from("stub:gamma", on_duplicate="error")


def test_add_from_spec(tom: Any, stub: StubCatalog) -> None:
    result = tom.catalogs.add_from("stub:beta", lists=["l1"])
    assert result.action == "created" and tom.targets.get("Beta").lists == ["l1"]
    assert parse_spec("simbad:HD 1:A") == ("simbad", "HD 1:A")
    for bad in ("simbad", ":M31", "simbad:  "):
        with pytest.raises(ValidationError, match="not CATALOG:TERM"):
            parse_spec(bad)


def test_import_names_in_batches(tom: Any, stub: StubCatalog) -> None:
    tom.targets.create(Target(name="Gamma", ra=200.0, dec=60.0))
    advanced: list[int] = []
    report = tom.catalogs.import_names(
        "stub", ["alpha", "beta", "alpha", "unknown", "twin", "vague", "gamma", "nocoord"],
        lists=["imported"], progress=advanced.append)
    assert stub.batches == [["alpha", "beta"], ["unknown", "twin"], ["vague", "gamma"], ["nocoord"]]
    assert sum(advanced) == 7
    assert report.not_found == ["unknown"]
    assert [r.term for r in report.ambiguous] == ["twin", "vague"]
    counts = report.counts()
    assert counts == {"names": 7, "found": 4, "not found": 1, "ambiguous": 2, "created": 2, "updated": 0,
                      "unchanged": 0, "skipped": 1, "error": 1}
    (bad,) = report.save.errors
    assert bad.label == "'nocoord'" and "ra" in bad.errors
    assert sorted(t.name for t in report.save.created) == ["Alpha", "Beta"]
    assert tom.targets.get("Beta").lists == ["imported"]
    assert tom.targets.count() == 3


def test_import_dry_run_and_update(tom: Any, stub: StubCatalog) -> None:
    report = tom.catalogs.import_names("stub", ["alpha"], dry_run=True)
    assert report.save is None and report.counts()["found"] == 1 and tom.targets.count() == 0
    tom.targets.create(Target(name="Alpha", ra=10.0, dec=20.0))
    report = tom.catalogs.import_names("stub", ["alpha", "beta"], on_duplicate="update")
    assert report.counts()["updated"] == 1 and report.counts()["created"] == 1
    assert tom.targets.get("Alpha").pm_ra == 1.5


def test_read_names(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("\ufeff# my targets\nM31\n\n  SN 2011fe  \nM31\nBarnard's Star\n", encoding="utf-8")
    assert read_names(path) == ["M31", "SN 2011fe", "Barnard's Star"]
    assert read_names(["a", " ", "#x", "b"]) == ["a", "b"]
    with pytest.raises(NotFoundError, match="no such file"):
        read_names(tmp_path / "missing.txt")


# -- the CLI ------------------------------------------------------------------------------------


def test_cli_list(cli: Any, stub: StubCatalog) -> None:
    out = cli("catalog", "list").stdout
    assert "stub" in out and "Stub Catalog" in out and "flavour" in out
    rows = cli("catalog", "list", "--json").json()
    assert any(r["name"] == "stub" and r["plugin"] == "stub-plugin" for r in rows)


def test_cli_query_shows_mapped_fields(cli: Any, stub: StubCatalog, tom: Any) -> None:
    out = cli("catalog", "query", "stub", "alpha", "-o", "flavour=plain").stdout
    assert "Stub Catalog: Alpha" in out and "pm_ra" in out and "1.5" in out and "extra object_type" in out
    assert "2: HD 1, A-1" in out
    assert stub.options[-1] == {"flavour": "plain"}
    data = cli("catalog", "query", "stub", "alpha", "--json").json()
    assert data[0]["name"] == "Alpha" and data[0]["ra"] == 10.0 and data[0]["aliases"] == ["HD 1", "A-1"]
    assert data[0]["identifier"] == "ALPHA" and data[0]["scheme"] is None
    assert tom.targets.count() == 0  # a query creates nothing


def test_cli_query_several_words_and_several_results(cli: Any, stub: StubCatalog) -> None:
    stub.objects["hd 1"] = stub.objects["alpha"]
    assert "Stub Catalog: Alpha" in cli("catalog", "query", "stub", "HD", "1").stdout
    out = cli("catalog", "query", "stub", "twin").stdout
    assert "Twin 1" in out and "Twin 2" in out and "2 objects match 'twin'" in out


def test_cli_not_found_and_bad_options_are_one_line(cli: Any, stub: StubCatalog) -> None:
    result = cli("catalog", "query", "stub", "nothing", expect=1)
    assert result.stderr == "Error: Stub Catalog: nothing found for 'nothing'\n"
    assert cli("catalog", "query", "stub", "nothing", "--json", expect=1).json() == []
    result = cli("catalog", "query", "stub", "alpha", "-o", "flavour=sour", expect=1)
    assert "flavour: 'sour' is not one of: plain, fancy" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("catalog", "query", "stub", "alpha", "-o", "flavour", expect=2)
    assert "is not KEY=VALUE" in result.stderr
    result = cli("catalog", "query", "stub", "vague", "--create", expect=1)
    assert result.stderr.startswith("Error: Stub: 'vague' could be several things\n  V1  first\n  V2  second")
    assert "need --create" in cli("catalog", "query", "stub", "alpha", "--name", "x", expect=2).stderr


def test_cli_create_then_exists_then_update(cli: Any, stub: StubCatalog, tom: Any) -> None:
    out = cli("catalog", "query", "stub", "alpha", "--create", "--list", "mine").stdout
    assert "Created target 'Alpha' (id " in out and "with 2 aliases" in out
    assert tom.targets.get("Alpha").lists == ["mine"]
    out = cli("catalog", "query", "stub", "alpha", "--create").stdout
    assert "'Alpha' is already in the TOM as 'Alpha' (matched by name 'Alpha'; position, 0.00\" away)" in out
    assert "Use --update" in out
    stub.objects["alpha"].pm_dec = -3.0
    data = cli("catalog", "query", "stub", "alpha", "--update", "--json").json()
    assert data["action"] == "updated" and data["target"]["pm_dec"] == -3.0
    assert data["entry"]["name"] == "Alpha" and data["matches"][0]["by"] == ["name", "position"]
    out = cli("catalog", "query", "stub", "alpha", "--update").stdout
    assert "already has everything Stub Catalog gives; nothing changed" in out
    assert tom.targets.count() == 1


def test_cli_create_with_name(cli: Any, stub: StubCatalog, tom: Any) -> None:
    data = cli("catalog", "query", "stub", "beta", "--create", "--name", "B", "--alias", "BB", "--json").json()
    assert data["action"] == "created" and data["target"]["name"] == "B"
    assert tom.targets.get("B").aliases == ["Beta", "HD 2", "BB"]


def test_create_with_field_values_replacing_the_catalogs(tom: Any, stub: StubCatalog) -> None:
    result = tom.catalogs.create("stub", "beta", fields={"ra": 30.5, "parallax": 2.0})
    saved = tom.targets.get("Beta")
    assert (saved.ra, saved.dec, saved.parallax) == (30.5, -5.0, 2.0) and result.action == "created"
    with pytest.raises(ValidationError, match="galactic_lat"):
        tom.catalogs.create("stub", "alpha", fields={"galactic_lat": 3.0})


# -- tom targets add --from / tom targets import --resolve ----------------------------------------


def test_targets_add_from_a_catalog(cli: Any, stub: StubCatalog, tom: Any) -> None:
    out = cli("targets", "add", "--from", "stub:alpha", "--list", "bright", "--extra", "priority=1").stdout
    assert out.startswith("Created target 'Alpha' (id ") and "from Stub Catalog, with 2 aliases" in out
    saved = tom.targets.get("Alpha")
    assert saved.pm_ra == 1.5 and saved.lists == ["bright"] and saved.extras == {"object_type": "*", "priority": 1}
    # NAME and field options override the catalog's; the catalog's name becomes an alias
    data = cli("targets", "add", "My Beta", "--from", "stub:beta", "--parallax", "3.5", "--json").json()
    assert data["action"] == "created" and data["target"]["name"] == "My Beta" and data["target"]["parallax"] == 3.5
    assert tom.targets.get("Beta").name == "My Beta"


def test_targets_add_from_follows_on_duplicate(cli: Any, stub: StubCatalog, tom: Any) -> None:
    cli("targets", "add", "--from", "stub:alpha")
    error = cli("targets", "add", "--from", "stub:alpha", expect=1).stderr
    assert "matches existing target 'Alpha'" in error and "Traceback" not in error
    out = cli("targets", "add", "--from", "stub:alpha", "--on-duplicate", "skip").stdout
    assert "already in the TOM as 'Alpha'" in out and "Use --on-duplicate update" in out
    stub.objects["alpha"].pm_dec = 9.0
    assert cli("targets", "add", "--from", "stub:alpha", "--on-duplicate", "update", "--json").json()["action"] == "updated"
    assert tom.targets.get("Alpha").pm_dec == 9.0 and tom.targets.count() == 1


def test_targets_add_from_errors(cli: Any, stub: StubCatalog) -> None:
    assert cli("targets", "add", "--from", "stub:unknown", expect=1).stderr == \
        "Error: Stub Catalog: nothing found for 'unknown'\n"
    assert "not CATALOG:TERM" in cli("targets", "add", "--from", "alpha", expect=1).stderr
    assert "no catalog named 'nope'" in cli("targets", "add", "--from", "nope:x", expect=1).stderr
    assert "or --from CATALOG:TERM" in cli("targets", "add", expect=2).stderr


def test_targets_import_names_resolved_with_a_catalog(cli: Any, stub: StubCatalog, tom: Any, tmp_path: Path) -> None:
    tom.targets.create(Target(name="Gamma", ra=200.0, dec=60.0))
    names = tmp_path / "names.txt"
    names.write_text("# targets for tonight\nalpha\nbeta\n\nunknown\ntwin\nvague\ngamma\nnocoord\nalpha\n", encoding="utf-8")
    result = cli("targets", "import", str(names), "--resolve", "stub", "--on-duplicate", "skip", "--list", "tonight")
    assert stub.batches == [["alpha", "beta"], ["unknown", "twin"], ["vague", "gamma"], ["nocoord"]]
    out = result.stdout
    assert "Resolved 7 names with Stub Catalog: 4 found, 1 not found, 2 ambiguous." in out
    assert "2 created, 0 updated, 0 unchanged, 1 skipped (already in the TOM), 1 not saved." in out
    assert "Not found (1): unknown" in out
    assert "Ambiguous 'twin': T1 (Twin 1); T2 (Twin 2)" in out and "Ambiguous 'vague': V1 (first); V2 (second)" in out
    assert "Not saved 'nocoord': ra: is required for a sidereal target" in result.stderr
    assert tom.targets.get("Beta").lists == ["tonight"] and tom.targets.count() == 3


def test_targets_import_names_json(cli: Any, stub: StubCatalog, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("alpha\nunknown\ntwin\n", encoding="utf-8")
    data = cli("targets", "import", str(names), "--resolve", "stub", "--json").json()
    assert data["catalog"] == "stub" and data["created"] == ["Alpha"] and data["not_found"] == ["unknown"]
    assert data["ambiguous"] == [{"term": "twin", "candidates": [["T1", "Twin 1"], ["T2", "Twin 2"]]}]
    assert data["counts"]["created"] == 1 and data["errors"] == {}
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    assert "holds no names" in cli("targets", "import", str(empty), "--resolve", "stub", expect=1).stderr
    assert "no such file" in cli("targets", "import", str(tmp_path / "x.txt"), "--resolve", "stub", expect=1).stderr
    assert "do not go together" in cli("targets", "import", str(names), "--resolve", "stub", "--format", "csv",
                                       expect=2).stderr
