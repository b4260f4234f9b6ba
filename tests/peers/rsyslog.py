"""Debian's rsyslogd receiving syslog over TLS (RFC 5425, rsyslog-gnutls), as an unprivileged process
with its own configuration, port, certificates and output file in a temporary directory."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import free_port
from tests.peers.certificates import make_ca_and_leaf

RSYSLOGD = "/usr/sbin/rsyslogd"

CONFIG = """
global(workDirectory="{dir}"
       DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="{ca}"
       DefaultNetstreamDriverCertFile="{cert}"
       DefaultNetstreamDriverKeyFile="{key}")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="siem" type="string" string="%msgid%|%app-name%|%structured-data%|%msg%\\n")
ruleset(name="siem") {{ action(type="omfile" file="{out}" template="siem") }}
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="siem")
"""


@dataclass
class Rsyslog:
    port: int
    ca_pem: str
    output: Path

    def lines(self) -> list[str]:
        return self.output.read_text().splitlines() if self.output.exists() else []


@contextlib.contextmanager
def rsyslog_tls(directory: Path) -> Iterator[Rsyslog]:
    directory.mkdir(parents=True, exist_ok=True)
    ca, cert, key = make_ca_and_leaf(directory / "certs")
    port = free_port()
    output = directory / "received.log"
    config = directory / "rsyslog.conf"
    config.write_text(CONFIG.format(dir=directory, ca=ca, cert=cert, key=key, out=output, port=port))
    process = subprocess.Popen([RSYSLOGD, "-n", "-f", str(config), "-i", str(directory / "rsyslogd.pid")],
                               stdout=subprocess.DEVNULL, stderr=(directory / "rsyslogd.err").open("wb"))
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("rsyslogd did not start: " + (directory / "rsyslogd.err").read_text()) from None
                time.sleep(0.1)
        yield Rsyslog(port=port, ca_pem=ca.read_text(), output=output)
    finally:
        process.terminate()
        process.wait(timeout=10)
