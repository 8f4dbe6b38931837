"""Helpers for the risk tests: set a rule's thresholds, evaluate it, read its alerts."""

from __future__ import annotations

import datetime as dt

from alerts.choices import OPEN_STATUSES
from alerts.models import Alert
from risk.models import RiskRule
from risk.services import risk_evaluate, risk_rules_ensure


def set_rule(code: str, **values) -> RiskRule:
    risk_rules_ensure()
    RiskRule.objects.filter(code=code).update(**values)
    return RiskRule.objects.get(code=code)


def evaluate(code: str, on: dt.date, **scope):
    return risk_evaluate(codes=[code], today=on, scope=scope or None)[code]


def open_alerts(code: str) -> list[Alert]:
    return list(Alert.objects.filter(kind=code, status__in=OPEN_STATUSES).order_by("subject"))


def subjects(code: str) -> list[str]:
    return [alert.subject for alert in open_alerts(code)]
