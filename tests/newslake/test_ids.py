"""The reader-id rule as code and as the pattern the OpenAPI documents publish: the same
characters, whichever reads it."""

from __future__ import annotations

import re
import unicodedata

import jsonschema_rs
import pytest

from newslake.ids import (
    ARTICLE_ID,
    ID_CHARS_PATTERN,
    READER_ID_PATTERN,
    clean_id,
    valid_user_id,
)

REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
SURROGATES = range(0xD800, 0xE000)


def test_the_code_refuses_exactly_the_characters_of_the_refused_categories() -> None:
    disagree = [
        hex(cp)
        for cp in range(0x110000)
        if clean_id(chr(cp)) == (unicodedata.category(chr(cp)) in REFUSED_CATEGORIES)
    ]
    assert disagree == []


def test_the_published_pattern_takes_what_the_code_takes_but_lone_surrogates() -> None:
    pattern = re.compile(READER_ID_PATTERN)
    disagree = [
        hex(cp)
        for cp in range(0x110000)
        if cp not in SURROGATES and bool(pattern.fullmatch(chr(cp))) != clean_id(chr(cp))
    ]
    assert disagree == []


@pytest.mark.parametrize(
    ("user_id", "valid"),
    [
        ("alice", True),
        ("joão #7", True),
        ("用户", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("a\tb", False),
        ("a\u2028b", False),  # line separator
        ("a\U000e0001b", False),  # language tag: invisible, above U+FFFF
    ],
)
def test_a_json_schema_validator_reads_the_pattern_as_the_code_does(
    user_id: str, valid: bool
) -> None:
    # The validator schemathesis checks answers with: Rust's regex, not Python's re.
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": READER_ID_PATTERN})
    assert (validator.is_valid(user_id), valid_user_id(user_id)) == (valid, valid)


def test_a_lone_surrogate_is_refused_though_no_utf8_text_holds_one() -> None:
    assert valid_user_id("a\ud800") is False


@pytest.mark.parametrize(
    ("value", "valid"), [("", True), ("s-1 é", True), ("x" * 300, True), ("s\x7f", False)]
)
def test_the_characters_pattern_leaves_lengths_to_the_field(value: str, valid: bool) -> None:
    assert bool(re.fullmatch(ID_CHARS_PATTERN, value)) is valid


@pytest.mark.parametrize(
    ("article_id", "valid"),
    [
        ("a-101", True),
        ("g1:a.b@c+d=e_f", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("-a", False),
        ("a#b", False),
        ("a b", False),
        ("a\n", False),
        ("", False),
    ],
)
def test_article_ids_are_letters_digits_and_a_few_marks(article_id: str, valid: bool) -> None:
    assert bool(ARTICLE_ID.fullmatch(article_id)) is valid
