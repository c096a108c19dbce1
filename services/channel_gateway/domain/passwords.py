"""People's passwords: the rules a password must meet, and its scrypt hash.

A password is hashed with scrypt (a memory-hard password hash: each guess costs ~16 MiB and
~30 ms), and the hash is stored with its parameters, so they can be raised later: a hash made
with older parameters still verifies, and is made again with the new ones at the next sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

SCHEME = "scrypt"
MIN_LENGTH = 12
MAX_LENGTH = 200
SALT_BYTES = 16
KEY_BYTES = 64


class PasswordError(ValueError):
    """A password the OMS does not take (too short, too long, only spaces)."""


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, or None when it may be used.

    Any script is welcome (Thai, Japanese, ...): only the length in characters counts, and a
    password of nothing but whitespace is refused.
    """
    password = unicodedata.normalize("NFC", password)
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if not password.strip():
        return "a password of only whitespace is not taken"
    return None


def check_password(password: str) -> None:
    """Raise PasswordError saying what is wrong with a new password."""
    problem = password_problem(password)
    if problem is not None:
        raise PasswordError(problem)


@dataclass(frozen=True)
class ScryptParameters:
    """scrypt's cost: n (CPU and memory), r (block size), p (parallelism)."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    def derive(self, password: str, salt: bytes) -> bytes:
        """The key scrypt derives from the password and salt with these parameters."""
        return hashlib.scrypt(
            _encoded(password),
            salt=salt,
            n=self.n,
            r=self.r,
            p=self.p,
            # scrypt needs 128 * r * (n + p) bytes; OpenSSL's default cap (32 MiB) would refuse
            # parameters raised later.
            maxmem=128 * self.r * (self.n + self.p) + 1024 * 1024,
            dklen=KEY_BYTES,
        )


@dataclass(frozen=True)
class PasswordHash:
    """A stored password hash: the parameters and salt it was made with, and the key."""

    parameters: ScryptParameters
    salt: bytes
    key: bytes

    @classmethod
    def make(cls, password: str, parameters: ScryptParameters) -> PasswordHash:
        """The hash of a password under a new random salt."""
        salt = secrets.token_bytes(SALT_BYTES)
        return cls(parameters, salt, parameters.derive(password, salt))

    @classmethod
    def decode(cls, stored: str) -> PasswordHash:
        """The hash as stored: `scrypt$n=16384,r=8,p=1$<salt>$<key>` (base64)."""
        scheme, settings, salt, key = stored.split("$")
        if scheme != SCHEME:
            raise ValueError(f"unknown password hash scheme {scheme!r}")
        values = dict(part.split("=", 1) for part in settings.split(","))
        parameters = ScryptParameters(n=int(values["n"]), r=int(values["r"]), p=int(values["p"]))
        return cls(parameters, _unb64(salt), _unb64(key))

    def encode(self) -> str:
        """The hash as stored, its parameters first."""
        p = self.parameters
        return f"{SCHEME}$n={p.n},r={p.r},p={p.p}${_b64(self.salt)}${_b64(self.key)}"

    def matches(self, password: str) -> bool:
        """True when the password is the one this hash was made from (in constant time)."""
        return hmac.compare_digest(self.parameters.derive(password, self.salt), self.key)

    def __repr__(self) -> str:
        return f"PasswordHash({self.parameters})"  # never the salt and key


def dummy_check(password: str, parameters: ScryptParameters) -> bool:
    """The work of checking a password against a hash, for a name that has none: False.

    A wrong name then costs what a wrong password costs, so the time of the answer does not
    tell which names exist.
    """
    key = parameters.derive(password, bytes(SALT_BYTES))
    hmac.compare_digest(key, bytes(KEY_BYTES))
    return False


def _encoded(password: str) -> bytes:
    """The password's bytes, in one Unicode form: the same Thai or Japanese password typed on
    two devices may arrive composed on one and decomposed on the other."""
    return unicodedata.normalize("NFC", password).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
