"""Table keys may not hold / \\ # ? or control characters; every key made from
outside input goes through here so that any email or id is storable."""

_FORBIDDEN = frozenset("/\\#?%")


def _is_forbidden(char: str) -> bool:
    code = ord(char)
    return char in _FORBIDDEN or code < 0x20 or 0x7F <= code <= 0x9F


def encode_key(value: str) -> str:
    return "".join(
        "".join(f"%{byte:02X}" for byte in char.encode("utf-8")) if _is_forbidden(char) else char
        for char in value
    )


def normalize_email(email: str) -> str:
    return email.strip().lower()
