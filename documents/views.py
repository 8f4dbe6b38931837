"""The documents' portal pages: the list of receipts with the statement form, a
receipt, a statement. Every look-up goes through the logged-in customer
(``portal.access``): another customer's charge is 404, like one that does not
exist, and so is a charge of one's own that has no receipt (not paid)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from billing.models import Charge
from feemgmt.core.exceptions import BusinessError
from portal.access import customer_required, owned_or_404

from .forms import StatementPeriodForm
from .selectors import paid_charges
from .services import Document, receipt_render, statement_render

PAGE_SIZE = 20


def pdf_response(document: Document) -> HttpResponse:
    response = HttpResponse(document.content, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _index(request, form: StatementPeriodForm, *, status: int = 200):
    page = Paginator(paid_charges(request.customer), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "documents/portal/index.html", {"page": page, "form": form}, status=status
    )


@customer_required
def index(request):
    """Receipts of the paid charges, and the statement of account for a period."""
    return _index(request, StatementPeriodForm())


@customer_required
def receipt(request, charge_id: int):
    charge = owned_or_404(
        Charge.objects.select_related("contract__customer"),
        request.customer,
        "contract__customer",
        pk=charge_id,
    )
    try:
        document = receipt_render(charge=charge)
    except BusinessError as error:
        raise Http404 from error
    return pdf_response(document)


@customer_required
def statement(request):
    form = StatementPeriodForm(request.GET)
    if not form.is_valid():
        return _index(request, form, status=400)
    document = statement_render(
        customer=request.customer,
        date_from=form.cleaned_data["date_from"],
        date_to=form.cleaned_data["date_to"],
    )
    return pdf_response(document)
