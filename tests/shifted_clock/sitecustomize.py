"""Test-only: put this directory on the PYTHONPATH of a ``bastion demo`` subprocess (and of anything
run with its environment) and the grants' clock, ``bastion.support_access.clock.now``, runs ahead of
the real one by the seconds written in the file ``BASTION_TEST_CLOCK_OFFSET_FILE`` names. The test
writes that file to move the server's time; every process (web workers, the job worker, a job run
from the test) reads it on each call, so they all share one clock. Sessions, TOTP and the rest keep
real time. Nothing in ``src`` knows of it."""

import datetime
import os
from pathlib import Path


def _install() -> None:
    offset_file = os.environ.get("BASTION_TEST_CLOCK_OFFSET_FILE")
    if not offset_file:
        return
    from bastion.support_access import clock

    real_now = clock.now

    def now():
        try:
            seconds = float(Path(offset_file).read_text() or 0)
        except FileNotFoundError:
            seconds = 0.0
        return real_now() + datetime.timedelta(seconds=seconds)

    clock.now = now


_install()
