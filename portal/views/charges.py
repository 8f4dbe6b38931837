"""The customer's charges: history with filters, one charge, pay now."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from billing.choices import COLLECTABLE_STATUSES
from feemgmt.core.exceptions import BusinessError
from payments.services.collection import Outcome
from portal.access import customer_required, owned_or_404
from portal.forms import ChargeFilterForm
from portal.payment_actions import payment_action
from portal.selectors import charge_detail, charge_list
from portal.services import PAY_NOW_METHODS, portal_charge_pay, portal_sandbox_complete
from portal.services.payments import sandbox_pending_key

from .paging import page_of

OUTCOME_MESSAGES = {
    Outcome.PAID: (messages.SUCCESS, _("Thank you: the charge is paid.")),
    Outcome.PENDING: (messages.INFO, _("Complete the payment as shown below.")),
    Outcome.FAILED: (messages.ERROR, _("The payment was declined.")),
    Outcome.OVERDUE: (messages.ERROR, _("The payment was declined.")),
    Outcome.UNKNOWN: (
        messages.WARNING,
        _("The payment service has not answered yet: this page shows the result once it does."),
    ),
    Outcome.BUSY: (messages.INFO, _("This charge is being processed: look again in a moment.")),
    Outcome.BLOCKED: (messages.ERROR, _("This charge cannot be paid online: contact us.")),
    Outcome.NOT_DUE: (messages.INFO, _("There is nothing left to pay on this charge.")),
}


@customer_required
def charge_index(request):
    form = ChargeFilterForm(request.GET or None)
    charges = charge_list(request.customer, **form.filters())
    return render(request, "portal/charges.html", {"form": form, "page": page_of(request, charges)})


def _owned(request, charge_id):
    return owned_or_404(
        charge_list(request.customer), request.customer, "contract__customer", pk=charge_id
    )


@customer_required
def charge_page(request, charge_id: int):
    charge = _owned(request, charge_id)
    detail = charge_detail(charge)
    return render(
        request,
        "portal/charge.html",
        {
            "detail": detail,
            "charge": charge,
            "can_pay": charge.status in COLLECTABLE_STATUSES
            and charge.contract.payment_method in PAY_NOW_METHODS
            and detail.waiting is None,
            "action": payment_action(charge, detail.waiting),
            "sandbox": detail.waiting is not None and sandbox_pending_key(charge) is not None,
        },
    )


@require_POST
@customer_required
def charge_pay(request, charge_id: int):
    charge = _owned(request, charge_id)
    try:
        outcome = portal_charge_pay(customer=request.customer, charge_id=charge.pk)
    except BusinessError as error:
        for message in error.messages():
            messages.error(request, message)
    else:
        level, text = OUTCOME_MESSAGES[outcome]
        messages.add_message(request, level, text)
    return redirect("portal:charge", charge_id=charge.pk)


@require_POST
@customer_required
def charge_sandbox_complete(request, charge_id: int):
    charge = _owned(request, charge_id)
    try:
        outcome = portal_sandbox_complete(customer=request.customer, charge_id=charge.pk)
    except BusinessError as error:
        for message in error.messages():
            messages.error(request, message)
    else:
        level, text = OUTCOME_MESSAGES[outcome]
        messages.add_message(request, level, text)
    return redirect("portal:charge", charge_id=charge.pk)
