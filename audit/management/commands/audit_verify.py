import re

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from audit.verification import audit_chain_verify

_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = _(
        "Verify the audit chain: every event's hash and link, the rows of bulk events and "
        "the registered checks. Exits with status 1 when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="SEQUENCE:HASH",
            help=_("A head anchored earlier (from the auditors' e-mail) the chain must contain."),
        )

    def handle(self, *args, expect_head=None, **options):
        expected = None
        if expect_head:
            match = _HEAD.match(expect_head.strip().lower())
            if not match:
                raise CommandError(_("--expect-head must look like 17:<64 hex digits>."))
            expected = (int(match[1]), match[2])
        result = audit_chain_verify(expect_head=expected)
        if result.ok:
            self.stdout.write(result.summary())
            return
        for problem in result.problems:
            self.stderr.write(str(problem))
        if result.problem_count > len(result.problems):
            self.stderr.write(
                _("… and %d more problems") % (result.problem_count - len(result.problems))
            )
        raise CommandError(result.summary(), returncode=1)
