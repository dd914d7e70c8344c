"""12-digit statistical division codes: province(2) city(2) county(2) street(3) community(3)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_AREA = re.compile(r"[0-9]{12}")
_PREFIX = re.compile(r"[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12}")


def is_area_code(value: str) -> bool:
    """A full 12-digit code."""
    return bool(_AREA.fullmatch(value))


def is_area_prefix(value: str) -> bool:
    """A level of the hierarchy: province, city, county, street or community."""
    return bool(_PREFIX.fullmatch(value))


def area_prefix(area_code: str) -> str:
    """Shortest prefix naming the same area: 310110012000 → 310110012 (a street)."""
    for length in (2, 4, 6, 9):
        if set(area_code[length:]) <= {"0"}:
            return area_code[:length]
    return area_code


def within(area_code: str, scopes: list[str]) -> bool:
    """True when the code lies inside one of the scopes (prefixes); an empty scope sees nothing."""
    return any(area_code.startswith(scope) for scope in scopes)


def common_area(area_codes: Iterable[str]) -> str | None:
    """The smallest area of the hierarchy holding every code (a community, street, county, city
    or province); None when they share no province, or there are none."""
    codes = set(area_codes)
    for length in (12, 9, 6, 4, 2):
        prefixes = {code[:length] for code in codes}
        if len(prefixes) == 1:
            return prefixes.pop()
    return None
