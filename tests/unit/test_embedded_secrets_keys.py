"""The key `oms up` gives the gateway: made on first start, kept in the var directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from services.channel_gateway.views import SecretBox
from shared.cli.secrets import KEYS_ENV, KEYS_FILE, embedded_keys

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def test_oms_up_makes_a_key_on_first_start_readable_by_its_owner_only_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(KEYS_ENV, raising=False)

    first = embedded_keys(tmp_path)
    again = embedded_keys(tmp_path)

    assert first == again
    SecretBox.from_setting(first)  # a usable key
    assert stat.S_IMODE((tmp_path / KEYS_FILE).stat().st_mode) == 0o600


def test_oms_up_reads_every_key_of_its_file_newest_first(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(KEYS_ENV, raising=False)
    (tmp_path / KEYS_FILE).write_text(f"# newest first\n{NEW_KEY}\n\n{OLD_KEY}\n")

    assert embedded_keys(tmp_path) == f"{NEW_KEY},{OLD_KEY}"


def test_oms_up_takes_the_keys_of_its_environment_over_its_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(KEYS_ENV, NEW_KEY)

    assert embedded_keys(tmp_path) == NEW_KEY
    assert not (tmp_path / KEYS_FILE).exists()
