"""The integrators' group (集成方) and the hourly purge of old Idempotency-Keys.

An API key acts as a user; give that user this group (and no staff flag) and the
key may do what is written out here, as it stands at this migration: a later
change of the role is a later migration. Integrators read what the API shows and
write what a client system feeds in (customers, draft contracts and their fees,
signing and terminating, mandates, statement files) and read the reports;
approvals, matches, discrepancies, reconciliation and risk settings stay with
finance staff.
Permissions are created first, and the group is set to exactly these grants.
"""

from django.db import migrations

from feemgmt.core.grants import roles_set
from feemgmt.core.schedules import schedule_crontab, unschedule

INTEGRATOR = "集成方"
PURGE = "Purge old Idempotency-Keys"

GRANTS = {
    "contracts.view_customer",
    "contracts.add_customer",
    "contracts.change_customer",
    "contracts.view_contract",
    "contracts.add_contract",
    "contracts.change_contract",
    "contracts.view_fee",
    "contracts.add_fee",
    "contracts.change_fee",
    "billing.view_charge",
    "payments.view_paymentattempt",
    "payments.view_refund",
    "payments.view_writeoffrequest",
    "payments.view_mandate",
    "payments.add_mandate",
    "payments.change_mandate",
    "alerts.view_alert",
    # the reports read the ledger (an integrator's reports: its customers' figures)
    "ledger.view_account",
    "ledger.view_journalentry",
    "reconciliation.view_bankaccount",
    "reconciliation.view_statement",
    "reconciliation.add_statement",
    "reconciliation.view_statementline",
    "reconciliation.view_match",
    "reconciliation.view_discrepancy",
    "reconciliation.view_reconciliationrun",
}


def create_role(apps, schema_editor):
    roles_set(apps, {INTEGRATOR: GRANTS})


def remove_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=INTEGRATOR).delete()


def create_schedule(apps, schema_editor):
    """Every hour at :17 (keys are refused past their 24 hours anyway; this only
    keeps the table small)."""
    schedule_crontab(
        apps,
        name=PURGE,
        task="integrations.purge_idempotency_keys",
        hour="*",
        minute=17,
        description="Deletes the stored answers of Idempotency-Keys older than "
        "IDEMPOTENCY_KEY_HOURS.",
    )


def remove_schedule(apps, schema_editor):
    unschedule(apps, name=PURGE)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_api_keys_and_idempotency"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("contracts", "0001_initial"),
        ("billing", "0005_charge_keyset_indexes"),
        ("payments", "0006_attempt_decided_at_index"),
        ("alerts", "0004_alert_snooze_and_notified"),
        ("ledger", "0003_alter_journalentry_kind"),
        ("reconciliation", "0004_statementline_fk_indexes_covered"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_role, remove_role),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
