"""Amounts in Chinese capitals (大写金额), as a receipt must show them.

The rules are the People's Bank of China's for filling in bills
(《正确填写票据和结算凭证的基本规定》):

- digits 零壹贰叁肆伍陆柒捌玖, places 拾佰仟, groups 万 and 亿 (万亿 above);
- a ten is written 壹拾 (¥10.00 is 壹拾元整), never a bare 拾;
- zeros between digits are one 零 however many there are (¥6007.14 is
  陆仟零柒元壹角肆分); zeros at the end of a group of four are not written
  (¥10,7000 is 壹拾万柒仟元整), zeros at its start, or a whole group of zeros,
  are one 零 when a non-zero digit follows (¥100,0500 is 壹佰万零伍佰元整,
  ¥1,0000,7000 is 壹亿零柒仟元整);
- 元 is followed by 整 when there are no 角 and 分; a 角 without 分 ends there;
  when 角 is zero and 分 is not, 零 stands between them (¥325.04 is
  叁佰贰拾伍元零肆分). Where the rules allow a 零 or none (¥1680.32: 元零叁角 or
  元叁角), none is written;
- less than one yuan starts with its first non-zero place (¥0.50 is 伍角).

The amount is taken to the fen half-up, as :func:`feemgmt.core.money.quantize`
rounds everything else.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["MAX_AMOUNT", "amount_in_capitals"]

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")
# Four groups of four digits: up to 9999,9999,9999,9999.99 (stored amounts stop at 10^12).
MAX_AMOUNT = Decimal(10) ** (4 * len(GROUPS)) - Decimal("0.01")


def _group(digits: str) -> str:
    """Four digits (with leading zeros) in capitals, zeros inside as one 零; an
    all-zero group is empty. A leading zero is not written here (the caller
    decides whether the group needs one)."""
    out = []
    zero = False
    for position, char in enumerate(digits):
        digit = int(char)
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append(DIGITS[0])
            zero = False
        out.append(DIGITS[digit] + PLACES[len(digits) - 1 - position])
    return "".join(out)


def _yuan(whole: int) -> str:
    """The whole yuan in capitals, "" for zero."""
    text = str(whole)
    width = -(-len(text) // 4) * 4
    text = text.zfill(width)
    groups = [text[i : i + 4] for i in range(0, width, 4)]
    out = []
    pending_zero = False
    for index, digits in enumerate(groups):
        group_name = GROUPS[len(groups) - 1 - index]
        if int(digits) == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or digits[0] == "0"):
            out.append(DIGITS[0])
        pending_zero = False
        out.append(_group(digits) + group_name)
    return "".join(out)


def amount_in_capitals(amount: Decimal | int | str) -> str:
    """``Decimal("1200")`` → ``壹仟贰佰元整``; ``Decimal("1409.50")`` → ``壹仟肆佰零玖元伍角``.

    Negative amounts, and amounts past :data:`MAX_AMOUNT`, are refused: a
    receipt acknowledges money received, and the words must not be guessed.
    """
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError("amounts in capitals are never negative")
    if value > MAX_AMOUNT:
        raise ValueError("amount too large to be written in capitals")
    fen_total = int(value * 100)
    whole, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    yuan = _yuan(whole)
    if not yuan and not cents:
        return "零元整"
    out = yuan + "元" if yuan else ""
    if not cents:
        return out + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan:
        out += DIGITS[0]
    if fen:
        out += DIGITS[fen] + "分"
    return out
