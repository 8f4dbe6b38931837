"""The three staff roles and what each may do (docs/roles.md).

The grants are written out here, as they stand at this migration: a later change
of a role is a later migration, so every installation's groups tell the same
story as this file's history. Permissions are created first (Django otherwise
adds them only after the whole migrate run), and a role is set to exactly its
grants: what a group held beyond them is taken away.
"""

from django.db import migrations

from feemgmt.core.grants import roles_set

CLERK = "财务人员"
MANAGER = "财务经理"
AUDITOR = "审计员"

# Everything finance staff work with; every role may view all of it.
MODELS = (
    "contracts.customer",
    "contracts.contract",
    "contracts.fee",
    "billing.charge",
    "payments.paymentattempt",
    "payments.inboundnotification",
    "payments.sentnotice",
    "payments.refund",
    "payments.writeoffrequest",
    "payments.depositrelease",
    "payments.mandate",
    "payments.directdebitbatch",
    "ledger.account",
    "ledger.journalentry",
    "ledger.journalline",
    "alerts.alert",
    "risk.riskrule",
    "reconciliation.bankaccount",
    "reconciliation.statement",
    "reconciliation.statementline",
    "reconciliation.match",
    "reconciliation.discrepancy",
    "reconciliation.reconciliationrun",
    "audit.auditevent",
    "django_celery_beat.periodictask",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.intervalschedule",
)
VIEW = {f"{label.split('.')[0]}.view_{label.split('.')[1]}" for label in MODELS}

# The day's work: customers and contracts, billing runs ("add charge"), refunds and
# write-offs asked for (not approved), mandates, statements imported, matches
# confirmed, discrepancies resolved, runs prepared, alerts worked through.
CLERK_GRANTS = VIEW | {
    "contracts.add_customer",
    "contracts.change_customer",
    "contracts.add_contract",
    "contracts.change_contract",
    "contracts.add_fee",
    "contracts.change_fee",
    "billing.add_charge",
    "payments.add_refund",
    "payments.add_writeoffrequest",
    "payments.add_depositrelease",
    "payments.add_mandate",
    "payments.change_mandate",
    "alerts.change_alert",
    "reconciliation.add_statement",
    "reconciliation.change_match",
    "reconciliation.change_discrepancy",
    "reconciliation.add_reconciliationrun",
}
# Approvals, the risk rules' thresholds, receiving accounts, sign-off and reopening,
# and deleting a draft.
MANAGER_GRANTS = CLERK_GRANTS | {
    "contracts.delete_customer",
    "contracts.delete_contract",
    "contracts.delete_fee",
    "payments.approve_writeoffrequest",
    "payments.approve_depositrelease",
    "risk.change_riskrule",
    "reconciliation.add_bankaccount",
    "reconciliation.change_bankaccount",
    "reconciliation.sign_off_reconciliationrun",
    "reconciliation.reopen_reconciliationrun",
}
# Reads everything, changes nothing; signs off reconciliations and verifies the chain.
AUDITOR_GRANTS = VIEW | {
    "reconciliation.sign_off_reconciliationrun",
    "audit.verify_auditevent",
}
ROLES = {CLERK: CLERK_GRANTS, MANAGER: MANAGER_GRANTS, AUDITOR: AUDITOR_GRANTS}


def create_roles(apps, schema_editor):
    roles_set(apps, ROLES)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("contracts", "0001_initial"),
        ("billing", "0005_charge_keyset_indexes"),
        ("payments", "0005_deposits_to_release_schedule"),
        ("ledger", "0003_alter_journalentry_kind"),
        ("alerts", "0004_alert_snooze_and_notified"),
        ("risk", "0002_rules_and_schedule"),
        ("reconciliation", "0004_statementline_fk_indexes_covered"),
        ("audit", "0005_verify_permission"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
