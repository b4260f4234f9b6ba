"""Console input forms. They parse and shape input; the actions in tenancy and records validate it."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import fields_for_model

from bastion.records.models import EmissionRecord, EnergyRecord, Supplier
from bastion.records.vocabulary import CATEGORIES, SCOPES
from bastion.tenancy.models import Role
from bastion.tenancy.permissions import BUILTIN_ROLE_NAMES, PERMISSIONS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOTES_WIDGET = forms.Textarea(attrs={"rows": 3})


def add_action_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a ``ValidationError`` raised by an action on ``form``: per field where the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        if name in form.fields or name == NON_FIELD_ERRORS:
            form.add_error(name, errors)
        else:
            form.add_error(None, [ValidationError(f"{name}: {e.message}", code=e.code, params=e.params) for e in errors])


class RecordForm(forms.Form):
    """A form whose fields are a record model's, so labels, choices and limits match the model."""

    model: type
    field_names: list[str]
    widgets: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(self.model, fields=self.field_names, widgets=self.widgets))

    @classmethod
    def initial_from(cls, instance) -> dict:
        """The stored values, numbers written as lists show them (5400.000000 → 5400; the ``number``
        filter adds thousands separators, which a number input cannot hold)."""
        initial = forms.model_to_dict(instance, fields=cls.field_names)
        return {name: f"{value.normalize():f}" if isinstance(value, Decimal) else value
                for name, value in initial.items()}


class EmissionForm(RecordForm):
    model = EmissionRecord
    field_names = [
        "scope", "category", "activity", "quantity", "unit", "period_start", "period_end", "site", "supplier", "notes",
    ]
    widgets = {"period_start": DATE_WIDGET, "period_end": DATE_WIDGET, "notes": NOTES_WIDGET}

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "---------")] + [
            (SCOPES[scope], list(by_scope.items())) for scope, by_scope in CATEGORIES.items()
        ]
        self.fields["supplier"].queryset = Supplier.objects.filter(project=project)


class EnergyForm(RecordForm):
    model = EnergyRecord
    field_names = ["meter", "site", "kwh", "source", "period_start", "period_end", "notes"]
    widgets = {"period_start": DATE_WIDGET, "period_end": DATE_WIDGET, "notes": NOTES_WIDGET}


class SupplierForm(RecordForm):
    model = Supplier
    field_names = ["name", "country", "contact_name", "contact_email", "contract_value", "notes"]
    widgets = {"notes": NOTES_WIDGET}


class EmissionFilterForm(forms.Form):
    scope = forms.TypedChoiceField(
        choices=[("", "All scopes")] + sorted(SCOPES.items()), coerce=int, empty_value=None, required=False
    )
    category = forms.ChoiceField(
        choices=[("", "All categories")] + [(k, v) for by_scope in CATEGORIES.values() for k, v in by_scope.items()],
        required=False,
    )
    site = forms.CharField(max_length=200, required=False)
    period_from = forms.DateField(label="Period from", required=False, widget=DATE_WIDGET)
    period_to = forms.DateField(label="Period to", required=False, widget=DATE_WIDGET)

    def clean(self):
        data = super().clean()
        if data.get("period_from") and data.get("period_to") and data["period_to"] < data["period_from"]:
            self.add_error("period_to", ValidationError("The end is before the start.", code="period_reversed"))
        return data


class FactorChoiceForm(forms.Form):
    """The factor of one emissions record, from the suggestions for its category and unit."""

    factor = forms.ChoiceField(label="Emission factor")
    market_factor = forms.ChoiceField(label="Market-based factor (scope 2)", required=False)

    def __init__(self, *args, suggestions=(), **kwargs):
        super().__init__(*args, **kwargs)
        location = [f for f in suggestions if f.basis != "market"]
        market = [f for f in suggestions if f.basis == "market"]
        self.fields["factor"].choices = [(f.ref, f"{f.name} — {f.kgco2e_per_unit} kgCO2e/{f.unit} ({f.publisher}, {f.year})")
                                         for f in location]
        self.fields["market_factor"].choices = [("", "None (use location-based)")] + [
            (f.ref, f"{f.name} — {f.kgco2e_per_unit} kgCO2e/{f.unit} ({f.year})") for f in market]
        if not market:
            del self.fields["market_factor"]


class NameForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=2000, required=False, widget=NOTES_WIDGET)


class CsvImportForm(forms.Form):
    kind = forms.ChoiceField(choices=[("emissions", "Emissions records"), ("energy", "Energy records")])
    file = forms.FileField(label="CSV file", help_text="UTF-8, with a header row.")


class EvidenceUploadForm(forms.Form):
    file = forms.FileField()
    emission_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    energy_id = forms.UUIDField(required=False, widget=forms.HiddenInput)


def role_choices() -> list[tuple[str, str]]:
    """Built-in roles, then the organisation's custom roles as ``custom:<uuid>``."""
    custom = [(f"custom:{role.id}", f"{role.name} (custom)") for role in Role.objects.order_by("name")]
    return list(BUILTIN_ROLE_NAMES.items()) + custom


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices()


class AddMemberForm(MembershipRoleForm):
    email = forms.EmailField(label="Email address",
                             help_text="Anyone: they are emailed a link to sign up (or sign in) and accept.")
    scope = forms.ChoiceField(required=False, help_text="Leave as the organisation to grant the role everywhere.")
    field_order = ["email", "role", "scope"]

    def __init__(self, *args, workspaces, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [
            ("", "Whole organisation"),
            ("Workspaces", [(f"workspace:{w.id}", w.name) for w in workspaces]),
            ("Projects", [(f"project:{p.id}", f"{p.workspace.name} › {p.name}") for p in projects]),
        ]
        self.fields["role"].initial = "viewer"


class RoleForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False)
    permissions = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {description}") for name, description in PERMISSIONS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )



class MfaPolicyForm(forms.Form):
    mfa_required = forms.BooleanField(required=False, label="Every member must use a second factor",
                                      help_text="Owners and admins always must. Others are asked at their next sign-in.")


class SSOConnectionForm(forms.Form):
    protocol = forms.ChoiceField(choices=[("oidc", "OpenID Connect"), ("saml", "SAML 2.0")])
    default_role = forms.ChoiceField(choices=[("viewer", "Viewer"), ("editor", "Editor"), ("admin", "Admin")],
                                     help_text="The role of someone who signs in for the first time.")
    issuer = forms.URLField(required=False, assume_scheme="https", label="OpenID Connect issuer URL")
    client_id = forms.CharField(required=False, max_length=255, label="Client ID")
    client_secret = forms.CharField(required=False, max_length=2000, label="Client secret",
                                    widget=forms.PasswordInput(render_value=False),
                                    help_text="Left empty, the stored secret is kept.")
    idp_entity_id = forms.CharField(required=False, max_length=500, label="SAML IdP entity ID")
    idp_sso_url = forms.URLField(required=False, max_length=500, assume_scheme="https", label="SAML IdP sign-on URL")
    idp_certificate = forms.CharField(required=False, max_length=10000, label="SAML IdP signing certificate (PEM)",
                                      widget=forms.Textarea(attrs={"rows": 6}))
    allow_idp_initiated = forms.BooleanField(required=False, label="Accept sign-ins the SAML IdP starts")
    enabled = forms.BooleanField(required=False, initial=True)


class DomainForm(forms.Form):
    domain = forms.CharField(max_length=253, help_text="e.g. example.com: its users will sign in through your IdP.")
