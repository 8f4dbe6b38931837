import pytest

from payments.adapters.sandbox import sandbox_reset


@pytest.fixture(autouse=True)
def _empty_sandbox():
    """The sandbox gateway lives in the process: keys a test database reuses (SQLite
    numbers rows from 1 again) must not meet the payments of earlier tests."""
    sandbox_reset()
    yield
    sandbox_reset()
