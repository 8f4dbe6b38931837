"""Who is looking at the portal, and the one way its views reach data.

Every portal view is wrapped in :func:`customer_required`, which sets
``request.customer`` from the login; every object a view shows is looked up
through :func:`owned_or_404`, filtered by that customer. Another customer's id
therefore answers 404, exactly like an id that does not exist: the portal never
says that something it will not show exists.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse

from contracts.models import Customer

from .models import CustomerUser

LOGIN_URL = "portal:login"


def portal_customer(user) -> Customer | None:
    """The customer a login belongs to, or None (staff, or no portal login)."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    link = CustomerUser.objects.select_related("customer").filter(user_id=user.pk).first()
    return link.customer if link else None


def customer_required(view):
    """Portal views only for logged-in customer users; ``request.customer`` is set.

    Anonymous visitors go to the portal login; a login that belongs to no
    customer (a staff account) gets 404, as a page of nobody's.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse(LOGIN_URL))
        customer = portal_customer(request.user)
        if customer is None:
            raise Http404
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapped


def owned_or_404(queryset: QuerySet | type[Model], customer: Customer, path: str, **lookup):
    """The one object matching ``lookup`` whose ``path`` (e.g. ``"contract__customer"``)
    is ``customer``; 404 for anything else, including another customer's object."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    return get_object_or_404(queryset.filter(**{path: customer}), **lookup)
