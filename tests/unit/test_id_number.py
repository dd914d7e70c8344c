"""Resident ID numbers (GB 11643-1999) and 12-digit area codes: pure checks, no I/O."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shaobing_contracts.area import (
    area_prefix,
    common_area,
    is_area_code,
    is_area_prefix,
    within,
)
from shaobing_contracts.id_number import (
    InvalidIdNumber,
    birth_date_of,
    check_character,
    is_male,
    make_id_number,
    mask_id_number,
    mask_id_numbers_in,
    normalize_id_number,
)

GB_EXAMPLE = "11010519491231002X"  # the worked example of GB 11643-1999


def _with_check(first17: str) -> str:
    """A number whose checksum is right, so only the other parts can be wrong."""
    return first17 + check_character(first17)


@pytest.mark.parametrize(
    "id_number",
    [
        GB_EXAMPLE,
        make_id_number("110105", date(1950, 3, 9), 2),
        make_id_number("310104", date(1962, 11, 30), 15),
        make_id_number("440300", date(2000, 2, 29), 999),
        make_id_number("650102", date(1880, 1, 1), 1),
    ],
)
def test_a_well_formed_number_with_the_right_check_character_is_accepted(id_number: str) -> None:
    assert normalize_id_number(id_number) == id_number


@pytest.mark.parametrize(
    ("area6", "born", "sequence"),
    [
        ("110105", date(1949, 12, 31), 2),
        ("310110", date(2024, 1, 1), 0),
        ("540102", date(1999, 9, 9), 999),
    ],
)
def test_make_id_number_builds_a_number_that_validates(
    area6: str, born: date, sequence: int
) -> None:
    id_number = make_id_number(area6, born, sequence)

    assert len(id_number) == 18
    assert normalize_id_number(id_number) == id_number
    assert birth_date_of(id_number) == born


def test_the_gb_11643_example_has_check_character_x() -> None:
    assert check_character(GB_EXAMPLE[:17]) == "X"


@pytest.mark.parametrize(
    ("id_number", "given", "expected"),
    [("110105194912310021", "1", "X"), ("11010519491231002X"[:17] + "9", "9", "X")],
)
def test_a_bad_checksum_is_rejected_naming_the_expected_character(
    id_number: str, given: str, expected: str
) -> None:
    with pytest.raises(InvalidIdNumber, match=f"check character is {given}, expected {expected}"):
        normalize_id_number(id_number)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_check_character_is_iso_7064_mod_11_2(first17: str) -> None:
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # the standard's definition of the weights
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))

    assert check_character(first17) == "10X98765432"[total % 11]


@pytest.mark.parametrize(
    "first17",
    ["1101051949123100", "110105194912310021", "11010519491231A02", "１１010519491231002"],
)
def test_the_check_character_needs_exactly_17_ascii_digits(first17: str) -> None:
    with pytest.raises(ValueError, match="exactly 17 digits"):
        check_character(first17)


def test_every_wrong_check_character_is_rejected() -> None:
    first17 = GB_EXAMPLE[:17]
    for wrong in "0123456789":
        with pytest.raises(InvalidIdNumber, match="expected X"):
            normalize_id_number(first17 + wrong)


@pytest.mark.parametrize(
    "value",
    [
        "",
        GB_EXAMPLE[:17],  # 17 characters
        GB_EXAMPLE + "0",  # 19 characters
        "11010519491231002A",  # a letter other than X at the end
        "1101051949123100X2",  # X not at the end
        "11O10519491231002X",  # letter O for zero
        "110105-1949-1231-002X",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
    ],
    ids=[
        "empty",
        "17 chars",
        "19 chars",
        "letter A",
        "X inside",
        "letter O",
        "dashes",
        "full-width",
    ],
)
def test_a_number_of_the_wrong_shape_is_rejected(value: str) -> None:
    with pytest.raises(InvalidIdNumber, match="17 digits followed by a digit or X"):
        normalize_id_number(value)


@pytest.mark.parametrize(
    "birth",
    ["19490230", "19491301", "19490001", "19490100", "20230229"],
    ids=["Feb 30", "month 13", "month 0", "day 0", "Feb 29 of a common year"],
)
def test_an_impossible_birth_date_is_rejected(birth: str) -> None:
    with pytest.raises(InvalidIdNumber, match="not a calendar date"):
        normalize_id_number(_with_check(f"110105{birth}002"))


def test_a_birth_date_before_1880_is_rejected() -> None:
    with pytest.raises(InvalidIdNumber, match="before 1880"):
        normalize_id_number(_with_check("110105187912310021"[:17]))


@pytest.mark.parametrize(
    "value", ["11010519491231002x", " 11010519491231002X", "11010519491231002x\n"]
)
def test_lower_case_x_and_surrounding_blanks_are_normalized(value: str) -> None:
    assert normalize_id_number(value) == GB_EXAMPLE


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    "value",
    [
        GB_EXAMPLE[:17].translate(FULL_WIDTH) + "X",
        GB_EXAMPLE[:6].translate(FULL_WIDTH) + GB_EXAMPLE[6:],
    ],
    ids=["full-width digits", "full-width division code"],
)
def test_non_ascii_digits_never_pass_as_a_canonical_id_number(value: str) -> None:
    try:
        result = normalize_id_number(value)
    except InvalidIdNumber:
        return  # rejecting is fine
    assert result == GB_EXAMPLE  # and so is converting to ASCII


def test_invalid_id_number_is_a_value_error_so_pydantic_reports_it() -> None:
    assert issubclass(InvalidIdNumber, ValueError)


@pytest.mark.parametrize(
    ("id_number", "born"),
    [
        (GB_EXAMPLE, date(1949, 12, 31)),
        (make_id_number("110105", date(1950, 3, 9), 2), date(1950, 3, 9)),
        (make_id_number("110105", date(2000, 2, 29), 2), date(2000, 2, 29)),
    ],
)
def test_birth_date_of_reads_positions_7_to_14(id_number: str, born: date) -> None:
    assert birth_date_of(id_number) == born


@pytest.mark.parametrize(
    ("sequence", "male"),
    [(1, True), (2, False), (15, True), (100, False), (999, True), (0, False)],
)
def test_an_odd_sequence_number_means_male(sequence: int, male: bool) -> None:
    assert is_male(make_id_number("110105", date(1950, 3, 9), sequence)) is male


def test_the_gb_11643_example_is_a_woman() -> None:
    assert is_male(GB_EXAMPLE) is False


def test_mask_id_number_keeps_the_division_code_and_the_last_four() -> None:
    assert mask_id_number(GB_EXAMPLE) == "110105********002X"


@pytest.mark.parametrize("value", ["", "1101", GB_EXAMPLE[:17], GB_EXAMPLE + "1"])
def test_mask_id_number_hides_everything_of_a_value_that_is_not_18_long(value: str) -> None:
    assert mask_id_number(value) == "*" * len(value)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"death of {GB_EXAMPLE} recorded", "death of 110105********002X recorded"),
        ("lower case 11010519491231002x too", "lower case 110105********002x too"),
        (f"id={GB_EXAMPLE},", "id=110105********002X,"),
        (f"{GB_EXAMPLE}", "110105********002X"),
        (
            f"{GB_EXAMPLE} and 310104196211300150",
            "110105********002X and 310104********0150",
        ),
        (
            "bad checksum 110105194912310021 is masked too",
            "bad checksum 110105********0021 is masked too",
        ),
        (f'{{"id_number": "{GB_EXAMPLE}"}}', '{"id_number": "110105********002X"}'),
        (f"中文{GB_EXAMPLE}死亡", "中文110105********002X死亡"),
    ],
)
def test_mask_id_numbers_in_masks_every_id_number_in_free_text(text: str, masked: str) -> None:
    assert mask_id_numbers_in(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "seventeen digits 12345678901234567 stay",
        "nineteen digits 1234567890123456789 stay",
        "an lsn 26863944 and an epoch 1754004600000000 stay",
        "twenty digits 12345678901234567890",
        "amount 1510.00 on 2026-11-25",
        "",
    ],
)
def test_mask_id_numbers_in_leaves_other_digit_runs_alone(text: str) -> None:
    assert mask_id_numbers_in(text) == text


# --- area codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("310110012003", True),
        ("000000000000", True),
        ("31011001200", False),
        ("3101100120030", False),
        ("31011001200X", False),
        ("", False),
    ],
)
def test_is_area_code_accepts_exactly_twelve_digits(value: str, expected: bool) -> None:
    assert is_area_code(value) is expected


def test_an_area_code_with_a_trailing_newline_is_not_an_area_code() -> None:
    assert not is_area_code("310110012003\n")
    assert not is_area_prefix("310110\n")


def test_an_area_code_in_full_width_digits_is_not_an_area_code() -> None:
    full_width = "310110012003".translate(FULL_WIDTH)
    assert not is_area_code(full_width)
    assert not is_area_prefix(full_width[:6])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31", True),  # province
        ("3101", True),  # city
        ("310110", True),  # county
        ("310110012", True),  # street
        ("310110012003", True),  # community
        ("3", False),
        ("310", False),
        ("31011", False),
        ("3101100", False),
        ("31011001", False),
        ("3101100120", False),
        ("", False),
        ("31a1", False),
    ],
)
def test_is_area_prefix_accepts_only_levels_of_the_hierarchy(value: str, expected: bool) -> None:
    assert is_area_prefix(value) is expected


@pytest.mark.parametrize(
    ("area_code", "prefix"),
    [
        ("310000000000", "31"),
        ("310100000000", "3101"),
        ("310110000000", "310110"),
        ("310110012000", "310110012"),
        ("310110012003", "310110012003"),
        ("310110010000", "310110010"),  # a street code ending in 0 keeps its last digit
    ],
)
def test_area_prefix_is_the_shortest_prefix_naming_the_same_area(
    area_code: str, prefix: str
) -> None:
    assert area_prefix(area_code) == prefix
    assert is_area_prefix(prefix)


@pytest.mark.parametrize(
    ("area_code", "scopes", "expected"),
    [
        ("310110012003", ["310110"], True),
        ("310110012003", ["31"], True),
        ("310110012003", ["310110012003"], True),
        ("310110012003", ["110105", "3101"], True),
        ("310111012003", ["310110"], False),
        ("110105001002", ["310110", "3101"], False),
        ("310110012003", [], False),
    ],
    ids=["county", "province", "itself", "second scope", "sibling", "elsewhere", "empty scope"],
)
def test_within_is_true_only_inside_one_of_the_scopes(
    area_code: str, scopes: list[str], expected: bool
) -> None:
    assert within(area_code, scopes) is expected


@pytest.mark.parametrize(
    ("codes", "area"),
    [
        (["310110001001"], "310110001001"),
        (["310110001001", "310110001002"], "310110001"),
        (["310110001001", "310110002001"], "310110"),
        (["310110001001", "320102003004"], None),
        (["310110001001", "310115001001"], "3101"),
    ],
)
def test_the_common_area_is_the_smallest_level_holding_every_code(
    codes: list[str], area: str | None
) -> None:
    assert common_area(codes) == area
