"""Settings precedence (option > env > tom.toml > default), plugin sections, types, masking."""

from __future__ import annotations

import pytest

from tomcore.config import MASK, Setting, Settings, mask_text, mask_value
from tomcore.errors import ConfigError

FILE = {
    "database": {"url": "sqlite:////tmp/file.db"},
    "matcher": {"radius_arcsec": 3.5},
    "plugins": {"alerce": {"base_url": "https://file.example", "page_size": 50, "unknown_key": True}},
}
ALERCE = (Setting("base_url", "https://default.example"), Setting("page_size", 100, "int"),
          Setting("api_token", None), Setting("verify", True, "bool"))


def test_default_file_env_option_precedence():
    assert Settings(None, {}, {}).get("database", "url") is None
    assert Settings(None, FILE, {}).get("database", "url") == "sqlite:////tmp/file.db"
    env = {"TOM_DATABASE_URL": "sqlite:////tmp/env.db"}
    assert Settings(None, FILE, env).get("database", "url") == "sqlite:////tmp/env.db"
    option = Settings(None, FILE, env, overrides={("database", "url"): "sqlite:////tmp/option.db"})
    assert option.get("database", "url") == "sqlite:////tmp/option.db"
    assert option.resolve("database", Setting("url")).source == "option"


def test_values_are_typed_from_env_and_file():
    settings = Settings(None, FILE, {"TOM_HTTP_RETRIES": "7", "TOM_MATCHER_RADIUS_ARCSEC": "1.5"})
    assert settings.get("http", "retries") == 7
    assert settings.get("matcher", "radius_arcsec") == 1.5
    assert Settings(None, FILE, {}).get("matcher", "radius_arcsec") == 3.5


def test_bad_values_name_where_they_come_from():
    with pytest.raises(ConfigError, match="TOM_HTTP_RETRIES"):
        Settings(None, {}, {"TOM_HTTP_RETRIES": "many"}).get("http", "retries")
    with pytest.raises(ConfigError, match=r"tom.toml \[matcher\] radius_arcsec"):
        Settings(None, {"matcher": {"radius_arcsec": "wide"}}, {}).get("matcher", "radius_arcsec")
    with pytest.raises(ConfigError, match="NaN"):
        Settings(None, {}, {"TOM_MATCHER_RADIUS_ARCSEC": "nan"}).get("matcher", "radius_arcsec")


def test_plugin_section_reads_its_table_and_env():
    section = Settings(None, FILE, {"TOM_ALERCE_PAGE_SIZE": "25", "TOM_ALERCE_VERIFY": "no"}).section("alerce", ALERCE)
    assert section["base_url"] == "https://file.example"
    assert section["page_size"] == 25
    assert section["verify"] is False
    assert section["unknown_key"] is True
    assert section.get("api_token") is None
    assert set(section) == {"base_url", "page_size", "api_token", "verify", "unknown_key"}
    assert section.source("page_size") == "env:TOM_ALERCE_PAGE_SIZE"
    with pytest.raises(KeyError):
        section["missing"]


def test_require_says_how_to_set_a_missing_setting():
    section = Settings(None, {}, {}).section("lco", (Setting("api_key", secret=True),))
    with pytest.raises(ConfigError) as info:
        section.require("api_key")
    assert "TOM_LCO_API_KEY" in str(info.value) and "[plugins.lco]" in str(info.value)


def test_extra_env_names_are_consulted_after_the_tom_one():
    declared = (Setting("endpoint_url", env=("AWS_ENDPOINT_URL",)),)
    assert Settings(None, {}, {"AWS_ENDPOINT_URL": "http://aws"}).section("s3", declared)["endpoint_url"] == "http://aws"
    both = {"AWS_ENDPOINT_URL": "http://aws", "TOM_S3_ENDPOINT_URL": "http://tom"}
    assert Settings(None, {}, both).section("s3", declared)["endpoint_url"] == "http://tom"


def test_secrets_are_masked():
    assert mask_value("api_key", "abc") == MASK
    assert mask_value("password", "abc") == MASK
    assert mask_value("token", "") == ""
    assert mask_value("base_url", "https://x.example") == "https://x.example"
    assert mask_value("anything", "v", secret=True) == MASK
    assert mask_value("url", "postgresql+psycopg://tom:hunter2@db.example/tom") == f"postgresql+psycopg://tom:{MASK}@db.example/tom"
    assert "hunter2" not in mask_text("could not connect to postgresql://tom:hunter2@host/db")
    url = "postgresql+psycopg://tom@db.example/tom?sslmode=require&password=hunter2&application_name=x"
    assert mask_value("url", url) == f"postgresql+psycopg://tom@db.example/tom?sslmode=require&password={MASK}&application_name=x"
    assert mask_text(f"GET https://h.example/api?api_key=abc123&q=1 failed: {url}") == \
        f"GET https://h.example/api?api_key={MASK}&q=1 failed: {url.replace('hunter2', MASK)}"
    assert mask_text("https://b.s3.example/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=ff00") == \
        f"https://b.s3.example/k?X-Amz-Credential={MASK}&X-Amz-Signature={MASK}"
    assert mask_value("base_url", "https://x.example/?page=2&order=token_count") == "https://x.example/?page=2&order=token_count"
    section = Settings(None, {"plugins": {"lco": {"api_key": "topsecret"}}}, {}).section("lco", (Setting("api_key"),))
    assert "topsecret" not in repr(section) and section.masked() == {"api_key": MASK}


def test_effective_lists_core_and_plugin_settings_with_sources():
    rows = Settings(None, FILE, {"TOM_ALERCE_API_TOKEN": "t0k"}).effective({"alerce": ALERCE})
    by_key = {(r.section, r.key): r for r in rows}
    assert by_key[("database", "url")].source == "file"
    assert by_key[("http", "timeout")].source == "default"
    assert by_key[("alerce", "api_token")].display_value == MASK
    assert by_key[("alerce", "api_token")].source == "env:TOM_ALERCE_API_TOKEN"
    assert by_key[("alerce", "unknown_key")].value is True


def test_broken_toml_is_one_clear_error(tmp_path):
    (tmp_path / "tom.toml").write_text("[database\nurl = 1\n")
    with pytest.raises(ConfigError, match="tom.toml"):
        Settings.load(tmp_path, env={})
