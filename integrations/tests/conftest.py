"""API keys for the integrations tests: a user in the integrators' group (集成方,
from the data migration) and a key acting as it, unscoped or for one customer."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from integrations.services import api_key_create

ROLE = importlib.import_module("integrations.migrations.0002_integrator_role_and_purge_schedule")
WEBHOOKS = importlib.import_module("integrations.migrations.0003_integrators_manage_webhooks")


def integrators() -> Group:
    """The group from the data migration; written again after a transactional
    test's flush removed it."""
    group, created = Group.objects.get_or_create(name=ROLE.INTEGRATOR)
    if created:
        for grant in ROLE.GRANTS | WEBHOOKS.GRANTS:
            app_label, codename = grant.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


def integrator(django_user_model, username="erp"):
    user = django_user_model.objects.create_user(username, f"{username}@example.com")
    user.groups.add(integrators())
    return user


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.fixture
def make_key(django_user_model):
    """``make_key(customer=None, username="erp")`` → (key, client sending it)."""

    def make(*, customer=None, username="erp", **terms):
        user = django_user_model.objects.filter(username=username).first() or integrator(
            django_user_model, username
        )
        key, secret = api_key_create(name=f"{username} key", user=user, customer=customer, **terms)
        return key, key_client(secret)

    return make
