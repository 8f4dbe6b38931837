"""Look of the admin (django-unfold): titles, navigation, colours."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

UNFOLD = {
    "SITE_TITLE": _("Fee management"),
    "SITE_HEADER": _("Client management fees"),
    "SITE_SYMBOL": "account_balance",
    "SHOW_HISTORY": True,
    "SHOW_LANGUAGES": True,
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("Contracts"),
                "items": [
                    {
                        "title": _("Customers"),
                        "icon": "groups",
                        "link": reverse_lazy("admin:contracts_customer_changelist"),
                    },
                    {
                        "title": _("Contracts"),
                        "icon": "contract",
                        "link": reverse_lazy("admin:contracts_contract_changelist"),
                    },
                ],
            },
            {
                "title": _("Billing"),
                "items": [
                    {
                        "title": _("Charges"),
                        "icon": "receipt_long",
                        "link": reverse_lazy("admin:billing_charge_changelist"),
                    },
                    {
                        "title": _("Run billing for a date"),
                        "icon": "play_circle",
                        "link": reverse_lazy("admin:billing_run"),
                    },
                    {
                        "title": _("Scheduled tasks"),
                        "icon": "schedule",
                        "link": reverse_lazy("admin:django_celery_beat_periodictask_changelist"),
                    },
                ],
            },
        ],
    },
}
