"""GET /api/health: whether the settings and storage are fine, for probes and
people on call. Anonymous, and it says nothing about anyone."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="api/health", methods=["GET"])
def health(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.health import answer

    return answer(context)
