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
    asset = (HERE / path).resolve()
    if "/" not in path and asset.parent == HERE and asset.suffix in TYPES and asset.is_file():
        return _response(asset.read_bytes(), TYPES[asset.suffix])
    return _response(b"Not found.", "text/plain", status=404)
