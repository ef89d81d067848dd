"""docker-compose.yml must describe a deployment that can start: no Docker engine needed.

Checks what a typo would break at `docker compose up`: service names, dependencies, images that can
be built, commands that name real programs, and settings that shared.config actually reads.
"""

from __future__ import annotations

import ast
import importlib
import re
import shlex
import tomllib
from pathlib import Path

import click
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict = COMPOSE["services"]
ENV: dict = COMPOSE["x-env"]

EXPECTED_SERVICES = {"postgres", "migrate", "mailer", "survey", "worker", "mailcatcher"}
REQUIRED_ENV = {"DATABASE_URL", "MAIL_URL", "MAIL_FROM", "SECRET_KEYS", "MAILER_URL", "SURVEY_URL"}
HEALTHCHECKED = {"postgres", "mailer", "survey"}
BUILT = sorted(name for name, svc in SERVICES.items() if "build" in svc)


def _config_variables() -> set[str]:
    """Every NAME string literal in shared/config.py: there, such literals are exactly the
    variables read (env.get("X"), _positive_int(env, "X", ...), the DKIM tuple, ConfigError("X"))."""
    tree = ast.parse((ROOT / "shared" / "config.py").read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[A-Z][A-Z0-9_]+", node.value)
    }


def _depends_on(service: dict) -> dict:
    deps = service.get("depends_on", {})
    return {name: {} for name in deps} if isinstance(deps, list) else deps


def _argv(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default} / ${VAR:?error}; for required variables, a stand-in value."""
    return re.sub(
        r"\$\{(\w+)(?::([-?])([^}]*))?\}",
        lambda m: m.group(3) if m.group(2) == "-" else f"stand-in-for-{m.group(1).lower()}-0123456789",
        value,
    )


def test_expected_services_exist():
    assert SERVICES.keys() >= EXPECTED_SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dependencies_are_defined_and_can_be_met(name):
    for dep, spec in _depends_on(SERVICES[name]).items():
        assert dep in SERVICES, f"{name} depends on undefined service {dep!r}"
        if spec.get("condition") == "service_healthy":
            assert "healthcheck" in SERVICES[dep], f"{name} waits for {dep} to be healthy, which has no healthcheck"


@pytest.mark.parametrize("name", BUILT)
def test_build_context_has_a_dockerfile(name):
    build = SERVICES[name]["build"]
    context, dockerfile = (
        (build, "Dockerfile")
        if isinstance(build, str)
        else (build.get("context", "."), build.get("dockerfile", "Dockerfile"))
    )
    assert (ROOT / context / dockerfile).is_file(), f"{name}: no {dockerfile} in {context}"


@pytest.mark.parametrize("name", sorted(HEALTHCHECKED))
def test_healthchecks(name):
    assert SERVICES[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


@pytest.mark.parametrize("name", [n for n in BUILT if "command" in SERVICES[n]])
def test_command_names_a_real_program(name):
    argv = _argv(SERVICES[name])
    program, args = argv[0], argv[1:]
    if program == "gunicorn":
        importlib.import_module("gunicorn")
        target = args[-1]  # gunicorn [OPTIONS] APP_MODULE
        assert re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*(\(\))?", target), f"{name}: {target!r} is not module:app"
        module_name, attribute = target.rstrip("()").split(":")
        factory = getattr(importlib.import_module(module_name), attribute, None)
        assert callable(factory), f"{name}: {target} is not callable"
        bind = args[args.index("-b") + 1]
        port = bind.rsplit(":", 1)[1]
        health = " ".join(SERVICES[name]["healthcheck"]["test"])
        assert f":{port}/healthz" in health, f"{name}: healthcheck does not probe /healthz on port {port}"
    elif program == "utskick":
        scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
        assert scripts["utskick"] == "services.cli:main"
        from services.cli import main

        command, ctx = main, click.Context(main)
        for word in args:
            if word.startswith("-") or not isinstance(command, click.Group):
                break
            sub = command.get_command(ctx, word)
            assert sub is not None, f"{name}: `utskick {' '.join(args)}` has no command {word!r}"
            command = sub
        assert not isinstance(command, click.Group) or command.invoke_without_command, (
            f"{name}: `utskick {' '.join(args)}` names a group, not a command"
        )
    else:
        pytest.fail(f"{name}: unknown program {program!r} (expected gunicorn or utskick)")


def test_environment_matches_what_config_reads():
    read = _config_variables()
    assert read >= REQUIRED_ENV, "the test's idea of the settings is out of date with shared/config.py"
    assert ENV.keys() >= REQUIRED_ENV, f"x-env lacks {sorted(REQUIRED_ENV - ENV.keys())}"
    assert ENV.keys() <= read, f"x-env sets variables shared/config.py never reads: {sorted(ENV.keys() - read)}"


@pytest.mark.parametrize("name", BUILT)
def test_every_utskick_process_gets_the_shared_environment(name):
    environment = SERVICES[name].get("environment") or {}
    assert ENV.items() <= dict(environment).items(), f"{name} does not use the x-env settings"


def test_environment_is_accepted_by_load_config(tmp_path):
    from shared.config import load_config

    env = {key: _interpolate(str(value)) for key, value in ENV.items()}
    config = load_config({**env, "UTSKICK_VAR_DIR": str(tmp_path)})
    assert config.database_url.startswith("postgresql://")
    assert (config.mail_url.host, config.mail_url.port) == ("mailcatcher", 1025)
