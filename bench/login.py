"""Sign-in latency with Argon2id (Bastion's parameters) vs PBKDF2-SHA256 at 200,000
iterations (the seeds' choice), in the same run: a full console sign-in (form, user lookup, hash
check, session rotation and save, audit event) one after another on one core, then the hash
check alone for each. Each is reported as its median and p95, with the flow's own cost (the
sign-in's p95 minus the hash's) and the number of queries one sign-in makes (issue 22: p95
≤ 130 ms with Argon2id, the flow ≤ 30 ms beyond the hash).

    uv run python bench/login.py                                         # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/login.py     # PostgreSQL
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import setup_database


def timings(function, calls: int) -> list[float]:
    """Seconds of each of ``calls`` calls of ``function``, after one warm-up call."""
    function()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--short", action="store_true", help="one sign-in of each, only to prove the bench still runs")
    parser.add_argument("--calls", type=int, default=40, help="sign-ins (and hash checks) measured for each hasher")
    args = parser.parse_args()
    calls = 1 if args.short else args.calls
    setup_database()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
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
        client = Client()  # one server (its middleware loaded once), a new browser for each sign-in

        def sign_in(email=user.email, client=client):
            client.cookies.clear()
            response = client.post(reverse("account_login"), {"login": email, "password": password})
            assert response.status_code == 302, response.status_code

        stored = user.password
        # Each as a deployment configured with that hasher (so no sign-in rehashes with the other).
        with override_settings(PASSWORD_HASHERS=[configured[name]]):
            full = timings(sign_in, calls)
            with CaptureQueriesContext(connection) as queries:
                sign_in()
        check = timings(lambda stored=stored, hasher=hashers[name]: hasher.verify(password, stored), calls)
        results[name] = statistics.median(full)
        print(f"{name:12} sign-in median {statistics.median(full) * 1e3:6.1f} ms, p95 {p95(full) * 1e3:6.1f} ms"
              f"   hash alone median {statistics.median(check) * 1e3:6.1f} ms, p95 {p95(check) * 1e3:6.1f} ms"
              f"   flow beyond the hash: median {(statistics.median(full) - statistics.median(check)) * 1e3:5.1f} ms,"
              f" p95 {(p95(full) - p95(check)) * 1e3:5.1f} ms   queries per sign-in {len(queries.captured_queries)}")
    print(f"ratio argon2id / pbkdf2-200k sign-in time: {results['argon2id'] / results['pbkdf2-200k']:.2f}")


if __name__ == "__main__":
    main()
