"""GET and POST /api/org/users: admins list and add their organization's users."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.entrypoints.principal import Caller

bp = func.Blueprint()


@bp.route(route="org/users", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def list_org_users(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import org_users

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        page = org_users.list_users(
            rt.linking, caller, req.params.get("linked"), req.params.get("continuation")
        )
        return json_response(page)

    return handle(req, act)


@bp.route(route="org/users", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def add_org_user(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import org_users

    return handle(
        req,
        lambda rt, caller: json_response(
            org_users.add_user(rt.linking, caller, req.get_body()), 201
        ),
    )


@bp.route(route="org/users/{email}", methods=["DELETE"], auth_level=func.AuthLevel.ANONYMOUS)
def remove_org_user(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import org_users

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        departure = org_users.depart_user(rt.linking, caller, req.route_params.get("email"))
        return json_response(departure, 200 if departure.already_departed else 202)

    return handle(req, act)
