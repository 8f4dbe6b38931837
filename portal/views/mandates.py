"""The customer's direct-debit mandate: authorise it (explicit consent), revoke it."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.context import client_ip
from feemgmt.core.admin_forms import add_business_error
from feemgmt.core.exceptions import BusinessError
from payments.models import Mandate
from portal.access import customer_required, owned_or_404
from portal.forms import MandateForm
from portal.selectors import mandate_page
from portal.services import mandate_consent_text, portal_mandate_authorise, portal_mandate_revoke
from portal.services.mandates import text_digest


@customer_required
def mandate_index(request):
    """The mandate page; POST authorises a new mandate with the text shown."""
    customer = request.customer
    text = mandate_consent_text(customer)
    digest = text_digest(text)
    page = mandate_page(customer)
    if request.method == "POST" and page.active is not None:
        messages.error(request, _("An active mandate exists already: revoke it first."))
        return redirect("portal:mandates")
    if request.method == "POST":
        form = MandateForm(request.POST)
        if form.is_valid():
            if form.cleaned_data["text_sha256"] != digest:
                form.add_error(
                    "consent", _("The authorisation text has changed: read it again and confirm.")
                )
            else:
                try:
                    portal_mandate_authorise(
                        customer=customer,
                        user=request.user,
                        debtor_name=form.cleaned_data["debtor_name"],
                        debtor_iban=form.cleaned_data["debtor_iban"],
                        debtor_bic=form.cleaned_data["debtor_bic"],
                        limit=form.cleaned_data["limit"],
                        text_shown=text,
                        ip_address=client_ip(request),
                        user_agent=request.headers.get("user-agent", ""),
                    )
                except BusinessError as error:
                    add_business_error(form, error)
                else:
                    messages.success(request, _("The direct debit is authorised."))
                    return redirect("portal:mandates")
    else:
        form = MandateForm(initial={"text_sha256": digest, "limit": [None, customer.currency]})
    if form.is_bound:  # shown again: the hidden digest is the text shown now
        form.data = form.data.copy()
        form.data["text_sha256"] = digest
    return render(
        request,
        "portal/mandates.html",
        {"page": page, "form": form, "consent_text": text},
    )


@require_POST
@customer_required
def mandate_revoke(request, mandate_id: int):
    mandate = owned_or_404(Mandate, request.customer, "customer", pk=mandate_id)
    try:
        portal_mandate_revoke(customer=request.customer, mandate_id=mandate.pk)
    except BusinessError as error:
        for message in error.messages():
            messages.error(request, message)
    else:
        messages.success(request, _("The mandate is revoked: nothing more is debited under it."))
    return redirect("portal:mandates")
