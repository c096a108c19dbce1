"""Settings common to every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.runtime.access import parse_token

# Tansu's own count: a killed memory-only Tansu loses its topics, and a client's metadata request
# may have it make one again (with 4) before `oms up` does; every other count then changes under
# the running services (relays republish, faust's agents crash on PartitionsMismatch). More
# instances than 4 per service need `--partitions` (and a broker that keeps its topics).
DEFAULT_TOPIC_PARTITIONS = 4


class ServiceSettings(BaseSettings):
    """Configuration of one service process, read from environment variables only."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/oms",
        description="PostgreSQL URL of this service's own database (created if missing).",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_idempotence: bool = Field(
        False, description="Producer idempotence; on for Apache Kafka, off for Tansu."
    )
    fetch_wait_busy_ms: int = Field(
        10,
        ge=1,
        description="How long the broker may hold a consumer's fetch while events flow (no"
        " doorbell): on Tansu, which answers a fetch only when the wait is over, each hop's"
        " latency floor.",
    )
    fetch_wait_idle_ms: int = Field(
        200,
        ge=1,
        description="Without a doorbell, the fetch wait once no event came for"
        " `fetch_quiet_seconds`: the first event after a quiet spell may wait this long.",
    )
    fetch_wait_rung_ms: int = Field(
        1, ge=1, description="The fetch wait of a consumer the doorbell woke (see doorbell_dir)."
    )
    fetch_quiet_seconds: float = Field(
        2.0, gt=0, description="How long without events before fetches use the idle wait."
    )
    doorbell_fallback_seconds: float = Field(
        1.0,
        gt=0,
        description="How often a consumer waiting for its doorbell asks the broker anyway: a"
        " lost ring delays a message by at most this.",
    )
    doorbell_dir: str = Field(
        "",
        description="A directory shared by the services of one machine, where relays ring"
        " the consumers of a topic they published to (see shared/runtime/doorbell.py); for"
        " Tansu. Empty: no doorbell (Apache Kafka wakes a waiting fetch itself).",
    )
    topic_partitions: int = Field(
        DEFAULT_TOPIC_PARTITIONS, ge=1, description="Partition count of the v1 topics."
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    consumer_batch_size: int = Field(200, ge=1)
    consumer_group: str = Field(
        "", description="Kafka consumer group; empty means the service's name (the default)."
    )
    relay_batch_size: int = Field(500, ge=1)
    gap_rewind_seconds: float = Field(
        5.0, gt=0, description="A partition waiting this long for a missing message is re-read."
    )
    gap_alarm_seconds: float = Field(
        30.0, gt=0, description="A gap this old raises the alarm (metric, log, /readyz 503)."
    )
    parked_check_seconds: float = Field(
        5.0,
        gt=0,
        description="How often a worker with a parked stored event looks for a fix or an ops"
        " decision (the relay waits at such an event; see `parked_events`).",
    )
    leader_timeout_seconds: float = Field(
        5.0,
        gt=1.0,
        description="A leader whose lock does not answer this long stops its work; the server"
        " frees the lock of a leader silent for twice this long.",
    )
    aggregate_cache_size: int = Field(10_000, ge=0)
    access_bootstrap_token: SecretStr | None = Field(
        None,
        description="A break-glass admin token (`oms_<32 hex>_<43 base64url>`) every API accepts"
        " without any grant: `oms up` makes one in its var directory; in production, create the"
        " first admin with it, then unset it (docs/architecture.md, Access).",
    )
    log_level: str = "INFO"
    run_api: bool = True
    run_workers: bool = Field(True, description="Run consumers, relay and projections.")

    # access control: OIDC
    oidc_issuer: str = Field(
        "",
        description="The OpenID Connect provider whose JWTs are accepted as bearer tokens, exactly"
        " as its tokens' `iss` claim says (e.g. https://id.example.com/realms/oms). Empty: OIDC"
        " tokens are refused and only OMS access tokens are accepted.",
    )
    oidc_jwks_url: str = Field(
        "",
        description="Where the provider publishes its signing keys; empty: found as `jwks_uri` of"
        " `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0).",
    )
    oidc_audience: str = Field(
        "",
        description="The `aud` a token must carry to be accepted (required with an issuer): the"
        " OMS's client or API identifier at the provider.",
    )
    oidc_role_claim: str = Field(
        "roles",
        description="Dotted path to the claim holding the caller's roles (a string or a list):"
        " `roles` (Entra ID), `realm_access.roles` or `resource_access.<client>.roles`"
        " (Keycloak), a namespaced claim such as `https://oms.example.com/roles` (Auth0).",
    )
    oidc_name_claim: str = Field(
        "email",
        description="The claim naming the caller in the OMS (actors, logs); `sub` when a token"
        " lacks it.",
    )
    oidc_leeway_seconds: float = Field(
        30,
        ge=0,
        description="Clock skew allowed between the provider and the OMS when checking a token's"
        " `exp`, `nbf` and `iat`.",
    )

    @field_validator("access_bootstrap_token")
    @classmethod
    def _well_formed_token(cls, value: SecretStr | None) -> SecretStr | None:
        """A bootstrap token a caller could never present is a mistake, said at start-up;
        an empty one is none (Compose passes an unset variable as "")."""
        if value is None or not value.get_secret_value():
            return None
        if parse_token(value.get_secret_value()) is None:
            raise ValueError("must be an OMS access token: oms_<32 hex>_<43 base64url characters>")
        return value
