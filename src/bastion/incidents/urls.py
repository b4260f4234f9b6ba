"""The public security pages: the disclosure policy and form, a reporter's private page, acknowledgments."""

from django.urls import path

from bastion.incidents.views import security_page

urlpatterns = [
    path("security", security_page.security, name="security"),
    path("security/acknowledgments", security_page.acknowledgments, name="security_acknowledgments"),
    path("security/reports/<str:token>", security_page.report, name="security_report"),
]
