"""A SoftHSM2 token of the test's own: its configuration and token directory in a private temporary
directory, initialised with ``softhsm2-util``, the user PIN in a 0600 file. What the ``pkcs11`` KMS
provider is tested against (Debian's softhsm2; the module is ``/usr/lib/softhsm/libsofthsm2.so``)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"


@dataclass(frozen=True)
class Token:
    label: str
    library: str
    conf: Path
    pin_file: Path

    def env(self) -> dict[str, str]:
        """What a Bastion process needs to use this token (its own SOFTHSM2_CONF included)."""
        return {"BASTION_KMS": "pkcs11", "BASTION_PKCS11_LIBRARY": self.library,
                "BASTION_PKCS11_TOKEN_LABEL": self.label, "BASTION_PKCS11_PIN_FILE": str(self.pin_file),
                "SOFTHSM2_CONF": str(self.conf)}


def make_token(label: str = "bastion-test") -> Token:
    directory = Path(tempfile.mkdtemp(prefix="bastion-softhsm-"))
    (directory / "tokens").mkdir(mode=0o700)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    pin_file = directory / "pin"
    pin_file.touch(mode=0o600)
    pin_file.write_text("4711-test-pin\n")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "so-pin-0815",
                    "--pin", "4711-test-pin"], env={**os.environ, "SOFTHSM2_CONF": str(conf)}, check=True,
                   capture_output=True)
    return Token(label, LIBRARY, conf, pin_file)
