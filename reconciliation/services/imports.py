"""Importing a statement: one file, one transaction, nothing written twice.

The file is read completely before anything is written, so a malformed file gets
one error naming the line (or XML element) and leaves the database as it was. The
statement row is unique per account by the file's SHA-256: the same file again
creates nothing and says so. Lines are inserted with ``ON CONFLICT DO NOTHING`` on
their fingerprint, so an export overlapping an earlier one adds only the lines that
are new, and only those are matched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_record_bulk
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import quantize
from feemgmt.core.sql import allocate_ids, insert_rows
from payments.adapters.auto_debit.iso20022 import Iso20022Error
from payments.services.direct_debit import direct_debit_report_import

from ..choices import MOVEMENT_FORMATS, LineStatus, StatementFormat
from ..events import statement_imported
from ..models import BankAccount, Discrepancy, Match, Statement, StatementLine
from ..parsers import ParsedFile, ParsedLine, StatementParseError, detect_format, parse_statement
from .discrepancies import recorded_by_the_import
from .matching import statement_lines_match

_COLUMNS = (
    "id",
    "statement_id",
    "account_id",
    "line_no",
    "booked_on",
    "value_on",
    "amount",
    "amount_currency",
    "fee",
    "kind",
    "reference",
    "narrative",
    "counterparty_name",
    "counterparty_account",
    "end_to_end_id",
    "out_trade_no",
    "gateway_trade_no",
    "fingerprint",
    "status",
    "raw",
)
_MASK = set("*xX•")


@dataclass(frozen=True)
class ImportSummary:
    """What an import did, as the command, the API and the admin report it."""

    statement: int
    account: str
    format: str
    lines_read: int
    lines_new: int
    duplicates: int
    settled: int
    suggested: int
    unmatched: int
    already_imported: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def _file_error(message: str) -> BusinessError:
    return BusinessError({"file": [message]}, code="unreadable_file")


def _read(
    account: BankAccount, data: bytes, *, filename: str, format: str
) -> tuple[str, ParsedFile | None]:
    try:
        fmt = (
            format
            if format and format != "auto"
            else (account.default_format or detect_format(data, filename))
        )
        if fmt not in StatementFormat.values:
            raise BusinessError(
                {"format": [_("Unknown statement format %(format)r.") % {"format": fmt}]}
            )
        if fmt not in MOVEMENT_FORMATS:
            return fmt, None
        mapping = None
        if account.column_mapping and fmt in ("csv", "xlsx", "xls"):
            from ..parsers.tabular import ColumnMapping

            mapping = ColumnMapping.from_dict(account.column_mapping)
        return fmt, parse_statement(data, format=fmt, filename=filename, mapping=mapping)
    except StatementParseError as error:
        raise _file_error(str(error)) from error


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def fingerprints(account_id: int, lines: list[ParsedLine]) -> list[str]:
    """One per line: account, booking date, amount, the bank's reference (or the
    narrative where it has none) and how many identical lines came before it in
    the file — so two real payments of the same amount on the same day stay two."""
    seen: Counter[tuple] = Counter()
    out = []
    for line in lines:
        key = (
            line.booked_on.isoformat(),
            str(quantize(line.amount, line.currency).amount),
            line.currency,
            _normal(line.reference) or _normal(line.narrative),
            _normal(line.out_trade_no or line.end_to_end_id),
            str(line.kind),
        )
        seen[key] += 1
        text = "\x1f".join((str(account_id), *key, str(seen[key])))
        out.append(hashlib.sha256(text.encode()).hexdigest())
    return out


def _check_account(account: BankAccount, parsed: ParsedFile) -> None:
    mine = account.account_number.replace(" ", "").upper()
    for section in parsed.sections:
        theirs = section.account.replace(" ", "").upper()
        if (
            theirs
            and mine
            and not (_MASK & set(theirs))
            and theirs not in mine
            and mine not in theirs
        ):
            raise BusinessError(
                {
                    "account": [
                        _(
                            "The file is a statement of account %(theirs)s, "
                            "not of %(code)s (%(mine)s)."
                        )
                        % {
                            "theirs": section.account,
                            "code": account.code,
                            "mine": account.masked_number,
                        }
                    ]
                }
            )
    for line in parsed.lines:
        if (line.currency or account.currency) != account.currency:
            raise _file_error(
                _("%(where)s: the line is in %(currency)s; account %(code)s holds %(expected)s.")
                % {
                    "where": line.path or _("line %(n)s") % {"n": line.line_no},
                    "currency": line.currency,
                    "code": account.code,
                    "expected": account.currency,
                }
            )


def statement_import(
    *,
    account: BankAccount,
    data: bytes,
    filename: str = "",
    format: str = "auto",
    user=None,
    on: dt.date | None = None,
) -> ImportSummary:
    """Import one statement file into ``account`` and match its new lines."""
    on = on or timezone.localdate()
    if not data:
        raise _file_error(_("The file is empty."))
    fmt, parsed = _read(account, data, filename=filename, format=format)
    if parsed is not None:
        _check_account(account, parsed)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        # one import at a time per account: the lines it already holds are read once,
        # and a file arriving twice at once is imported once
        list(BankAccount.objects.select_for_update().filter(pk=account.pk).values_list("pk"))
        try:
            with transaction.atomic():
                statement = Statement.objects.create(
                    account=account,
                    format=fmt,
                    filename=filename[:255],
                    digest=digest,
                    mapping=parsed.mapping if parsed is not None else "",
                    imported_by=user,
                )
        except IntegrityError:
            return _already(account, digest, fmt, parsed)
        if parsed is None:
            return _debit_report(statement, data, on=on)
        return _lines(statement, parsed, on=on)


def _already(
    account: BankAccount, digest: str, fmt: str, parsed: ParsedFile | None
) -> ImportSummary:
    statement = Statement.objects.get(account=account, digest=digest)
    read = len(parsed.lines) if parsed is not None else statement.lines_read
    return ImportSummary(
        statement=statement.pk,
        account=account.code,
        format=fmt,
        lines_read=read,
        lines_new=0,
        duplicates=read,
        settled=0,
        suggested=0,
        unmatched=0,
        already_imported=True,
    )


def _lines(statement: Statement, parsed: ParsedFile, *, on: dt.date) -> ImportSummary:
    """The file's new lines, matched before they are written: each is inserted once,
    with the status matching gave it (the matches, entries and discrepancies that
    point at it are checked at commit)."""
    account = statement.account
    lines = list(parsed.lines)
    prints = fingerprints(account.pk, lines)
    held = set(
        StatementLine.objects.filter(account_id=account.pk, fingerprint__any=prints).values_list(
            "fingerprint", flat=True
        )
    )
    fresh = [
        (line, fingerprint)
        for line, fingerprint in zip(lines, prints, strict=True)
        if fingerprint not in held
    ]
    ids = allocate_ids(StatementLine, len(fresh))
    rows = [
        (
            pk,
            statement.pk,
            account.pk,
            line.line_no,
            line.booked_on,
            line.value_on,
            quantize(line.amount, line.currency or account.currency).amount,
            line.currency or account.currency,
            quantize(line.fee, line.currency or account.currency).amount,
            str(line.kind),
            line.reference[:140],
            line.narrative,
            line.counterparty_name[:200],
            line.counterparty_account[:64],
            line.end_to_end_id[:64],
            line.out_trade_no[:64],
            line.gateway_trade_no[:64],
            fingerprint,
            LineStatus.UNMATCHED.value,
            line.raw,
        )
        for pk, (line, fingerprint) in zip(ids, fresh, strict=True)
    ]
    number = _COLUMNS.index("line_no")
    rows.sort(key=lambda row: (row[number], row[0]))  # by line number, then the file's order
    new = _as_stored(rows)
    with recorded_by_the_import():
        totals = statement_lines_match(account=account, lines=new, on=on)
    status = _COLUMNS.index("status")
    insert_rows(
        StatementLine,
        _COLUMNS,
        [
            (*row[:status], line.status, *row[status + 1 :])
            for row, line in zip(rows, new, strict=True)
        ],
    )
    sections = parsed.sections
    dates = [line.booked_on for line in lines]
    statement.lines_read = len(lines)
    statement.lines_new = len(new)
    statement.lines_duplicate = len(lines) - len(new)
    statement.statement_ids = ", ".join(s.statement_id for s in sections if s.statement_id)[:255]
    statement.period_start = sections[0].period_start or (min(dates) if dates else None)
    statement.period_end = sections[-1].period_end or (max(dates) if dates else None)
    statement.opening_balance = sections[0].opening_balance
    statement.closing_balance = sections[-1].closing_balance
    summary = ImportSummary(
        statement=statement.pk,
        account=account.code,
        format=statement.format,
        lines_read=len(lines),
        lines_new=len(new),
        duplicates=len(lines) - len(new),
        settled=totals.settled,
        suggested=totals.suggested,
        unmatched=totals.unmatched,
    )
    statement.summary = {**summary.as_dict(), "effects": dict(totals.effects)}
    statement.save()
    _audit_import(statement, [line.pk for line in new], summary)
    statement_imported.send(sender=Statement, statement_id=statement.pk)
    return summary


def _as_stored(rows: list[tuple]) -> list[StatementLine]:
    """The lines about to be inserted, as the instances reading them back would
    give: matching works on these and sets their status."""
    names = [field.attname for field in StatementLine._meta.concrete_fields]
    at = {name: index for index, name in enumerate(_COLUMNS)}
    order = [at[name] for name in names]
    return [StatementLine.from_db(DEFAULT_DB_ALIAS, names, [row[i] for i in order]) for row in rows]


# What never changes once imported: a line's figures, and what matching decided.
LINE_FIELDS = (
    "account_id",
    "line_no",
    "booked_on",
    "amount",
    "amount_currency",
    "fee",
    "reference",
    "narrative",
    "counterparty_name",
    "end_to_end_id",
    "out_trade_no",
    "fingerprint",
)
MATCH_FIELDS = ("line_id", "charge_id", "attempt_id", "refund_id", "method", "score")
DISCREPANCY_FIELDS = ("kind", "account_id", "line_id", "charge_id", "amount", "message")


def _audit_import(statement: Statement, line_ids: list[int], summary: ImportSummary) -> None:
    """One event for the statement's new lines and one each for the matches and the
    discrepancies matching created: three events a file, however long."""
    facts = {"file": statement.filename, "digest": statement.digest, **summary.as_dict()}
    audit_record_bulk(
        action="statement.imported",
        model=StatementLine,
        ids=line_ids,
        fields=LINE_FIELDS,
        object_type="reconciliation.statement",
        object_id=statement.pk,
        extra=facts,
    )
    matches = list(Match.objects.filter(line_id__any=line_ids).values_list("pk", flat=True))
    if matches:
        audit_record_bulk(
            action="statement.matched",
            model=Match,
            ids=matches,
            fields=MATCH_FIELDS,
            object_type="reconciliation.statement",
            object_id=statement.pk,
        )
    found = list(Discrepancy.objects.filter(line_id__any=line_ids).values_list("pk", flat=True))
    if found:
        audit_record_bulk(
            action="statement.discrepancies",
            model=Discrepancy,
            ids=found,
            fields=DISCREPANCY_FIELDS,
            object_type="reconciliation.statement",
            object_id=statement.pk,
        )


def _debit_report(statement: Statement, data: bytes, *, on: dt.date) -> ImportSummary:
    """camt.054 and pain.002 answer our direct debits: applied to the attempts."""
    try:
        with transaction.atomic():
            result = direct_debit_report_import(data, on=on)
    except Iso20022Error as error:
        raise _file_error(str(error)) from error
    read = (
        result.settled
        + result.rejected
        + result.returned
        + result.unchanged
        + len(result.unmatched)
    )
    summary = ImportSummary(
        statement=statement.pk,
        account=statement.account.code,
        format=statement.format,
        lines_read=read,
        lines_new=read,
        duplicates=0,
        settled=result.settled + result.rejected + result.returned,
        suggested=0,
        unmatched=len(result.unmatched),
    )
    statement.lines_read = statement.lines_new = read
    statement.summary = {**summary.as_dict(), "report": asdict(result)}
    statement.save()
    audit_record(
        action="statement.imported",
        obj=statement,
        changes={
            "after": {"file": statement.filename, "digest": statement.digest, **summary.as_dict()}
        },
    )
    return summary
