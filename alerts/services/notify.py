"""Telling the finance group about new alerts by e-mail (docs/risk.md).

One digest per risk run lists every alert of severity warning or above not yet
e-mailed; a critical alert does not wait for it and goes out as soon as it is
raised. Each alert is e-mailed once: the alerts a mail tells of are locked,
the mail is sent, and only then are they marked ``notified_at`` in the same
transaction — a failed send leaves them for the next run, and two runs at once
never tell of the same alert (the second skips what the first holds locked).
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from feemgmt.core.roles import FINANCE_GROUP

from ..choices import AlertStatus, Severity, severities_from
from ..models import Alert

# A digest lists this many alerts one by one; it counts the rest and links to the list.
DIGEST_LISTED = 100


def alert_recipients() -> list[str]:
    """settings.ALERT_EMAILS if set, else the finance group's active members."""
    configured = getattr(settings, "ALERT_EMAILS", None)
    if configured:
        return list(configured)
    users = (
        get_user_model()
        ._default_manager.filter(groups__name__in=FINANCE_GROUP, is_active=True)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def _link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _write(alerts: list[Alert], counts: Counter) -> tuple[str, str]:
    total = sum(counts.values())
    critical = counts[Severity.CRITICAL.value]
    subject = ngettext(
        "Risk warnings: %(count)d new alert", "Risk warnings: %(count)d new alerts", total
    ) % {"count": total}
    if critical:
        subject += " " + ngettext("(%(count)d critical)", "(%(count)d critical)", critical) % {
            "count": critical
        }
    lines = [
        ngettext(
            "%(count)d new alert needs looking at:",
            "%(count)d new alerts need looking at:",
            total,
        )
        % {"count": total},
        "",
    ]
    for alert in alerts:
        who = f" — {alert.customer.code} {alert.customer.name}" if alert.customer else ""
        lines.append(
            f"[{alert.get_severity_display()}] {alert.get_kind_display()}{who}: {alert.message}"
        )
        lines.append("  " + _link(reverse("admin:alerts_alert_change", args=[alert.pk])))
    if total > len(alerts):
        lines += [
            "",
            _("… and %(count)d more.") % {"count": total - len(alerts)},
        ]
    lines += [
        "",
        _("All open alerts: %(url)s")
        % {"url": _link(reverse("admin:alerts_alert_changelist") + "?open=yes")},
    ]
    return subject, "\n".join(lines)


def alerts_notify(*, lowest: str = Severity.WARNING) -> int:
    """E-mail the finance group one mail listing the alerts at or above ``lowest``
    not yet e-mailed; returns how many it told of (0 when there is nothing new or
    no one to tell — they then stay for a later run)."""
    recipients = alert_recipients()
    if not recipients:
        return 0
    with transaction.atomic():
        pending = (
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                notified_at__isnull=True,
                severity__in=severities_from(lowest),
                status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED],
            )
            .order_by("-created_at", "-id")
        )
        ids = list(pending.values_list("pk", flat=True))
        if not ids:
            return 0
        counts = Counter(
            Alert.objects.filter(pk__in=ids).values_list("severity", flat=True).iterator()
        )
        listed = list(
            Alert.objects.filter(pk__in=ids[:DIGEST_LISTED])
            .select_related("customer")
            .order_by("-created_at", "-id")
        )
        # most severe first, newest first within a severity
        listed.sort(key=lambda a: -severities_from(Severity.INFO).index(a.severity))
        with translation.override(settings.LANGUAGE_CODE):
            subject, body = _write(listed, counts)
        send_mail(subject, body, None, recipients)
        Alert.objects.filter(pk__in=ids).update(notified_at=timezone.now())
    return len(ids)
