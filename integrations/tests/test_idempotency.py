"""Idempotency-Key on POSTs: a retried request answers the first answer, a reused
key for another request is a 422, a key still in use a 409; keys are each
caller's own, failures give the key back, and old keys are purged."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from contracts import services as contract_services
from contracts.models import Contract
from contracts.tests.factories import CustomerFactory
from integrations.models import IdempotencyRecord
from integrations.tasks import idempotency_purge_task

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/"


def body(customer, number="HT-IDEM-1"):
    return {
        "customer": customer.id,
        "number": number,
        "service_start": "2026-03-01",
        "payment_method": "bank_transfer",
        "fees": [{"kind": "recurring", "cycle": "monthly", "amount": "1200.00"}],
    }


def post(client, data, key, url=URL):
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def customer():
    return CustomerFactory()


def test_a_replay_answers_the_first_201_not_a_duplicate_number(api, customer):
    first = post(api, body(customer), "k-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first

    again = post(api, body(customer), "k-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Contract.objects.count() == 1

    # without the key the same body really runs again, and the rule refuses it
    plain = api.post(URL, body(customer), format="json")
    assert plain.status_code == 400 and "number" in plain.json()


def test_the_same_key_for_another_body_or_path_is_a_422(api, customer):
    assert post(api, body(customer), "k-2").status_code == 201

    other_body = post(api, body(customer, number="HT-IDEM-2"), "k-2")
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    other_path = post(
        api, {"code": "X1", "name": "n", "email": "x@example.com"}, "k-2", url="/api/v1/customers/"
    )
    assert other_path.status_code == 422
    assert Contract.objects.count() == 1


def test_key_order_and_spacing_do_not_make_a_body_different(api, customer):
    data = body(customer)
    assert post(api, data, "k-3").status_code == 201
    reordered = dict(reversed(list(data.items())))
    assert post(api, reordered, "k-3")["Idempotent-Replayed"] == "true"


def test_a_key_still_in_use_is_a_409(api, customer, monkeypatch):
    """The second request arrives while the first is inside its service."""
    seen = {}
    create = contract_services.contract_create

    def slow_create(**kwargs):
        seen["during"] = post(api, body(customer), "k-4")
        return create(**kwargs)

    monkeypatch.setattr(contract_services, "contract_create", slow_create)
    first = post(api, body(customer), "k-4")
    assert first.status_code == 201
    assert seen["during"].status_code == 409
    assert seen["during"].json()["code"] == "idempotency_key_in_use"
    assert seen["during"]["Retry-After"] == "1"
    assert Contract.objects.count() == 1


def test_keys_are_each_callers_own(make_key, customer):
    _one, first = make_key(username="erp-a")
    _two, second = make_key(username="erp-b")
    assert post(first, body(customer, number="A-1"), "shared").status_code == 201
    answer = post(second, body(customer, number="B-1"), "shared")
    assert answer.status_code == 201 and "Idempotent-Replayed" not in answer
    assert set(IdempotencyRecord.objects.values_list("owner", flat=True)) == {
        f"apikey:{_one.pk}",
        f"apikey:{_two.pk}",
    }


def test_a_request_that_fails_with_a_5xx_gives_its_key_back(api, customer, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(contract_services, "contract_create", broken)
    client = APIClient(raise_request_exception=False)
    client.force_login(_staff())
    failed = post(client, body(customer), "k-5")
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.exists()

    monkeypatch.undo()
    assert post(client, body(customer), "k-5").status_code == 201


def _staff():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def test_a_4xx_answer_is_kept_and_replayed(api):
    refused = post(api, {"number": "no customer"}, "k-6")
    assert refused.status_code == 400
    again = post(api, {"number": "no customer"}, "k-6")
    assert again.status_code == 400 and again["Idempotent-Replayed"] == "true"
    assert again.json() == refused.json()


def test_an_unusable_key_header_is_a_400(api, customer):
    answer = post(api, body(customer), "x" * 256)
    assert answer.status_code == 400
    assert answer.json()["code"] == "idempotency_key_invalid"
    assert not Contract.objects.exists()


def test_keys_are_kept_24_hours_then_forgotten_and_purged(api, customer):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert post(api, body(customer), "k-7").status_code == 201
    with time_machine.travel(start + dt.timedelta(hours=23), tick=False):
        assert post(api, body(customer), "k-7")["Idempotent-Replayed"] == "true"
        assert idempotency_purge_task() == 0
    with time_machine.travel(start + dt.timedelta(hours=25), tick=False):
        assert idempotency_purge_task() == 1
        # once forgotten, the request runs again (and the duplicate number is refused)
        assert post(api, body(customer), "k-7").status_code == 400


def test_a_post_without_the_header_stores_nothing(api, customer):
    assert api.post(URL, body(customer), format="json").status_code == 201
    assert not IdempotencyRecord.objects.exists()


def test_an_anonymous_post_is_refused_by_the_view_and_stores_nothing(customer):
    answer = post(APIClient(), body(customer), str(uuid.uuid4()))
    assert answer.status_code == 403
    assert not IdempotencyRecord.objects.exists()


def test_every_post_documents_the_header_and_its_answers(api):
    schema = api.get("/api/schema/?format=json").json()
    posts = [
        (path, item["post"])
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/") and "post" in item
    ]
    assert len(posts) > 5
    for path, operation in posts:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names, path
        assert {"409", "422"} <= set(operation["responses"]), path
    assert "IdempotencyError" in schema["components"]["schemas"]


def test_a_statement_upload_is_replayed_by_its_fields_and_file_not_its_boundary(api):
    """Multipart bodies differ on every send (the boundary); the fingerprint reads
    the fields and the file's digest, so a retried upload is the same request."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reconciliation.models import Statement
    from reconciliation.tests.statements import DAY, Entry, camt053, receiving_account
    from tests.clock import at

    receiving_account()
    data = camt053(Entry("9.99", "不明"))

    def send(content, boundary):
        from django.test.client import encode_multipart

        upload = SimpleUploadedFile("march.xml", content, content_type="application/xml")
        return api.generic(
            "POST",
            "/api/v1/statements/",
            encode_multipart(boundary, {"file": upload, "account": "icbc-cny"}),
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    with at(DAY):
        first = send(data, "BoUnDaRy-one")
        again = send(data, "another-boundary")
        other = send(camt053(Entry("1.00", "x")), "BoUnDaRy-one")
    assert first.status_code == 201, first.json()
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422
    assert Statement.objects.count() == 1


def test_a_session_post_failing_its_csrf_check_is_refused_and_stores_nothing(customer):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff)
    answer = post(client, body(customer), "csrf-1")
    assert answer.status_code == 403 and "CSRF" in answer.json()["detail"]
    assert not IdempotencyRecord.objects.exists()


def test_a_request_left_running_past_the_timeout_frees_its_key(api, customer):
    """Its process died: after IDEMPOTENCY_RUNNING_TIMEOUT the key runs again."""
    assert post(api, body(customer), "k-dead").status_code == 201
    IdempotencyRecord.objects.update(
        state="running", created_at=timezone.now() - dt.timedelta(minutes=9)
    )
    assert post(api, body(customer), "k-dead").status_code == 409
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(minutes=11))
    again = post(api, body(customer), "k-dead")
    assert again.status_code == 400 and "Idempotent-Replayed" not in again  # it ran
