"""Statement lines, matches and discrepancies page by cursor: every row once, in
order, and a page costs the same queries for 50 rows as for 10, without a count."""

from __future__ import annotations

import pytest

from reconciliation.models import Discrepancy, Match, StatementLine
from reconciliation.services import statement_import
from tests.clock import at
from tests.pages import counts_rows, flat, list_queries, walk

from .statements import DAY, Entry, camt053, receiving_account, reference_of, transfer_notice

pytestmark = pytest.mark.django_db

LISTS = {
    "/api/v1/statement-lines/": (StatementLine, ("statement_id", "line_no", "id")),
    "/api/v1/matches/": (Match, ("-id",)),
    "/api/v1/discrepancies/": (Discrepancy, ("-id",)),
}


def import_payments(account, charge, count: int, batch: str) -> None:
    """``count`` lines all quoting the charge's reference: one pays it, the others are
    duplicate payments; a match for each line, a discrepancy for each duplicate."""
    reference = reference_of(charge)
    entries = [
        Entry("3000.00", f"pay {i} {reference}", reference=f"{batch}-{i:04d}") for i in range(count)
    ]
    with at(DAY):
        statement_import(account=account, data=camt053(*entries), filename=f"{batch}.xml")


@pytest.fixture
def account():
    return receiving_account()


@pytest.mark.parametrize("url", list(LISTS))
def test_walking_the_links_gives_every_row_once_in_order(api, account, url):
    import_payments(account, transfer_notice(), 7, "A")
    import_payments(account, transfer_notice(), 6, "B")
    model, ordering = LISTS[url]

    pages = walk(api, url, {"page_size": 4})

    assert len(pages) > 2
    assert flat(pages) == list(model.objects.order_by(*ordering).values_list("id", flat=True))


@pytest.mark.parametrize("url", list(LISTS))
def test_a_page_costs_the_same_queries_for_50_rows_as_for_10(api, account, url):
    charge = transfer_notice()
    import_payments(account, charge, 10, "A")
    for_ten = list_queries(api, url)
    import_payments(account, charge, 40, "B")
    model, _ordering = LISTS[url]
    assert model.objects.count() >= 49

    for_fifty = list_queries(api, url)

    assert len(for_fifty) == len(for_ten)
    assert counts_rows(for_fifty) == []
