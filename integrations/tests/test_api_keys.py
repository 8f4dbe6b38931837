"""Authorization: Api-Key <key>: a key acts with its user's permissions, is stored
hashed, stops working once revoked or expired, and its requests are audited as the
key; sessions and DRF tokens keep working beside it."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from contracts.tests.factories import CustomerFactory
from integrations.models import APIKey
from integrations.services import api_key_create, api_key_revoke
from integrations.tests.conftest import key_client

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


def new_customer_body(code="K001"):
    return {"code": code, "name": "集成客户", "email": "k@example.com"}


def test_a_key_reads_and_writes_with_its_users_permissions(make_key):
    CustomerFactory(code="A1")
    key, client = make_key()
    assert not key.user.is_staff

    listed = client.get(CUSTOMERS)
    assert listed.status_code == 200
    assert [row["code"] for row in listed.json()["results"]] == ["A1"]
    created = client.post(CUSTOMERS, new_customer_body(), format="json")
    assert created.status_code == 201, created.json()


def test_a_key_without_the_permission_is_refused(make_key):
    key, client = make_key()
    key.user.groups.clear()
    assert client.get(CUSTOMERS).status_code == 403


def test_the_key_is_stored_hashed_and_checked_against_its_hash(django_user_model):
    user = django_user_model.objects.create_user("erp")
    key, secret = api_key_create(name="ERP", user=user)
    stored = APIKey.objects.get(pk=key.pk)
    assert secret not in stored.hashed_key and secret not in stored.pk
    assert stored.hashed_key.startswith("sha512$$")
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert key_client(wrong).get(CUSTOMERS).status_code == 403


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda key: api_key_revoke(key=key), id="revoked"),
        pytest.param(
            lambda key: APIKey.objects.filter(pk=key.pk).update(
                expiry_date=timezone.now() - dt.timedelta(minutes=1)
            ),
            id="expired",
        ),
        pytest.param(lambda key: type(key.user).objects.update(is_active=False), id="inactive"),
    ],
)
def test_a_revoked_or_expired_key_or_one_of_an_inactive_user_stops_working(make_key, spoil):
    key, client = make_key()
    assert client.get(CUSTOMERS).status_code == 200
    spoil(key)
    refused = client.get(CUSTOMERS)
    assert refused.status_code == 403
    assert "not valid" in refused.json()["detail"]


def test_revoking_is_audited_and_cannot_be_undone(make_key, django_user_model):
    boss = django_user_model.objects.create_user("boss", is_staff=True)
    key, _client = make_key()
    api_key_revoke(key=key, by=boss)
    event = AuditEvent.objects.get(action="api_key.revoked")
    assert event.object_id == key.prefix
    key = APIKey.objects.get(pk=key.pk)
    assert key.revoked_by == boss and key.revoked_at is not None
    key.revoked = False
    with pytest.raises(Exception, match="cannot be undone"):
        key.save()


def test_last_used_is_recorded(make_key):
    key, client = make_key()
    assert key.last_used_at is None
    client.get(CUSTOMERS)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_what_a_key_does_is_audited_as_that_key(make_key):
    key, client = make_key()
    assert client.post(CUSTOMERS, new_customer_body(), format="json").status_code == 201
    event = AuditEvent.objects.get(action="customer.created")
    assert event.actor == f"apikey:{key.prefix}:erp"
    assert event.actor_user_id == key.user_id


def test_sessions_and_tokens_still_work(api, django_user_model):
    assert api.get(CUSTOMERS).status_code == 200
    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "pw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    assert client.get(CUSTOMERS).status_code == 200
    created = client.post(CUSTOMERS, new_customer_body(), format="json")
    assert AuditEvent.objects.get(action="customer.created").actor.startswith("token:")
    assert created.status_code == 201


def test_a_key_cannot_act_as_a_superuser(django_user_model):
    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw")
    from feemgmt.core.exceptions import BusinessError

    with pytest.raises(BusinessError) as refused:
        api_key_create(name="too strong", user=root)
    assert "user" in refused.value.detail


def test_one_request_with_a_key_costs_one_query_to_authenticate(
    make_key, django_assert_max_num_queries
):
    _key, client = make_key()
    client.get(CUSTOMERS)  # last_used written
    with django_assert_max_num_queries(4):  # key+user, the user's permissions (2), the page
        assert client.get(CUSTOMERS).status_code == 200


def test_the_schema_describes_api_keys(api):
    schema = api.get("/api/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}
    operation = schema["paths"]["/api/v1/customers/"]["get"]
    assert {"ApiKeyAuth": []} in operation["security"]
