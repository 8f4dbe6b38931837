"""Portal logins and mandate consents, read-only: logins are created by inviting
from the customer's admin page, consents by customers in the portal."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin

from feemgmt.core.exceptions import BusinessError

from .models import CustomerUser, MandateConsent
from .services import portal_user_reinvite


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerUser)
class CustomerUserAdmin(ReadOnlyAdmin):
    list_display = ("user", "customer", "invited_by", "created_at", "last_login")
    list_select_related = ("user", "customer", "invited_by")
    search_fields = ("user__username", "user__email", "customer__code", "customer__name")
    actions = ("send_invitation_again",)

    def has_invite_permission(self, request):
        return request.user.has_perm("portal.add_customeruser")

    @admin.action(description=_("Send the invitation again"), permissions=["invite"])
    def send_invitation_again(self, request, queryset):
        sent = 0
        for login in queryset.select_related("user", "customer"):
            try:
                portal_user_reinvite(customer_user=login)
            except BusinessError as error:
                for message in error.messages():
                    self.message_user(request, f"{login}: {message}", messages.WARNING)
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("%(count)d invitation sent.", "%(count)d invitations sent.", sent)
                % {"count": sent},
                messages.SUCCESS,
            )

    @admin.display(description=_("last login"), ordering="user__last_login")
    def last_login(self, obj):
        return obj.user.last_login


@admin.register(MandateConsent)
class MandateConsentAdmin(ReadOnlyAdmin):
    list_display = ("mandate", "user", "consented_at", "ip_address")
    list_select_related = ("mandate", "user")
    readonly_fields = ("mandate", "user", "consented_at", "ip_address", "user_agent", "text_shown")
    search_fields = ("mandate__reference", "user__username")
