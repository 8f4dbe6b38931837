"""API keys in the admin: the key is shown once on creation, then only its prefix;
keys are revoked by an audited action, never deleted."""

import re

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from audit.models import AuditEvent
from integrations.models import APIKey
from integrations.tests.conftest import integrator, key_client

pytestmark = pytest.mark.django_db

ADD = "/admin/integrations/apikey/add/"
LIST = "/admin/integrations/apikey/"


@pytest.fixture
def staff(client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(boss)
    return client


def test_creating_a_key_shows_it_once_and_it_works(staff, django_user_model):
    user = integrator(django_user_model)
    answer = staff.post(
        ADD,
        {"name": "ERP", "user": user.pk, "customer": "", "expiry_date_0": "", "expiry_date_1": ""},
        follow=True,
    )
    assert answer.status_code == 200
    shown = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    secret = re.search(r"is: (\S+\.\S+) ", shown).group(1)
    key = APIKey.objects.get()
    assert key.created_by.username == "boss"
    assert key_client(secret).get("/api/v1/customers/").status_code == 200
    page = staff.get(f"{LIST}{key.pk}/change/").content.decode()
    assert key.prefix in page and secret not in page
    assert AuditEvent.objects.filter(action="api_key.created", object_id=key.prefix).exists()


def test_a_superuser_cannot_be_given_a_key(staff, django_user_model):
    root = django_user_model.objects.get(username="boss")
    answer = staff.post(ADD, {"name": "root", "user": root.pk, "customer": ""})
    assert answer.status_code == 200  # the form again, with the error
    assert not APIKey.objects.exists()
    assert "superuser" in answer.content.decode()


def test_revoking_from_the_list_is_audited(staff, make_key):
    key, client = make_key()
    answer = staff.post(LIST, {"action": "revoke_keys", "_selected_action": [key.pk]}, follow=True)
    assert answer.status_code == 200
    assert APIKey.objects.get(pk=key.pk).revoked
    assert AuditEvent.objects.filter(action="api_key.revoked", object_id=key.prefix).exists()
    assert client.get("/api/v1/customers/").status_code == 403


def test_the_list_renders_and_keys_cannot_be_deleted(staff, make_key):
    key, _client = make_key()
    assert staff.get(LIST).status_code == 200
    assert staff.get(f"{LIST}{key.pk}/delete/").status_code == 403
    assert not admin.site.is_registered(LibraryAPIKey)
