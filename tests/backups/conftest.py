from __future__ import annotations

import shutil
from urllib.parse import quote

import psycopg
import pytest

from bastion.backups import keys
from tests.backups import installation
from tests.backups.pg_peer import cluster_with_pgbackrest, postgres_cluster, postgres_owned_base
from tests.peers.moto import CREDENTIALS


@pytest.fixture(scope="session")
def moto_url(moto_endpoint):
    """The session's one moto_server (tests/conftest.py)."""
    return moto_endpoint


@pytest.fixture(scope="module")
def site():
    """A SQLite installation with demo data, evidence files and anchored checkpoints."""
    return installation.new(CREDENTIALS)


@pytest.fixture(scope="session")
def peer(moto_url, tmp_path_factory, django_db_blocker):
    """One PostgreSQL cluster with pgBackRest (local + S3 over TLS) for the whole session: every test
    that needs one shares it (stanza, moto and socat are started once)."""
    wrapped = tmp_path_factory.mktemp("pgbackrest-key") / "passphrase.wrapped"
    with django_db_blocker.unblock():
        passphrase = keys.pgbackrest_passphrase(wrapped)
    with cluster_with_pgbackrest(moto_url, passphrase) as peer:
        peer.wrapped_passphrase = wrapped
        with peer.connect() as connection:
            connection.execute("CREATE TABLE ledger (id serial PRIMARY KEY, note text, at timestamptz DEFAULT now())")
        yield peer


@pytest.fixture(scope="module")
def pg_site():
    """A Bastion installation on a PostgreSQL cluster of its own that archives nothing yet:
    ``bastion backup setup`` is to configure pgBackRest for it (local repository only)."""
    base = postgres_owned_base("bastion-pg-site-")
    try:
        with postgres_cluster(base) as cluster:
            with psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user="postgres", dbname="postgres",
                                 autocommit=True) as connection:
                connection.execute("CREATE DATABASE bastion")
            site = installation.new({**CREDENTIALS,
                                     "DATABASE_URL": f"postgres://postgres@{quote(str(cluster.socket_dir), safe='')}:"
                                                     f"{cluster.port}/bastion",
                                     "BASTION_PGBACKREST_CONFIG": str(base / "pgbackrest.conf"),
                                     "BASTION_BACKUP_DIR": str(base / "repo1")})
            site.cluster = cluster
            yield site
    finally:
        shutil.rmtree(base, ignore_errors=True)
