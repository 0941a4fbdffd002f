"""What a reader's id may be: the one rule the pageview API, the erasure CLI and the
erasure route apply, so every reader the lake can hold can also be erased.

The pageview API accepts ids of 1 to ``MAX_ID_CHARS`` characters without control,
invisible-format or line-separator characters; it judges nothing else, since ids are the
portals' and Cognito's to make.
"""

from __future__ import annotations

import unicodedata

MAX_ID_CHARS = 128
# Control, invisible-format, line-separator and lone-surrogate characters.
_REFUSED_IN_IDS = {"Cc", "Cf", "Cs", "Zl", "Zp"}
ID_RULE = f"1 to {MAX_ID_CHARS} characters, none of them control or invisible"


def clean_id(value: str) -> bool:
    """No character of a refused category. Printable ASCII (what ids almost always are)
    holds none, and saying so takes one C call instead of a category per character."""
    if value.isascii() and value.isprintable():
        return True
    return not any(unicodedata.category(c) in _REFUSED_IN_IDS for c in value)


def valid_user_id(value: object) -> bool:
    """Whether ``value`` is a reader id the pageview API would have accepted."""
    return isinstance(value, str) and 1 <= len(value) <= MAX_ID_CHARS and clean_id(value)
