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


def encode_part(value: str) -> str:
    """One part of a composite key joined with `|`: the separator is escaped too, so
    no two different tuples of parts can make the same key."""
    return encode_key(value).replace("|", "%7C")


def normalize_email(email: str) -> str:
    from shared.domain.emails import normalize_email as normalized

    return normalized(email)
