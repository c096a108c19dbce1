"""A local OpenID Connect provider: discovery document and JWKS over real HTTP, tokens minted
with its keys (RSA for RS256, EC P-256 for ES256), keys rotated on demand."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.fakes.server import FakeChannel

AUDIENCE = "oms-api"

_kids = itertools.count(1)


@dataclass(frozen=True)
class SigningKey:
    """A private key, the kid it is published under and the algorithm it signs with."""

    kid: str
    algorithm: str
    private_key: Any
    publish_alg: bool = True  # Keycloak and Auth0 name each key's algorithm; a JWK need not

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWK, as a provider publishes it."""
        public = self.private_key.public_key()
        exporter = RSAAlgorithm if self.algorithm.startswith(("RS", "PS")) else ECAlgorithm
        named = {"alg": self.algorithm} if self.publish_alg else {}
        return {**exporter.to_jwk(public, as_dict=True), "kid": self.kid, "use": "sig", **named}


def rsa_key(
    kid: str | None = None, algorithm: str = "RS256", publish_alg: bool = True
) -> SigningKey:
    """A new RSA key (2048 bits)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid or f"rsa-{next(_kids)}", algorithm, private, publish_alg)


def ec_key(kid: str | None = None) -> SigningKey:
    """A new EC P-256 key for ES256."""
    return SigningKey(kid or f"ec-{next(_kids)}", "ES256", ec.generate_private_key(ec.SECP256R1()))


def sign(
    claims: dict[str, Any], key: SigningKey, kid: str | None = None, algorithm: str | None = None
) -> str:
    """A JWT of these claims signed with `key`, its header naming `kid` and `algorithm`
    (default: the key's own, so a test can make a token lie about either)."""
    return jwt.encode(
        claims,
        key.private_key,
        algorithm=algorithm or key.algorithm,
        headers={"kid": kid or key.kid},
    )


@dataclass
class FakeOidcProvider(FakeChannel):
    """The provider: publishes `published` keys and signs with `rsa` (default) or `ec`."""

    rsa: SigningKey = field(default_factory=rsa_key)
    ec: SigningKey = field(default_factory=ec_key)
    published: list[SigningKey] = field(default_factory=list)
    issuer_in_discovery: str | None = None  # None: the provider's own URL, as it must be

    def __post_init__(self) -> None:
        self.published = self.published or [self.rsa, self.ec]
        super().__post_init__()

    def routes(self) -> None:
        """Discovery and JWKS endpoints."""

        @self.app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer_in_discovery or self.url,
                "jwks_uri": f"{self.url}/keys",
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            }

        @self.app.get("/keys")
        def jwks() -> dict[str, Any]:
            return {"keys": [key.jwk() for key in list(self.published)]}

    @property
    def jwks_url(self) -> str:
        """Where the keys are published."""
        return f"{self.url}/keys"

    def jwks_fetches(self) -> int:
        """How many times the key set was served."""
        return len(self.sent("GET", "/keys"))

    def rotate(self, keep_old: bool = False) -> SigningKey:
        """A new RSA signing key under a new kid, published (with the old one when kept)."""
        old, self.rsa = self.rsa, rsa_key()
        self.published = [self.rsa, self.ec, *([old] if keep_old else [])]
        return self.rsa

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Claims of a good token for the OMS (an ops user for five minutes), with overrides;
        an override of None leaves the claim out."""
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "user-1234",
            "email": "ada@example.com",
            "iat": now,
            "exp": now + 300,
            "roles": ["ops"],
            **overrides,
        }
        return {name: value for name, value in claims.items() if value is not None}

    def sign(
        self,
        claims: dict[str, Any],
        key: SigningKey | None = None,
        kid: str | None = None,
        algorithm: str | None = None,
    ) -> str:
        """A JWT of these claims signed with `key` (default: the provider's RSA key)."""
        return sign(claims, key or self.rsa, kid=kid, algorithm=algorithm)

    def token(self, key: SigningKey | None = None, **claims: Any) -> str:
        """A good token (see `claims`) signed with `key`."""
        return self.sign(self.claims(**claims), key=key)
