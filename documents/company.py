"""Who issues the documents: the company named in the settings (``COMPANY_*`` in
the "Documents" section of ``feemgmt/settings/doors.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

__all__ = ["CURRENCY_NAMES", "Company", "company", "currency_name"]


@dataclass(frozen=True)
class Company:
    name: str
    address: str
    phone: str
    credit_code: str


def company() -> Company:
    return Company(
        name=settings.COMPANY_NAME,
        address=settings.COMPANY_ADDRESS,
        phone=settings.COMPANY_PHONE,
        credit_code=settings.COMPANY_CREDIT_CODE,
    )


# The currency's name written before an amount in capitals (人民币壹仟贰佰元整).
# Capitals are a Chinese form whatever language the page is in, so these are not
# translated.
CURRENCY_NAMES = {
    "CNY": "人民币",
    "USD": "美元",
    "EUR": "欧元",
    "HKD": "港币",
    "JPY": "日元",
    "GBP": "英镑",
}


def currency_name(code: str) -> str:
    return CURRENCY_NAMES.get(code, code)
