"""The console's URL map. Kwarg names are a convention the access layer and tests rely on."""

from django.urls import include, path

from bastion.console.views import (
    access_log,
    audit,
    emissions,
    emissions_totals,
    energy,
    evidence,
    imports,
    invitations,
    members,
    organisations,
    roles,
    security,
    siem,
    suppliers,
    workspaces,
)

app_name = "console"

project_urls = [
    path("", emissions.project, name="project"),
    path("emissions/new/", emissions.emission_create, name="emission_create"),
    path("emissions/<uuid:emission_id>/", emissions.emission, name="emission"),
    path("emissions/<uuid:emission_id>/edit/", emissions.emission_edit, name="emission_edit"),
    path("emissions/<uuid:emission_id>/delete/", emissions.emission_delete, name="emission_delete"),
    path("emissions/<uuid:emission_id>/factor/", emissions_totals.emission_factor, name="emission_factor"),
    path("emissions/export/", emissions_totals.project_export, name="emission_export"),
    path("energy/", energy.energy, name="energy"),
    path("energy/new/", energy.energy_create, name="energy_create"),
    path("energy/<uuid:energy_id>/edit/", energy.energy_edit, name="energy_edit"),
    path("energy/<uuid:energy_id>/delete/", energy.energy_delete, name="energy_delete"),
    path("suppliers/", suppliers.suppliers, name="suppliers"),
    path("suppliers/new/", suppliers.supplier_create, name="supplier_create"),
    path("suppliers/<uuid:supplier_id>/edit/", suppliers.supplier_edit, name="supplier_edit"),
    path("suppliers/<uuid:supplier_id>/delete/", suppliers.supplier_delete, name="supplier_delete"),
    path("import/", imports.import_csv, name="import_records"),
    path("evidence/", evidence.evidence, name="evidence"),
    path("evidence/upload/", evidence.evidence_upload, name="evidence_upload"),
    path("evidence/<uuid:evidence_id>/download/", evidence.evidence_download, name="evidence_download"),
    path("evidence/<uuid:evidence_id>/delete/", evidence.evidence_delete, name="evidence_delete"),
]

organisation_urls = [
    path("", workspaces.dashboard, name="dashboard"),
    path("workspaces/new/", workspaces.workspace_create, name="workspace_create"),
    path("w/<uuid:workspace_id>/", workspaces.workspace, name="workspace"),
    path("w/<uuid:workspace_id>/edit/", workspaces.workspace_edit, name="workspace_edit"),
    path("w/<uuid:workspace_id>/emissions/export/", emissions_totals.workspace_export, name="workspace_emission_export"),
    path("w/<uuid:workspace_id>/projects/new/", workspaces.project_create, name="project_create"),
    path("p/<uuid:project_id>/", include(project_urls)),
    path("members/", members.members, name="members"),
    path("members/add/", members.member_add, name="member_add"),
    path("members/invitations/<uuid:invitation_id>/revoke/", members.invitation_revoke, name="invitation_revoke"),
    path("members/invitations/<uuid:invitation_id>/resend/", members.invitation_resend, name="invitation_resend"),
    path("members/<uuid:membership_id>/edit/", members.member_edit, name="member_edit"),
    path("members/<uuid:membership_id>/remove/", members.member_remove, name="member_remove"),
    path("roles/", roles.roles, name="roles"),
    path("roles/<uuid:role_id>/edit/", roles.role_edit, name="role_edit"),
    path("roles/<uuid:role_id>/delete/", roles.role_delete, name="role_delete"),
    path("audit/", audit.audit, name="audit"),
    path("access-log/", access_log.access_log, name="access_log"),
    path("access-log/settings/", access_log.access_log_settings, name="access_log_settings"),
    path("siem/", siem.siem, name="siem"),
    path("siem/<uuid:siem_destination_id>/remove/", siem.siem_remove, name="siem_remove"),
    path("siem/<uuid:siem_destination_id>/retry/", siem.siem_retry, name="siem_retry"),
    path("audit/checkpoint/", audit.checkpoint, name="audit_checkpoint"),
    path("security/", security.security, name="security"),
    path("security/mfa/", security.mfa_policy, name="security_mfa"),
    path("security/sso/", security.sso_connection, name="security_sso"),
    path("security/sso/remove/", security.sso_remove, name="security_sso_remove"),
    path("security/domains/", security.domain_add, name="security_domain_add"),
    path("security/domains/<uuid:domain_id>/verify/", security.domain_verify, name="security_domain_verify"),
    path("security/domains/<uuid:domain_id>/remove/", security.domain_remove, name="security_domain_remove"),
    path("security/scim-token/", security.scim_token, name="security_scim_token"),
    path("security/scim-token/revoke/", security.scim_token_revoke, name="security_scim_token_revoke"),
    # Security monitoring's alerts live in operations (the console may not import it: same layer).
    path("security/alerts/", include("bastion.operations.security_monitoring.urls")),
    path("security/notices/", include("bastion.incidents.urls_organisation")),
    path("security/access/", include("bastion.support_access.organisation_urls")),
]

urlpatterns = [
    path("", organisations.home, name="home"),
    path("orgs/", organisations.organisations, name="organisations"),
    path("invitations/<str:token>/", invitations.invitation, name="invitation"),
    path("o/<slug:org>/", include(organisation_urls)),
]
