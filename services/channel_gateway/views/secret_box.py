"""Channel secrets sealed at rest with Fernet keys from the environment.

A sealed value is stored as `{"fernet": token}`; a bare JSON string is a value written before
encryption existed, read as it is until it is sealed (at start-up). The keys are a list, newest
first: the first seals, every one opens, so an operator can put a new key first while rows
sealed with the old one are still read, re-encrypt them (`reseal`), then drop the old key.
Neither a key nor a value ever appears in a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEYS_SETTING = "OMS_GATEWAY_SECRETS_KEYS"
NEW_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
SEALED = "fernet"  # the field of a stored value that holds its Fernet token

Stored = object  # what a JSON column gives back: a sealed dict, or a plain string of old
Sealed = dict[str, str]


class SecretKeysError(ValueError):
    """The configured keys cannot seal secrets: none is set, or one is not a Fernet key."""


class UnreadableSecretsError(Exception):
    """Stored channel secrets that no configured key opens."""

    def __init__(self, channel_ids: Sequence[str]) -> None:
        self.channel_ids = sorted(set(channel_ids))
        super().__init__(
            f"the secrets of channel {', '.join(self.channel_ids)} open with none of the keys"
            f" in {KEYS_SETTING}: the key they were sealed with is missing (add it back after"
            " the newest key) or belongs to another installation"
        )

    def details(self) -> Mapping[str, object]:
        """The channels concerned, for the problem document."""
        return {"channels": self.channel_ids}


class SecretBox:
    """Seals and opens secret values with the configured keys (the first one seals)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretKeysError(
                f"{KEYS_SETTING} is not set: the gateway keeps channel secrets encrypted with"
                f" it. Make a key with {NEW_KEY} and set {KEYS_SETTING} to it (`oms up` makes"
                " one by itself)"
            )
        self._fernet = MultiFernet([_fernet(key, number) for number, key in enumerate(keys, 1)])

    @classmethod
    def from_setting(cls, text: str) -> SecretBox:
        """A box for the setting's comma-separated keys, newest first."""
        return cls([key.strip() for key in text.split(",") if key.strip()])

    def seal(self, value: str) -> Sealed:
        """The value encrypted with the newest key, as stored."""
        return {SEALED: self._fernet.encrypt(value.encode()).decode()}

    def open(self, stored: Stored) -> str:
        """The value of a stored secret; InvalidToken when no configured key opens it."""
        if isinstance(stored, str):
            return stored  # written before encryption
        return self._fernet.decrypt(_token(stored)).decode()

    def reseal(self, stored: Stored) -> Sealed:
        """The stored secret encrypted with the newest key (a plain one is sealed)."""
        if isinstance(stored, str):
            return self.seal(stored)
        return {SEALED: self._fernet.rotate(_token(stored)).decode()}

    def seal_all(self, values: Mapping[str, str]) -> dict[str, Sealed]:
        """Every value sealed, by name."""
        return {name: self.seal(value) for name, value in values.items()}

    def open_all(self, stored: Mapping[str, Stored]) -> dict[str, str]:
        """Every stored secret opened, by name; InvalidToken when one does not open."""
        return {name: self.open(value) for name, value in stored.items()}

    def reseal_all(self, stored: Mapping[str, Stored]) -> dict[str, Sealed]:
        """Every stored secret under the newest key, by name."""
        return {name: self.reseal(value) for name, value in stored.items()}


def is_plain(stored: Mapping[str, Stored]) -> bool:
    """True when some value was written before encryption (a bare string)."""
    return any(isinstance(value, str) for value in stored.values())


def _token(stored: Stored) -> str:
    """The Fernet token of a sealed value; InvalidToken when it is not one."""
    token = stored.get(SEALED) if isinstance(stored, dict) else None
    if not isinstance(token, str):
        raise InvalidToken
    return token


def _fernet(key: str, number: int) -> Fernet:
    """One configured key; the message names its place in the list, never the key."""
    try:
        return Fernet(key)
    except ValueError:
        raise SecretKeysError(
            f"key {number} of {KEYS_SETTING} is not a Fernet key (32 url-safe base64-encoded"
            f" bytes); make one with {NEW_KEY}"
        ) from None
