"""Events other apps react to.

The contracts app sits below billing and may not import it; billing listens to
these instead (see billing/receivers.py). They are sent inside the service's
transaction, so a receiver's writes commit or roll back with the contract's.
"""

from django.dispatch import Signal

# contract: Contract, on: date (today), bill_now: bool (bill what is due at once)
contract_signed = Signal()
# contract: Contract (service_end already set to the termination end date)
contract_terminated = Signal()
