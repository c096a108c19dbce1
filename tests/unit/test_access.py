"""Access rules, tokens, the grants every service keeps, and the gateway's users (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.channel_gateway import integration
from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.domain import (
    InvalidUserError,
    TokenNotFoundError,
    User,
    UserDisabledError,
    UserExistsError,
)
from shared import events as ev
from shared.runtime.access import (
    AccessPolicy,
    Grant,
    Role,
    Rule,
    hash_matches,
    new_token,
    parse_token,
)
from shared.runtime.access_grants import (
    AccessGrant,
    AccessGrants,
    on_access_granted,
    on_access_revoked,
)
from shared.runtime.application import ServiceApplication, UnitOfWork
from shared.runtime.tracing import traced

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grant", "allowed"),
    [
        (Grant.ADMIN, {Role.ADMIN}),
        (Grant.OPS, {Role.ADMIN, Role.OPS}),
        (Grant.WAREHOUSE, {Role.ADMIN, Role.WAREHOUSE}),
        (Grant.OPS_OR_WAREHOUSE, {Role.ADMIN, Role.OPS, Role.WAREHOUSE}),
        (Grant.SIGNED_IN, set(Role)),
    ],
)
def test_admin_may_do_everything_and_each_grant_lets_in_only_its_roles(grant, allowed):
    assert {role for role in Role if grant.allows(role)} == allowed


def test_the_longest_matching_path_decides_and_reads_need_only_a_sign_in():
    policy = AccessPolicy(
        {
            "/returns": Rule(writes=Grant.OPS),
            "/returns/{return_id}/receive": Rule(writes=Grant.OPS_OR_WAREHOUSE),
            "/users": Rule(writes=Grant.ADMIN, reads=Grant.ADMIN),
        }
    )
    assert policy.grant_for("POST", "/v1/returns") is Grant.OPS
    assert policy.grant_for("POST", "/v1/returns/{return_id}/receive") is Grant.OPS_OR_WAREHOUSE
    assert policy.grant_for("GET", "/v1/returns/{return_id}") is Grant.SIGNED_IN
    assert policy.grant_for("GET", "/v1/users") is Grant.ADMIN
    assert policy.rule_for("/v1/returnsx") is None  # a prefix of a word is no match
    assert policy.uncovered(["/v1/returns/{id}", "/v1/refunds", "/livez"]) == ["/v1/refunds"]


def test_a_token_is_random_its_hash_is_all_that_is_kept_and_a_changed_one_does_not_match():
    made, other = new_token(), new_token()
    assert parse_token(made.token) == made.token_id and made.token_id != other.token_id
    assert made.token_hash not in made.token and len(made.token_hash) == 64
    assert hash_matches(made.token, made.token_hash)
    assert not hash_matches(made.token[:-1] + "x", made.token_hash)
    assert not hash_matches(other.token, made.token_hash)
    for malformed in ("", "oms_", f"{made.token} ", made.token.upper(), "Bearer " + made.token):
        assert parse_token(malformed) is None


def granted(token_id: str, token_hash: str, expires_at: datetime | None = None) -> ev.AccessGranted:
    return ev.AccessGranted(
        token_id=token_id,
        principal="packing-bench-2",
        role="warehouse",
        token_hash=token_hash,
        expires_at=expires_at,
        granted_by="admin@example.com",
        granted_at=NOW,
    )


def revoked(token_id: str) -> ev.AccessRevoked:
    return ev.AccessRevoked(
        token_id=token_id, principal="packing-bench-2", revoked_by="admin", revoked_at=NOW
    )


def apply(app: ServiceApplication, handler, event) -> None:
    uow = UnitOfWork(app)
    handler(app, event, uow)
    uow.commit()


def test_a_service_accepts_a_granted_token_until_it_expires_and_never_after_revocation():
    app = ServiceApplication()
    made = new_token()
    apply(app, on_access_granted, granted(made.token_id, made.token_hash, NOW + timedelta(days=1)))
    apply(app, on_access_granted, granted(made.token_id, made.token_hash))  # redelivered
    grant = app.repository.get(AccessGrant.create_id(made.token_id))
    assert grant.version == 1
    assert grant.accepts(made.token, NOW)
    assert not grant.accepts(made.token, NOW + timedelta(days=1))  # expired
    assert not grant.accepts(new_token().token, NOW)

    principal = AccessGrants(app).principal(made.token)
    assert principal is not None and (principal.name, principal.role) == (
        "packing-bench-2",
        Role.WAREHOUSE,
    )
    apply(app, on_access_revoked, revoked(made.token_id))
    assert AccessGrants(app).principal(made.token) is None


def test_a_revocation_that_overtakes_its_grant_keeps_the_grant_from_ever_taking_effect():
    app = ServiceApplication()
    made = new_token()
    apply(app, on_access_revoked, revoked(made.token_id))
    apply(app, on_access_granted, granted(made.token_id, made.token_hash))
    assert AccessGrants(app).principal(made.token) is None


def test_a_verdict_is_reused_for_a_second_then_read_again():
    app = ServiceApplication()
    made = new_token()
    apply(app, on_access_granted, granted(made.token_id, made.token_hash))
    clock = [100.0]
    grants = AccessGrants(app, cache_seconds=1.0, clock=lambda: clock[0])
    assert grants.principal(made.token) is not None
    apply(app, on_access_revoked, revoked(made.token_id))
    clock[0] += 0.5
    assert grants.cached(made.token) is not None  # still the old verdict
    clock[0] += 0.6
    assert grants.cached(made.token) is None
    assert grants.principal(made.token) is None


def test_users_get_tokens_with_their_role_and_a_disabled_one_loses_them_all():
    app = ChannelOrders()
    with traced("req-1", "req-1", "admin@example.com"):
        app.users.create("ฝ่ายคลัง@example.co.th", "warehouse", "person")
        user, first = app.users.issue_token("ฝ่ายคลัง@example.co.th", "bench", timedelta(days=30))
        _, second = app.users.issue_token("ฝ่ายคลัง@example.co.th", "", None)
        with pytest.raises(UserExistsError):
            app.users.create("ฝ่ายคลัง@EXAMPLE.co.th", "viewer", "person")
        disabled = app.users.disable("ฝ่ายคลัง@example.co.th")
        with pytest.raises(UserDisabledError):
            app.users.issue_token("ฝ่ายคลัง@example.co.th", "", None)
        with pytest.raises(TokenNotFoundError):
            app.users.revoke_token("ฝ่ายคลัง@example.co.th", "0" * 32)
    assert user.created_by == "admin@example.com"
    assert all(t["revoked_by"] == "admin@example.com" for t in disabled.tokens.values())
    published = [integration.PUBLISHES[type(e)] for e in app.events.get(user.id)]
    events = [m(e) for m, e in zip(published, app.events.get(user.id), strict=True) if callable(m)]
    assert [type(e).__name__ for e in events] == [
        "AccessGranted",
        "AccessGranted",
        "AccessRevoked",
        "AccessRevoked",
    ]
    assert events[0].role == "warehouse" and events[0].token_hash == first.token_hash
    assert events[0].expires_at is not None and events[1].expires_at is None
    assert {e.token_id for e in events[2:]} == {first.token_id, second.token_id}
    assert not any(first.token in str(e) for e in app.events.get(user.id))


@pytest.mark.parametrize(("name", "role"), [("two words", "ops"), ("a/b", "ops"), ("x", "root")])
def test_a_user_needs_a_name_without_spaces_or_slashes_and_a_known_role(name, role):
    with pytest.raises(InvalidUserError):
        User(name, role, "person", "admin")
