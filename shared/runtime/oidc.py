"""Who is calling, from a JWT of the configured OpenID Connect provider (the other bearer kind).

`OidcVerifier.verify` checks a JWT's signature against the provider's published keys (its JWKS,
found by OpenID Connect Discovery 1.0 unless configured), its issuer, audience and validity times,
and maps a role claim to one OMS `Role`. It is synchronous (the first verify, and some later
ones, fetch keys over blocking HTTP): callers run it in a worker thread. Nothing is fetched
before the first verify.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import httpx
import jwt
import structlog

from shared.runtime.access import Principal, Role
from shared.runtime.settings import ServiceSettings

log = structlog.get_logger()

DEFAULT_ALGORITHMS = ("RS256", "ES256", "PS256")
# Only algorithms verified with a public key: "none" proves nothing, and HS* with a JWKS would
# let anyone sign with the public key as the HMAC secret.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
KEYS_UNAVAILABLE = "the provider's keys could not be fetched"
DISCOVERY_PATH = "/.well-known/openid-configuration"
# A caller gets one role (Principal.role), so of several the most privileged wins. Ops ranks
# above warehouse: neither includes the other, but ops moves money (refunds, cancels) and holds
# orders, the larger power of the two. A caller holding both is therefore refused the
# warehouse-only endpoints; who must do both needs admin (or two accounts). The order is
# fixed, so the order of names in a token never changes the outcome.
ROLES_BY_PRIVILEGE = (Role.ADMIN, Role.OPS, Role.WAREHOUSE, Role.VIEWER)
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class InvalidToken(Exception):
    """A JWT that does not prove who is calling; `reason` says why, fit to answer the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def looks_like_jwt(token: str) -> bool:
    """True for a compact JWS (three base64url parts; the signature is empty with alg "none")."""
    return _COMPACT_JWS.fullmatch(token) is not None


def claim_at(claims: Mapping[str, Any], path: str) -> Any | None:
    """The claim at a dotted path (`realm_access.roles`), or None.

    A claim name may itself hold dots (Auth0's `https://oms.example.com/roles`), so at each
    level the longest name present wins: the whole path first, then shorter prefixes.
    """
    if path in claims:
        return claims[path]
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        inner = claims.get(".".join(parts[:cut]))
        if isinstance(inner, Mapping):
            found = claim_at(inner, ".".join(parts[cut:]))
            if found is not None:
                return found
    return None


