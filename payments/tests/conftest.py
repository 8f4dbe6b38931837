import pytest

from payments.adapters.registry import clear_cache
from payments.adapters.sandbox import sandbox_reset


@pytest.fixture(autouse=True)
def _fresh_adapters():
    """Every test starts with an empty sandbox gateway and freshly built adapters."""
    sandbox_reset()
    clear_cache()
    yield
    sandbox_reset()
    clear_cache()


@pytest.fixture
def eager():
    """Celery tasks run where they are sent (a receipt task, a hand-over)."""
    from feemgmt.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
