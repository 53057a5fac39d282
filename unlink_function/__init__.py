"""DELETE /api/me/links/{program}: a person removes their own link."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.identity import Caller
    from shared.runtime import Runtime

bp = func.Blueprint()


@bp.route(route="me/links/{program}", methods=["DELETE"], auth_level=func.AuthLevel.ANONYMOUS)
def unlink_learner(req: func.HttpRequest) -> func.HttpResponse:
    from shared import linking
    from shared.http import handle

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        linking.unlink(rt.linking, caller, req.route_params.get("program"))
        return func.HttpResponse(status_code=204)

    return handle(req, act)
