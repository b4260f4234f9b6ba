"""Settings of the server ``sustained_reads.py`` starts, and of nothing else: Bastion's own settings
plus a bare view at ``/bare/`` (``_bench_urls``). This module lives in ``bench/``, which is neither
installed nor on a server's path: only a process started with ``DJANGO_SETTINGS_MODULE=_bench_settings``
and ``bench/`` on ``PYTHONPATH`` (the bench's own server) has the URL; production cannot."""

from bastion.settings import *  # noqa: F403

ROOT_URLCONF = "_bench_urls"
