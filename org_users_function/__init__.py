"""GET and POST /api/org/users, DELETE /api/org/users/{email}: admins list, add and
remove their organization's users."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.services.caller import Caller

bp = func.Blueprint()


@bp.route(route="api/org/users", methods=["GET"])
def list_org_users(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import admin_command, list_users_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import org_users

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(
            caller,
            lambda: list_users_command(req.params),
        )
        return json_response(org_users.list_users(rt.deps, caller, command))

    return handle(req, act, context)


@bp.route(route="api/org/users", methods=["POST"])
def add_org_user(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import add_user_command, admin_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import org_users

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(caller, lambda: add_user_command(req.get_body()))
        return json_response(org_users.add_user(rt.deps, caller, command), 201)

    return handle(req, act, context)


@bp.route(route="api/org/users/{email}", methods=["DELETE"])
def remove_org_user(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import admin_command, remove_user_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import departure

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        email = req.route_params.get("email")
        command = admin_command(caller, lambda: remove_user_command(email))
        departed = departure.depart_user(rt.deps, caller, command)
        return json_response(departed, 200 if departed.already_departed else 202)

    return handle(req, act, context)
