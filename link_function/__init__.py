"""POST /api/me/links and GET /api/me: a person links their own learner account
and reads their profile. Heavy modules load on first call, not at import."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.services.caller import Caller

bp = func.Blueprint()


@bp.route(route="api/me/links", methods=["POST"])
def link_learner(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import link_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import link

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        result = link.link(rt.deps, caller, lambda: link_command(req.get_body()))
        return json_response(result.association, 201 if result.created else 200)

    return handle(req, act, context)


@bp.route(route="api/me/links/nonce", methods=["POST"])
def link_nonce(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import nonce_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import link

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        issued = link.issue_nonce(rt.deps, caller, lambda: nonce_command(req.get_body()))
        return json_response(issued, 201)

    return handle(req, act, context)


@bp.route(route="api/whoami", methods=["GET"])
def who_am_i(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response

    return handle(req, lambda rt, caller: json_response(caller.whoami()), context)


@bp.route(route="api/me", methods=["GET"])
def my_profile(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import profile

    return handle(req, lambda rt, caller: json_response(profile.profile(rt.deps, caller)), context)
