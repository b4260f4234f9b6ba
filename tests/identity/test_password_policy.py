"""The password policy (NIST SP 800-63B): length, not composition; no common or breached
passwords; nothing of the user's own; Argon2id hashes, older PBKDF2 hashes upgraded at sign-in."""

from __future__ import annotations

import tracemalloc

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from bastion.identity.passwords import COMMON_PASSWORDS
from tests.sign_in import sign_in

REAL_HASHERS = ["bastion.identity.passwords.BastionArgon2Hasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def _codes(password, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {e.code for e in error.error_list}
    return set()


def test_the_shipped_list_holds_over_100000_common_and_breached_passwords():
    assert len(COMMON_PASSWORDS) >= 100_000
    for common in ("password1234", "iloveyou1234", "123456789012", "qwertyuiop123", "PassWordPassWord"):
        assert common in COMMON_PASSWORDS and _codes(common) == {"password_common"}, common


def test_a_lookup_reads_a_few_records_not_the_list():
    "x" in COMMON_PASSWORDS  # noqa: B015  (maps the file)
    tracemalloc.start()
    try:
        "a long and unusual passphrase" in COMMON_PASSWORDS  # noqa: B015
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16_384  # the list is 900 KB


@pytest.mark.parametrize("password, expected", [
    ("short pass", {"password_too_short"}),
    ("elevenchars", {"password_too_short"}),
    ("twelve chars", set()),
    ("all lower case words are fine", set()),  # no composition rules
    ("8305 1946 7720", set()),
    ("x" * 64, set()),
    ("ünïcödé pässwörd ✓ 日本語", set()),
    ("p" * 256, set()),
    ("p" * 257, {"password_too_long"}),
])
def test_length_is_the_rule(password, expected, db):
    assert _codes(password) == expected


def test_nothing_of_the_users_own(world):
    user = world.acme.users["editor"]  # editor@acme.example, first name "Editor"
    assert _codes("my editor@acme.example pw", user) == {"password_personal"}
    assert _codes("EDITOR plus some words", user) == {"password_personal"}
    assert _codes("correct horse battery staple", user) == set()
    # The outsider's name is not the user's: it is fine for this user, refused for its owner.
    outsider = world.globex.users["viewer"]
    assert _codes("globex viewer words here", user) == set()
    assert _codes("globex viewer words here", outsider) == {"password_personal"}


def test_hashes_are_argon2id_with_the_documented_parameters(settings, world):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    user = world.acme.users["editor"]
    user.set_password("a fresh passphrase for hashing")
    assert user.password.startswith("argon2$argon2id$v=19$m=65536,t=3,p=4$")


def test_an_old_pbkdf2_hash_is_upgraded_at_the_next_sign_in_only(settings, client, world):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    user = world.acme.users["viewer"]
    user.password = make_password("an old password from 2019", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    sign_in(client, user.email, "wrong password here")
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")  # a failed attempt changes nothing
    sign_in(client, user.email, "an old password from 2019")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$") and user.check_password("an old password from 2019")
    assert world.globex.users["viewer"].password == type(user).objects.get(pk=world.globex.users["viewer"].pk).password
