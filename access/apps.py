from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """Roles: the finance groups and what each may do, created by migrations so
    every installation has them (docs/roles.md)."""

    name = "access"
    verbose_name = _("Roles and access")
