from django.urls import include, path

app_name = "portal"

urlpatterns = [
    path("documents/", include("documents.portal_urls")),
    path("feedback/", include("feedback.portal_urls")),
]
