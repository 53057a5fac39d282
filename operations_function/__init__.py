"""Operator endpoints, behind the function key (not part of the portal's API):
POST /api/ops/poison/{queue}/replay[?dry_run=true&limit=N] moves poisoned messages
back to their queue, or only counts them."""

import json

import azure.functions as func

bp = func.Blueprint()


@bp.route(
    route="api/ops/poison/{queue}/replay", methods=["POST"], auth_level=func.AuthLevel.FUNCTION
)
def replay_poison(req: func.HttpRequest) -> func.HttpResponse:
    from dataclasses import asdict

    from shared import bootstrap
    from shared.entrypoints.requests import parse_flag
    from shared.entrypoints.responses import error_response
    from shared.errors import ServiceError, invalid_request
    from shared.services import poison

    try:
        dry_run = bool(parse_flag(req.params.get("dry_run"), "dry_run"))
        limit_text = req.params.get("limit") or "1000"
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100_000:
            raise invalid_request("limit", "limit must be a whole number from 1 to 100000.")
        done = poison.replay(
            bootstrap.current().queues,
            req.route_params.get("queue") or "",
            dry_run=dry_run,
            limit=int(limit_text),
        )
    except ServiceError as error:
        return error_response(error)
    return func.HttpResponse(json.dumps(asdict(done)), mimetype="application/json")
