"""GET /api/docs: Swagger UI on the generated OpenAPI document. The assets come from
the `swagger-ui-bundle` package (Apache-2.0): no CDN, it works offline."""

from pathlib import Path

import azure.functions as func

HERE = Path(__file__).resolve().parent / "docs"
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)
FROM_BUNDLE = ("swagger-ui.css", "swagger-ui-bundle.js")


def _file(name: str) -> Path | None:
    if name in ("index.html", "init.js"):
        return HERE / name
    if name in FROM_BUNDLE:
        import swagger_ui_bundle

        return Path(swagger_ui_bundle.swagger_ui_path) / name
    return None


def answer(asset: str | None) -> func.HttpResponse:
    path = _file(asset or "index.html")
    if path is None or not path.is_file():
        return func.HttpResponse("Not found.", status_code=404, mimetype="text/plain")
    return func.HttpResponse(
        body=path.read_bytes(),
        mimetype=TYPES[path.suffix],
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "public, max-age=3600",
        },
    )
