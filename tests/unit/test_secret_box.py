"""Channel secrets sealed at rest: what the gateway stores, reads, rotates and refuses."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet, InvalidToken

from services.channel_gateway.settings import Settings
from services.channel_gateway.views import SecretBox, SecretKeysError, UnreadableSecretsError

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SECRET = "shpss_0123456789abcdef"


def test_a_sealed_secret_opens_to_itself_and_its_stored_form_holds_no_plaintext():
    box = SecretBox([NEW_KEY])

    stored = box.seal(SECRET)

    assert SECRET not in json.dumps(stored)
    assert box.open(stored) == SECRET


def test_with_a_new_key_first_an_old_secret_still_opens_and_reseal_moves_it_under_the_new_key():
    stored = SecretBox([OLD_KEY]).seal(SECRET)
    rotating = SecretBox.from_setting(f"{NEW_KEY}, {OLD_KEY}")

    assert rotating.open(stored) == SECRET
    resealed = rotating.reseal(stored)

    assert SecretBox([NEW_KEY]).open(resealed) == SECRET
    with pytest.raises(InvalidToken):
        SecretBox([OLD_KEY]).open(resealed)


def test_a_secret_sealed_with_a_key_that_is_not_configured_is_refused():
    stored = SecretBox([OLD_KEY]).seal(SECRET)

    with pytest.raises(InvalidToken):
        SecretBox([NEW_KEY]).open(stored)
    with pytest.raises(InvalidToken):
        SecretBox([NEW_KEY]).reseal(stored)


def test_a_value_stored_before_encryption_reads_as_it_is_and_reseal_seals_it():
    box = SecretBox([NEW_KEY])

    assert box.open_all({"webhook_secret": SECRET}) == {"webhook_secret": SECRET}
    sealed = box.reseal_all({"webhook_secret": SECRET})

    assert SECRET not in json.dumps(sealed)
    assert box.open_all(sealed) == {"webhook_secret": SECRET}


def test_something_stored_that_is_neither_plaintext_nor_sealed_is_refused():
    with pytest.raises(InvalidToken):
        SecretBox([NEW_KEY]).open({"other": SECRET})


def test_without_a_key_the_box_is_refused_with_how_to_make_one():
    with pytest.raises(SecretKeysError) as refused:
        SecretBox.from_setting(" , ")

    assert "OMS_GATEWAY_SECRETS_KEYS" in str(refused.value)
    assert "Fernet.generate_key()" in str(refused.value)


def test_a_key_that_is_not_a_fernet_key_is_refused_by_its_place_never_by_its_value():
    with pytest.raises(SecretKeysError) as refused:
        SecretBox.from_setting(f"{NEW_KEY},not-a-key-at-all")

    assert "key 2 of" in str(refused.value)
    assert "not-a-key-at-all" not in str(refused.value)
    assert refused.value.__cause__ is None


def test_unreadable_secrets_name_every_channel_once():
    error = UnreadableSecretsError(["woo-de", "shopify-eu", "woo-de"])

    assert error.channel_ids == ["shopify-eu", "woo-de"]
    assert "shopify-eu, woo-de" in str(error)
    assert error.details() == {"channels": ["shopify-eu", "woo-de"]}


def test_the_gateway_settings_never_show_the_keys():
    settings = Settings(secrets_keys=NEW_KEY)

    assert NEW_KEY not in repr(settings)
    assert NEW_KEY not in str(settings.model_dump())
    assert settings.secrets_keys.get_secret_value() == NEW_KEY
