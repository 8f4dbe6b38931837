"""The names of the staff roles (Django groups), which the ``access`` app's
migrations create with their permissions (docs/roles.md). They live here, in the
ground every app may import, because lower apps address the people in a role:
the audit report goes to the auditors, alert e-mails to the finance group."""

FINANCE_CLERK = "财务人员"
FINANCE_MANAGER = "财务经理"
AUDITOR = "审计员"

# Who gets the risk alerts by e-mail when settings.ALERT_EMAILS names no one.
FINANCE_GROUP = (FINANCE_CLERK, FINANCE_MANAGER)
