"""The report pages inside the admin (/admin/reports/), each behind the admin's
login and staff check (``admin.site.admin_view``)."""

from django.contrib import admin
from django.urls import path

from . import admin_views

app_name = "admin_reports"

urlpatterns = [
    path("", admin.site.admin_view(admin_views.reports_index), name="index"),
    path("<slug:name>/", admin.site.admin_view(admin_views.report_page), name="report"),
    path("<slug:name>/csv/", admin.site.admin_view(admin_views.report_csv), name="report-csv"),
    path(
        "<slug:name>/xlsx/",
        admin.site.admin_view(admin_views.report_xlsx),
        name="report-xlsx",
    ),
]
