"""Webhook event types and the delivery state machine."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """What an integrator can subscribe to (docs/webhooks.md lists each payload)."""

    CHARGE_CREATED = "charge.created", _("Charge created")
    CHARGE_PAID = "charge.paid", _("Charge paid")
    CHARGE_FAILED = "charge.failed", _("Charge collection failed")
    CHARGE_OVERDUE = "charge.overdue", _("Charge overdue")
    CHARGE_CANCELLED = "charge.cancelled", _("Charge cancelled")
    PAYMENT_RECEIVED = "payment.received", _("Payment received")
    PAYMENT_RETURNED = "payment.returned", _("Payment returned")
    REFUND_SUCCEEDED = "refund.succeeded", _("Refund succeeded")
    REFUND_FAILED = "refund.failed", _("Refund failed")
    AMENDMENT_CONSENTED = "amendment.consented", _("Fee amendment consented")
    ALERT_OPENED = "alert.opened", _("Alert opened")
    RECONCILIATION_SIGNED_OFF = "reconciliation.signed_off", _("Reconciliation signed off")
    CONTRACT_SIGNED = "contract.signed", _("Contract signed")
    CONTRACT_TERMINATED = "contract.terminated", _("Contract terminated")
    MANDATE_CREATED = "mandate.created", _("Mandate created")
    MANDATE_REVOKED = "mandate.revoked", _("Mandate revoked")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed (gave up)")


# Which status a delivery may move to from each: a pending delivery is tried again
# (pending), delivered or given up on; staff send a finished one again.
DELIVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    DeliveryStatus.PENDING: frozenset(
        {DeliveryStatus.PENDING, DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED}
    ),
    DeliveryStatus.SUCCEEDED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.PENDING}),
}
