"""``manage.py demo_reconciliation``: the demo's banks and gateways send their files.

Run by ``demo_data`` after ``demo_collection``. The demo plays the parties outside
reach (see :mod:`reconciliation.demo`): the company's bank exports the day's
movements — most payment notices paid exactly, one in part, one overpaid, one paid
twice, one without its reference, a payment nobody can explain, and Alipay's payout —
Alipay sends its day's bill (with the payments whose notification got lost), and the
euro account's camt.053 shows the direct debits and a reversal. Everything goes
through the importer a clerk uses; a clerk confirms the suggestion and refunds the
overpayment's excess, and the month's runs are prepared by the clerk and signed off
by the manager. Last, the deposits the ended and terminated contracts left: the clerk asks to
release the first two, the manager approves the first (the second waits for them),
and the daily check raises the alerts for the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus
from contracts.models import Contract
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from payments.adapters.base import AttemptStatus as Gateway
from payments.adapters.sandbox import GATEWAY
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt
from payments.selectors import deposit_held
from payments.services.deposits import (
    deposit_release_approve,
    deposit_release_request,
    deposits_find_unreleased,
)
from reconciliation import demo
from reconciliation.choices import AccountKind, DiscrepancyKind, DiscrepancyStatus, MatchStatus
from reconciliation.models import BankAccount, Discrepancy, Match
from reconciliation.services import match_confirm, statement_import
from reconciliation.services.discrepancies import (
    discrepancies_find_missing,
    discrepancy_refund_excess,
)
from reconciliation.services.runs import reconciliation_run_prepare, reconciliation_run_sign_off

ALIPAY_PAYER = "支付宝（中国）网络技术有限公司"
WECHAT_PAYER = "财付通支付科技有限公司"
ALIPAY_FEE_RATE = Decimal("0.006")
CENT = Decimal("0.01")


class Command(BaseCommand):
    help = "Import the demo's bank statements and gateway bills (demo stand-ins)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, date=None, **options):
        # Receipts for the transfers the statement settles go to files, as in
        # demo_collection: hundreds of them would drown the console.
        mail_dir = Path(settings.VAR_DIR) / "mail"
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mail_dir),
        ):
            self._reconcile(dt.date.fromisoformat(date) if date else timezone.localdate())

    def _reconcile(self, day: dt.date) -> None:
        User = get_user_model()
        clerk = User.objects.filter(username="clerk").first()
        manager = User.objects.filter(username="manager").first()
        bank, alipay, euro = self._accounts()

        bill = self._alipay_bill(day)
        self._import(alipay, bill, "alipay_trade.csv")
        payout = self._payout_amount(day)
        self._import(bank, self._bank_export(day, bank, payout), "icbc_detail.csv")
        self._confirm_suggestions(clerk)
        self._import(euro, self._euro_statement(day, euro), "camt053.xml")
        missing = discrepancies_find_missing(on=day)
        refunded = self._refund_excess(clerk)

        signed = 0
        start = day.replace(day=1)
        if clerk and manager:
            for account in (bank, alipay, euro):
                try:
                    run = reconciliation_run_prepare(
                        account=account, period_start=start, period_end=day, by=clerk
                    )
                except InvalidTransition:
                    continue  # signed off by an earlier demo run: frozen
                if manager.has_perm("reconciliation.sign_off_reconciliationrun"):
                    reconciliation_run_sign_off(run=run, by=manager)
                    signed += 1
        released = self._release_deposits(clerk, manager, day)
        kinds = sorted(set(Discrepancy.objects.values_list("kind", flat=True)))
        self.stdout.write(
            _(
                "Demo reconciliation: %(missing)d payments missing from statements, "
                "%(signed)d runs signed off; discrepancies of %(kinds)d kinds (%(names)s)"
            )
            % {
                "missing": missing,
                "signed": signed,
                "kinds": len(kinds),
                "names": ", ".join(str(DiscrepancyKind(k).label) for k in kinds),
            }
        )
        self.stdout.write(
            _(
                "Demo refunds and deposits: %(refunded)d excess refunded (awaiting the "
                "manual transfer), %(approved)d deposit released, %(asked)d awaiting "
                "approval, %(alerts)d more to release"
            )
            % {"refunded": refunded, **released}
        )

    def _refund_excess(self, clerk) -> int:
        gap = Discrepancy.objects.filter(
            kind=DiscrepancyKind.OVERPAYMENT, status=DiscrepancyStatus.OPEN
        ).first()
        if clerk is None or gap is None:
            return 0
        discrepancy_refund_excess(discrepancy=gap, by=clerk, note=_("Paid too much: refunded"))
        return 1

    def _release_deposits(self, clerk, manager, day: dt.date) -> dict[str, int]:
        counts = {"approved": 0, "asked": 0, "alerts": 0}
        held = [
            contract
            for contract in Contract.objects.filter(
                status__in=(ContractStatus.ENDED, ContractStatus.TERMINATED),
                deposit_releases__isnull=True,
            ).order_by("id")
            if deposit_held(contract).amount > 0
        ]
        if clerk and manager:
            for index, contract in enumerate(held[:2]):
                try:
                    release = deposit_release_request(
                        contract=contract, requested_by=clerk, reason=_("Contract ended"), on=day
                    )
                except BusinessError:
                    continue  # a payment of the customer's still unknown: retried first
                if index == 0:
                    deposit_release_approve(release=release, approved_by=manager)
                    counts["approved"] += 1
                else:
                    counts["asked"] += 1
        counts["alerts"] = deposits_find_unreleased()
        return counts

    def _import(self, account: BankAccount, data: bytes, filename: str) -> None:
        summary = statement_import(account=account, data=data, filename=filename)
        self.stdout.write(
            _(
                "  %(account)s %(file)s: %(read)d lines, %(new)d new, %(settled)d settled, "
                "%(suggested)d suggested, %(unmatched)d unmatched"
            )
            % {
                "account": account.code,
                "file": filename,
                "read": summary.lines_read,
                "new": summary.lines_new,
                "settled": summary.settled,
                "suggested": summary.suggested,
                "unmatched": summary.unmatched,
            }
        )

    def _accounts(self) -> tuple[BankAccount, BankAccount, BankAccount]:
        payee = settings.PAYMENT_ADAPTERS["bank_transfer"]["options"]
        bank, _created = BankAccount.objects.get_or_create(
            code="icbc-cny",
            defaults={
                "name": _("Main account (CNY)"),
                "bank": payee["bank_name"],
                "account_number": payee["account_number"],
                "holder": payee["account_name"],
                "currency": "CNY",
                "receives_transfers": True,
            },
        )
        alipay, _created = BankAccount.objects.get_or_create(
            code="alipay",
            defaults={
                "name": _("Alipay merchant account"),
                "kind": AccountKind.ALIPAY,
                "account_number": "2088000000000001",
                "currency": "CNY",
                "payout_name": ALIPAY_PAYER,
            },
        )
        BankAccount.objects.get_or_create(
            code="wechat",
            defaults={
                "name": _("WeChat Pay merchant account"),
                "kind": AccountKind.WECHAT_PAY,
                "account_number": "1900000001",
                "currency": "CNY",
                "payout_name": WECHAT_PAYER,
            },
        )
        euro, _created = BankAccount.objects.get_or_create(
            code="sepa-eur",
            defaults={
                "name": _("Euro account (SEPA)"),
                "bank": "Demo Bank AG",
                "account_number": "DE89370400440532013000",
                "currency": "EUR",
                "receives_transfers": True,
            },
        )
        return bank, alipay, euro

    # --- Alipay's bill: what the gateway took, whatever reached us -------------------------

    def _alipay_rows(self) -> list[tuple[PaymentAttempt, demo.BillRow]]:
        rows = []
        for attempt in PaymentAttempt.objects.filter(
            method="alipay", amount_currency="CNY"
        ).order_by("id"):
            payment = GATEWAY.payment(attempt.idempotency_key)
            if payment is None or payment.status != Gateway.SUCCEEDED:
                continue
            amount = payment.amount.amount
            rows.append(
                (
                    attempt,
                    demo.BillRow(
                        trade_no=payment.trade_no,
                        out_trade_no=attempt.idempotency_key,
                        amount=amount,
                        fee=(amount * ALIPAY_FEE_RATE).quantize(CENT, ROUND_HALF_UP),
                        done_at=attempt.updated_at,
                        goods=_("Management fee"),
                    ),
                )
            )
        return rows

    def _alipay_bill(self, day: dt.date) -> bytes:
        rows = self._alipay_rows()
        # One line where the gateway reports a cent less than its notification said:
        # held for a person, never booked.
        booked = [row for attempt, row in rows if attempt.status == AttemptStatus.SUCCEEDED]
        if len(booked) > 1:
            odd = booked[-1]
            rows = [(a, r if r is not odd else replace(r, amount=r.amount - CENT)) for a, r in rows]
        return demo.alipay_trade_bill(
            merchant="2088000000000001", day=day, rows=[r for _a, r in rows]
        )

    def _payout_amount(self, day: dt.date) -> Decimal:
        """Alipay pays out what it took less its fees (the held line included: the
        gateway has the money, whatever our books say)."""
        return sum((row.amount - row.fee for _a, row in self._alipay_rows()), Decimal(0))

    # --- The bank's export --------------------------------------------------------------

    def _bank_export(self, day: dt.date, bank: BankAccount, payout: Decimal) -> bytes:
        notices = list(
            PaymentAttempt.objects.filter(
                method="bank_transfer", status=AttemptStatus.PENDING, amount_currency="CNY"
            )
            .select_related("charge__contract__customer")
            .order_by("id")
        )
        rows: list[demo.BankRow] = []

        def pay(attempt, amount, purpose=None):
            customer = attempt.charge.contract.customer
            rows.append(
                demo.BankRow(
                    booked_on=day,
                    amount=amount,
                    payer=customer.name,
                    payer_account=f"6222{customer.pk:015d}",
                    purpose=purpose
                    if purpose is not None
                    else f"管理费 {attempt.provider_reference}",
                    reference=f"T{day:%Y%m%d}{len(rows) + 1:06d}",
                )
            )

        paid = [a for i, a in enumerate(notices) if i % 3 != 2]
        unpaid = [a for i, a in enumerate(notices) if i % 3 == 2]
        for attempt in paid:
            pay(attempt, attempt.amount.amount)
        if paid:
            pay(paid[0], paid[0].amount.amount, f"重复付款 {paid[0].provider_reference}")
        specials = iter(unpaid)
        if (attempt := next(specials, None)) is not None:
            pay(attempt, (attempt.amount.amount / 2).quantize(CENT))  # pays half
        if (attempt := next(specials, None)) is not None:
            pay(attempt, attempt.amount.amount + 100)  # pays 100 more
        if (attempt := next(specials, None)) is not None:
            pay(attempt, attempt.amount.amount, "管理费")  # forgot the reference
        rows.append(
            demo.BankRow(
                day, Decimal("8888.00"), "张三", "6217000000000000", "货款", f"T{day:%Y%m%d}999998"
            )
        )
        if payout > 0:
            rows.append(
                demo.BankRow(
                    day,
                    payout,
                    ALIPAY_PAYER,
                    "2088000000000001",
                    "支付宝提现",
                    f"T{day:%Y%m%d}999999",
                )
            )
        return demo.corporate_export(account=bank.account_number, holder=bank.holder, rows=rows)

    def _confirm_suggestions(self, clerk) -> None:
        if clerk is None:
            return
        for match in Match.objects.filter(status=MatchStatus.SUGGESTED).order_by(
            "line_id", "-score"
        ):
            match.refresh_from_db()
            if match.status == MatchStatus.SUGGESTED:
                match_confirm(match=match, by=clerk)

    # --- The euro account ---------------------------------------------------------------

    def _euro_statement(self, day: dt.date, euro: BankAccount) -> bytes:
        rows = [
            demo.CamtEntry(
                booked_on=day,
                amount=attempt.amount.amount,
                text=f"SEPA Lastschrift {attempt.idempotency_key}",
                reference=f"EUR{attempt.pk:08d}",
                end_to_end=attempt.idempotency_key,
            )
            for attempt in PaymentAttempt.objects.filter(
                method="auto_debit", status=AttemptStatus.SUCCEEDED, amount_currency="EUR"
            ).order_by("id")
        ]
        rows.append(
            demo.CamtEntry(day, Decimal("-35.00"), "Storno Gutschrift", "EURREV0001", reversal=True)
        )
        return demo.camt053(
            iban=euro.account_number, currency="EUR", rows=rows, statement_id=f"EUR-{day}"
        )
