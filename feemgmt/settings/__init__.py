"""Settings, read from the environment (the README's configuration table), by part:
``base`` (the framework, the domain apps, the API) and ``doors`` (the portal, API
keys, documents, webhooks). ``DJANGO_SETTINGS_MODULE`` stays ``feemgmt.settings``."""

from .base import *  # noqa: F403
from .doors import *  # noqa: F403
