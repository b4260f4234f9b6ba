"""No secret the platform holds appears in logs, error answers, audit details, exports or API responses."""

from __future__ import annotations

import base64
import io
import json
import logging

import structlog
from django.db import transaction

from bastion.audit.models import AuditEvent
from bastion.crypto import keyfiles, keyring
from bastion.crypto.models import ApiKey
from bastion.tenancy import context


def _forms(secret: bytes) -> list[str]:
    return [base64.b64encode(secret).decode(), secret.hex()]


def _json_log():
    """Every logger's output as `bastion serve` writes it (JSON lines, bastion.operations.logs)."""
    from bastion.operations.logs import logging_config

    options = dict(logging_config("json", "DEBUG")["formatters"]["structured"])
    options.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(**options))
    return stream, handler


def test_secrets_stay_out_of_every_output(world, client, client_for, caplog):
    caplog.set_level(logging.DEBUG)
    json_log, json_handler = _json_log()
    logging.getLogger().addHandler(json_handler)
    acme = world.acme
    admin = client_for(acme.users["admin"])
    created = admin.post("/api/v1/orgs/acme/api-keys", content_type="application/json",
                         data=json.dumps({"name": "ETL", "scopes": ["records.view", "suppliers.view"]}))
    token = created.json()["token"]  # the one response allowed to carry it
    secret = token[17:57]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    base = f"/api/v1/orgs/acme/projects/{acme.project.id}"

    outputs = []

    def keep(response):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        outputs.append(body.decode("utf-8", "replace"))
        outputs.append(json.dumps(dict(response.items())))
        return response

    keep(client.get(base + "/suppliers", **bearer))
    keep(client.post(base + "/emissions", data="{}", content_type="application/json", **bearer))  # 403
    keep(client.get(base + "/emissions?period_from=nonsense", **bearer))  # 422
    keep(client.get(base + "/emissions", HTTP_AUTHORIZATION=f"Bearer {token[:-1]}x"))  # 401, a mangled key
    keep(client.get(base + "/emissions", HTTP_AUTHORIZATION=f"Bearer {token}junk"))  # 401
    keep(admin.get("/api/v1/orgs/acme/api-keys"))
    keep(admin.get("/api/v1/orgs/acme/audit/events?page_size=200"))
    keep(admin.get("/api/v1/orgs/acme/audit/export"))
    keep(admin.patch(f"{base}/suppliers/{acme.supplier.id}", content_type="application/json",
                     data=json.dumps({"contact_email": "new.person@supplier.example", "contract_value": "991.50"})))
    keep(admin.get(f"/o/acme/p/{acme.project.id}/suppliers/"))
    vault_secret, vault_refresh = "xoxb-vaulted-1234567890-abcdefghijkl", "refresh-vaulted-0987654321-zyxw"
    stored = keep(admin.post("/api/v1/orgs/acme/credentials", content_type="application/json",
                             data=json.dumps({"name": "Slack", "service": "slack", "kind": "oauth",
                                              "secret": vault_secret, "refresh_token": vault_refresh})))
    credential_url = f"/api/v1/orgs/acme/credentials/{stored.json()['id']}"
    keep(admin.post(credential_url + "/rotate", content_type="application/json",
                    data=json.dumps({"secret": vault_secret + "-v2", "refresh_token": "x" * 20000})))  # 422
    keep(admin.get(credential_url))
    keep(admin.get("/api/v1/orgs/acme/credentials"))
    sso_secret = "oidc-client-secret-0123456789-abcdefghij"
    keep(admin.put("/api/v1/orgs/acme/sso", content_type="application/json",
                   data=json.dumps({"protocol": "oidc", "issuer": "https://idp.acme.example", "client_id": "bastion",
                                    "client_secret": sso_secret})))
    keep(admin.get("/api/v1/orgs/acme/sso"))

    with context.tenant_context(acme.organisation.id), transaction.atomic():
        stored_hash = ApiKey.objects.get(public_id=token[4:16]).secret_hash
        assert acme.credential.secret  # opened while the key is at hand
        audit_details = [json.dumps({"changes": e.changes, "label": e.actor_label, "resource": e.resource_id})
                         for e in AuditEvent.objects.filter(chain_id=acme.organisation.id)]
        version, data_key = keyring.current(acme.organisation.id)
    kek = keyfiles.read_or_create(f"orgs/{acme.organisation.id}-v1.key")
    pepper = keyfiles.read_or_create("api-key-pepper.key")

    secrets = [token, secret, stored_hash, *_forms(data_key), *_forms(kek), *_forms(pepper),
               vault_secret, vault_refresh, acme.credential.secret, acme.credential.refresh_token, sso_secret]
    logging.getLogger().removeHandler(json_handler)
    assert '"event": "request"' in json_log.getvalue()
    haystacks = {"responses": outputs, "logs": [caplog.text, json_log.getvalue()], "audit details": audit_details}
    for where, texts in haystacks.items():
        for text in texts:
            for value in secrets:
                assert value not in text, f"a secret leaked into {where}"
    # Personal data and contract terms are recorded as changed, never in clear, in the audit log.
    for text in audit_details:
        assert "new.person@supplier.example" not in text and "991.50" not in text
    # Only the creation response showed it, once.
    assert token in created.content.decode()
