"""BASTION_ENVIRONMENT: production by default and without a banner; staging and development show
one on every console page; an unknown value is refused (bastion.E003) naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.live_server import ROOT

pytestmark = pytest.mark.django_db


def test_production_is_the_default_and_shows_no_banner(client_for, world):
    assert django_settings.BASTION_ENVIRONMENT == "production"
    page = client_for(world.acme.users["viewer"]).get(reverse("console:dashboard", kwargs={"org": "acme"}))
    assert page.status_code == 200 and b"environment-banner" not in page.content


@pytest.mark.parametrize("name", ["staging", "development"])
def test_other_environments_show_their_name_on_every_console_page(client_for, world, settings, name):
    settings.BASTION_ENVIRONMENT = name
    client = client_for(world.acme.users["viewer"])
    for url in (reverse("console:dashboard", kwargs={"org": "acme"}), reverse("console:organisations")):
        page = client.get(url)
        assert page.status_code == 200
        assert f'data-environment="{name}"'.encode() in page.content
        assert f"{name.capitalize()} environment: not production".encode() in page.content
    # The outsider's organisation still answers nothing, banner or not.
    assert client.get(reverse("console:dashboard", kwargs={"org": "globex"})).status_code == 404


def test_an_unknown_environment_is_refused_with_its_check_id(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_"))}
    env.update(BASTION_DATA_DIR=str(tmp_path / "data"), BASTION_ENVIRONMENT="prod")
    result = subprocess.run(
        [sys.executable, "-m", "bastion.cli", "config", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bastion.E003" in result.stdout and "BASTION_ENVIRONMENT" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
