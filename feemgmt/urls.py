from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("", include("contracts.api.urls")),
    # /charges/ is served by reconciliation's router: billing's charge endpoints,
    # their detail extended with how to pay by bank transfer (known only up there)
    path("", include("reconciliation.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("risk.api.urls")),
    path("", include("webhooks.api.urls")),
    path("reports/", include("reports.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/reports/", include("reports.admin_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("payments/", include("payments.urls")),
    path("portal/", include("portal.urls")),
]

# JSON under /api/ for paths no endpoint serves (feemgmt/api/errors.py)
handler404 = "feemgmt.api.errors.page_not_found"
