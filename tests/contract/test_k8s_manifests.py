"""deploy/k8s runs what docker-compose.yml runs, and Kubernetes would accept it.

Every manifest is validated, offline, against the JSON schemas of a pinned Kubernetes version in
strict mode (an unknown or misspelt field fails), with the schemas the `kubernetes-validate`
package ships. Then what matters to an operator: each Deployment runs the Compose file's image and
command with the same settings, probes /livez and /readyz on the port its Service targets, has
requests, limits and the recommended labels, runs as the image's non-root user on a read-only
root file system, and the services that run leader-elected work keep a pod through a drain.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import tomllib
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from shared.runtime.settings import ServiceSettings
from tests.compose_file import ROOT, command_of, compose, environment_of

K8S_DIR = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S_DIR / "kustomization.yaml"
# Not in the kustomization: its placeholders must never overwrite the real credentials.
SECRET_FILE = "secret.yaml"
# The oldest Kubernetes the manifests are checked against (kubernetes-validate ships its schemas).
KUBERNETES_VERSION = "1.32"
PARTITIONS = 6
RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
)


def _load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


MANIFEST_FILES = sorted(p for p in K8S_DIR.glob("*.yaml") if p != KUSTOMIZATION)
DOCUMENTS = [(path.name, doc) for path in MANIFEST_FILES for doc in _load(path)]


def _id(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in DOCUMENTS if doc.get("kind") == kind}


DEPLOYMENTS = _of_kind("Deployment")
SERVICES = _of_kind("Service")
CONFIG_MAPS = _of_kind("ConfigMap")
SECRETS = _of_kind("Secret")
BUDGETS = _of_kind("PodDisruptionBudget")


@pytest.fixture(scope="module")
def compose_services() -> dict[str, Any]:
    return compose()["services"]


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{_id(deployment)}: one container expected"
    return containers[0]


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def _secret_data(name: str, key: str) -> str:
    assert name in SECRETS, f"no Secret {name} in deploy/k8s"
    data = SECRETS[name].get("stringData") or {}
    assert key in data, f"Secret {name} has no {key}"
    return str(data[key])


def _config_data(name: str) -> dict[str, str]:
    assert name in CONFIG_MAPS, f"no ConfigMap {name} in deploy/k8s"
    return {key: str(value) for key, value in (CONFIG_MAPS[name].get("data") or {}).items()}


def container_env(container: dict[str, Any]) -> dict[str, str]:
    """The environment the container starts with, its ConfigMap and Secret references resolved
    from the manifests (later entries win, as in Kubernetes: env over envFrom)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = _config_data(source["configMapRef"]["name"])
        else:
            secret = SECRETS[source["secretRef"]["name"]]
            data = {key: str(value) for key, value in (secret.get("stringData") or {}).items()}
        env.update({prefix + key: value for key, value in data.items()})
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = item["valueFrom"]
        if "configMapKeyRef" in ref:
            config = _config_data(ref["configMapKeyRef"]["name"])
            assert ref["configMapKeyRef"]["key"] in config, item
            env[item["name"]] = config[ref["configMapKeyRef"]["key"]]
        else:
            secret_ref = ref["secretKeyRef"]
            env[item["name"]] = _secret_data(secret_ref["name"], secret_ref["key"])
    return env


def settings_class(module: str) -> type[Any]:
    """The Settings of the service a `python -m <module>` runs."""
    settings: type[Any] = importlib.import_module(f"{module}.settings").Settings
    return settings


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A port number, or the number of the container's port of that name."""
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    assert port in named, f"{container['name']}: no port named {port}"
    return named[port]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$")
_FACTOR = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(value: str | int) -> float:
    """A Kubernetes resource quantity (the suffixes used here) as a number."""
    match = _QUANTITY.match(str(value))
    assert match, f"quantity {value!r}"
    return float(match.group(1)) * _FACTOR[match.group(2)]


def test_deploy_k8s_has_manifests():
    assert MANIFEST_FILES and DEPLOYMENTS


