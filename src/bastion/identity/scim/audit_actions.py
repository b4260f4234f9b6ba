"""The audit actions of SCIM provisioning."""

from bastion.audit.registry import register

register({
    "scim.token.created": "A SCIM token was made for the organisation (the previous one, if any, is revoked)",
    "scim.token.revoked": "The organisation's SCIM token was revoked",
    "scim.user.created": "The identity provider provisioned a user into the organisation",
    "scim.user.updated": "The identity provider changed a user's attributes",
    "scim.user.deactivated": "The identity provider deactivated a user: memberships removed, their API keys "
                             "revoked, every session ended",
    "scim.user.reactivated": "The identity provider reactivated a user: membership restored with the default role",
    "scim.user.deleted": "The identity provider deleted a user from the organisation (deactivated and unlinked)",
    "scim.account.disabled": "An account was disabled: SCIM deactivated it and it belongs to no organisation",
    "scim.account.enabled": "A disabled account was enabled again by a SCIM (re)activation",
    "scim.group.created": "The identity provider created a group",
    "scim.group.updated": "The identity provider changed a group's name or members",
    "scim.group.deleted": "The identity provider deleted a group",
})
