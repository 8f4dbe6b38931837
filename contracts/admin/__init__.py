"""Admin for customers and contracts.

Every write goes through contracts.services: the forms here only parse input.
When a service refuses (BusinessError), the change form is shown again with the
service's messages on the fields they concern (feemgmt.core.admin_forms). A
contract is editable only while it is a draft; after signing, it and its fees
are read-only here and change through actions. Each change page links to the
object's audit history.
"""

from .contracts import ContractAdmin, FeeInline
from .customers import CustomerAdmin

__all__ = ["ContractAdmin", "CustomerAdmin", "FeeInline"]
