"""Choosing an organisation: the home page and the switcher."""

from __future__ import annotations

from django.shortcuts import redirect, render

from bastion.tenancy.access import authenticated, organisations_of


@authenticated
def home(request):
    organisations = list(organisations_of(request.user))
    if len(organisations) == 1:
        return redirect("console:dashboard", org=organisations[0].slug)
    return render(request, "console/organisations.html", {"organisations": organisations})


@authenticated
def organisations(request):
    """The chooser; ``?org=<slug>`` (the header's switcher form) goes straight to that organisation."""
    organisations = list(organisations_of(request.user))
    wanted = request.GET.get("org")
    if wanted and any(o.slug == wanted for o in organisations):
        return redirect("console:dashboard", org=wanted)
    return render(request, "console/organisations.html", {"organisations": organisations})
