"""Uploads: a body larger than the largest upload is refused from its Content-Length before it is
read; downloads are attachments that nothing can execute."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.sign_in import signed_in_with_second_factor

pytestmark = pytest.mark.django_db


def _evidence_url(world, api: bool) -> str:
    project, item = world.acme.project.id, world.acme.evidence.id
    if api:
        return f"/api/v1/orgs/acme/projects/{project}/evidence/{item}/download"
    return f"/o/acme/p/{project}/evidence/{item}/download/"


def test_an_oversized_body_is_refused_before_it_is_read(world, settings):
    settings.BASTION_EVIDENCE_MAX_BYTES = 2048
    client = Client()
    signed_in_with_second_factor(client, world.acme.users["editor"])
    url = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/evidence"
    # The body is tiny; only the declared length is large: nothing is read to refuse it.
    refused = client.generic("POST", url, b"x", content_type="multipart/form-data; boundary=b",
                             CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert refused.status_code == 413 and refused.json()["error"]["code"] == "too_large"
    console = client.generic("POST", f"/o/acme/p/{world.acme.project.id}/evidence/upload/", b"x",
                             content_type="multipart/form-data; boundary=b", CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert console.status_code == 413
    malformed = client.generic("POST", url, b"x", content_type="application/json", CONTENT_LENGTH="lots")
    assert malformed.status_code == 400


@pytest.mark.parametrize("api", [False, True], ids=["console", "api"])
def test_a_download_is_an_attachment_that_cannot_run(world, api):
    client = Client()
    signed_in_with_second_factor(client, world.acme.users["viewer"])
    response = client.get(_evidence_url(world, api))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    outsider = Client()
    signed_in_with_second_factor(outsider, world.globex.users["owner"])
    assert outsider.get(_evidence_url(world, api)).status_code == 404
