"""The URL map: the JSON API under /api/v1/, health, and the server-rendered console."""

from django.db import transaction
from django.http import HttpResponse
from django.urls import include, path

from bastion.api import api
from bastion.tenancy.access import public


@public
@transaction.non_atomic_requests
def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("", include("bastion.console.urls")),
]
