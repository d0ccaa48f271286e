"""The plugin host: discovery through entry points, one plugin at a time, problems by name,
strict mode, TOM_LOAD_PLUGINS, misspelled hooks, name clashes, built-in overrides, events."""

from __future__ import annotations

import pytest

from tomcore import hookimpl
from tomcore.contracts.brokers import Broker
from tomcore.errors import PluginError, UnknownComponentError
from tomcore.plugins import build_plugin_host
from tomcore.testing.distributions import on_sys_path, write_distribution

GOOD = """
from tomcore import hookimpl
from tomcore.contracts.brokers import Broker

class GoodBroker(Broker):
    name = "good"

@hookimpl
def register_brokers(register):
    register(GoodBroker())
"""


@pytest.fixture
def installed(tmp_path):
    """Two installed distributions: one good plugin, one whose import fails."""
    write_distribution(tmp_path, "tom-good", modules={"tom_good": GOOD}, entry_points={"good": "tom_good"})
    write_distribution(tmp_path, "tom-broken", modules={"tom_broken": "import no_such_module_anywhere\n"},
                       entry_points={"broken": "tom_broken"})
    with on_sys_path(tmp_path):
        yield tmp_path


def test_broken_plugin_is_reported_by_name_and_the_rest_loads(installed):
    host = build_plugin_host(env={})
    problems = host.problems_of("broken")
    assert len(problems) == 1
    assert problems[0].stage == "import"
    assert "no_such_module_anywhere" in problems[0].message
    assert "broken" in problems[0].message
    assert "good" in host.registry("brokers").names()  # other installed brokers (alerce...) may be there too
    info = {i.name: i for i in host.infos()}
    assert info["broken"].errors and not info["broken"].loaded
    assert info["good"].registered == {"brokers": ["good"]}
    assert info["good"].distribution == "tom-good" and info["good"].version == "1.0.0"
    assert info["good"].hooks == ["register_brokers"]


def test_strict_mode_makes_a_broken_plugin_fatal(installed):
    with pytest.raises(PluginError, match="broken"):
        build_plugin_host(env={"TOM_STRICT_PLUGINS": "1"})


def test_load_plugins_selects_entry_points(installed):
    host = build_plugin_host(env={"TOM_LOAD_PLUGINS": "good"})
    assert host.problems == []
    assert host.pm.get_plugin("good") is not None
    assert host.pm.get_plugin("broken") is None
    assert "broken" in host.skipped
    info = {i.name: i for i in host.infos()}
    assert info["broken"].skipped and not info["broken"].loaded and not info["broken"].errors
    assert info["broken"].distribution == "tom-broken" and info["broken"].version == "1.0.0"
    assert not info["good"].skipped and info["good"].loaded


def test_empty_load_plugins_loads_none(installed):
    host = build_plugin_host(env={"TOM_LOAD_PLUGINS": ""})
    assert host.pm.get_plugin("good") is None and host.pm.get_plugin("broken") is None
    assert host.problems == []


def test_load_plugins_naming_a_missing_plugin_is_reported(installed):
    host = build_plugin_host(env={"TOM_LOAD_PLUGINS": "good,nope"})
    assert [p.plugin for p in host.problems] == ["nope"]


def test_misspelled_hook_is_reported_and_fatal_when_strict():
    class Typo:
        @hookimpl
        def on_target_created(self, tom, targets):  # missing "s"
            pass

    host = build_plugin_host(env={}, load_entry_points=False, extra={"typo": Typo()})
    assert any("on_target_created" in p.message and "misspelled" in p.message for p in host.problems_of("typo"))
    with pytest.raises(PluginError, match="on_target_created"):
        build_plugin_host(env={}, load_entry_points=False, strict=True, extra={"typo": Typo()})


def test_hook_with_wrong_arguments_is_rejected_by_name():
    class Wrong:
        @hookimpl
        def register_brokers(self, register, unknown_argument):
            pass

    host = build_plugin_host(env={}, load_entry_points=False, extra={"wrong": Wrong()})
    assert host.problems_of("wrong")[0].stage == "validate"
    assert host.pm.get_plugin("wrong") is None


def _broker(broker_name):
    class _B(Broker):
        name = broker_name

    return _B()


def _registering(*brokers):
    class Plugin:
        @hookimpl
        def register_brokers(self, register):
            for broker in brokers:
                register(broker)

    return Plugin()


def test_two_plugins_registering_one_name_is_an_error_naming_both():
    host = build_plugin_host(env={}, load_entry_points=False, extra={
        "first": _registering(_broker("same")), "second": _registering(_broker("Same"), _broker("other")),
    })
    registry = host.registry("brokers")
    assert registry.names() == ["other"]
    with pytest.raises(PluginError) as info:
        registry.get("same")
    assert "'first'" in str(info.value) and "'second'" in str(info.value)
    assert host.problems_of("first") and host.problems_of("second")


