"""GET /api/org/skills-report, /api/org/designations and /api/org/activity (admins)."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.services.caller import Caller

bp = func.Blueprint()


@bp.route(route="api/org/skills-report", methods=["GET"])
def skills_report(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.csv_export import json_or_csv
    from shared.entrypoints.requests import admin_command, report_command
    from shared.entrypoints.responses import handle
    from shared.services import reports
    from shared.wire import ReportRow

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(caller, lambda: report_command(req.params))
        page = reports.skills_report(rt.deps, caller, command)
        return json_or_csv(req, page, ReportRow, page.rows, page.continuation)

    return handle(req, act, context)


@bp.route(route="api/org/designations", methods=["GET"])
def designations(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import admin_command, designations_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import reports

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(caller, lambda: designations_command(req.params))
        return json_response(reports.designations(rt.deps, caller, command))

    return handle(req, act, context)


@bp.route(route="api/org/designations/{id}/people", methods=["GET"])
def designation_people(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.csv_export import json_or_csv
    from shared.entrypoints.requests import admin_command, designation_people_command
    from shared.entrypoints.responses import handle
    from shared.services import reports
    from shared.services.designations import PersonCount

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(
            caller, lambda: designation_people_command(req.route_params.get("id"), req.params)
        )
        view = reports.designation_people_of(rt.deps, caller, command)
        return json_or_csv(req, view, PersonCount, view.people)

    return handle(req, act, context)


@bp.route(route="api/org/designations/{id}/track", methods=["PUT"])
def designation_track(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import admin_command, track_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import reports

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(
            caller, lambda: track_command(req.route_params.get("id"), req.get_body())
        )
        return json_response(reports.choose_track(rt.deps, caller, command))

    return handle(req, act, context)


@bp.route(route="api/org/activity", methods=["GET"])
def activity_log(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.csv_export import json_or_csv
    from shared.entrypoints.requests import activity_command, admin_command
    from shared.entrypoints.responses import handle
    from shared.services import activity_log
    from shared.wire import ActivityEntry

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(caller, lambda: activity_command(req.params))
        page = activity_log.activity(rt.deps, caller, command)
        return json_or_csv(req, page, ActivityEntry, page.entries, page.continuation)

    return handle(req, act, context)
