from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    """Receipts and statements of account as PDF (docs/documents.md)."""

    name = "documents"
    verbose_name = _("Documents")