def test_a_third_party_plugin_replaces_a_builtin_of_the_same_name(tmp_path):
    builtin = tmp_path / "tom_fake_builtin.py"
    builtin.write_text(
        "from tomcore import hookimpl\nfrom tomcore.contracts.brokers import Broker\n"
        "class B(Broker):\n    name = 'shared'\n    title = 'built-in'\n"
        "@hookimpl\ndef register_brokers(register):\n    register(B())\n"
    )
    replacement = _broker("shared")
    with on_sys_path(tmp_path):
        host = build_plugin_host(env={}, load_entry_points=False, builtins=("tom_fake_builtin",),
                                 extra={"third": _registering(replacement)})
    assert host.problems == []
    assert host.registry("brokers").get("shared") is replacement
    assert host.registry("brokers").owners["shared"] == "third"
    assert "tomcore.tom_fake_builtin" in host.builtin_names


def test_a_failing_register_hook_is_reported_and_others_still_count():
    class Failing:
        @hookimpl
        def register_brokers(self, register):
            raise RuntimeError("cannot start")

    host = build_plugin_host(env={}, load_entry_points=False,
                             extra={"failing": Failing(), "fine": _registering(_broker("fine"))})
    assert host.registry("brokers").names() == ["fine"]
    assert "cannot start" in host.problems_of("failing")[0].message


def test_unknown_component_lists_what_exists():
    host = build_plugin_host(env={}, load_entry_points=False, extra={"p": _registering(_broker("alpha"))})
    with pytest.raises(UnknownComponentError, match="alpha"):
        host.registry("brokers").get("beta")


def test_events_fan_out_to_every_plugin_even_after_one_fails():
    calls = []

    class Failing:
        @hookimpl
        def on_targets_created(self, tom, targets):
            calls.append("failing")
            raise ValueError("boom")

    class Listening:
        @hookimpl
        def on_targets_created(self, targets):  # a subset of the arguments is fine
            calls.append(("listening", len(targets)))

    host = build_plugin_host(env={}, load_entry_points=False, extra={"failing": Failing(), "listening": Listening()})
    problems = host.emit("on_targets_created", tom=None, targets=[1, 2])
    assert sorted(map(str, calls)) == sorted(map(str, ["failing", ("listening", 2)]))
    assert [p.plugin for p in problems] == ["failing"]
    with pytest.raises(PluginError, match="boom"):
        build_plugin_host(env={}, load_entry_points=False, strict=True, extra={"failing": Failing()}) \
            .emit("on_targets_created", tom=None, targets=[])


def test_trace_prints_hook_calls(capsys):
    class Listening:
        @hookimpl
        def on_targets_created(self, targets):
            pass

    host = build_plugin_host(env={"TOM_TRACE_PLUGINS": "1"}, load_entry_points=False, extra={"listener": Listening()})
    host.emit("on_targets_created", tom=None, targets=[])
    assert "[tom] on_targets_created -> listener" in capsys.readouterr().err
    quiet = build_plugin_host(env={}, load_entry_points=False, extra={"listener": Listening()})
    quiet.emit("on_targets_created", tom=None, targets=[])
    assert capsys.readouterr().err == ""


def test_components_get_their_settings_and_plugin_name(tom_factory):
    class Configured(Broker):
        name = "configured"
        from tomcore.config import Setting

        settings = (Setting("base_url", "https://example.org"), Setting("token", secret=True))

    broker = Configured()
    tom = tom_factory(load_plugins=False, plugins={"conf": _registering(broker)},
                      config='\n[plugins.configured]\ntoken = "s3cret"\n')
    assert tom.components.brokers.get("configured") is broker
    assert broker.plugin_name == "conf"
    assert broker.config["base_url"] == "https://example.org"
    assert broker.config["token"] == "s3cret"
    assert "s3cret" not in repr(broker.config)


def test_hook_register_commands(tmp_path):
    import click

    from tomcore.cli import make_cli
    from tomcore.cli.context import CliState

    @click.command("hello")
    def hello():
        click.echo("hi")

    class Commands:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(hello)

    class Broken:
        @hookimpl
        def register_commands(self, cli):
            raise RuntimeError("no commands today")

    host = build_plugin_host(env={}, load_entry_points=False, extra={"cmds": Commands(), "broken": Broken()})
    cli = make_cli(CliState(host=host, env={}))
    assert cli.get_command(click.Context(cli), "hello") is hello
    info = {i.name: i for i in host.infos()}
    assert info["cmds"].registered == {"commands": ["hello"]}  # `tom plugins` shows what each plugin added
    make_cli(CliState(host=host, env={}))  # a second command line on the same host: counted once
    assert {i.name: i for i in host.infos()}["cmds"].registered == {"commands": ["hello"]}

    @click.command("targets")
    def shadow():
        click.echo("not the real one")

    class Clash:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(click.Command("hello", callback=lambda: None))
            cli.add_command(shadow)

    host = build_plugin_host(env={}, load_entry_points=False, extra={"cmds": Commands(), "clash": Clash()})
    cli = make_cli(CliState(host=host, env={}))
    ctx = click.Context(cli)
    assert cli.get_command(ctx, "hello") is hello and cli.get_command(ctx, "targets") is not shadow
    errors = {i.name: i.errors for i in host.infos()}["clash"]
    assert any("'hello' is registered by both 'cmds' and 'clash'" in e for e in errors)
    assert any("'targets' is registered by both 'tomcore' and 'clash'" in e for e in errors)
    assert info["broken"].registered == {} and "no commands today" in info["broken"].errors[0]
    assert "register_commands" in info["broken"].errors[0]
