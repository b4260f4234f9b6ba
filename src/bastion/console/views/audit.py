"""The organisation's audit log: filter and page through its events, see whether the chain is intact."""

from __future__ import annotations

import datetime
import json

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render

from bastion.audit import personal, queries
from bastion.audit.checkpoints import record_of
from bastion.audit.models import Checkpoint
from bastion.audit.registry import ACTIONS
from bastion.console.forms import DATE_WIDGET
from bastion.tenancy.access import requires

PAGE_SIZE = 50
ONE_DAY = datetime.timedelta(days=1)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Actor (email or id)", required=False, max_length=254)
    action = forms.ChoiceField(required=False)
    resource_type = forms.CharField(label="Resource type", required=False, max_length=50)
    resource_id = forms.CharField(label="Resource id", required=False, max_length=100)
    since = forms.DateField(label="From (UTC)", required=False, widget=DATE_WIDGET)
    until = forms.DateField(label="To (UTC)", required=False, widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: apps register their actions at start-up.
        groups: dict[str, list[tuple[str, str]]] = {}
        for name in sorted(ACTIONS):
            prefix = name.split(".")[0] + "."
            groups.setdefault(prefix, [(prefix, f"{prefix}* (all)")]).append((name, name))
        self.fields["action"].choices = [("", "All actions"), *groups.items()]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError("“From” must not be after “To”.", code="bad_range")
        return data

    def query(self) -> dict:
        """The keywords of ``queries.events``: dates as UTC midnights, "To" inclusive."""
        data = dict(self.cleaned_data)
        if data["since"]:
            data["since"] = _midnight(data["since"])
        if data["until"]:  # up to the next midnight; there is none after the last date
            data["until"] = _midnight(data["until"] + ONE_DAY) if data["until"] < datetime.date.max else None
        return data


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def _text(value) -> str:
    if value is None:
        return "—"
    return (value or '""') if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _is_pair(value) -> bool:
    return isinstance(value, list) and len(value) == 2


def _changes(action: str, changes: dict) -> list[tuple[str, str, str | None]]:
    """``(field, before, after)`` where a value is a ``[before, after]`` pair, else ``(field, value, None)``.

    A diff is all pairs; the snapshot of a created or deleted thing may hold a two-item list that is not one.
    """
    snapshot = action.endswith((".created", ".deleted")) and not all(map(_is_pair, changes.values()))
    return [(name, _text(value[0]), _text(value[1])) if _is_pair(value) and not snapshot
            else (name, _text(value), None) for name, value in changes.items()]


@requires("audit.view")
def audit(request, org):
    organisation = request.access.organisation
    filters = AuditFilterForm(request.GET)
    page = None
    if filters.is_valid():
        found = queries.events(organisation.id, **filters.query())
        page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = personal.shown(list(page.object_list))  # people resolved while they are known
        for event in page.object_list:
            event.change_list = _changes(event.action, event.changes)
    return render(request, "console/audit.html", {
        "filters": filters, "page": page, "integrity": queries.status(organisation.id),
    })


@requires("audit.checkpoints")
def checkpoint(request, org):
    """Every member: the latest signed checkpoint, to keep and later hold the log to."""
    latest = Checkpoint.objects.filter(chain_id=request.access.organisation.id).order_by("-tree_size").first()
    record = json.dumps(record_of(latest), indent=2, sort_keys=True) if latest else None
    return render(request, "console/audit_checkpoint.html", {"checkpoint": latest, "record": record})
