"""Staff invite a customer's people to the portal by e-mail.

An invited login has no usable password: the invitation's link (Django's password
reset token, valid ``PASSWORD_RESET_TIMEOUT`` seconds) lets its owner set one. The
token is bound to the password hash, so a link stops working once it was used.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from audit.services import audit_record
from contracts.models import Customer
from feemgmt.core.exceptions import BusinessError

from ..models import CustomerUser


def invitation_link(user) -> str:
    """The absolute set-password link of an invitation (``SITE_URL`` + path)."""
    path = reverse(
        "portal:invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


def invitation_send(*, customer_user: CustomerUser) -> None:
    """E-mail the invitation, in the site's default language (zh-hans)."""
    user = customer_user.user
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "name": user.first_name or user.email,
            "customer": customer_user.customer,
            "link": invitation_link(user),
            "username": user.get_username(),
        }
        subject = _("Your access to the customer portal")
        body = render_to_string("portal/email/invitation.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def portal_user_invite(
    *, customer: Customer, email: str, name: str = "", invited_by=None, send: bool = True
) -> CustomerUser:
    """Create a customer's portal login (never staff) and e-mail its invitation once
    committed. The e-mail address is the username. Records ``portal_user.invited``."""
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    if not email:
        raise BusinessError({"email": [_("Enter the e-mail address to invite.")]})
    user_model = get_user_model()
    taken = user_model.objects.filter(username__iexact=email).exists()
    if taken or user_model.objects.filter(email__iexact=email).exists():
        raise BusinessError({"email": [_("A login with this e-mail address already exists.")]})
    user = user_model(username=email, email=email, first_name=name.strip()[:150], is_staff=False)
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    link = CustomerUser.objects.create(
        user=user, customer=customer, invited_by=invited_by if invited_by else None
    )
    if send:
        transaction.on_commit(lambda: invitation_send(customer_user=link))
    audit_record(
        action="portal_user.invited",
        obj=link,
        changes={
            "after": {
                "customer": customer.pk,
                "user": user.pk,
                "email": email,
                "invited_by": invited_by.pk if invited_by else None,
            }
        },
    )
    return link


@transaction.atomic
def portal_user_reinvite(*, customer_user: CustomerUser) -> None:
    """Send the invitation again to a login that has not set its password yet (the
    first e-mail was lost, or its link expired). Records ``portal_user.reinvited``."""
    if customer_user.user.has_usable_password():
        raise BusinessError(
            {"user": [_("This login has set its password: it can reset it from the portal.")]}
        )
    transaction.on_commit(lambda: invitation_send(customer_user=customer_user))
    audit_record(
        action="portal_user.reinvited",
        obj=customer_user,
        changes={"after": {"email": customer_user.user.email}},
    )
