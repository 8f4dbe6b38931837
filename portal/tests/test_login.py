"""Logging in: throttled by username and IP address, customer logins only; password
reset by e-mail; an invitation from the customer admin ends in a working login."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from portal.models import CustomerUser
from portal.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/portal/login/"


def login(client, password, username="alice", ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_the_login_page_is_served_and_a_customer_lands_on_the_overview(client, user):
    assert client.get(LOGIN).status_code == 200
    response = login(client, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("portal:overview")


def test_five_wrong_passwords_lock_the_login_out_even_with_the_right_one(client, user):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _attempt in range(4):
        response = login(client, "wrong")
        assert response.status_code == 200  # the form again, with its error
    assert login(client, "wrong").status_code == 429  # the 5th failure locks
    response = login(client, PASSWORD)  # the 6th attempt
    assert response.status_code == 429
    assert b"locked-out" in response.content
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_ip_address(client, user, django_user_model):
    for _attempt in range(5):
        login(client, "wrong")
    # The same login from another address, and another login from the same one, still work.
    assert login(client, PASSWORD, ip="198.51.100.9").status_code == 302
    client.logout()
    from portal.tests.conftest import portal_login

    portal_login(user.customer_login.customer, "bob", django_user_model)
    assert login(client, PASSWORD, username="bob").status_code == 302


def test_a_success_resets_the_count_of_failures(client, user):
    for _attempt in range(4):
        login(client, "wrong")
    assert login(client, PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(4):
        login(client, "wrong")
    assert login(client, PASSWORD).status_code == 302


def test_a_staff_account_cannot_log_in_to_the_portal(client, admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    response = login(client, PASSWORD, username=admin_user.username)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_mails_a_link_that_sets_a_new_password(client, user, admin_user):
    admin_user.email = "boss@example.com"
    admin_user.save()
    client.post(reverse("portal:password_reset"), {"email": "boss@example.com"})
    assert mail.outbox == []  # staff addresses get nothing from the portal

    response = client.post(reverse("portal:password_reset"), {"email": "alice@example.com"})
    assert response.url == reverse("portal:password_reset_done")
    (message,) = mail.outbox
    link = re.search(r"http://\S+/portal/password-reset/\S+/\S+/", message.body).group(0)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "N3w-passphrase!", "new_password2": "N3w-passphrase!"},
    )
    assert response.url == reverse("portal:password_reset_complete")
    assert login(client, "N3w-passphrase!").status_code == 302


def test_staff_invite_a_portal_user_who_sets_a_password_and_logs_in(
    client, admin_client, customer, admin_user, django_capture_on_commit_callbacks
):
    changelist = reverse("admin:contracts_customer_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist,
            {
                "action": "invite_portal_user",
                "_selected_action": [customer.pk],
                "apply": "1",
                "email": "Zhao.Liu@Example.com",
                "name": "赵六",
            },
        )
    assert response.status_code == 302

    invited = CustomerUser.objects.select_related("user").get(customer=customer)
    assert invited.invited_by == admin_user
    assert invited.user.username == "zhao.liu@example.com"
    assert not invited.user.is_staff and not invited.user.is_superuser
    assert not invited.user.has_usable_password()
    event = AuditEvent.objects.get(action="portal_user.invited")
    assert event.object_id == str(invited.pk)

    (message,) = mail.outbox
    assert message.to == ["zhao.liu@example.com"]
    assert customer.name in message.body
    link = re.search(r"http://\S+/portal/invitation/\S+/\S+/", message.body).group(0)
    form = client.get(link.split("8000", 1)[1], follow=True)
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Zh40-passphrase", "new_password2": "Zh40-passphrase"},
    )
    assert response.url == reverse("portal:login")
    assert login(client, "Zh40-passphrase", username="zhao.liu@example.com").status_code == 302
    assert client.get(reverse("portal:overview")).status_code == 200

    # The link worked once: the password it set changed the token.
    client.logout()
    again = client.get(link.split("8000", 1)[1], follow=True)
    assert b"no longer valid" in again.content


def test_inviting_an_address_that_has_a_login_is_refused(admin_client, customer, user):
    response = admin_client.post(
        reverse("admin:contracts_customer_changelist"),
        {
            "action": "invite_portal_user",
            "_selected_action": [customer.pk],
            "apply": "1",
            "email": "ALICE@example.com",
        },
        follow=True,
    )
    assert "already exists" in response.content.decode()
    assert CustomerUser.objects.filter(customer=customer).count() == 1
    assert mail.outbox == []


def test_staff_send_the_invitation_again_until_a_password_is_set(
    admin_client, customer, user, django_capture_on_commit_callbacks
):
    from portal.services import portal_user_invite

    waiting = portal_user_invite(customer=customer, email="late@example.com", send=False)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:portal_customeruser_changelist"),
            {
                "action": "send_invitation_again",
                "_selected_action": [waiting.pk, user.customer_login.pk],
            },
        )
    # Only the login without a password is mailed; alice has hers.
    (message,) = mail.outbox
    assert message.to == ["late@example.com"]
    assert "/portal/invitation/" in message.body
    assert AuditEvent.objects.filter(action="portal_user.reinvited").count() == 1
