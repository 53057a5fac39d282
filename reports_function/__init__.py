"""GET /api/org/skills-report, /api/org/designations and /api/org/activity (admins)."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.entrypoints.principal import Caller

bp = func.Blueprint()


@bp.route(route="api/org/skills-report", methods=["GET"])
def skills_report(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import reports

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        page = reports.skills_report(
            rt.services,
            caller,
            req.params.get("continuation"),
            status=req.params.get("status"),
            expiring_within=req.params.get("expiring_within"),
        )
        if "text/csv" in (req.headers.get("Accept") or "").lower():
            headers = {"x-continuation": page.continuation} if page.continuation else {}
            return func.HttpResponse(
                body=reports.as_csv(page.rows),
                status_code=200,
                mimetype="text/csv",
                headers=headers,
            )
        return json_response(page)

    return handle(req, act, context)


@bp.route(route="api/org/designations", methods=["GET"])
def designations(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import reports

    return handle(
        req,
        lambda rt, caller: json_response(
            reports.designations(rt.services, caller, req.params.get("on"))
        ),
        context,
    )


@bp.route(route="api/org/activity", methods=["GET"])
def activity_log(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.csv_export import to_csv
    from shared.entrypoints.responses import handle, json_response
    from shared.services import activity_log
    from shared.wire import ActivityEntry

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        page = activity_log.activity(
            rt.services,
            caller,
            since=req.params.get("since"),
            until=req.params.get("until"),
            types=req.params.get("type"),
            email=req.params.get("email"),
            continuation=req.params.get("continuation"),
        )
        if "text/csv" in (req.headers.get("Accept") or "").lower():
            headers = {"x-continuation": page.continuation} if page.continuation else {}
            return func.HttpResponse(
                body=to_csv(ActivityEntry, page.entries),
                status_code=200,
                mimetype="text/csv",
                headers=headers,
            )
        return json_response(page)

    return handle(req, act, context)
