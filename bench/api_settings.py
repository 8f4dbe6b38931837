"""Settings of the API benchmark's gunicorn: the project's own, with the bench-only
URLconf (``bench/api_urls.py``: the product's URLs plus the bare views)."""

from feemgmt.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
DEBUG = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
