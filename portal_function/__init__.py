"""The reference portal at the site root: "My Learn profile" for everyone signed in
and the organization pages for admins. Static pages that call the API with the
App Service Authentication session; the API keeps its `/api` prefix."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="{*path}", methods=["GET"])
def portal(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.portal_site import answer

    return answer(req.route_params.get("path") or "")
