"""The public status page, its JSON and feed, subscriptions, and the staff editor."""

from django.urls import path

from bastion.operations.views import status_admin, status_feed, status_page, status_subscriptions

urlpatterns = [
    path("status", status_page.status, name="status"),
    path("status.json", status_page.status_json, name="status_json"),
    path("status/feed.atom", status_feed.IncidentFeed(), name="status_feed"),
    path("status/incidents/<uuid:incident_id>", status_page.incident, name="status_incident"),
    path("status/subscribe", status_subscriptions.subscribe, name="status_subscribe"),
    path("status/confirm/<str:token>", status_subscriptions.confirm, name="status_confirm"),
    path("status/unsubscribe/<str:token>", status_subscriptions.unsubscribe, name="status_unsubscribe"),
    path("status/admin/", status_admin.status_admin, name="status_admin"),
    path("status/admin/incidents/", status_admin.incident_create, name="status_incident_create"),
    path("status/admin/incidents/<uuid:incident_id>/", status_admin.incident_update, name="status_incident_update"),
    path("status/admin/maintenance/", status_admin.maintenance_create, name="status_maintenance_create"),
    path("status/admin/maintenance/<uuid:maintenance_id>/cancel/", status_admin.maintenance_cancel,
         name="status_maintenance_cancel"),
]
