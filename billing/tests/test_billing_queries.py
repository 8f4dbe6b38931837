"""The billing run's SQL does not grow per contract: a monthly run over 1,000
contracts sends the same statements per chunk as one over 100, and the same fixed
statements around the chunks, so its statements per 1,000 contracts stay level as
the book grows (docs/PERFORMANCE.md)."""

from __future__ import annotations

import datetime as dt
from statistics import mean

import pytest
from django.db import connection, transaction

from billing.services import billing_run, run
from contracts.demo.plan import demo_plan
from contracts.demo.seed import demo_seed
from tests.clock import at

# Per chunk the statement count depends on how many charges the chunk inserts
# (multi-row VALUES below feemgmt.core.sql.COPY_FROM rows, COPY from there on):
# chunks of 20 fees keep every chunk on one path. One statement per chunk reads the
# fees' consented amendments (docs/amendments.md).
CHUNK = 20
LOADED = dt.date(2026, 1, 10)
RUN = dt.date(2026, 3, 1)
PER_CHUNK_BOUND = 23


class _Undo(Exception):
    pass


class Statements:
    """Counts statements; ``inside`` holds the count of each chunk's transaction."""

    def __init__(self):
        self.n = 0
        self.inside: list[int] = []

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)

    def around(self, chunk):
        def counted(**kwargs):
            before = self.n
            try:
                return chunk(**kwargs)
            finally:
                self.inside.append(self.n - before)

        return counted


def monthly_run(contracts: int, monkeypatch) -> tuple[list[int], int, int, int]:
    """Load ``contracts`` demo contracts, bill them up to date, then count the
    statements of the run for the 1st of a month: per chunk, around the chunks (less
    the one id-range read before each chunk and after the last), in all, and the
    contracts billed."""
    with at(LOADED):
        demo_seed(demo_plan(count=contracts, seed=7, today=LOADED))
        billing_run(on=LOADED)
    with at(dt.date(2026, 2, 1)):
        billing_run(on=dt.date(2026, 2, 1))  # the customers' accounts exist from here on
    counter = Statements()
    monkeypatch.setattr(run, "billing_run_chunk", counter.around(run.billing_run_chunk))
    with at(RUN), connection.execute_wrapper(counter):
        result = billing_run(on=RUN, chunk_size=CHUNK)
    monkeypatch.undo()
    chunks = counter.inside
    around = counter.n - sum(chunks) - (len(chunks) + 1)
    return chunks, around, result.contracts_seen, counter.n


@pytest.mark.postgres
@pytest.mark.django_db
def test_statements_per_chunk_and_per_run_do_not_grow_with_the_book(monkeypatch):
    try:
        with transaction.atomic():  # undone afterwards: the larger book starts empty too
            small_chunks, small_fixed, small_contracts, small_total = monthly_run(100, monkeypatch)
            raise _Undo
    except _Undo:
        pass
    large_chunks, large_fixed, large_contracts, large_total = monthly_run(1000, monkeypatch)

    assert len(large_chunks) >= 8 * max(len(small_chunks), 1)  # the run really chunked
    # Every chunk of 20 fees, at either size: the transaction and its savepoints, the
    # lock and the read of the fees, one insert of charges, the fee income account of
    # each currency in the chunk, the customers' receivable accounts (created first
    # for customers billed for the first time), one insert each of entries and lines,
    # one bookmark update and the chunk's audit event. Nothing per fee or per charge.
    assert max(small_chunks) <= PER_CHUNK_BOUND and max(large_chunks) <= PER_CHUNK_BOUND
    assert abs(mean(large_chunks) - mean(small_chunks)) < 2
    # Around the chunks: the contracts' status step (one more statement when a day
    # activates or ends contracts, whatever their number), the due-fee count, nothing else.
    assert max(small_fixed, large_fixed) <= 14 and abs(small_fixed - large_fixed) <= 1
    assert large_contracts >= 8 * small_contracts
    # Statements per 1,000 contracts billed: level, not rising, from 100 to 1,000.
    assert 1000 * large_total / large_contracts <= 1000 * small_total / small_contracts
