"""Accepting an invitation: the emailed link, opened by its invitee once signed in with the address
it was sent to (verified). Nothing of the organisation is shown to anyone else."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from bastion.identity import invitations
from bastion.tenancy.access import authenticated


def _refused(request, error: ValidationError, status: int):
    return render(request, "console/invitation.html", {"errors": error.messages}, status=status)


@authenticated
def invitation(request, token):
    found = invitations.find(token)
    if found is None:
        return _refused(request, ValidationError("This invitation link is not valid.", code="invitation_unknown"), 404)
    if not invitations.may_accept(found, request.user):
        return _refused(request, ValidationError(
            "This invitation was sent to another address. Sign in with that address (confirmed) to accept it.",
            code="wrong_account"), 403)
    if problem := invitations.refusal(found):
        return _refused(request, problem, 410)
    if request.method == "POST":
        try:
            invitations.accept(found, request.user)
        except ValidationError as error:
            return _refused(request, error, 409)
        messages.success(request, f"You joined {found.organisation.name}.")
        return redirect("console:dashboard", org=found.organisation.slug)
    return render(request, "console/invitation.html",
                  {"invitation": found, "role": invitations.role_label(found)})
