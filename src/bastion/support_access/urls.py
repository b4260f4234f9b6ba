"""The staff console, under ``/staff/``."""

from django.urls import path

from bastion.support_access.views import staff_console

urlpatterns = [
    path("", staff_console.staff_home, name="staff_home"),
    path("access-requests/", staff_console.ask, name="staff_ask"),
    path("access-requests/<uuid:access_request_id>/break-glass/", staff_console.break_glass_approve,
         name="staff_break_glass_approve"),
    path("access-requests/<uuid:access_request_id>/review/", staff_console.staff_review, name="staff_review"),
]
