"""Account settings → Privacy (/accounts/privacy/): export my data, correct my name, delete my
account; and the emailed links that cancel an account's or an organisation's deletion. The work is
done by ``bastion.privacy``; these views only call it and show the answer."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from bastion.operations.tasks import build_personal_export
from bastion.privacy import account_deletion, erasure, organisation_deletion, personal_export, profile, reauthentication
from bastion.tenancy.access import authenticated, public

PAGE = "privacy_settings"


@authenticated
def privacy_settings(request):
    return render(request, "privacy/settings.html", {
        "export": personal_export.latest(request.user),
        "deletion": account_deletion.pending(request.user),
    })


@authenticated
@require_POST
def export_request(request):
    export = personal_export.request(request.user)
    build_personal_export(export.id)
    messages.success(request, "Your export is being built: you will be emailed when it is ready.")
    return redirect(PAGE)


@authenticated
def export_download(request):
    try:
        content = personal_export.download(request.user)
    except personal_export.NotReady:
        return render(request, "privacy/gone.html", status=410)
    return FileResponse(content, as_attachment=True, filename="bastion-my-data.zip", content_type="application/zip")


@authenticated
@require_POST
def profile_correct(request):
    changes = {name: request.POST[name] for name in profile.CORRECTABLE if name in request.POST}
    profile.correct(request.user, changes)  # a ValidationError is shown by the console's middleware
    messages.success(request, "Your name was saved.")
    return redirect(PAGE)


@authenticated
@require_POST
def deletion_request(request):
    reauthentication.require(request)  # the console sends the person to confirm, then back here
    try:
        deletion = account_deletion.request_deletion(request.user, base_url=request.build_absolute_uri("/"))
    except erasure.SoleOwner as exc:
        messages.error(request, f"You are the only owner of {', '.join(exc.slugs)}: make someone else an owner first.")
        return redirect(PAGE)
    messages.success(request, f"Your account will be deleted on {deletion.due_at:%Y-%m-%d}. "
                              "We emailed you a link to cancel.")
    return redirect(PAGE)


@authenticated
@require_POST
def deletion_cancel(request):
    deletion = account_deletion.pending(request.user)
    if deletion is not None:
        account_deletion.cancel(deletion)
        messages.success(request, "The deletion of your account was cancelled.")
    return redirect(PAGE)


@public
def cancel_deletion_link(request, token: str):
    """The emailed link. A GET only asks (mail scanners follow links); the POST cancels."""
    return _cancel_link(request, token, account_deletion.cancel_by_token, account_deletion.InvalidCancelLink,
                        "your account")


@public
def cancel_organisation_deletion_link(request, token: str):
    return _cancel_link(request, token, organisation_deletion.cancel_by_token, organisation_deletion.InvalidCancelLink,
                        "the organisation")


def _cancel_link(request, token, cancel, invalid, what: str):
    if request.method != "POST":
        return render(request, "privacy/cancel.html", {"what": what, "done": False})
    try:
        cancel(token)
    except invalid as exc:
        return render(request, "privacy/cancel.html", {"what": what, "error": str(exc)}, status=400)
    return render(request, "privacy/cancel.html", {"what": what, "done": True})
