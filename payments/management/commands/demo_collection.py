"""``manage.py demo_collection``: collect the demo book through every payment method.

Run by ``demo_data`` after its billing run. Where a real party would act, the demo
plays it with the stand-ins the project ships: the sandbox gateway behind Alipay and
WeChat Pay (until merchant keys are configured) settles at once or shows a QR code
that "the customer" then pays (every other Alipay notification is lost on the way: the
gateway's bill recovers it in ``demo_reconciliation``); direct debits get a mandate,
go into a pain.008 batch and come back credited in the bank's camt.054. Bank
transfers are paid by the bank's statement, which ``demo_reconciliation`` imports.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import iban

from contracts.choices import ContractStatus
from contracts.models import Customer
from payments.adapters import get_adapter
from payments.adapters.auto_debit.bank_files import camt054_for
from payments.adapters.sandbox import SandboxAdapter, sandbox_notification, sandbox_settle
from payments.choices import AttemptStatus, MandateStatus
from payments.models import Mandate, PaymentAttempt
from payments.services.direct_debit import direct_debit_batches_create, direct_debit_report_import
from payments.services.mandates import mandate_save
from payments.services.notifications import notification_receive


def _demo_iban(customer_id: int) -> str:
    bban = "37040044" + f"{customer_id:010d}"
    return "DE" + iban.calc_check_digits("DE00" + bban) + bban


def _qr_codes_wait_for_a_scan():
    """Alipay and WeChat Pay show the customer a QR code and wait for the scan: the
    sandbox standing in for them does the same during the demo's collection."""
    adapters = copy.deepcopy(settings.PAYMENT_ADAPTERS)
    for name in ("alipay", "wechat_pay"):
        entry = adapters.get(name)
        if entry and entry["class"].endswith(".SandboxAdapter"):
            entry.setdefault("options", {})["sandbox_outcome"] = "pending"
    return override_settings(PAYMENT_ADAPTERS=adapters)


class Command(BaseCommand):
    help = "Collect the demo charges through every payment method (demo stand-ins)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, date=None, verbosity=1, **options):
        # Hundreds of receipts would drown the console: the demo's go to files.
        mail_dir = Path(settings.VAR_DIR) / "mail"
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mail_dir),
        ):
            self._collect(date, verbosity)
        self.stdout.write(_("Customer e-mails of the demo are in %(path)s") % {"path": mail_dir})

    def _collect(self, date, verbosity):
        day = dt.date.fromisoformat(date) if date else timezone.localdate()
        mandates = self._mandates(day)
        with _qr_codes_wait_for_a_scan():
            call_command(
                "collect", "--date", day.isoformat(), stdout=self.stdout, verbosity=verbosity
            )
            scanned = self._customers_scan_qr_codes(day)
        debits = self._bank_collects_debits(day)
        self.stdout.write(
            _(
                "Demo collection: %(mandates)d mandates signed, %(scanned)d QR codes paid, "
                "%(debits)d direct debits credited"
            )
            % {"mandates": mandates, "scanned": scanned, "debits": debits}
        )

    def _mandates(self, day: dt.date) -> int:
        customers = Customer.objects.filter(
            contracts__payment_method="auto_debit",
            contracts__status__in=[ContractStatus.SIGNED, ContractStatus.ACTIVE],
        ).exclude(mandates__status=MandateStatus.ACTIVE)
        created = 0
        for customer in customers.distinct():
            mandate_save(
                mandate=Mandate(
                    customer=customer,
                    reference=f"MNDT-{customer.code}",
                    signed_on=day - dt.timedelta(days=30),
                    debtor_name=customer.name[:70],
                    debtor_iban=_demo_iban(customer.pk),
                )
            )
            created += 1
        return created

    def _customers_scan_qr_codes(self, day: dt.date) -> int:
        paid = 0
        for index, attempt in enumerate(
            PaymentAttempt.objects.filter(
                status=AttemptStatus.PENDING, method__in=["sandbox", "alipay", "wechat_pay"]
            ).order_by("id")
        ):
            if not isinstance(get_adapter(attempt.method), SandboxAdapter):
                continue  # a real gateway: its customers pay for themselves
            sandbox_settle(attempt.idempotency_key)
            if attempt.method == "alipay" and index % 2 == 0:
                continue  # paid, but the notification never reaches us
            headers, body = sandbox_notification(attempt.idempotency_key, adapter=attempt.method)
            if notification_receive(attempt.method, headers, body).status == 200:
                paid += 1
        return paid

    def _bank_collects_debits(self, day: dt.date) -> int:
        credited = 0
        for batch in direct_debit_batches_create(on=day):
            report = camt054_for(batch.document.encode(), message_id=f"DEMO-{batch.pk}")
            credited += direct_debit_report_import(report, on=batch.collection_date).settled
        return credited
