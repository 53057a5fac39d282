"""GET /api/openapi.json: the API's OpenAPI 3.1 document, generated from the models."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="openapi.json", methods=["GET"])
def openapi_json(req: func.HttpRequest) -> func.HttpResponse:
    import json

    from shared.entrypoints.openapi import openapi_document

    return func.HttpResponse(json.dumps(openapi_document()), mimetype="application/json")
