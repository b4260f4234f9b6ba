"""The organisation's security settings page: the MFA policy, single sign-on (connection and
email domains) and the SCIM token. Each change goes through the same audited functions as the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.console.forms import DomainForm, MfaPolicyForm, SSOConnectionForm, add_action_errors
from bastion.identity.mfa.step_up import step_up_required
from bastion.identity.models import ScimToken
from bastion.identity.scim import tokens
from bastion.identity.sso import configuration as sso_configuration
from bastion.identity.sso.models import SSOConnection, VerifiedDomain
from bastion.support_access import requests as support_requests
from bastion.tenancy import actions, customer_keys
from bastion.tenancy.access import requires


def _page(request, **forms_and_extra):
    organisation = request.access.organisation
    connection = SSOConnection.objects.filter(organisation=organisation).first()
    initial = {name: getattr(connection, name) for name in SSOConnectionForm.base_fields
               if name != "client_secret"} if connection else None
    context = {
        "mfa_form": MfaPolicyForm(initial={"mfa_required": organisation.mfa_required}),
        "sso_form": SSOConnectionForm(initial=initial),
        "domain_form": DomainForm(),
        "connection": connection,
        "domains": VerifiedDomain.objects.order_by("domain"),
        "txt_prefix": sso_configuration.TXT_PREFIX,
        "scim_token": ScimToken.objects.filter(revoked_at__isnull=True).first(),
        "scim_base_url": request.build_absolute_uri("/scim/v2/"),
        "unreviewed_grants": support_requests.unreviewed(organisation.id),
        # Customer-managed keys exist on aws-kms only; their state is read from the customer's account.
        "customer_key": customer_keys.status(organisation) if settings.BASTION_KMS == "aws-kms" else None,
        **forms_and_extra,
    }
    return render(request, "console/security.html", context)


def _back(org):
    return redirect("console:security", org=org)


def _submit(request, org, form_name: str, form, act, done: str):
    """Run ``act(cleaned_data)`` for a valid form: back to the page with ``done``, or the page again
    with the form and the action's errors on it."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, done)
            return _back(org)
    return _page(request, **{form_name: form})


@requires("organisation.manage")
def security(request, org):
    return _page(request)


@requires("organisation.manage")
@require_POST
@step_up_required
def mfa_policy(request, org):
    form = MfaPolicyForm(request.POST)
    if form.is_valid():
        actions.update_organisation(request.access.organisation, mfa_required=form.cleaned_data["mfa_required"])
        messages.success(request, "MFA policy saved.")
    return _back(org)


@requires("organisation.manage")
@require_POST
@step_up_required
def sso_connection(request, org):
    def save(values):
        sso_configuration.configure(request.access.organisation, configured_by=request.user,
                            grantor_grants=request.access.grants,
                            **{**values, "client_secret": values["client_secret"] or None})

    return _submit(request, org, "sso_form", SSOConnectionForm(request.POST), save, "Single sign-on saved.")


@requires("organisation.manage")
@require_POST
@step_up_required
def sso_remove(request, org):
    connection = get_object_or_404(SSOConnection.objects.all())
    sso_configuration.remove(connection)
    messages.success(request, "Single sign-on removed: its users sign in with a password again.")
    return _back(org)


@requires("organisation.manage")
@require_POST
@step_up_required
def domain_add(request, org):
    return _submit(request, org, "domain_form", DomainForm(request.POST),
                   lambda values: sso_configuration.add_domain(request.access.organisation, values["domain"]),
                   "Domain added: publish its TXT record, then verify it.")


@requires("organisation.manage")
@require_POST
def domain_verify(request, org, domain_id):
    try:
        record = sso_configuration.verify_domain(get_object_or_404(VerifiedDomain.objects.all(), id=domain_id))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{record.domain} is verified.")
    return _back(org)


@requires("organisation.manage")
@require_POST
@step_up_required
def domain_remove(request, org, domain_id):
    sso_configuration.remove_domain(get_object_or_404(VerifiedDomain.objects.all(), id=domain_id))
    messages.success(request, "Domain removed.")
    return _back(org)


@requires("members.manage")
@require_POST
@step_up_required
def scim_token(request, org):
    token, secret = tokens.create(request.access.organisation, creator=request.user)
    # Shown in this answer only, never again (and never through a redirect that could be replayed).
    return _page(request, new_scim_token=secret)


@requires("members.manage")
@require_POST
def scim_token_revoke(request, org):
    tokens.revoke(request.access.organisation)
    messages.success(request, "SCIM token revoked: provisioning stops until a new one is made.")
    return _back(org)
