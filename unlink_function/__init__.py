"""DELETE /api/me/links/{program}: a person removes their own link."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.entrypoints.principal import Caller

bp = func.Blueprint()


@bp.route(route="api/me/links/{program}", methods=["DELETE"])
def unlink_learner(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle
    from shared.services import unlink

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        unlink.unlink(rt.services, caller, req.route_params.get("program"))
        return func.HttpResponse(status_code=204)

    return handle(req, act, context)
