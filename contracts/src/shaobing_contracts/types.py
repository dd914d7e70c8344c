"""Annotated field types shared by every contract: validated once, serialized one way."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StringConstraints

from .area import is_area_code
from .id_number import normalize_id_number


def _area(value: str) -> str:
    if not is_area_code(value):
        raise ValueError("must be a 12-digit area code")
    return value


MONEY_LIMIT = Decimal(10) ** 10  # NUMERIC(12, 2) in the database


def _money(value: object) -> Decimal:
    if isinstance(value, float):
        raise ValueError('money must be a decimal string such as "1510.00", not a float')
    try:
        amount = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValueError('money must be a decimal string such as "1510.00"') from exc
    if not amount.is_finite() or not 0 <= amount < MONEY_LIMIT:
        raise ValueError(f"money must be a finite amount of at least 0 and below {MONEY_LIMIT}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("money has at most two decimal places")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money_json(amount: Decimal) -> str:
    """Money in JSON: a decimal string with two places ("1510.00")."""
    return f"{amount:.2f}"


_YEAR_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

IdNumber = Annotated[str, AfterValidator(normalize_id_number)]
AreaCode = Annotated[str, AfterValidator(_area)]
Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    PlainSerializer(money_json, return_type=str, when_used="json"),
]
YearMonth = Annotated[str, StringConstraints(pattern=_YEAR_MONTH.pattern)]