def role_names(value: Any) -> list[str]:
    """The role names a role claim holds: one string, or the strings of a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def strongest_role(names: Iterable[str]) -> Role | None:
    """The most privileged OMS role among these names (see ROLES_BY_PRIVILEGE), or None."""
    present = set(names)
    return next((role for role in ROLES_BY_PRIVILEGE if role.value in present), None)


class _ProviderKeys:
    """The provider's signing keys by kid, fetched when first needed and shared by threads.

    The set is fetched again when `lifespan` is over, or for an unknown kid (a rotated key) once
    `cooldown` has passed since the last fetch (so made-up kids cannot hammer the provider).
    A failed fetch is tried again after `retry`, never remembered for good; until then the keys
    already known stay in use (a provider's blip must not refuse every caller), and callers who
    have their key never wait for a fetch in flight.
    """

    def __init__(
        self,
        issuer: str,
        jwks_url: str,
        lifespan: float,
        cooldown: float,
        retry: float,
        timeout: float,
    ) -> None:
        self._issuer = issuer
        self._configured_jwks_url = jwks_url
        self._lifespan = lifespan
        self._cooldown = cooldown
        self._retry = retry
        self._timeout = timeout
        self._state = threading.Lock()  # held briefly: the fields below
        self._fetching = threading.Lock()  # held for a fetch: one at a time
        self._client: jwt.PyJWKClient | None = None
        self._keys: dict[str, dict[str, Any]] = {}
        self._parsed: dict[tuple[str, str], jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None

    def key(self, kid: str, algorithm: str) -> jwt.PyJWK:
        """The key `kid` for a token signed with `algorithm`, fetching the set when due."""
        with self._state:
            due, known = self._due(kid), kid in self._keys
        if due and self._fetching.acquire(blocking=not known):
            try:
                with self._state:
                    due = self._due(kid)  # another thread may have fetched meanwhile
                if due:
                    self._fetch()
            finally:
                self._fetching.release()
        with self._state:
            return self._parse(kid, algorithm)

    def _due(self, kid: str) -> bool:
        now = time.monotonic()
        if self._failed_at is not None and now - self._failed_at < self._retry:
            return False
        if self._fetched_at is None or now - self._fetched_at >= self._lifespan:
            return True
        return kid not in self._keys and now - self._fetched_at >= self._cooldown

    def _fetch(self) -> None:
        try:
            keys = _signing_keys(self._jwks_client().fetch_data())
        except (jwt.PyJWTError, httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as error:
            log.warning("oidc keys not fetched", issuer=self._issuer, error=str(error))
            with self._state:
                self._failed_at = time.monotonic()
                if not self._configured_jwks_url:
                    self._client = None  # discover again: the provider may have moved its keys
            return
        with self._state:
            self._keys, self._parsed = keys, {}
            self._fetched_at, self._failed_at = time.monotonic(), None

    def _jwks_client(self) -> jwt.PyJWKClient:
        if self._client is None:
            url = self._configured_jwks_url or self._discover_jwks_url()
            # PyJWKClient only fetches: its own cache is off because, once expired, it refuses
            # every token while the provider is down and has each caller wait on the fetch.
            self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=self._timeout)
        return self._client

    def _discover_jwks_url(self) -> str:
        """The provider's `jwks_uri`, from its discovery document (OpenID Connect Discovery 1.0)."""
        url = self._issuer.rstrip("/") + DISCOVERY_PATH
        response = httpx.get(url, timeout=self._timeout)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError(f"{url} is not a JSON object")
        # Discovery section 4.3: the document must name the issuer it was asked for exactly.
        if document.get("issuer") != self._issuer:
            raise ValueError(f"{url} names issuer {document.get('issuer')!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise ValueError(f"{url} has no jwks_uri")
        return jwks_uri

    def _parse(self, kid: str, algorithm: str) -> jwt.PyJWK:
        jwk = self._keys.get(kid)
        if jwk is None:
            failed_last = self._failed_at is not None and (
                self._fetched_at is None or self._failed_at > self._fetched_at
            )
            if failed_last:
                raise InvalidToken(KEYS_UNAVAILABLE)
            raise InvalidToken(f"the token's key {kid!r} is not among the provider's keys")
        # A key that names its algorithm verifies only that one (checked by PyJWT); one that
        # does not (an RSA key may serve RS256 and PS256) takes the token's.
        bound = str(jwk.get("alg") or algorithm)
        parsed = self._parsed.get((kid, bound))
        if parsed is None:
            try:
                parsed = jwt.PyJWK(jwk, bound)
            except jwt.PyJWTError:
                raise InvalidToken(
                    f"the token's algorithm {algorithm} does not fit its key {kid!r}"
                ) from None
            self._parsed[(kid, bound)] = parsed
        return parsed


def _signing_keys(jwks: Any) -> dict[str, dict[str, Any]]:
    """The JWKS's usable signing keys by kid (keys for encryption or without a kid are left)."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise ValueError("the JWKS has no list of keys")
    usable: dict[str, dict[str, Any]] = {}
    for jwk in keys:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            jwt.PyJWK(jwk)
        except jwt.PyJWTError:
            continue  # a key type or curve PyJWT cannot use: no token of ours is signed by it
        usable[jwk["kid"]] = jwk
    return usable


class OidcVerifier:
    """Verifies the provider's JWTs and says who is calling; safe to share between threads."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_url: str = "",
        role_claim: str = "roles",
        name_claim: str = "email",
        leeway_seconds: float = 30,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        keys_lifespan_seconds: float = 300,
        unknown_key_cooldown_seconds: float = 10,
        retry_seconds: float = 5,
        fetch_timeout_seconds: float = 5,
    ) -> None:
        if not _is_http_url(issuer):
            raise ValueError(f"the OIDC issuer must be an http(s) URL, not {issuer!r}")
        if jwks_url and not _is_http_url(jwks_url):
            raise ValueError(f"the OIDC JWKS URL must be an http(s) URL, not {jwks_url!r}")
        if not audience:
            raise ValueError("an OIDC audience is required with an issuer")
        refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(f"OIDC algorithms must be public-key ones, not {refused}")
        self.issuer = issuer
        self.audience = audience
        self.role_claim = role_claim
        self.name_claim = name_claim
        self.leeway_seconds = leeway_seconds
        self.algorithms = tuple(algorithms)
        self._keys = _ProviderKeys(
            issuer,
            jwks_url,
            lifespan=keys_lifespan_seconds,
            cooldown=unknown_key_cooldown_seconds,
            retry=retry_seconds,
            timeout=fetch_timeout_seconds,
        )

    def verify(self, token: str) -> Principal:
        """The caller this token proves, or InvalidToken saying why not (may fetch keys)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the token is not a well-formed JWT") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self.algorithms:
            raise InvalidToken(f"the token's algorithm {algorithm!r} is not allowed")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key (kid)")
        claims = self._decode(token, self._keys.key(kid, algorithm))
        return Principal(name=self._name(claims), role=self._role(claims), via="oidc")

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidSignatureError:
            raise InvalidToken("the token's signature does not match its key") from None
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not yet valid") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token is from another issuer") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token is meant for another audience") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidToken(f"the token has no {error.claim!r} claim") from None
        except jwt.InvalidAlgorithmError as error:
            raise InvalidToken(f"the token's algorithm is refused: {error}") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is invalid: {error}") from None
        return claims

    def _role(self, claims: Mapping[str, Any]) -> Role:
        value = claim_at(claims, self.role_claim)
        if value is None:
            raise InvalidToken(f"the token has no {self.role_claim!r} claim")
        role = strongest_role(role_names(value))
        if role is None:
            known = ", ".join(role.value for role in ROLES_BY_PRIVILEGE)
            raise InvalidToken(f"the token's {self.role_claim!r} claim names no OMS role ({known})")
        return role

    def _name(self, claims: Mapping[str, Any]) -> str:
        name = claim_at(claims, self.name_claim)
        return name if isinstance(name, str) and name else str(claims["sub"])


def _is_http_url(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def oidc_verifier(settings: ServiceSettings) -> OidcVerifier | None:
    """The verifier the settings configure, or None when no OIDC issuer is set."""
    if not settings.oidc_issuer:
        return None
    return OidcVerifier(
        settings.oidc_issuer,
        settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url,
        role_claim=settings.oidc_role_claim,
        name_claim=settings.oidc_name_claim,
        leeway_seconds=settings.oidc_leeway_seconds,
    )
