"""Sign-in throughput with Argon2id (Bastion's parameters) vs PBKDF2-SHA256 at 200,000
iterations (the seeds' choice), in the same run: a full console sign-in (form, user lookup, hash
check, session rotation and save, audit event) one after another on one core, then the hash
check alone for each.

    uv run python bench/login.py                                         # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/login.py     # PostgreSQL
"""

from __future__ import annotations

import argparse

from _setup import per_call, setup_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--short", action="store_true", help="one sign-in of each, only to prove the bench still runs")
    args = parser.parse_args()
    calls, rounds = (1, 1) if args.short else (10, 3)
    setup_database()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    from bastion.identity.passwords import BastionArgon2Hasher

    class Pbkdf2200k(PBKDF2PasswordHasher):
        iterations = 200_000

    globals()["Pbkdf2200k"] = Pbkdf2200k  # importable as __main__.Pbkdf2200k
    configured = {"argon2id": "bastion.identity.passwords.BastionArgon2Hasher", "pbkdf2-200k": "__main__.Pbkdf2200k"}
    password = "bench passphrase for sign-in"
    hashers = {"argon2id": BastionArgon2Hasher(), "pbkdf2-200k": Pbkdf2200k()}
    users = {}
    for name, hasher in hashers.items():
        user = get_user_model().objects.create_user(email=f"{name}@bench.example", password=None,
                                                    email_verified=True)
        user.password = make_password(password, hasher=hasher)
        user.save(update_fields=["password"])
        users[name] = user

    print(f"database: {connection.vendor}; argon2id t={BastionArgon2Hasher.time_cost}, "
          f"m={BastionArgon2Hasher.memory_cost // 1024} MiB, p={BastionArgon2Hasher.parallelism}; "
          f"pbkdf2_sha256 {Pbkdf2200k.iterations} iterations")
    results = {}
    for name, user in users.items():
        def sign_in(email=user.email):
            client = Client()
            response = client.post(reverse("account_login"), {"login": email, "password": password})
            assert response.status_code == 302, response.status_code

        stored = user.password
        # Each as a deployment configured with that hasher (so no sign-in rehashes with the other).
        with override_settings(PASSWORD_HASHERS=[configured[name]]):
            full = per_call(sign_in, calls, rounds=rounds)
        check = per_call(lambda stored=stored, hasher=hashers[name]: hasher.verify(password, stored), calls, rounds=rounds)
        results[name] = full
        print(f"{name:12} sign-in {1 / full:6.1f}/s ({full * 1e3:6.1f} ms)   hash check alone {check * 1e3:6.1f} ms")
    print(f"ratio argon2id / pbkdf2-200k sign-in time: {results['argon2id'] / results['pbkdf2-200k']:.2f}")


if __name__ == "__main__":
    main()
