"""docker-compose.yml read as Compose reads it: interpolated with deploy/oms.env.example.

Shared by the checks of the Compose file (tests/unit/test_deploy_files.py) and of the
Kubernetes manifests that must run the same image with the same settings
(tests/contract/test_k8s_manifests.py).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "oms.env.example"

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a Compose env file, comments and blank lines skipped."""
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
            env[key.strip()] = value.strip()
    return env


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Apply Compose variable interpolation (${X}, ${X:-d}, ${X-d}, ${X:?e}, ${X?e}, $$)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        missing = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if missing else current
        if op in (":?", "?"):
            if missing:
                raise AssertionError(f"compose needs {name}: {arg}")
            return current
        return current or ""

    return _VARIABLE.sub(substitute, value)


def raw_compose() -> dict[str, Any]:
    """docker-compose.yml as written."""
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    return document


def compose() -> dict[str, Any]:
    """docker-compose.yml as Compose sees it with the example env file (not the caller's
    environment)."""
    return interpolate(raw_compose(), read_env_file(ENV_EXAMPLE))


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whether written as a mapping or a list."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def command_of(service: dict[str, Any]) -> list[str]:
    """A service's command as a list, whether written as a list or a string."""
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)
