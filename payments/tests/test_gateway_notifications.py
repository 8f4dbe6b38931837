"""Alipay and WeChat Pay notifications through the real endpoint, against the local
fake gateways: a correct one settles the charge once, however often and however
concurrently it arrives; a tampered, forged, misaddressed or stale one is refused
(4xx, ``fail``) and changes nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.choices import ChargeStatus
from ledger.choices import EntryKind
from ledger.models import JournalEntry
from ledger.selectors import unbalanced_entries
from payments.choices import AttemptStatus
from payments.models import InboundNotification
from payments.services.collection import Outcome, charge_collect
from payments.tests.collection_helpers import billed_charge
from payments.tests.fakes.alipay import FakeAlipay, key_pair
from payments.tests.fakes.wechat_pay import FakeWechatPay

TODAY = timezone.localdate()


@pytest.fixture
def alipay(settings):
    with FakeAlipay() as fake:
        fake.install(settings)
        yield fake


@pytest.fixture
def wechat(settings):
    with FakeWechatPay() as fake:
        fake.start()
        settings.PAYMENT_ADAPTERS = {
            **settings.PAYMENT_ADAPTERS,
            "wechat_pay": {
                "class": "payments.adapters.wechat_pay.WechatPayAdapter",
                "options": fake.adapter_options(),
            },
        }
        yield fake


def pending_charge(method):
    charge = billed_charge("3000.00", method=method, day=TODAY)
    assert charge_collect(charge.pk, on=TODAY) == Outcome.PENDING
    attempt = charge.attempts.get()
    assert attempt.action_kind == "qr_code"
    return charge, attempt


def post(method, headers, body, client=None):
    client = client or Client()
    content_type = headers.pop("Content-Type", None) or (
        "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
    )
    return client.post(
        reverse("payments:notify", kwargs={"method": method}),
        body,
        content_type=content_type,
        headers=headers,
    )


def settled_once(charge, attempt):
    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert attempt.status == AttemptStatus.SUCCEEDED
    payments = JournalEntry.objects.filter(kind=EntryKind.PAYMENT, subject=f"charge:{charge.pk}")
    assert payments.count() == 1
    assert unbalanced_entries() == []


def unchanged(charge, attempt):
    charge.refresh_from_db()
    attempt.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING
    assert attempt.status == AttemptStatus.PENDING
    assert not JournalEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


@pytest.mark.django_db
def test_an_alipay_notification_settles_the_charge_and_is_acknowledged(alipay):
    charge, attempt = pending_charge("alipay")
    alipay.pay(attempt.idempotency_key)
    headers, body = alipay.notification_for(attempt.idempotency_key)

    for _ in range(3):
        response = post("alipay", dict(headers), body)
        assert response.status_code == 200 and response.content == b"success"

    settled_once(charge, attempt)


def _alipay_forgeries(alipay, key):
    old = (timezone.now() - dt.timedelta(hours=26)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    forgeries = {
        "tampered amount": alipay.notification_for(key, after_signing={"total_amount": "0.01"}),
        "missing signature": alipay.notification_for(key, after_signing={"sign": None}),
        "another app": alipay.notification_for(key, app_id="2021009999999999"),
        "another seller": alipay.notification_for(key, seller_id="2088009999999999"),
        "stale": alipay.notification_for(key, notify_time=old.strftime("%Y-%m-%d %H:%M:%S")),
        "amount we did not ask": alipay.notification_for(key, total_amount="2999.00"),
        "signed by another key": alipay.notification_for(
            key, signed_with=key_pair("stranger").private_pem
        ),
    }
    return forgeries


@pytest.mark.django_db
def test_every_forged_or_stale_alipay_notification_is_refused(alipay):
    charge, attempt = pending_charge("alipay")
    alipay.pay(attempt.idempotency_key)

    for name, (headers, body) in _alipay_forgeries(alipay, attempt.idempotency_key).items():
        response = post("alipay", dict(headers), body)
        assert 400 <= response.status_code < 500, name
        assert response.content == b"fail", name
        unchanged(charge, attempt)
    assert InboundNotification.objects.filter(accepted=False).count() == 7
    assert not InboundNotification.objects.filter(accepted=True).exists()


@pytest.mark.django_db
def test_a_wechat_pay_notification_settles_the_charge(wechat):
    charge, attempt = pending_charge("wechat_pay")
    wechat.pay(attempt.idempotency_key)
    headers, body = wechat.notification_for(attempt.idempotency_key)

    for _ in range(3):
        response = post("wechat_pay", dict(headers), body)
        assert response.status_code == 200
        assert response.json()["code"] == "SUCCESS"

    settled_once(charge, attempt)


@pytest.mark.django_db
def test_every_forged_or_stale_wechat_pay_notification_is_refused(wechat):
    charge, attempt = pending_charge("wechat_pay")
    wechat.pay(attempt.idempotency_key)
    key = attempt.idempotency_key
    now = int(time.time())
    forgeries = {
        "tampered body": wechat.notification_for(key, tamper_body=True),
        "tampered ciphertext": wechat.notification_for(key, tamper_ciphertext=True),
        "stale": wechat.notification_for(key, timestamp=now - 301),
        "from the future": wechat.notification_for(
            key, timestamp=now + 400
        ),  # slack for a slow run
        "wrong serial": wechat.notification_for(key, serial="PUB_KEY_ID_0000000000000000000000"),
        "another merchant": wechat.notification_for(key, mchid="1900000999"),
        "wrong APIv3 key": wechat.notification_for(key, apiv3_key="0" * 32),
    }
    for name, (headers, body) in forgeries.items():
        response = post("wechat_pay", dict(headers), body)
        assert 400 <= response.status_code < 500, name
        assert response.json()["code"] == "FAIL", name
        unchanged(charge, attempt)
    assert not InboundNotification.objects.filter(accepted=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hundred_concurrent_identical_alipay_notifications_credit_once(alipay):
    charge, attempt = pending_charge("alipay")
    alipay.pay(attempt.idempotency_key)
    headers, body = alipay.notification_for(attempt.idempotency_key)
    threads = 40  # one PostgreSQL connection each; the server allows 100
    start = threading.Barrier(threads)

    def deliver(index):
        try:
            if index < threads:
                start.wait(timeout=30)
            response = post("alipay", dict(headers), body)
            return response.status_code, response.content
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        replies = list(pool.map(deliver, range(100)))

    assert replies == [(200, b"success")] * 100
    settled_once(charge, attempt)
    assert InboundNotification.objects.filter(accepted=True).count() == 100
    assert alipay.debits(attempt.idempotency_key) == 1
