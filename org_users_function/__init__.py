"""GET and POST /api/org/users, DELETE /api/org/users/{email}: admins list, add and
remove their organization's users."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.entrypoints.principal import Caller

bp = func.Blueprint()


@bp.route(route="api/org/users", methods=["GET"])
def list_org_users(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import org_users

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        page = org_users.list_users(
            rt.services, caller, req.params.get("linked"), req.params.get("continuation")
        )
        return json_response(page)

    return handle(req, act, context)


@bp.route(route="api/org/users", methods=["POST"])
def add_org_user(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import org_users

    return handle(
        req,
        lambda rt, caller: json_response(
            org_users.add_user(rt.services, caller, req.get_body()), 201
        ),
        context,
    )


@bp.route(route="api/org/users/{email}", methods=["DELETE"])
def remove_org_user(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import departure

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        departed = departure.depart_user(rt.services, caller, req.route_params.get("email"))
        return json_response(departed, 200 if departed.already_departed else 202)

    return handle(req, act, context)
