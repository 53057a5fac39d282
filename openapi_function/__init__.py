"""GET /api/openapi.json: the API's OpenAPI 3.1 document, generated from the models,
and GET /api/docs: Swagger UI on it."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="api/openapi.json", methods=["GET"])
def openapi_json(req: func.HttpRequest) -> func.HttpResponse:
    import json

    from shared.entrypoints.openapi import openapi_document

    return func.HttpResponse(json.dumps(openapi_document()), mimetype="application/json")


@bp.route(route="api/docs", methods=["GET"])
def api_docs(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.api_docs import answer

    return answer(None)


@bp.route(route="api/docs/{asset}", methods=["GET"])
def api_docs_asset(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.api_docs import answer

    return answer(req.route_params.get("asset"))


NOT_GET = ["POST", "DELETE", "HEAD", "PATCH", "PUT", "OPTIONS"]
"""Every method the Python model lets a function declare but GET (a GET the API does
not serve goes to the portal's catch-all, which answers 404)."""


@bp.route(route="api/{*rest}", methods=NOT_GET)
def method_not_allowed(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.methods import allowed_methods
    from shared.entrypoints.responses import not_found_or_not_allowed

    return not_found_or_not_allowed(allowed_methods(req.route_params.get("rest", "")))
