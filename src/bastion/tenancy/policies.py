"""Read policies of the tenancy tables that are wider than 'this organisation only'."""

# The organisation table: readable as the active organisation, through the user's own
# memberships, or in platform scope (jobs that iterate organisations); written only as itself.
ORGANISATION_READ = (
    "id = bastion_current_org()"
    " OR id IN (SELECT organisation_id FROM tenancy_membership WHERE user_id = bastion_current_user())"
    " OR bastion_platform_scope()"
)
MEMBERSHIP_READ = "organisation_id = bastion_current_org() OR user_id = bastion_current_user()"
