"""Emissions totals and charts on project and workspace pages, a record's factor, and exports (CSV,
XLSX) of what the filters show."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from bastion.access_log.recording import shown
from bastion.console.forms import EmissionFilterForm, FactorChoiceForm
from bastion.emissions import calculation, charts, exports, library, totals
from bastion.emissions import filters as emission_filters
from bastion.emissions.models import Calculation
from bastion.records.models import EmissionRecord
from bastion.tenancy import artifacts
from bastion.tenancy.access import requires


def totals_context(records, query) -> dict:
    result = totals.compute(records).as_dict()
    params = query.copy()
    params.pop("page", None)
    return {"totals": result, "year_chart": charts.by_scope_over_years(result["by_year"]),
            "category_chart": charts.by_category(result["by_category"]), "filter_query": params.urlencode()}


def factor_context(access, record: EmissionRecord) -> dict:
    context: dict[str, object] = {"calculation": Calculation.objects.filter(record=record).first()}
    if access.can("records.edit"):
        suggestions = library.suggest(record.organisation_id, record.category, record.unit, record.period_start.year)
        current = context["calculation"]
        initial = {"factor": current.factor_ref} if isinstance(current, Calculation) else {}
        context["factor_form"] = FactorChoiceForm(initial=initial, suggestions=suggestions) if suggestions else None
    return context


@requires("records.edit")
@require_POST
def emission_factor(request, org, project_id, emission_id):
    record = get_object_or_404(EmissionRecord.objects.filter(project=request.access.project), id=emission_id)
    suggestions = library.suggest(record.organisation_id, record.category, record.unit, record.period_start.year)
    form = FactorChoiceForm(request.POST, suggestions=suggestions)
    if form.is_valid():
        try:
            result = calculation.assign(record, form.cleaned_data["factor"], form.cleaned_data.get("market_factor") or None,
                                        user=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, f"Factor chosen: {result.kgco2e.normalize():,f} kgCO2e.")
    else:
        messages.error(request, "Choose one of the factors offered.")
    return redirect("console:emission", org=org, project_id=project_id, emission_id=emission_id)


def _export(request, records):
    what, fmt = request.GET.get("what", "records"), request.GET.get("format", "xlsx")
    if what not in ("records", "totals") or fmt not in exports.CONTENT_TYPES:
        raise Http404
    filters = EmissionFilterForm(request.GET)
    if not filters.is_valid():
        raise Http404
    records = emission_filters.filtered(records, **filters.cleaned_data)
    artifact = exports.export(request.access.organisation, records, what=what, fmt=fmt)
    return FileResponse(artifacts.consume(artifact), as_attachment=True, filename=exports.filename(what, fmt),
                        content_type=exports.CONTENT_TYPES[fmt])


@requires("records.view")
def project_export(request, org, project_id):
    shown(request.access, "export", "project", [request.access.project])
    return _export(request, EmissionRecord.objects.filter(project=request.access.project))


@requires("records.view")
def workspace_export(request, org, workspace_id):
    shown(request.access, "export", "workspace", [request.access.workspace])
    return _export(request, EmissionRecord.objects.filter(project__workspace=request.access.workspace))


def workspace_context(request) -> dict:
    """Totals of the workspace's records for who may see them all (a grant on the workspace or above)."""
    if not request.access.can("records.view"):
        return {}
    filters = EmissionFilterForm(request.GET)
    records = EmissionRecord.objects.filter(project__workspace=request.access.workspace)
    if filters.is_valid():
        records = emission_filters.filtered(records, **filters.cleaned_data)
    return {"filters": filters, **totals_context(records, request.GET)}
