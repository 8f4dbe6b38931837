from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Customers' feedback and satisfaction surveys (docs/feedback.md)."""

    name = "feedback"
    verbose_name = _("Feedback")
