"""The organisation's read-access log: who viewed or downloaded what, filtered by person and resource;
and, for its admins, what it records."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bastion.access_log import configuration, people, queries
from bastion.access_log.models import KINDS
from bastion.tenancy.access import requires

PAGE_SIZE = 50


class AccessLogFilterForm(forms.Form):
    actor = forms.CharField(label="Person (email or id)", required=False, max_length=254)
    kind = forms.ChoiceField(required=False, choices=[("", "Everything"), *KINDS.items()])
    resource_type = forms.CharField(label="Resource type", required=False, max_length=50)
    resource_id = forms.CharField(label="Resource id", required=False, max_length=100)


class AccessLogSettingsForm(forms.Form):
    record_views = forms.BooleanField(required=False, label="Record views (lists and detail pages)")
    evidence_downloads = forms.BooleanField(required=False, label="Evidence downloads")
    exports = forms.BooleanField(required=False, label="Exports")
    credential_previews = forms.BooleanField(required=False, label="Credentials shown")


@requires("audit.view")
def access_log(request, org):
    organisation_id = request.access.organisation.id
    filters = AccessLogFilterForm(request.GET)
    page = None
    if filters.is_valid():
        found = queries.batches(organisation_id, **filters.cleaned_data)
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        shown = people.labels(page.object_list)
        for batch in page.object_list:
            batch.shown_label = shown[batch.pk]
    settings_form = None
    if request.access.can("organisation.manage"):
        settings_form = AccessLogSettingsForm(initial=configuration.as_dict(configuration.current(organisation_id)))
    return render(request, "console/access_log.html", {"filters": filters, "page": page, "settings_form": settings_form})


@requires("organisation.manage")
@require_POST
def access_log_settings(request, org):
    form = AccessLogSettingsForm(request.POST)
    if form.is_valid():
        configuration.update(request.access.organisation.id, **form.cleaned_data)
        messages.success(request, "The read-access log's settings are saved.")
    return redirect("console:access_log", org=org)
