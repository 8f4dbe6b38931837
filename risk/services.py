"""Risk services: keeping the rules' settings, and evaluating the rules.

An evaluation runs each enabled rule's query, raises an alert for every finding
that has none open (in bulk: the partial unique index on open alerts decides, so
two evaluations at once raise each alert once) and, when it looked at everything,
resolves the rule's open alerts it no longer finds. Events evaluate a rule for the
few ids they touched; such a run only raises (docs/risk.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.choices import OPEN_STATUSES, Severity
from alerts.models import Alert
from alerts.services import NewAlert, alert_raise, alerts_raise_many, alerts_resolve
from audit.services import audit_record, changes_between
from feemgmt.core.exceptions import BusinessError

from .choices import Threshold
from .models import RiskRule
from .rules import CHAIN_SUBJECT, RULES, Check

logger = logging.getLogger(__name__)

# What a change to a rule records.
RULE_FIELDS = ("enabled", "severity", "count", "days", "percent")


def _defaults(code: str) -> dict:
    configured = settings.RISK_RULES.get(code, {})
    values = {"enabled": True, "severity": Severity.WARNING.value, **configured}
    if values.get("percent") is not None:
        values["percent"] = Decimal(str(values["percent"]))
    return {name: values.get(name) for name in RULE_FIELDS}


def risk_rules_ensure() -> None:
    """Create the rows of rules that have none yet, from settings.RISK_RULES (one
    insert; rows staff changed are left as they are)."""
    RiskRule.objects.bulk_create(
        [RiskRule(code=code, **_defaults(code)) for code in RULES], ignore_conflicts=True
    )


def risk_rule_check(code: str, values: dict) -> None:
    """Refuse settings that leave a threshold the rule reads empty, or set a rate past
    100% (field errors)."""
    rule = RULES[code]
    errors = {
        name: [_("This rule needs a value here.")]
        for name in rule.thresholds
        if values.get(name) is None
    }
    percent = values.get(Threshold.PERCENT)
    if percent is not None and rule.percent_max is not None and percent > rule.percent_max:
        errors["percent"] = [_("A rate cannot be above 100%.")]
    if errors:
        raise BusinessError(errors)


def risk_rule_update(*, rule: RiskRule, by, **values) -> RiskRule:
    """Change a rule's settings (a finance manager, in the admin). The thresholds the
    rule reads must be set; each change records ``risk_rule.changed`` with what it
    changed, and who."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule settings: {sorted(unknown)}")
    with transaction.atomic():
        locked = RiskRule.objects.select_for_update().get(pk=rule.pk)
        before = {name: getattr(locked, name) for name in RULE_FIELDS}
        after = {**before, **values}
        risk_rule_check(locked.code, after)
        changes = changes_between(before, after)
        if not changes:
            return locked
        for name, value in values.items():
            setattr(locked, name, value)
        locked.updated_by = by
        locked.save()
        audit_record(action="risk_rule.changed", obj=locked, changes=changes)
        return locked


def risk_rule_reset(*, rule: RiskRule, by) -> RiskRule:
    """Put a rule back to its defaults (settings.RISK_RULES)."""
    return risk_rule_update(rule=rule, by=by, **_defaults(rule.code))


@dataclass(frozen=True)
class RuleRun:
    found: int
    raised: int
    resolved: int


def _evaluate(setting: RiskRule, *, today: dt.date, scope: dict | None) -> RuleRun:
    rule = RULES[setting.code]
    check = Check(
        today=today,
        count=setting.count,
        days=setting.days,
        percent=setting.percent,
        scope=scope,
    )
    findings = list(rule.find(check))
    raised = alerts_raise_many(
        [
            NewAlert(
                kind=setting.code,
                subject=finding.subject,
                message=finding.message,
                severity=setting.severity,
                customer_id=finding.customer_id,
            )
            for finding in findings
        ],
        action="risk.alerts_raised",
    )
    resolved = 0
    found = {finding.subject for finding in findings}
    if scope is None and rule.resolves:
        still_open = set(
            Alert.objects.filter(kind=setting.code, status__in=OPEN_STATUSES).values_list(
                "subject", flat=True
            )
        )
        resolved = alerts_resolve(kind=setting.code, subject=sorted(still_open - found))
    elif scope is not None and rule.resolves and rule.subject_scope in scope:
        looked_at = {f"{rule.subject_scope}:{pk}" for pk in scope[rule.subject_scope]}
        resolved = alerts_resolve(kind=setting.code, subject=sorted(looked_at - found))
    return RuleRun(found=len(findings), raised=raised, resolved=resolved)


def risk_evaluate(
    *,
    codes: list[str] | None = None,
    scope: dict[str, list[int]] | None = None,
    today: dt.date | None = None,
) -> dict[str, RuleRun]:
    """Evaluate the enabled rules (or those of ``codes``), for everything or for the
    ids of ``scope``; a rule that cannot be limited to the scope is skipped then.
    Returns what each rule found, raised and resolved. A rule that fails is logged
    and the others still run."""
    today = today or timezone.localdate()
    risk_rules_ensure()
    settings_rows = RiskRule.objects.filter(enabled=True).order_by("id")
    if codes is not None:
        settings_rows = settings_rows.filter(code__in=list(codes))
    runs: dict[str, RuleRun] = {}
    with translation.override(settings.LANGUAGE_CODE):  # alert messages are stored text
        for setting in settings_rows:
            rule = RULES.get(setting.code)
            if rule is None or rule.external:
                continue
            if scope is not None and not set(scope) & set(rule.scopes):
                continue
            try:
                runs[setting.code] = _evaluate(setting, today=today, scope=scope)
            except Exception:
                logger.exception("risk rule %s failed", setting.code)
    return runs


def risk_chain_verified(*, ok: bool, report: str) -> None:
    """The daily audit verification's result: a break raises the audit chain alert
    (with the rule's severity, unless the rule is off); an intact chain resolves it."""
    risk_rules_ensure()
    setting = RiskRule.objects.get(code="audit_chain_broken")
    if ok:
        alerts_resolve(kind=setting.code, subject=CHAIN_SUBJECT)
    elif setting.enabled:
        alert_raise(
            kind=setting.code, subject=CHAIN_SUBJECT, message=report, severity=setting.severity
        )
