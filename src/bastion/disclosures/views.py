"""The public disclosures: the data inventory (``/privacy/data-inventory`` and ``.json``) with the
data-flow table. Open to anyone; generated from the models and settings on every request."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from bastion.disclosures import inventory, residency
from bastion.tenancy.access import public


def _document() -> dict:
    return {
        "region": settings.BASTION_REGION or None,
        "classes": list(inventory.CLASSES),
        "models": inventory.summary(),
        "data_flows": residency.data_flows(),
        "subprocessors": settings.BASTION_SUBPROCESSORS,
    }


@public
@require_safe
def data_inventory(request):
    return render(request, "disclosures/data_inventory.html", _document())


@public
@require_safe
def data_inventory_json(request):
    response = JsonResponse(_document())
    response["Access-Control-Allow-Origin"] = "*"  # public, read by customers' vendor-risk tools
    return response
