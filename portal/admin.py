"""Portal logins and mandate consents, read-only: logins are created by inviting
from the customer's admin page, consents by customers in the portal."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from .models import CustomerUser, MandateConsent


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

    @admin.display(description=_("last login"), ordering="user__last_login")
    def last_login(self, obj):
        return obj.user.last_login


@admin.register(MandateConsent)
class MandateConsentAdmin(ReadOnlyAdmin):
    list_display = ("mandate", "user", "consented_at", "ip_address")
    list_select_related = ("mandate", "user")
    readonly_fields = ("mandate", "user", "consented_at", "ip_address", "user_agent", "text_shown")
    search_fields = ("mandate__reference", "user__username")
