"""The reference portal at the site root: "My Learn profile" for everyone signed in
and the organization pages for admins. Static pages that call the API with the
App Service Authentication session; the API keeps its `/api` prefix."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="{*path}", methods=["GET"])
def portal(req: func.HttpRequest) -> func.HttpResponse:
    from shared.entrypoints.methods import allowed_methods
    from shared.entrypoints.portal_site import answer
    from shared.entrypoints.responses import not_found_or_not_allowed

    path = req.route_params.get("path") or ""
    if path.startswith("api/"):
        # The host routes a GET no API function declares here: the API answers it.
        return not_found_or_not_allowed(allowed_methods(path.removeprefix("api/")))
    return answer(path)
