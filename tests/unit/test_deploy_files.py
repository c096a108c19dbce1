"""docker-compose.yml and deploy/ run the five services on KRaft Kafka and PostgreSQL 16.

The compose file is always parsed and checked here. When the Docker Compose plugin is installed,
`docker compose config` validates it as well; without it a structural check stands in, and the
test says so in a warning rather than skipping.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import subprocess
import warnings
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.stream_jobs.settings import Settings as StreamJobsSettings
from shared.runtime.settings import ServiceSettings
from tests import compose_file
from tests.compose_file import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    command_of,
    environment_of,
    interpolate,
    read_env_file,
)

DOCKERFILE = ROOT / "deploy" / "Dockerfile"

# compose service -> (module, port, settings env prefix, database)
SERVICES: dict[str, tuple[str, int, str, str]] = {
    "gateway": ("services.channel_gateway", 8000, "OMS_GATEWAY_", "oms_gateway"),
    "orders": ("services.order_service", 8001, "OMS_ORDERS_", "oms_orders"),
    "inventory": ("services.inventory_service", 8002, "OMS_INVENTORY_", "oms_inventory"),
    "fulfillment": ("services.fulfillment_service", 8003, "OMS_FULFILLMENT_", "oms_fulfillment"),
    "returns": ("services.returns_service", 8004, "OMS_RETURNS_", "oms_returns"),
}
DATABASES = sorted(database for _, _, _, database in SERVICES.values())

# Top-level and service keys of the Compose Specification, for the check without the plugin.
# fmt: off
TOP_LEVEL_KEYS = {
    "version", "name", "include", "services", "networks", "volumes", "configs", "secrets",
}
SERVICE_KEYS = {
    "annotations", "attach", "build", "blkio_config", "cap_add", "cap_drop", "cgroup",
    "cgroup_parent", "command", "configs", "container_name", "cpu_count", "cpu_percent",
    "cpu_shares", "cpu_quota", "cpu_period", "cpu_rt_period", "cpu_rt_runtime", "cpus", "cpuset",
    "credential_spec", "depends_on", "deploy", "develop", "device_cgroup_rules", "devices", "dns",
    "dns_opt", "dns_search", "domainname", "entrypoint", "env_file", "environment", "expose",
    "extends", "external_links", "extra_hosts", "gpus", "group_add", "healthcheck", "hostname",
    "image", "init", "ipc", "isolation", "labels", "links", "logging", "mac_address", "mem_limit",
    "mem_reservation", "mem_swappiness", "memswap_limit", "network_mode", "networks",
    "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports", "post_start",
    "pre_stop", "privileged", "profiles", "pull_policy", "read_only", "restart", "runtime",
    "scale", "secrets", "security_opt", "shm_size", "stdin_open", "stop_grace_period",
    "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "user", "userns_mode",
    "uts", "volumes", "volumes_from", "working_dir",
}
HEALTHCHECK_KEYS = {
    "test", "interval", "timeout", "retries", "start_period", "start_interval", "disable",
}
# fmt: on
RESTART_POLICIES = {"no", "always", "on-failure", "unless-stopped"}
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")
PORT = re.compile(r"((\d{1,3}\.){3}\d{1,3}:)?\d+(-\d+)?:\d+(-\d+)?(/(tcp|udp))?")


def published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs from short ("[ip:]host:container") or long syntax."""
    pairs = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            pairs.add((int(port["published"]), int(port["target"])))
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) >= 2:
            pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def healthcheck_command(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, list) else ["CMD-SHELL", test]


@pytest.fixture(scope="module")
def compose_env() -> dict[str, str]:
    """The example env file is what the checks interpolate with, not the caller's environment."""
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    return compose_file.raw_compose()


@pytest.fixture(scope="module")
def compose(raw_compose: dict[str, Any], compose_env: dict[str, str]) -> dict[str, Any]:
    return interpolate(raw_compose, compose_env)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def test_compose_defines_the_five_services_the_stream_jobs_kafka_and_postgres(services):
    assert set(services) == {*SERVICES, "stream-jobs", "kafka", "postgres"}


