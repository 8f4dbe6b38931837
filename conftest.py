"""Test set-up shared by every app.

Tests marked ``postgres`` prove things only PostgreSQL can (row locks, concurrent
transactions, exact decimal sums). On SQLite they are skipped for a newcomer's
quick run; under CI=true they fail instead, so CI cannot pass without them.
"""

import os

import pytest


@pytest.fixture(autouse=True)
def _require_postgres(request):
    if request.node.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _english_messages(settings):
    """Assertions read English messages; the zh-hans catalogue has its own tests."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs ~0.4 s a user; tests only need passwords to match."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_adapters():
    """Every test starts with an empty sandbox gateway and freshly built adapters. The
    gateway lives in the process: keys a test database reuses (SQLite numbers rows
    from 1 again) must not meet the payments of an earlier test, whichever app's."""
    from payments.adapters.registry import clear_cache
    from payments.adapters.sandbox import sandbox_reset

    sandbox_reset()
    clear_cache()
    yield
    sandbox_reset()
    clear_cache()


@pytest.fixture
def eager():
    """Celery tasks run where they are sent (a receipt task, a hand-over, a risk
    evaluation after commit). Set on the app itself: the setting is read only when
    the app is first configured."""
    from feemgmt.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _billing_does_not_enqueue(settings):
    """Billing tests look at the charges a run creates; collection has its own tests
    (which turn this back on to see the hand-over)."""
    settings.PAYMENT_COLLECT_AFTER_BILLING = False


@pytest.fixture
def api(django_user_model):
    """An API client logged in as a superuser."""
    from rest_framework.test import APIClient

    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client = APIClient()
    client.force_login(admin)
    return client


@pytest.fixture
def zh_hans(settings):
    """Simplified Chinese for one test, overriding _english_messages: the default
    language, as for a request without Accept-Language, and the active one."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield
