"""Work email addresses as keys: one form per address, whatever form it came in."""

import re
import unicodedata

MAX_EMAIL_LENGTH = 254
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """Unicode NFC, then lower case: `josé` typed composed or decomposed is one user."""
    return unicodedata.normalize("NFC", email.strip()).lower()


def email_problem(email: str) -> str | None:
    """Why a normalised address cannot be a work account's, or None. Format characters
    (zero-width, direction overrides) and compatibility forms (fullwidth letters) make
    an address that looks like another one: refused rather than kept apart."""
    if any(unicodedata.category(char) == "Cf" for char in email):
        return "holds an invisible formatting character"
    if any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in email):
        return "holds control characters"
    if unicodedata.normalize("NFKC", email) != email:
        return "holds a compatibility character (a fullwidth letter, for example)"
    if len(email) > MAX_EMAIL_LENGTH or not _ADDRESS.match(email):
        return "is not an email address"
    return None
