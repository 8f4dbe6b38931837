from django.shortcuts import render

from portal.access import customer_required, owned_or_404
from portal.selectors import contract_list, contract_recent_charges


@customer_required
def contract_index(request):
    return render(request, "portal/contracts.html", {"contracts": contract_list(request.customer)})


@customer_required
def contract_page(request, contract_id: int):
    contract = owned_or_404(
        contract_list(request.customer), request.customer, "customer", pk=contract_id
    )
    return render(
        request,
        "portal/contract.html",
        {"contract": contract, "charges": contract_recent_charges(contract)},
    )
