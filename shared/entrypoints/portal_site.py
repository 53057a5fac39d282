"""Serve the portal: its pages, assets and `config.json` (the sign-in addresses and
limits from the settings), with the headers a cookie-signed-in page needs."""

import json
from pathlib import Path

import azure.functions as func

from shared.domain.types import PROGRAMS

HERE = Path(__file__).resolve().parent / "portal"
PAGES = frozenset(
    {"", "link-return", "org/users", "org/skills-report", "org/designations", "org/activity"}
)
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
PROGRAM_NAMES = {"learn": "Microsoft Learn", "partner_university": "Partner University"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _response(body: bytes, mimetype: str, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(
        body=body,
        status_code=status,
        mimetype=mimetype,
        charset="utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )


def config() -> dict[str, object]:
    """What the page needs from the settings; an invalid setting hides nothing here,
    the API answers it with its own 503."""
    from pydantic import ValidationError

    from shared.settings import Settings

    try:
        settings = Settings()
    except ValidationError:
        settings = Settings.model_construct()
    return {
        "programs": [
            {
                "id": program,
                "name": PROGRAM_NAMES[program],
                "sign_in_url": settings.program_sign_in_url(program),
            }
            for program in PROGRAMS
        ],
        "limits": {
            "max_per_window": settings.association_max_per_window,
            "window_days": settings.association_window.days,
            "cool_off_days": settings.association_cool_off.days,
            "credit_delay_days": settings.credit_delay.days,
        },
    }


def answer(path: str) -> func.HttpResponse:
    path = path.strip("/")
    if path in PAGES:
        return _response((HERE / "index.html").read_bytes(), "text/html")
    if path == "config.json":
        return _response(json.dumps(config()).encode(), "application/json")
    if _is_asset_name(path):
        asset = HERE / path
        try:
            if asset.is_file():
                return _response(asset.read_bytes(), TYPES[asset.suffix])
        except (OSError, ValueError):
            pass
    return _response(b"Not found.", "text/plain", status=404)


MAX_NAME_LENGTH = 100


def _is_asset_name(path: str) -> bool:
    """A file name in the portal's folder, checked before the file system is asked:
    no folder, no NUL or other control character, no dot file, a known suffix, short
    (a 300-character name made the file system raise, which answered 500)."""
    return (
        0 < len(path) <= MAX_NAME_LENGTH
        and "/" not in path
        and "\\" not in path
        and not path.startswith(".")
        and all(0x20 < ord(char) < 0x7F for char in path)
        and Path(path).suffix in TYPES
    )
