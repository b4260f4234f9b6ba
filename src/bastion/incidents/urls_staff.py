"""The staff console's incident and vulnerability-report pages (security role), under ``/staff/``."""

from django.urls import path

from bastion.incidents.views import staff_incidents, staff_reports

urlpatterns = [
    path("incidents/", staff_incidents.incident_list, name="staff_incidents"),
    path("incidents/<uuid:incident_id>/", staff_incidents.incident_page, name="staff_incident"),
    path("reports/", staff_reports.report_list, name="staff_reports"),
    path("reports/<uuid:report_id>/", staff_reports.report_page, name="staff_report"),
]
