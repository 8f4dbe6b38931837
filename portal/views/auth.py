"""Login, logout and password reset: Django's own views with the portal's templates."""

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

login = auth_views.LoginView.as_view(
    template_name="portal/login.html",
    redirect_authenticated_user=False,
    next_page=reverse_lazy("portal:overview"),
)
logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:login"))
