"""DELETE /api/me/links/{program}: a person removes their own link."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.services.caller import Caller

bp = func.Blueprint()


@bp.route(route="api/me/links/{program}", methods=["DELETE"])
def unlink_learner(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.methods import allowed_methods
    from shared.entrypoints.requests import unlink_command
    from shared.entrypoints.responses import handle, not_found_or_not_allowed
    from shared.services import unlink

    allowed = allowed_methods(f"me/links/{req.route_params.get('program') or ''}")
    if allowed and "DELETE" not in allowed:
        # The host routes DELETE /api/me/links/nonce here: that path takes POST only.
        return not_found_or_not_allowed(allowed)

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        program = req.route_params.get("program")
        unlink.unlink(rt.deps, caller, lambda: unlink_command(program))
        return func.HttpResponse(status_code=204)

    return handle(req, act, context)
