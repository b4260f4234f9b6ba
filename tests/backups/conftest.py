from __future__ import annotations

import pytest

from tests.backups import installation
from tests.peers.moto import CREDENTIALS, moto_server


@pytest.fixture(scope="session")
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def site():
    """A SQLite installation with demo data, evidence files and anchored checkpoints."""
    return installation.new(CREDENTIALS)
