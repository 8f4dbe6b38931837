from django.urls import include, path

from .views import auth, overview

app_name = "portal"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("documents/", include("documents.portal_urls")),
    path("feedback/", include("feedback.portal_urls")),
]