@pytest.mark.parametrize(
    "doc", [doc for _, doc in DOCUMENTS], ids=[f"{f}:{_id(d)}" for f, d in DOCUMENTS]
)
def test_manifest_is_valid_for_kubernetes_strictly(doc):
    error = None
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(part) for part in exc.path)
        error = f"{_id(doc)} at {where or 'top level'}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        error = exc.message
    if error:
        # Outside the except: the schema the library would print runs to hundreds of lines.
        pytest.fail(error, pytrace=False)


def test_kustomization_lists_every_manifest_but_the_placeholder_secret():
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    assert kustomization["kind"] == "Kustomization"
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed)), "a resource listed twice"
    assert set(listed) == {p.name for p in MANIFEST_FILES} - {SECRET_FILE}
    assert kustomization["namespace"] == "oms"
    assert (K8S_DIR / SECRET_FILE).is_file(), "the documented placeholder Secret is missing"


def test_kustomization_builds_with_kubectl_when_it_is_installed():
    try:
        result = subprocess.run(
            ["kubectl", "kustomize", str(K8S_DIR)], capture_output=True, text=True, timeout=60
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        warnings.warn(
            "kubectl not installed: kustomization.yaml was checked with PyYAML only",
            stacklevel=1,
        )
        return
    assert result.returncode == 0, result.stderr
    built = {_id(doc) for doc in yaml.safe_load_all(result.stdout) if doc}
    expected = {_id(doc) for name, doc in DOCUMENTS if name != SECRET_FILE}
    assert built == expected


def test_every_oms_process_of_the_compose_file_has_a_deployment(compose_services):
    ours = {name for name, service in compose_services.items() if "build" in service}
    assert set(DEPLOYMENTS) == ours


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployment_runs_the_compose_image_and_command(compose_services, name):
    container = container_of(DEPLOYMENTS[name])
    assert container["image"] == compose_services[name]["image"]
    assert container["command"] == command_of(compose_services[name])


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployment_has_every_compose_setting_with_the_same_value(compose_services, name):
    """Same settings as Compose, none more; only where PostgreSQL and Kafka are (external here,
    containers there) and the partition count differ."""
    expected = environment_of(compose_services[name])
    env = container_env(container_of(DEPLOYMENTS[name]))
    missing = set(expected) - set(env)
    assert not missing, f"set in docker-compose.yml, not in deploy/k8s: {sorted(missing)}"
    settings = settings_class(command_of(compose_services[name])[-1])
    prefix = settings.model_config["env_prefix"]
    for key, value in env.items():
        setting = key.removeprefix(prefix)
        assert key.startswith(prefix), f"{key} lacks the {prefix} prefix: the service ignores it"
        assert setting.lower() in settings.model_fields, f"{key}: no such setting"
        if setting == "TOPIC_PARTITIONS":
            assert int(value) == PARTITIONS, key
        elif setting == "DATABASE_URL":
            url, compose_url = urlsplit(value), urlsplit(expected[key])
            assert (url.scheme, url.path) == (compose_url.scheme, compose_url.path), key
            assert url.hostname and url.username, key
        elif setting == "KAFKA_BOOTSTRAP_SERVERS":
            assert all(re.fullmatch(r"[\w.-]+:\d+", b) for b in value.split(",")), value
        else:
            assert key in expected, f"{key}: not set in docker-compose.yml"
            assert value == expected[key], (
                f"{key}: {value!r}, in docker-compose.yml {expected[key]!r}"
            )


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_probes_hit_livez_and_readyz_on_the_port_the_service_targets(name):
    container = container_of(DEPLOYMENTS[name])
    env = container_env(container)
    http_port = next(int(v) for k, v in env.items() if k.endswith("_HTTP_PORT"))
    probes = {
        "livenessProbe": "/livez",
        "readinessProbe": "/readyz",
        "startupProbe": "/livez",
    }
    for probe, path in probes.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{probe} {get['path']}"
        assert container_port(container, get["port"]) == http_port, probe

    service = SERVICES.get(name)
    assert service, f"no Service {name}"
    assert selects(service["spec"]["selector"], pod_labels(DEPLOYMENTS[name]))
    targets = {
        container_port(container, p.get("targetPort", p["port"])) for p in service["spec"]["ports"]
    }
    assert targets == {http_port}


def test_every_service_selects_exactly_one_deployment():
    for name, service in SERVICES.items():
        chosen = [
            d
            for d, deployment in DEPLOYMENTS.items()
            if selects(service["spec"]["selector"], pod_labels(deployment))
        ]
        assert chosen == [name], f"Service {name} selects {chosen}"


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployment_requests_and_limits_cpu_and_memory(name):
    resources = container_of(DEPLOYMENTS[name])["resources"]
    for resource in ("cpu", "memory"):
        request, limit = resources["requests"][resource], resources["limits"][resource]
        assert quantity(request) <= quantity(limit), f"{resource}: {request} > {limit}"


@pytest.mark.parametrize(
    "doc",
    [d for _, d in DOCUMENTS if d["kind"] in ("Deployment", "Service", "PodDisruptionBudget")],
    ids=_id,
)
def test_workloads_carry_the_recommended_labels(doc):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    labelled = [doc["metadata"]["labels"]]
    if doc["kind"] == "Deployment":
        labelled.append(pod_labels(doc))
        assert selects(doc["spec"]["selector"]["matchLabels"], pod_labels(doc))
        assert "app.kubernetes.io/version" not in doc["spec"]["selector"]["matchLabels"], (
            "a selector is immutable: the version would block every upgrade"
        )
    for labels in labelled:
        missing = [label for label in RECOMMENDED_LABELS if label not in labels]
        assert not missing, f"{_id(doc)} lacks {missing}"
        assert labels["app.kubernetes.io/name"] == doc["metadata"]["name"]
        assert labels["app.kubernetes.io/part-of"] == "oms"
        assert labels["app.kubernetes.io/version"] == version


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployment_runs_as_the_image_user_on_a_read_only_root(name):
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    uid = int(re.search(r"useradd .*--uid (\d+)", dockerfile).group(1))
    pod = DEPLOYMENTS[name]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == uid
    context = container_of(DEPLOYMENTS[name])["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    # What the processes write (temp files, faust's data dir) goes to a volume.
    mounts = {m["mountPath"] for m in container_of(DEPLOYMENTS[name]).get("volumeMounts", [])}
    assert "/tmp" in mounts


def _leads(name: str) -> bool:
    """The service runs a relay, projections and workers under a PostgreSQL advisory lock:
    a ServiceSettings service with its workers on (shared/runtime/service.py)."""
    container = container_of(DEPLOYMENTS[name])
    settings = settings_class(container["command"][-1])
    prefix = settings.model_config["env_prefix"]
    env = container_env(container)
    return issubclass(settings, ServiceSettings) and env.get(f"{prefix}RUN_WORKERS") == "true"


def test_the_services_with_leader_elected_work_and_only_they_have_a_disruption_budget():
    covered = {}
    for name, budget in BUDGETS.items():
        selector = budget["spec"]["selector"]["matchLabels"]
        chosen = [
            d for d, deployment in DEPLOYMENTS.items() if selects(selector, pod_labels(deployment))
        ]
        assert len(chosen) == 1, f"PodDisruptionBudget {name} selects {chosen}"
        covered[chosen[0]] = budget
    leaders = {name for name in DEPLOYMENTS if _leads(name)}
    assert leaders, "no service runs leader-elected work?"
    assert set(covered) == leaders
    for name, budget in covered.items():
        replicas = DEPLOYMENTS[name]["spec"]["replicas"]
        # A budget that allows no eviction would block every node drain.
        assert budget["spec"]["minAvailable"] < replicas, name


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_replicas_do_not_exceed_the_partition_count(name):
    """More consumers in a group than partitions sit idle (deploy/README.md, Kubernetes)."""
    env = container_env(container_of(DEPLOYMENTS[name]))
    partitions = next(int(v) for k, v in env.items() if k.endswith("_TOPIC_PARTITIONS"))
    assert 1 <= DEPLOYMENTS[name]["spec"]["replicas"] <= partitions
