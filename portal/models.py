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
