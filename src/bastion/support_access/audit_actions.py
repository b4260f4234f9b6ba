"""Audit actions of platform staff and their access to organisations."""

from bastion.audit.registry import action

STAFF_CREATED = action("support_access.staff.created", "A platform staff account was created (platform chain)")
ACCESS_REQUESTED = action("support_access.request.created", "Platform staff asked for access to the organisation")
ACCESS_APPROVED = action("support_access.request.approved",
                         "An organisation admin approved a staff access request (one of the approvals it needs)")
ACCESS_DENIED = action("support_access.request.denied", "An organisation admin denied a staff access request")
ACCESS_EXPIRED = action("support_access.request.expired", "A staff access request expired unanswered")
GRANT_OPENED = action("support_access.grant.opened", "A staff access grant opened (all approvals given)")
BREAK_GLASS_OPENED = action("support_access.grant.break_glass_opened",
                            "A second staff member approved break-glass access: the grant opened at once")
GRANT_REVOKED = action("support_access.grant.revoked", "The organisation revoked a staff access grant")
GRANT_USED = action("support_access.grant.used",
                    "A request made under a staff access grant (the page, record or file, and any change)")
GRANT_REVIEWED = action("support_access.grant.reviewed",
                        "An organisation admin or a security staff member marked an ended grant reviewed")
POLICY_CHANGED = action("support_access.policy.changed",
                        "The organisation changed how many admins must approve staff access")
