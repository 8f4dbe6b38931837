from django.shortcuts import render

from portal.access import customer_required
from portal.forms import PaymentFilterForm
from portal.selectors import payment_list

from .paging import page_of


@customer_required
def payment_index(request):
    """Every payment attempt of the customer's charges, with filters."""
    form = PaymentFilterForm(request.GET or None)
    attempts = payment_list(request.customer, **form.filters())
    return render(
        request, "portal/payments.html", {"form": form, "page": page_of(request, attempts)}
    )
