"""Login, logout, password reset and the invitation's set-password page: Django's
own views with the portal's templates and forms (customer logins only)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalLoginForm, PortalPasswordResetForm

login = auth_views.LoginView.as_view(
    template_name="portal/login.html",
    authentication_form=PortalLoginForm,
    next_page=reverse_lazy("portal:overview"),
)
logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:login"))

password_reset = auth_views.PasswordResetView.as_view(
    template_name="portal/password_reset.html",
    form_class=PortalPasswordResetForm,
    email_template_name="portal/email/password_reset.txt",
    subject_template_name="portal/email/password_reset_subject.txt",
    success_url=reverse_lazy("portal:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="portal/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="portal/password_set.html",
    success_url=reverse_lazy("portal:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="portal/password_reset_complete.html"
)


class InvitationView(auth_views.PasswordResetConfirmView):
    """The invitation's link: choose a password, then log in with it."""

    template_name = "portal/password_set.html"
    success_url = reverse_lazy("portal:login")
    extra_context = {"invitation": True}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is set: log in with it."))
        return response


invitation = InvitationView.as_view()
