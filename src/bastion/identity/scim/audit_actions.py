"""The audit actions of SCIM provisioning."""

from bastion.audit.registry import action

SCIM_TOKEN_CREATED = action(
    "scim.token.created",
    "A SCIM token was made for the organisation (the previous one, if any, is revoked)",
)
SCIM_TOKEN_REVOKED = action("scim.token.revoked", "The organisation's SCIM token was revoked")
SCIM_USER_CREATED = action("scim.user.created", "The identity provider provisioned a user into the organisation")
SCIM_USER_UPDATED = action("scim.user.updated", "The identity provider changed a user's attributes")
SCIM_USER_DEACTIVATED = action(
    "scim.user.deactivated",
    "The identity provider deactivated a user: memberships removed, their API keys revoked, every session ended",
)
SCIM_USER_REACTIVATED = action(
    "scim.user.reactivated",
    "The identity provider reactivated a user: membership restored with the default role",
)
SCIM_USER_DELETED = action(
    "scim.user.deleted",
    "The identity provider deleted a user from the organisation (deactivated and unlinked)",
)
SCIM_ACCOUNT_DISABLED = action(
    "scim.account.disabled",
    "An account was disabled: SCIM deactivated it and it belongs to no organisation",
)
SCIM_ACCOUNT_ENABLED = action("scim.account.enabled", "A disabled account was enabled again by a SCIM (re)activation")
SCIM_GROUP_CREATED = action("scim.group.created", "The identity provider created a group")
SCIM_GROUP_UPDATED = action("scim.group.updated", "The identity provider changed a group's name or members")
SCIM_GROUP_DELETED = action("scim.group.deleted", "The identity provider deleted a group")
