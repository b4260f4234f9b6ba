"""The public trust page, its signed JSON and the key that verifies it."""

from django.urls import path

from bastion.trust import views

urlpatterns = [
    path("trust", views.trust_page, name="trust"),
    path("trust.json", views.trust_json, name="trust_json"),
    path("trust/key", views.trust_key, name="trust_key"),
    path("trust/sbom.cdx.json", views.trust_sbom, name="trust_sbom"),
]
