"""Page-number paging for the portal's history lists (a customer's rows, a few
hundred at most: a count per page is cheap, and a page number is what a person
shares or goes back to)."""

from django.core.paginator import Paginator

PAGE_SIZE = 20


def page_of(request, rows, *, per_page: int = PAGE_SIZE):
    return Paginator(rows, per_page).get_page(request.GET.get("page"))