def test_the_stream_jobs_run_their_module_on_kafka_with_their_own_settings(services):
    jobs = services["stream-jobs"]
    assert command_of(jobs) == ["python", "-m", "services.stream_jobs"]
    assert jobs["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    env = environment_of(jobs)
    known = {f"OMS_STREAMS_{field.upper()}" for field in StreamJobsSettings.model_fields}
    assert set(env) <= known, set(env) - known
    assert env["OMS_STREAMS_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert (8005, 8005) in published_ports(jobs)
    assert "http://localhost:8005/readyz" in healthcheck_command(jobs)[3]


def test_every_service_and_the_stream_jobs_run_the_one_image_built_from_deploy_dockerfile(
    services,
):
    ours = [*SERVICES, "stream-jobs"]
    images = {services[name]["image"] for name in ours}
    assert len(images) == 1, f"services use different images: {images}"
    for name in ours:
        assert services[name]["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}, name
    assert DOCKERFILE.is_file()


def test_a_setting_shared_by_several_services_has_one_value_in_all_of_them(services):
    """Broker, partitions, log level, listen address...: the same in every process that reads
    them (the database URL and the port are each service's own)."""
    prefixes = {name: SERVICES[name][2] for name in SERVICES} | {"stream-jobs": "OMS_STREAMS_"}
    values: dict[str, dict[str, str]] = {}
    for name, prefix in prefixes.items():
        for key, value in environment_of(services[name]).items():
            values.setdefault(key.removeprefix(prefix), {})[name] = value
    own = {"DATABASE_URL", "HTTP_PORT", "DATA_DIR"}
    shared = {key: by_service for key, by_service in values.items() if key not in own}
    assert {"KAFKA_BOOTSTRAP_SERVERS", "TOPIC_PARTITIONS", "LOG_LEVEL"} <= set(shared)
    for key, by_service in shared.items():
        assert len(set(by_service.values())) == 1, f"{key} differs: {by_service}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_starts_its_own_module(services, name):
    module = SERVICES[name][0]
    assert command_of(services[name]) == ["python", "-m", module]


@pytest.mark.parametrize("name", SERVICES)
def test_service_settings_point_at_kafka_and_its_own_postgres_database(services, compose_env, name):
    module, port, prefix, database = SERVICES[name]
    env = environment_of(services[name])

    settings = importlib.import_module(f"{module}.settings").Settings
    assert issubclass(settings, ServiceSettings)
    known = {field.upper() for field in settings.model_fields}
    for key in env:
        assert key.startswith(prefix), f"{key} lacks the {prefix} prefix, the service ignores it"
        assert key.removeprefix(prefix) in known, f"{key} is not a setting of {module}"

    url = urlsplit(env[f"{prefix}DATABASE_URL"])
    assert url.scheme == "postgresql"
    assert (url.hostname, url.port, url.path) == ("postgres", 5432, f"/{database}")
    assert url.username == compose_env.get("POSTGRES_USER", "oms")
    assert url.password == compose_env["POSTGRES_PASSWORD"]

    brokers = env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"].split(",")
    assert brokers == ["kafka:9092"]
    assert env[f"{prefix}KAFKA_IDEMPOTENCE"] == "true"
    assert int(env[f"{prefix}TOPIC_PARTITIONS"]) >= 1
    assert env[f"{prefix}HTTP_HOST"] == "0.0.0.0"
    assert env[f"{prefix}HTTP_PORT"] == str(port)
    assert env[f"{prefix}LOG_LEVEL"]
    assert env[f"{prefix}RUN_API"] == "true"
    assert env[f"{prefix}RUN_WORKERS"] == "true"


@pytest.mark.parametrize("name", SERVICES)
def test_service_waits_for_healthy_kafka_and_postgres_and_restarts(services, name):
    service = services[name]
    assert service["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", SERVICES)
def test_service_healthcheck_probes_readyz_on_its_port_with_python(services, name):
    port = SERVICES[name][1]
    command = healthcheck_command(services[name])
    assert command[:3] == ["CMD", "python", "-c"], "the slim image has no curl"
    code = command[3]
    assert f"http://localhost:{port}/readyz" in code
    compile(code, f"{name} healthcheck", "exec")


@pytest.mark.parametrize("name", SERVICES)
def test_service_publishes_its_api_port(services, name):
    port = SERVICES[name][1]
    assert (port, port) in published_ports(services[name])


def test_api_ports_are_8000_to_8004(services):
    published = {host for name in SERVICES for host, _ in published_ports(services[name])}
    assert published == set(range(8000, 8005))


def test_kafka_is_one_kraft_node_without_zookeeper(compose, services):
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = environment_of(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    # KRaft formats its log dir with this id: a base64url UUID of 16 bytes.
    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert "healthcheck" in kafka and "test" in kafka["healthcheck"]
    assert any(v.endswith(":/var/lib/kafka/data") for v in kafka.get("volumes", []))
    assert "zookeeper" not in json.dumps(compose).lower()


def test_postgres_16_has_healthcheck_volume_and_creates_the_five_databases(compose, services):
    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:16([.-][\w.-]+)?", postgres["image"])
    assert "pg_isready" in " ".join(healthcheck_command(postgres))

    volumes = [str(v) for v in postgres["volumes"]]
    data = [v.split(":")[0] for v in volumes if v.split(":")[1] == "/var/lib/postgresql/data"]
    assert data and data[0] in compose["volumes"], "data must live in a named volume"

    init = [v for v in volumes if ":/docker-entrypoint-initdb.d/" in v]
    assert len(init) == 1
    script = ROOT / init[0].split(":")[0]
    assert script.is_file()
    created = re.findall(r"'(oms_[a-z]+)'", script.read_text())
    assert sorted(created) == DATABASES


def test_env_example_documents_every_variable_compose_reads(raw_compose, compose_env):
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))
    assert used <= documented, f"not in oms.env.example: {sorted(used - documented)}"
    assert "POSTGRES_PASSWORD" in compose_env, "the one required variable must be set"


def test_dockerfile_installs_the_project_without_dev_extras_as_non_root():
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert bases and all(base == "python:3.11-slim" for base in bases)
    assert re.search(r"pip install \.(\s|$)", text), "install the project itself, no extras"
    assert "[dev]" not in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r'^CMD \["python", "-m", "services\.\w+"\]', text, re.M)


def _docker_compose_available() -> bool:
    try:
        result = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _check_structure(compose: dict[str, Any]) -> None:
    """What `docker compose config` would reject, for machines without the plugin."""
    extra = {key for key in compose if not key.startswith("x-")} - TOP_LEVEL_KEYS
    assert not extra, f"unknown top-level keys: {extra}"
    services = compose["services"]
    volumes = compose.get("volumes") or {}
    for name, service in services.items():
        assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name), name
        unknown = {key for key in service if not key.startswith("x-")} - SERVICE_KEYS
        assert not unknown, f"{name}: unknown keys {unknown}"
        assert "image" in service or "build" in service, f"{name}: needs image or build"
        assert service.get("restart", "no") in RESTART_POLICIES, name
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on undefined {dependency}"
        healthcheck = service.get("healthcheck") or {}
        assert set(healthcheck) <= HEALTHCHECK_KEYS, f"{name}: {set(healthcheck)}"
        test = healthcheck.get("test")
        if isinstance(test, list):
            assert test[0] in ("NONE", "CMD", "CMD-SHELL"), f"{name}: healthcheck {test[0]}"
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if key in healthcheck:
                assert DURATION.match(str(healthcheck[key])), f"{name}: {key}"
        for port in service.get("ports") or []:
            assert PORT.fullmatch(str(port)), f"{name}: port {port}"
        for volume in service.get("volumes") or []:
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: bind mount source {source} missing"
            else:
                assert source in volumes, f"{name}: named volume {source} not declared"
        for key, value in environment_of(service).items():
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"{name}: env {key}"
            assert "${" not in value, f"{name}: {key} left uninterpolated"


def test_compose_file_is_valid_for_docker_compose(compose):
    _check_structure(compose)
    if not _docker_compose_available():
        warnings.warn(
            "docker compose plugin not installed: docker-compose.yml was checked with PyYAML and"
            " a structural check only, not with `docker compose config`",
            stacklevel=1,
        )
        return
    result = subprocess.run(
        [
            "docker",
            "compose",
            "--env-file",
            str(ENV_EXAMPLE),
            "-f",
            str(COMPOSE_FILE),
            "config",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
