"""The domain's money movements, each one journal entry on accounts chosen here.

==================  ======================  =======================  =====================
posting             debit                   credit                   kind / reference
==================  ======================  =======================  =====================
post_charge (fee)   RECEIVABLE (customer)   FEE_INCOME               charge / charge:<id>
post_payment fee    CLEARING (method)       RECEIVABLE               payment / <given>
post_payment prep.  CLEARING (method)       PREPAID                  payment / <given>
post_payment dep.   CLEARING (method)       DEPOSIT_HELD             payment / <given>
post_prepayment     CLEARING (method)       PREPAID                  prepayment / <given>
apply_prepaid       PREPAID                 RECEIVABLE               prepaid_applied / charge:<id>
apply_deposit       DEPOSIT_HELD            RECEIVABLE               deposit_applied / charge:<id>
post_refund fee     FEE_INCOME              CLEARING (method)        refund / <given>
post_refund prep.   PREPAID                 CLEARING (method)        refund / <given>
post_refund dep.    DEPOSIT_HELD            CLEARING (method)        deposit_refund / <given>
post_prepaid_refund PREPAID                 CLEARING (method)        refund / <given>
post_write_off      WRITE_OFF               RECEIVABLE               write_off / charge:<id>
post_reversal       the original's lines, negated                    reversal / <given>
==================  ======================  =======================  =====================

Decisions a finance team would expect, where the design was silent:

- **Signing charges treated as prepayment or deposit post nothing when billed.**
  Until the money arrives the customer has no spendable balance and we hold no
  deposit, and such a charge is not income; a receivable against an unfunded
  liability would only show a balance the customer cannot use. The money is
  booked when collected: ``post_payment(treatment=prepayment|deposit)`` credits
  PREPAID or DEPOSIT_HELD directly. A zero-amount charge posts nothing either.
- **Every entry about a charge carries its subject** ``charge:<id>``; the caps
  are per charge, summed from those entries: a fee payment, prepaid application
  or write-off never exceeds what is still receivable on the charge, and a
  refund never exceeds the cash collected for the charge through that method
  less what was already refunded through it (reversals included). A refund
  undoes what the payment credited: fee income, prepaid balance (which must
  still be there) or the deposit held (kind ``deposit_refund``); which one is
  read from the charge's payments, not trusted to the caller.
- **Customer balances never go below zero**: receivable (per charge and so in
  total), prepaid balance and deposit held. A payment larger than what is
  outstanding is refused: the caller books the excess as a prepayment.
- **Each rule is checked under row locks** on the customer's accounts (taken in
  id order, so postings cannot deadlock each other), so two concurrent
  postings cannot both spend the same balance. A re-post of an existing
  (kind, reference) skips the rules and returns the entry already there, when
  it is identical (see :func:`ledger.services.journal_post`).
- **A reversal is refused when it would break those rules**, e.g. reversing a
  charge already paid (refund first), or a prepayment already spent.
- A top-up that was never spent is returned by reversing its prepayment entry;
  the part of a charge paid from the prepaid balance goes back there by
  reversing the ``prepaid_applied`` entry.

Amounts are positive Money; the currency is the Money's, so an amount and its
currency cannot disagree. Only plain values come in (ids, references): the
ledger sits below billing and payments and imports neither.
"""

from .charges import (
    BilledCharge,
    accounts_for_customers,
    post_charge,
    post_charge_cancellation,
    post_charge_change,
    post_charges,
)
from .payments import (
    apply_deposit,
    apply_prepaid,
    payment_posting,
    post_payment,
    post_prepayment,
    post_write_off,
)
from .refunds import post_prepaid_refund, post_refund, post_reversal
from .rules import charge_subject

__all__ = [
    "BilledCharge",
    "accounts_for_customers",
    "apply_deposit",
    "apply_prepaid",
    "charge_subject",
    "payment_posting",
    "post_charge",
    "post_charge_cancellation",
    "post_charge_change",
    "post_charges",
    "post_payment",
    "post_prepaid_refund",
    "post_prepayment",
    "post_refund",
    "post_reversal",
    "post_write_off",
]
