"""GET and POST /api/org/users: admins list and add their organization's users."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="org/users", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def list_org_users(req: func.HttpRequest) -> func.HttpResponse:
    from shared import org_users
    from shared.http import handle, json_response

    def act(rt, caller):  # type: ignore[no-untyped-def]
        page = org_users.list_users(
            rt.linking, caller, req.params.get("linked"), req.params.get("continuation")
        )
        return json_response(page)

    return handle(req, act)


@bp.route(route="org/users", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def add_org_user(req: func.HttpRequest) -> func.HttpResponse:
    from shared import org_users
    from shared.http import handle, json_response

    return handle(
        req,
        lambda rt, caller: json_response(org_users.add_user(rt.linking, caller, req.get_body()), 201),
    )
