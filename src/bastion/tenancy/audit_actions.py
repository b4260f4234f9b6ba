"""The audit actions of tenancy changes."""

from bastion.audit.registry import action

ORGANISATION_CREATED = action("organisation.created", "An organisation was founded")
ORGANISATION_UPDATED = action("organisation.updated", "An organisation's settings changed")
ORGANISATION_DELETED = action("organisation.deleted", "An organisation was deleted and its keys destroyed")
WORKSPACE_CREATED = action("workspace.created", "A workspace was created")
WORKSPACE_UPDATED = action("workspace.updated", "A workspace was renamed or described")
WORKSPACE_DELETED = action("workspace.deleted", "A workspace and everything in it was deleted")
PROJECT_CREATED = action("project.created", "A project was created")
PROJECT_UPDATED = action("project.updated", "A project was renamed or described")
PROJECT_DELETED = action("project.deleted", "A project and everything in it was deleted")
MEMBER_ADDED = action("member.added", "A role was granted to a user")
MEMBER_ROLE_CHANGED = action("member.role_changed", "A member's role changed")
MEMBER_REMOVED = action("member.removed", "A member's role was taken away")
ROLE_CREATED = action("role.created", "A custom role was defined")
ROLE_UPDATED = action("role.updated", "A custom role's name or permissions changed")
ROLE_DELETED = action("role.deleted", "A custom role was deleted")
API_KEY_CREATED = action("api_key.created", "An API key was created")
API_KEY_REVOKED = action("api_key.revoked", "An API key was revoked")
API_KEY_ADDRESS_CHANGED = action(
    "api_key.address_changed",
    "An API key was used from another address than at its last recorded use (at most once a minute)",
)
CREDENTIAL_STORED = action("credential.stored", "A third-party credential was put in the vault")
CREDENTIAL_ROTATED = action("credential.rotated", "A vaulted credential was replaced by a new one")
CREDENTIAL_USED = action("credential.used", "A vaulted credential was opened for use")
CREDENTIAL_DELETED = action("credential.deleted", "A vaulted credential was deleted")
ARTIFACT_CONSUMED = action("artifact.consumed", "An ephemeral file (an export) was downloaded, and deleted as it was")
ARTIFACT_EXPIRED = action("artifact.expired", "An ephemeral file was deleted, unused, when it expired")
KEYS_ROTATION_STARTED = action("keys.rotation_started", "New key versions were made; re-encryption under them began")
KEYS_ROTATED = action("keys.rotated", "The organisation's encryption keys were rotated and its data re-encrypted")
AUDIT_WITNESS_ADDED = action(
    "audit.witness.added",
    "A witness (webhook or email) was registered to receive every signed checkpoint",
)
AUDIT_WITNESS_REMOVED = action("audit.witness.removed", "A witness of the audit log was removed")
AUDIT_WITNESS_DELIVERED = action(
    "audit.witness.delivered",
    "A signed checkpoint was delivered to an organisation's witness (platform chain)",
)
AUDIT_WITNESS_DELIVERY_FAILED = action(
    "audit.witness.delivery_failed",
    "A checkpoint could not be delivered to a witness; retried later (platform chain)",
)
CUSTOMER_KEY_CONFIGURED = action("customer_key.configured",
                                 "The organisation's own key (BYOK) was set, and its keys re-wrapped under it")
CUSTOMER_KEY_USED = action("customer_key.used", "The organisation's own key wrapped or unwrapped one of its keys")
