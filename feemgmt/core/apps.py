from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "feemgmt.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import lookups  # noqa: F401  (registers field__any)
        from .admin_lists import headers_once_per_page

        headers_once_per_page()
