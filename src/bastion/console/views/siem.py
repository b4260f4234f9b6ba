"""Where the organisation streams its audit and read-access events (its SIEM): the destinations, how
far behind each is, what each set aside; add and remove one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bastion.console.forms import add_action_errors
from bastion.siem import dead_letters, delivery, destinations
from bastion.siem.models import KINDS, SiemDestination
from bastion.tenancy.access import requires


class SiemDestinationForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=list(KINDS.items()))
    url = forms.CharField(label="URL, S3 endpoint or host:port", max_length=500, required=False)
    bucket = forms.CharField(max_length=63, required=False)
    object_prefix = forms.CharField(label="Object key prefix (S3)", max_length=200, required=False)
    region = forms.CharField(max_length=40, required=False)
    access_key_id = forms.CharField(label="Access key id", max_length=128, required=False)
    secret = forms.CharField(label="Secret access key (S3)", max_length=500, required=False,
                             widget=forms.PasswordInput(render_value=False))
    window_seconds = forms.IntegerField(label="S3 object window (seconds)", initial=300, min_value=60, max_value=86400)
    ca_certificate = forms.CharField(label="Syslog server's CA (PEM)", required=False, widget=forms.Textarea)
    streams = forms.MultipleChoiceField(choices=[("audit", "Audit log"), ("access", "Read-access log")],
                                        initial=["audit", "access"], widget=forms.CheckboxSelectMultiple)


def _page(request, form, new_secret=None):
    now = timezone.now()
    listed = [(d, delivery.lag(d, now), list(d.dead_letters.all()[:20]))
              for d in SiemDestination.objects.filter(organisation_id=request.access.organisation.id)]
    return render(request, "console/siem.html", {"destinations": listed, "form": form, "new_secret": new_secret})


@requires("organisation.manage")
def siem(request, org):
    form = SiemDestinationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fields = dict(form.cleaned_data)
            fields["prefix"] = fields.pop("object_prefix")  # a form's own attribute is called ``prefix``
            _destination, secret = destinations.add(request.access.organisation, **fields)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Destination added.")
            if secret:
                return _page(request, SiemDestinationForm(), new_secret=secret)
            return redirect("console:siem", org=org)
    return _page(request, form)


@requires("organisation.manage")
@require_POST
def siem_remove(request, org, siem_destination_id):
    destination = get_object_or_404(SiemDestination.objects.filter(organisation_id=request.access.organisation.id),
                                    id=siem_destination_id)
    destinations.remove(destination)
    messages.success(request, f"Destination “{destination.name}” removed.")
    return redirect("console:siem", org=org)


@requires("organisation.manage")
@require_POST
def siem_retry(request, org, siem_destination_id):
    destination = get_object_or_404(SiemDestination.objects.filter(organisation_id=request.access.organisation.id),
                                    id=siem_destination_id)
    requeued = dead_letters.requeue(destination)
    messages.success(request, f"{requeued.count} dead-lettered batch(es) of “{destination.name}” will be sent again "
                              "within the minute, in sequence order.")
    return redirect("console:siem", org=org)
