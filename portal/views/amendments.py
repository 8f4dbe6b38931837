"""Fee changes waiting for the customer's decision: read the terms, consent or
decline. What was shown is what is stored (the form carries the text's digest)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.context import client_ip
from billing.choices import AmendmentStatus
from billing.models import FeeAmendment
from billing.selectors import customer_amendments
from billing.services.amendments import amendment_consent, amendment_decline, amendment_terms
from billing.services.amendments.decisions import text_digest
from feemgmt.core.exceptions import BusinessError
from portal.access import customer_required, owned_or_404


class DecisionForm(forms.Form):
    text_sha256 = forms.CharField(widget=forms.HiddenInput)
    agree = forms.BooleanField(
        required=False, label=gettext_lazy("I have read the change above and agree to it.")
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        label=gettext_lazy("Comment (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@customer_required
def amendment_index(request):
    amendments = list(customer_amendments(request.customer.pk))
    waiting = [item for item in amendments if item.status == AmendmentStatus.SENT]
    decided = [item for item in amendments if item.status != AmendmentStatus.SENT]
    return render(request, "portal/amendments.html", {"waiting": waiting, "decided": decided})


def _amendment(request, amendment_id: int) -> FeeAmendment:
    return owned_or_404(
        customer_amendments(request.customer.pk),
        request.customer,
        "contract__customer",
        pk=amendment_id,
    )


@customer_required
def amendment_page(request, amendment_id: int):
    amendment = _amendment(request, amendment_id)
    text, terms = amendment_terms(amendment)
    form = DecisionForm(initial={"text_sha256": text_digest(text)})
    return render(
        request,
        "portal/amendment.html",
        {"amendment": amendment, "text": text, "terms": terms, "form": form},
    )


@require_POST
@customer_required
def amendment_decide(request, amendment_id: int):
    """POST ``decision=consent`` (with the box ticked) or ``decision=decline``."""
    amendment = _amendment(request, amendment_id)
    form = DecisionForm(request.POST)
    decision = request.POST.get("decision")
    if not form.is_valid() or decision not in {"consent", "decline"}:
        messages.error(request, _("The decision could not be read: try again."))
        return redirect("portal:amendment", amendment.pk)
    if decision == "consent" and not form.cleaned_data["agree"]:
        messages.error(request, _("Tick the box to confirm that you agree, or decline."))
        return redirect("portal:amendment", amendment.pk)
    proof = {
        "amendment": amendment,
        "customer": request.customer,
        "user": request.user,
        "ip": client_ip(request),
        "user_agent": request.headers.get("user-agent", ""),
        "digest": form.cleaned_data["text_sha256"],
    }
    try:
        if decision == "consent":
            amendment_consent(**proof)
        else:
            amendment_decline(**proof, comment=form.cleaned_data["comment"])
    except BusinessError as error:
        for message in error.messages():
            messages.error(request, message)
        return redirect("portal:amendment", amendment.pk)
    if decision == "consent":
        messages.success(
            request,
            _("Thank you: the new fee applies from %(date)s.")
            % {"date": amendment.effective_from.isoformat()},
        )
    else:
        messages.success(request, _("You declined the change: the current fee stays."))
    return redirect("portal:amendment", amendment.pk)
