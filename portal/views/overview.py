from django.shortcuts import render

from portal.access import customer_required


@customer_required
def overview(request):
    """What the customer owes and what happens next, on one page."""
    return render(request, "portal/overview.html", {})
