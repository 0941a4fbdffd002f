"""What an id may be: the one rule the pageview API, the erasure CLI and the erasure route
apply to a reader's id, so every reader the lake can hold can also be erased, and the one
narrower form of an article's id that the list routes, the editorial controls and their
CLI take.

The pageview API accepts ids of 1 to ``MAX_ID_CHARS`` characters without control,
invisible-format or line-separator characters; it judges nothing else, since ids are the
portals' and Cognito's to make.
"""

from __future__ import annotations

import re

MAX_ID_CHARS = 128
ID_RULE = f"1 to {MAX_ID_CHARS} characters, none of them control or invisible"
# The characters of Unicode's categories Cc (control), Cf (invisible format), Zl and Zp
# (line and paragraph separators), as Python's unicodedata lists them; the test of this
# module holds the ranges to it, code point by code point. Spelled out because neither
# Python's re nor a JSON Schema validator reads categories, and the OpenAPI documents
# state the rule as a pattern.
_REFUSED_RANGES = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _spelled(code_point: int) -> str:
    r"""One character of a pattern's class: ``\uXXXX`` below U+10000, which Python's re,
    ECMA-262 and Rust's regex all read; above, the character itself, as no escape is
    common to all three."""
    return f"\\u{code_point:04X}" if code_point <= 0xFFFF else chr(code_point)


_REFUSED = "".join(
    _spelled(first) if first == last else f"{_spelled(first)}-{_spelled(last)}"
    for first, last in _REFUSED_RANGES
)
# The reader-id rule as a JSON Schema pattern (the erasure route's OpenAPI document).
READER_ID_PATTERN = f"^[^{_REFUSED}]{{1,{MAX_ID_CHARS}}}$"
# The characters an id may hold, for fields that set their own lengths.
ID_CHARS_PATTERN = f"^[^{_REFUSED}]*$"
# A Python string may also hold a lone surrogate (JSON's "\ud800" decodes to one), which no
# UTF-8 text can: refused here, absent from the published pattern.
_CLEAN = re.compile(f"[^{_REFUSED}\\uD800-\\uDFFF]*")

# Article ids as the list routes, the editorial controls and their CLI take them (and the
# readers' ids in the list routes' paths): no '#', the store's key separator, no spaces.
ARTICLE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$"
ARTICLE_ID_RULE = "1 to 128 letters, digits or . _ : @ + = -, starting with a letter or digit"
ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)


def clean_id(value: str) -> bool:
    """No character of a refused category. Printable ASCII (what ids almost always are)
    holds none, and saying so takes one C call instead of the pattern."""
    if value.isascii() and value.isprintable():
        return True
    return _CLEAN.fullmatch(value) is not None


def valid_user_id(value: object) -> bool:
    """Whether ``value`` is a reader id the pageview API would have accepted."""
    return isinstance(value, str) and 1 <= len(value) <= MAX_ID_CHARS and clean_id(value)
