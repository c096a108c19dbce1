"""The house rules (docs/architecture.md, The rooms of a service), checked on the code as it is."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = (
    "channel_gateway",
    "order_service",
    "inventory_service",
    "fulfillment_service",
    "returns_service",
)
ROLES = (
    "__main__",
    "settings",
    "domain",
    "application",
    "integration",
    "projections",
    "views",
    "schemas",
    "api",
    "bootstrap",
)


def test_import_contracts_hold():
    """No service imports another; shared imports no service; layers point one way."""
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_module_names(service):
    package = ROOT / "services" / service
    present = {p.stem for p in package.glob("*.py")} | {
        p.name for p in package.iterdir() if p.is_dir()
    }
    assert set(ROLES) <= present


@pytest.mark.parametrize("service", SERVICES)
def test_nothing_is_built_at_import_time(service):
    """Module level holds definitions only: no Settings(), no application, no connection."""
    for path in (ROOT / "services" / service).rglob("*.py"):
        if path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                called = ast.unparse(node.value.func)
                assert not called.endswith(
                    (
                        "Settings",
                        "open_application",
                        "open_views",
                        "build",
                        "connect",
                        "connection_pool",
                    )
                ), f"{path}: {called}"
