from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from feemgmt.core.exceptions import BusinessError
from reconciliation.models import BankAccount
from reconciliation.parsers import FORMATS
from reconciliation.services import statement_import


class Command(BaseCommand):
    help = _(
        "Import a bank statement or gateway bill into a receiving account and match its "
        "lines. Importing the same file again creates nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=_("The statement file."))
        parser.add_argument("--account", required=True, help=_("Receiving account code."))
        parser.add_argument(
            "--format",
            default="auto",
            choices=("auto", *FORMATS),
            help=_("File format (default: detected from the content)."),
        )

    def handle(self, *args, path, account, format, **options):
        try:
            target = BankAccount.objects.get(code=account)
        except BankAccount.DoesNotExist as exc:
            raise CommandError(_("No receiving account has the code %r.") % account) from exc
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc
        try:
            summary = statement_import(account=target, data=data, filename=file.name, format=format)
        except BusinessError as exc:
            raise CommandError("; ".join(exc.messages())) from exc
        if summary.already_imported:
            self.stdout.write(
                _("%(file)s was already imported (statement %(id)s): nothing new.")
                % {"file": file.name, "id": summary.statement}
            )
        self.stdout.write(
            _("Statement %(id)s (%(format)s) into %(account)s")
            % {"id": summary.statement, "format": summary.format, "account": target.code}
        )
        for label, value in (
            (_("lines read"), summary.lines_read),
            (_("new"), summary.lines_new),
            (_("duplicates skipped"), summary.duplicates),
            (_("settled"), summary.settled),
            (_("suggested"), summary.suggested),
            (_("unmatched"), summary.unmatched),
        ):
            self.stdout.write(f"  {label}: {value}")
