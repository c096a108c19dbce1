"""People's passwords: the rules, the scrypt hash, who may have one, and the sign-in throttle."""

from __future__ import annotations

import unicodedata

import pytest

from services.channel_gateway.domain import (
    NotAPersonError,
    PasswordError,
    PasswordHash,
    ScryptParameters,
    User,
    UserDisabledError,
    check_password,
    dummy_check,
)
from shared.runtime.throttle import FailureThrottle, ThrottledError

THAI = "รหัสผ่านของสมชาย ๒๕๖๙"
JAPANESE = "パスワードは秘密です"  # 10 characters: too short alone
# Small parameters keep the tests fast; the stored parameters decide how a hash is checked.
CHEAP = ScryptParameters(n=2**4, r=8, p=1)


def test_the_right_password_matches_and_a_wrong_one_does_not():
    made = PasswordHash.make(THAI, CHEAP)
    assert made.matches(THAI)
    assert not made.matches(THAI + " ")
    assert not made.matches("รหัสผ่านของสมชาย ๒๕๖๘")


def test_the_hash_is_stored_with_its_parameters_and_read_back_whole():
    made = PasswordHash.make(THAI, ScryptParameters(n=2**5, r=4, p=2))
    stored = made.encode()
    assert stored.startswith("scrypt$n=32,r=4,p=2$")
    assert THAI not in stored
    again = PasswordHash.decode(stored)
    assert again == made
    assert again.parameters == ScryptParameters(n=32, r=4, p=2)
    assert len(again.salt) == 16 and len(again.key) == 64
    assert again.matches(THAI)


def test_the_default_parameters_are_scrypt_n_2_14_r_8_p_1():
    assert ScryptParameters() == ScryptParameters(n=2**14, r=8, p=1)
    assert (
        PasswordHash.make(THAI, ScryptParameters()).encode().startswith("scrypt$n=16384,r=8,p=1$")
    )


def test_the_same_password_gets_a_different_salt_and_key_each_time():
    first, second = PasswordHash.make(THAI, CHEAP), PasswordHash.make(THAI, CHEAP)
    assert first.salt != second.salt
    assert first.key != second.key
    assert first.matches(THAI) and second.matches(THAI)


def test_a_password_typed_composed_or_decomposed_is_the_same_password():
    password = "がぎぐげご ぱぴぷぺぽ がぎ"
    decomposed = unicodedata.normalize("NFD", password)
    assert decomposed != password
    assert PasswordHash.make(password, CHEAP).matches(decomposed)


def test_a_hash_shows_neither_salt_nor_key_when_printed():
    made = PasswordHash.make(THAI, CHEAP)
    assert made.key.hex() not in repr(made) and str(made.salt) not in repr(made)


def test_a_name_without_a_password_is_checked_at_the_same_cost_and_never_matches():
    assert dummy_check(THAI, CHEAP) is False


@pytest.mark.parametrize("password", [THAI, JAPANESE + "です", "correct horse battery", "x" * 200])
def test_a_password_of_12_to_200_characters_in_any_script_is_taken(password):
    check_password(password)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        (JAPANESE, "at least 12"),
        ("x" * 201, "at most 200"),
        (" " * 12, "only whitespace"),
        ("\t\n\u3000" * 5, "only whitespace"),  # ideographic spaces too
    ],
)
def test_a_short_long_or_blank_password_is_refused_saying_why(password, why):
    with pytest.raises(PasswordError, match=why):
        check_password(password)


def test_only_a_person_who_is_not_disabled_may_have_a_password():
    person = User("somchai@example.co.th", "ops", "person", "admin")
    machine = User("shopee-sync", "ops", "machine", "admin")
    person.check_may_have_password()
    assert person.may_sign_in and not machine.may_sign_in
    with pytest.raises(NotAPersonError):
        machine.check_may_have_password()
    person.disable("admin", person.created_on)
    assert not person.may_sign_in
    with pytest.raises(UserDisabledError):
        person.check_may_have_password()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: FailureThrottle, key: str) -> None:
    with throttle.attempt(key) as attempt:
        attempt.fail()


def test_five_failures_within_the_window_refuse_the_name_until_the_oldest_leaves_it():
    clock = Clock()
    throttle = FailureThrottle(5, 900, clock=clock)
    for _ in range(5):
        fail(throttle, "somchai")
        clock.now += 60
    with pytest.raises(ThrottledError) as refused, throttle.attempt("somchai"):
        pass
    assert refused.value.retry_after == 900 - 5 * 60
    with throttle.attempt("someone-else"):  # other names are not held up
        pass
    clock.now = 1000.0 + 900  # the first failure leaves the window: one more try
    fail(throttle, "somchai")
    with pytest.raises(ThrottledError) as again, throttle.attempt("somchai"):
        pass
    assert again.value.retry_after == 60


def test_a_success_forgets_the_failures_of_the_name():
    throttle = FailureThrottle(5, 900, clock=Clock())
    for _ in range(4):
        fail(throttle, "somchai")
    with throttle.attempt("somchai"):
        pass  # signed in
    for _ in range(4):
        fail(throttle, "somchai")
    with throttle.attempt("somchai"):
        pass


def test_attempts_under_way_count_so_parallel_guesses_do_not_pass_the_limit():
    throttle = FailureThrottle(2, 900, clock=Clock())
    with throttle.attempt("somchai"), throttle.attempt("somchai"):
        with pytest.raises(ThrottledError) as refused, throttle.attempt("somchai"):
            pass
        assert refused.value.retry_after == 1


def test_an_attempt_that_ends_in_an_error_counts_neither_way():
    throttle = FailureThrottle(2, 900, clock=Clock())
    fail(throttle, "somchai")
    with pytest.raises(RuntimeError), throttle.attempt("somchai"):
        raise RuntimeError("database down")
    fail(throttle, "somchai")  # the earlier failure still counts
    with pytest.raises(ThrottledError), throttle.attempt("somchai"):
        pass


def test_the_names_that_failed_longest_ago_are_forgotten_beyond_the_bound():
    throttle = FailureThrottle(1, 900, max_keys=2, clock=Clock())
    for name in ("a", "b", "c"):
        fail(throttle, name)
    with throttle.attempt("a"):  # forgotten
        pass
    with pytest.raises(ThrottledError), throttle.attempt("c"):
        pass
