"""``manage.py demo_portal``: portal logins for two demo customers and a fee change
waiting for the first one's consent (called by ``demo_data``; safe to repeat)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import calendar
from billing.amounts import fee_amount_on
from billing.choices import OPEN_AMENDMENT_STATUSES
from billing.models import FeeAmendment
from billing.services.amendments import amendment_approve, amendment_propose
from contracts.choices import ContractStatus, FeeKind
from contracts.models import Customer, Fee
from feemgmt.core.money import quantize
from portal.models import CustomerUser
from portal.services import portal_user_invite

# (e-mail = username, password, the nth demo customer). Demo only.
LOGINS = (("customer@example.com", "customer", 0), ("customer2@example.com", "customer", 1))


class Command(BaseCommand):
    help = _("Portal logins for demo customers and a fee change awaiting consent.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help=_("Today for the demo (default: today)."))

    @transaction.atomic
    def handle(self, *args, date=None, verbosity=1, **options):
        today = dt.date.fromisoformat(date) if date else timezone.localdate()
        customers = list(
            Customer.objects.filter(contracts__status=ContractStatus.ACTIVE)
            .distinct()
            .order_by("pk")[: len(LOGINS)]
        )
        lines = []
        for email, password, index in LOGINS:
            if index >= len(customers):
                break
            link = CustomerUser.objects.filter(user__username=email).first()
            if link is None:
                link = portal_user_invite(
                    customer=customers[index], email=email, name=_("Demo"), send=False
                )
                link.user.set_password(password)
                link.user.save(update_fields=["password"])
            lines.append(f"{email} / {password}  [{link.customer.name}]")
        if customers:
            change = self._fee_change(customers[0], today)
            if change:
                lines.append(change)
        self.stdout.write(_("Portal logins (demo only) at /portal/:"))
        for line in lines:
            self.stdout.write("  " + line)

    @staticmethod
    def _fee_change(customer: Customer, today: dt.date) -> str | None:
        """A 10% higher monthly fee from the next period start, proposed by the clerk
        and approved by the manager, waiting for the customer (once per customer)."""
        fee = (
            Fee.objects.filter(
                contract__customer=customer,
                contract__status=ContractStatus.ACTIVE,
                kind=FeeKind.RECURRING,
            )
            .select_related("contract")
            .order_by("pk")
            .first()
        )
        users = get_user_model().objects.filter(username__in=["clerk", "manager"])
        staff = {user.username: user for user in users}
        if fee is None or len(staff) < 2:
            return None
        if FeeAmendment.objects.filter(fee=fee, status__in=OPEN_AMENDMENT_STATUSES).exists():
            return None
        contract = fee.contract
        effective_from = calendar.next_due_after(
            cycle=fee.cycle,
            alignment=contract.alignment,
            service_start=contract.service_start,
            service_end=contract.service_end,
            after=today,
        )
        if effective_from is None:
            return None
        current = fee_amount_on(fee, effective_from)
        amendment = amendment_propose(
            fee=fee,
            new_amount=quantize(current.amount * Decimal("1.1"), current.currency.code).amount,
            effective_from=effective_from,
            reason=_("Service scope extended: monthly reconciliation added."),
            by=staff["clerk"],
        )
        amendment_approve(amendment=amendment, by=staff["manager"])
        return _("fee change of contract %(number)s from %(date)s awaits consent") % {
            "number": contract.number,
            "date": effective_from.isoformat(),
        }
