from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from contracts.models import Customer
from feemgmt.core.models import TimeStampedModel


class CustomerUser(TimeStampedModel):
    """A login of a customer's staff for the portal: several per customer, each
    seeing only its own customer's data. Such logins are never staff."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_login",
        verbose_name=_("user"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="portal_users",
        verbose_name=_("customer"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )

    class Meta:
        verbose_name = _("portal user")
        verbose_name_plural = _("portal users")
        ordering = ["customer_id", "id"]

    def __str__(self):
        return f"{self.user.get_username()} ({self.customer.code})"


class MandateConsent(models.Model):
    """What a customer user agreed to when authorising a direct-debit mandate in the
    portal: the exact text shown, who, when, from where. Kept so that the record
    proves the authorisation; the mandate itself is written by the payments service."""

    mandate = models.OneToOneField(
        "payments.Mandate",
        on_delete=models.PROTECT,
        related_name="portal_consent",
        verbose_name=_("mandate"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    consented_at = models.DateTimeField(_("consented at"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    text_shown = models.TextField(_("text shown"))

    class Meta:
        verbose_name = _("mandate consent")
        verbose_name_plural = _("mandate consents")
        ordering = ["-consented_at"]

    def __str__(self):
        return f"{self.mandate_id} @ {self.consented_at:%Y-%m-%d %H:%M}"
