"""The NinjaAPI instance: authentication, error shape and routers."""

from __future__ import annotations

from bastion.api import errors
from bastion.api.access_log import router as access_log_router
from bastion.api.access_requests import router as access_requests_router
from bastion.api.api_keys import router as api_keys_router
from bastion.api.audit import public_router as audit_public_router
from bastion.api.audit import router as audit_router
from bastion.api.credentials import router as credentials_router
from bastion.api.customer_key import router as customer_key_router
from bastion.api.emissions import router as emissions_router
from bastion.api.members import router as members_router
from bastion.api.notices import router as notices_router
from bastion.api.openapi import DocumentedApi
from bastion.api.organisations import router as organisations_router
from bastion.api.posture import router as posture_router
from bastion.api.privacy import router as privacy_router
from bastion.api.records import router as records_router
from bastion.api.routing import credentials
from bastion.api.scim_tokens import router as scim_tokens_router
from bastion.api.siem import router as siem_router
from bastion.api.sso import router as sso_router
from bastion.api.staff_incidents import router as staff_incidents_router

api = DocumentedApi(
    title="Bastion API",
    version="1",
    description=(
        "Every operation is authorized in three layers: credential, membership of the organisation "
        "in the path, permission on the resource. Another organisation's objects answer 404. "
        'Errors are {"error": {"code", "message", "fields"}}.'
    ),
    auth=credentials(),
    urls_namespace="api",
    docs_url=None,
)
errors.install(api)
api.add_router("", organisations_router)
api.add_router("", members_router)
api.add_router("", records_router)
api.add_router("", audit_router)
api.add_router("", api_keys_router)
api.add_router("", credentials_router)
api.add_router("", scim_tokens_router)
api.add_router("", audit_public_router)
api.add_router("", sso_router)
api.add_router("", privacy_router)
api.add_router("", notices_router)
api.add_router("", posture_router)
api.add_router("", staff_incidents_router)
api.add_router("", access_requests_router)
api.add_router("", access_log_router)
api.add_router("", siem_router)
api.add_router("", customer_key_router)
api.add_router("", emissions_router)
