import pytest

from webhooks import subscriptions


@pytest.fixture(autouse=True)
def _subscriptions_start_and_end_empty():
    """Each test starts, as its database does, with no endpoint known, and leaves
    none behind for the next test's audit events (its rows are rolled back)."""
    subscriptions.forget()
    yield
    subscriptions.forget()


@pytest.fixture
def receiver():
    from .receiver import start

    server = start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def subscribe(django_user_model):
    """An active endpoint for ``types`` at ``url``, known to the process at once."""
    from webhooks.services import webhook_endpoint_create

    def make(url: str, *types: str, **fields):
        endpoint = webhook_endpoint_create(url=url, event_types=list(types), **fields)
        subscriptions.reload()
        return endpoint

    return make
