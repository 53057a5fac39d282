"""Admins' webhook endpoints (POST/GET /api/org/webhooks, DELETE
/api/org/webhooks/{id}, POST /api/org/webhooks/{id}/test) and the queue-driven
delivery (`webhook-deliveries`)."""

from typing import TYPE_CHECKING

import azure.functions as func

from shared.queue_names import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERIES_POISON

if TYPE_CHECKING:
    from shared.bootstrap import Runtime
    from shared.services.caller import Caller

bp = func.Blueprint()


@bp.route(route="api/org/webhooks", methods=["POST"])
def add_webhook(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.requests import admin_command, webhook_command
    from shared.entrypoints.responses import handle, json_response
    from shared.services import webhooks

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        command = admin_command(caller, lambda: webhook_command(req.get_body()))
        return json_response(webhooks.create(rt.deps, caller, command), 201)

    return handle(req, act, context)


@bp.route(route="api/org/webhooks", methods=["GET"])
def list_webhooks(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle, json_response
    from shared.services import webhooks

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        return json_response(webhooks.listed(rt.deps, caller))

    return handle(req, act, context)


@bp.route(route="api/org/webhooks/{id}", methods=["DELETE"])
def delete_webhook(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle
    from shared.services import webhooks

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        webhooks.delete(rt.deps, caller, req.route_params.get("id"))
        return func.HttpResponse(status_code=204)

    return handle(req, act, context)


@bp.route(route="api/org/webhooks/{id}/test", methods=["POST"])
def test_webhook(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    from shared.entrypoints.responses import handle
    from shared.services import webhooks

    def act(rt: "Runtime", caller: "Caller") -> func.HttpResponse:
        webhooks.ping(rt.deps, caller, req.route_params.get("id"))
        return func.HttpResponse(status_code=202)

    return handle(req, act, context)


@bp.queue_trigger(arg_name="msg", queue_name=WEBHOOK_DELIVERIES, connection="AzureWebJobsStorage")
def deliver_webhook(msg: func.QueueMessage, context: func.Context) -> None:
    from shared.entrypoints.background import handle_message
    from shared.services import webhooks

    handle_message(
        msg,
        context,
        operation="webhook_delivery",
        queue=WEBHOOK_DELIVERIES,
        poison_queue=WEBHOOK_DELIVERIES_POISON,
        process=lambda rt, text: str(webhooks.deliver(rt.deps, webhooks.parse_delivery(text))),
    )
