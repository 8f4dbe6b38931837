from django.shortcuts import render

from portal.access import customer_required
from portal.selectors import portal_overview


@customer_required
def overview(request):
    """What the customer owes and holds, what is taken next, what is overdue."""
    return render(request, "portal/overview.html", {"overview": portal_overview(request.customer)})
