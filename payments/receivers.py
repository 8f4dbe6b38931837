"""Payments' reactions to billing: new charges go to collection after commit."""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from billing.events import charges_billed


@receiver(charges_billed, dispatch_uid="payments.collect_billed_charges")
def collect_billed_charges(sender, charge_ids, on, **kwargs):
    if settings.PAYMENT_COLLECT_AFTER_BILLING:
        from payments.tasks import enqueue_collection

        transaction.on_commit(partial(enqueue_collection, list(charge_ids), on))
