"""Login throttling: django-axes, wired so that only logins through a web form count.

Axes' backend refuses to authenticate without a request, because it throttles by
the request's IP address. Logins without one (the test client's ``login()``, a
shell) are not attempts from the network: :class:`LoginThrottleBackend` lets them
through to the next backend instead of failing. Every login form (portal, admin,
API browser) passes its request and is throttled (settings: ``AXES_*``).
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for web logins; a login without a request is not checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
