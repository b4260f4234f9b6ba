"""The public trust page, its signed JSON and the key that verifies it; documents under NDA (the
public request and released link, and the security staff's page under ``/staff/documents/``)."""

from django.urls import path

from bastion.trust import views, views_documents

urlpatterns = [
    path("trust", views.trust_page, name="trust"),
    path("trust.json", views.trust_json, name="trust_json"),
    path("trust/key", views.trust_key, name="trust_key"),
    path("trust/sbom.cdx.json", views.trust_sbom, name="trust_sbom"),
    path("trust/documents/<uuid:document_id>/request", views_documents.request_document, name="trust_document_request"),
    path("trust/documents/link/<str:token>", views_documents.document_link, name="trust_document_link"),
    path("staff/documents/", views_documents.staff_documents, name="staff_documents"),
    path("staff/documents/<uuid:document_id>/withdraw/", views_documents.staff_withdraw, name="staff_document_withdraw"),
    path("staff/documents/requests/<uuid:request_id>/decide/", views_documents.staff_decide,
         name="staff_document_decide"),
]
