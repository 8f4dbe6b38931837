from django.urls import path

from .views import ReportDetailView, ReportListView

urlpatterns = [
    path("", ReportListView.as_view(), name="reports-api-list"),
    path("<slug:name>/", ReportDetailView.as_view(), name="reports-api-detail"),
]
