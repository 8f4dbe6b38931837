"""Risk tasks: thin, each calls one service."""

from __future__ import annotations

from celery import shared_task

from alerts.choices import Severity
from alerts.services import alerts_notify
from audit.context import actor_scope

from .services import risk_evaluate


@shared_task(name="risk.evaluate")
def risk_evaluate_task(codes: list[str] | None = None, scope: dict | None = None) -> dict:
    """Evaluate the rules (all of them on the schedule; those an event concerns,
    for its ids, after it). The scheduled run ends with the digest e-mail of the
    alerts not yet e-mailed."""
    with actor_scope("system:risk_evaluate"):
        runs = risk_evaluate(codes=codes, scope=scope)
    if scope is None and codes is None:
        alerts_notify(lowest=Severity.WARNING)
    return {code: run.raised for code, run in runs.items()}
