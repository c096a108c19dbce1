"""The keys the channel gateway encrypts channel secrets with, as `oms up` keeps them.

The gateway seals channel secrets with the keys in OMS_GATEWAY_SECRETS_KEYS, newest first.
`oms up` keeps the list in `<var-dir>/gateway-secrets.keys`, made with a new key on first start.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet

KEYS_ENV = "OMS_GATEWAY_SECRETS_KEYS"
KEYS_FILE = "gateway-secrets.keys"
_KEYS_FILE_HEADER = """\
# The keys the channel gateway encrypts channel secrets with, one a line, newest first
# (README, "Secrets at rest"). Without them the secrets in this var directory cannot be read.
"""


def embedded_keys(var_dir: Path) -> str:
    """The gateway's keys for `oms up`, comma-separated: those of its environment if set, else
    those of `<var-dir>/gateway-secrets.keys`, which the first start makes with a new key."""
    given = os.environ.get(KEYS_ENV)
    if given:
        return given
    path = var_dir / KEYS_FILE
    if not path.exists():
        _write_new_keys_file(path)
    lines = (line.strip() for line in path.read_text().splitlines())
    return ",".join(line for line in lines if line and not line.startswith("#"))


def new_key() -> str:
    """A new Fernet key, for a gateway of its own (benchmarks on a fresh database)."""
    return Fernet.generate_key().decode()


def _write_new_keys_file(path: Path) -> None:
    """A keys file with one new key, readable by its owner only from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(f"{_KEYS_FILE_HEADER}{new_key()}\n")
