"""Verification codes: what a person reads off paper must either verify or be rejected."""

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates.codes import (
    CHECK_ALPHABET,
    CODE_LENGTH,
    DATA_ALPHABET,
    DATA_LENGTH,
    check_symbol,
    format_code,
    is_canonical_code,
    new_code,
    normalize_code,
)

data_parts = st.text(alphabet=DATA_ALPHABET, min_size=DATA_LENGTH, max_size=DATA_LENGTH)
codes = data_parts.map(lambda data: data + check_symbol(data))


def test_alphabets_follow_crockford():
    assert len(DATA_ALPHABET) == 32
    assert set(DATA_ALPHABET).isdisjoint("ILOU")
    assert CHECK_ALPHABET.endswith("*~$=U")
    assert len(CHECK_ALPHABET) == 37


@pytest.mark.parametrize(
    ("data", "expected_check"),
    [
        # 1234 = 1*32^2 + 6*32 + 18 ("16J"); 1234 mod 37 = 13, the 14th symbol "D".
        ("00000000016J", "D"),
        ("000000000000", "0"),
        ("00000000000Z", "Z"),  # 31
        ("000000000010", "*"),  # 32: first symbol only valid as a check
        ("000000000014", "U"),  # 36: the last check symbol
        ("000000000015", "0"),  # 37 wraps round
    ],
)
def test_check_symbol_matches_hand_computed_values(data, expected_check):
    assert check_symbol(data) == expected_check


def test_new_codes_are_url_safe_and_old_ones_still_verify():
    """A "$" check symbol showed as "%24" in the verification link; new codes never have one."""
    from urllib.parse import quote

    checks = {new_code()[-1] for _ in range(3000)}
    assert checks <= set(DATA_ALPHABET)
    assert len(checks) > 25  # still spread over the letters and digits
    for _ in range(200):
        code = new_code()
        assert quote(code, safe="") == code and quote(format_code(code), safe="") == format_code(
            code
        )
    # Codes printed before keep verifying, whatever their check symbol.
    for data, check in (("000000000010", "*"), ("000000000012", "$"), ("000000000014", "U")):
        assert check_symbol(data) == check
        assert normalize_code(data + check) == data + check
        assert format_code(data + check).endswith("-" + check)


def test_new_codes_are_canonical_and_differ():
    issued = {new_code() for _ in range(200)}
    assert len(issued) == 200
    for code in issued:
        assert len(code) == CODE_LENGTH
        assert is_canonical_code(code)
        assert normalize_code(code) == code


@given(codes, st.integers(min_value=0, max_value=CODE_LENGTH - 1), st.data())
def test_every_single_symbol_substitution_is_detected(code, position, data):
    alphabet = DATA_ALPHABET if position < DATA_LENGTH else CHECK_ALPHABET
    replacement = data.draw(st.sampled_from([s for s in alphabet if s != code[position]]))
    mistyped = code[:position] + replacement + code[position + 1 :]
    assert normalize_code(mistyped) is None


@given(codes)
def test_all_substitutions_of_one_code_are_detected_exhaustively(code):
    for position in range(CODE_LENGTH):
        for replacement in CHECK_ALPHABET:
            if replacement == code[position]:
                continue
            mistyped = code[:position] + replacement + code[position + 1 :]
            assert normalize_code(mistyped) is None, mistyped


@given(codes)
def test_every_adjacent_transposition_is_detected(code):
    for position in range(CODE_LENGTH - 1):
        first, second = code[position], code[position + 1]
        if first == second:
            continue
        swapped = code[:position] + second + first + code[position + 2 :]
        assert normalize_code(swapped) is None, swapped


@given(codes)
def test_format_groups_for_reading_and_normalizes_back(code):
    shown = format_code(code)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=]", shown)
    assert normalize_code(shown) == code


@given(codes, st.data())
def test_typing_variations_are_forgiven(code, data):
    typed = data.draw(
        st.lists(
            st.sampled_from(["", "-", " ", "  ", "--"]), min_size=CODE_LENGTH, max_size=CODE_LENGTH
        )
    )
    noisy = "".join(
        (symbol.lower() if data.draw(st.booleans()) else symbol) + separator
        for symbol, separator in zip(code, typed, strict=True)
    )
    assert normalize_code(f"  {noisy}\n") == code


def test_crockford_look_alike_letters_are_read_as_digits():
    data = "0101" * 3
    code = data + check_symbol(data)
    assert normalize_code("O1O1-o1o1-0I0i-" + code[-1]) == code
    assert normalize_code("0L0l 0101 0101 " + code[-1]) == code


def test_lower_case_check_symbol_u_is_accepted():
    data = "000000000014"
    assert check_symbol(data) == "U"
    assert normalize_code(data + "u") == data + "U"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0" * 12,  # too short: no check symbol
        "0" * 14,  # too long
        "00000000001U" + "0",  # U is only a check symbol, never data
        "0000000000*0" + "0",  # so are * ~ $ =
        "00000000016J!",
        "00000000016JE",  # wrong check
        "0000_0000_016J_D",  # underscore is not a separator we forgive
    ],
)
def test_rejects_text_that_cannot_be_a_code(text):
    assert normalize_code(text) is None


def test_format_code_refuses_invalid_input():
    with pytest.raises(ValueError, match="not a valid certificate code"):
        format_code("00000000016JE")


def test_is_canonical_code_rejects_display_form_and_lower_case():
    code = new_code()
    assert not is_canonical_code(format_code(code))
    if any(symbol in string.ascii_uppercase for symbol in code):
        assert not is_canonical_code(code.lower())
