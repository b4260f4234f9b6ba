"""The audit actions of tenancy changes."""

from bastion.audit.registry import register

register({
    "organisation.created": "An organisation was founded",
    "organisation.updated": "An organisation's settings changed",
    "organisation.deleted": "An organisation was deleted and its keys destroyed",
    "workspace.created": "A workspace was created",
    "workspace.updated": "A workspace was renamed or described",
    "workspace.deleted": "A workspace and everything in it was deleted",
    "project.created": "A project was created",
    "project.updated": "A project was renamed or described",
    "project.deleted": "A project and everything in it was deleted",
    "member.added": "A role was granted to a user",
    "member.role_changed": "A member's role changed",
    "member.removed": "A member's role was taken away",
    "role.created": "A custom role was defined",
    "role.updated": "A custom role's name or permissions changed",
    "role.deleted": "A custom role was deleted",
    "api_key.created": "An API key was created",
    "api_key.revoked": "An API key was revoked",
    "credential.stored": "A third-party credential was put in the vault",
    "credential.rotated": "A vaulted credential was replaced by a new one",
    "credential.used": "A vaulted credential was opened for use",
    "credential.deleted": "A vaulted credential was deleted",
    "artifact.consumed": "An ephemeral file (an export) was downloaded, and deleted as it was",
    "artifact.expired": "An ephemeral file was deleted, unused, when it expired",
    "keys.rotation_started": "New key versions were made; re-encryption under them began",
    "keys.rotated": "The organisation's encryption keys were rotated and its data re-encrypted",
})
