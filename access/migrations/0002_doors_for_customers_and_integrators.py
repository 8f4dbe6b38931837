"""What the staff roles may do with fee changes, the portal's logins, customers'
feedback, API keys and webhooks (docs/roles.md); and the integrators' group
(集成方) may read and propose fee changes.

Added to each role's grants as they stood at 0001 (and the integrators' at
integrations 0003): nothing is taken away here.
"""

from django.db import migrations

from feemgmt.core.grants import roles_grant, roles_ungrant

CLERK = "财务人员"
MANAGER = "财务经理"
AUDITOR = "审计员"
INTEGRATOR = "集成方"

VIEW = {
    "billing.view_feeamendment",
    "billing.view_amendmentdecision",
    "portal.view_customeruser",
    "portal.view_mandateconsent",
    "feedback.view_feedback",
    "feedback.view_surveyanswer",
    "integrations.view_apikey",
    "webhooks.view_webhookendpoint",
    "webhooks.view_webhookevent",
    "webhooks.view_webhookdelivery",
    "webhooks.view_webhookattempt",
}
# A clerk proposes and withdraws fee changes, records a customer's paper decision,
# and invites the customers' staff to the portal.
CLERK_GRANTS = VIEW | {
    "billing.add_feeamendment",
    "billing.record_decision_feeamendment",
    "portal.add_customeruser",
    "portal.change_customeruser",
}
# A manager approves fee changes and looks after integrators' keys and webhooks.
MANAGER_GRANTS = CLERK_GRANTS | {
    "billing.approve_feeamendment",
    "integrations.add_apikey",
    "integrations.change_apikey",
    "webhooks.add_webhookendpoint",
    "webhooks.change_webhookendpoint",
    "webhooks.delete_webhookendpoint",
    "webhooks.change_webhookdelivery",
}
AUDITOR_GRANTS = VIEW
INTEGRATOR_GRANTS = {"billing.view_feeamendment", "billing.add_feeamendment"}
ADDED = {
    CLERK: CLERK_GRANTS,
    MANAGER: MANAGER_GRANTS,
    AUDITOR: AUDITOR_GRANTS,
    INTEGRATOR: INTEGRATOR_GRANTS,
}


def grant(apps, schema_editor):
    roles_grant(apps, ADDED)


def ungrant(apps, schema_editor):
    roles_ungrant(apps, ADDED)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_roles"),
        ("billing", "0007_amendments_lapse_schedule"),
        ("portal", "0002_mandate_consents"),
        ("feedback", "0001_feedback_and_surveys"),
        ("integrations", "0003_integrators_manage_webhooks"),
        ("webhooks", "0002_sweep_schedule"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]
