"""Column layouts of the statement exports of the large Chinese banks.

Each layout was read off a real (anonymised) export in tests/samples/cn_bank (see
tests/samples/SOURCES.md), not off documentation, because the banks publish none
and their exports differ from what the column names suggest:

- ICBC fills 交易金额(收入/支出) with ``-`` and puts the amounts in
  记账金额(收入/支出), so the booked-amount columns are the ones read.
- CCB's .xls header is 记账日, 交易日期, 交易时间, 支出, 收入, 账户余额, 币种, 摘要,
  对方账号, 对方户名, 交易地点 (no 记账金额, and both amount cells are numbers,
  the unused one 0.0).
- BOCOM gives an unsigned amount with a 借贷 column holding ``借 Dr`` / ``贷 Cr``.
- ABC and CMB give one signed amount column; ABC writes explicit ``+``.
"""

from __future__ import annotations

from .mapping import ColumnMapping

__all__ = ["BUILTIN_MAPPINGS"]

_MAPPINGS = (
    ColumnMapping(
        name="icbc",
        label="工商银行 ICBC",
        booked_on=("交易日期",),
        credit=("记账金额(收入)",),
        debit=("记账金额(支出)",),
        currency=("记账币种",),
        narrative=("摘要", "交易详情", "交易场所"),
        counterparty_name=("对方户名",),
        counterparty_account=("对方账户", "对方账号"),
    ),
    ColumnMapping(
        name="ccb",
        label="建设银行 CCB",
        booked_on=("记账日",),
        value_on=("交易日期",),
        credit=("收入",),
        debit=("支出",),
        currency=("币种",),
        narrative=("摘要", "交易地点"),
        counterparty_name=("对方户名",),
        counterparty_account=("对方账号",),
    ),
    ColumnMapping(
        name="boc",
        label="中国银行 BOC",
        booked_on=("记账日期",),
        amount=("金额",),
        currency=("币别",),
        narrative=("交易名称", "附言"),
        counterparty_name=("对方账户名",),
        counterparty_account=("对方卡号/账号",),
    ),
    ColumnMapping(
        name="abc",
        label="农业银行 ABC",
        booked_on=("交易日期",),
        amount=("交易金额",),
        reference=("日志号",),
        narrative=("交易摘要", "交易附言"),
        counterparty_name=("对手信息",),
    ),
    ColumnMapping(
        name="cmb",
        label="招商银行 CMB",
        booked_on=("记账日期",),
        amount=("交易金额",),
        currency=("货币",),
        narrative=("交易摘要", "客户摘要"),
        counterparty_name=("对手信息",),
    ),
    ColumnMapping(
        name="bocom",
        label="交通银行 BOCOM",
        booked_on=("交易日期",),
        amount=("交易金额",),
        direction=("借贷",),
        credit_words=("贷 Cr", "贷", "Cr", "贷方"),
        debit_words=("借 Dr", "借", "Dr", "借方"),
        narrative=("摘要", "交易地点"),
        counterparty_name=("对方户名",),
        counterparty_account=("对方账号",),
    ),
    # 对公 (corporate) online-banking exports of most banks share these headers.
    # Listed last: auto-detection breaks ties in favour of the specific layouts.
    ColumnMapping(
        name="cn_corporate",
        label="对公账户明细 (generic)",
        booked_on=("交易日期", "记账日期", "交易时间"),
        value_on=("起息日", "起息日期"),
        credit=("贷方发生额", "贷方金额", "收入金额"),
        debit=("借方发生额", "借方金额", "支出金额"),
        currency=("币种", "币别", "货币"),
        reference=("交易流水号", "流水号", "凭证号"),
        narrative=("摘要", "用途", "附言", "交易附言", "备注"),
        counterparty_name=("对方户名", "对方账户名称", "对方名称"),
        counterparty_account=("对方账号", "对方账户"),
    ),
)

BUILTIN_MAPPINGS: dict[str, ColumnMapping] = {mapping.name: mapping for mapping in _MAPPINGS}
