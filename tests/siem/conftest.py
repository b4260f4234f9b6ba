import pytest

from tests.peers.rsyslog import rsyslog_tls


@pytest.fixture(scope="session")
def rsyslog(tmp_path_factory):
    """Debian's rsyslogd taking syslog over TLS, once for the session."""
    with rsyslog_tls(tmp_path_factory.mktemp("rsyslog")) as server:
        yield server


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.BASTION_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.BASTION_SIEM_ALLOW_HTTP = True
