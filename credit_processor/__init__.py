"""The learning-events queue, the credit scheduler (timer), the apply step
(credits-due queue) and the daily expiry warnings (timer). Heavy modules load on
first call, not at import."""

from typing import TYPE_CHECKING

import azure.functions as func

from shared.queue_names import (
    CREDITS_DUE,
    CREDITS_DUE_POISON,
    LEARNING_EVENTS,
    LEARNING_EVENTS_POISON,
)

if TYPE_CHECKING:
    from shared.bootstrap import Runtime

bp = func.Blueprint()

SCHEDULER_NCRONTAB = "0 */5 * * * *"
EXPIRY_WARNINGS_NCRONTAB = "0 0 6 * * *"


@bp.queue_trigger(arg_name="msg", queue_name=LEARNING_EVENTS, connection="AzureWebJobsStorage")
def ingest_learning_event(msg: func.QueueMessage, context: func.Context) -> None:
    from shared.entrypoints.background import handle_message
    from shared.observability import annotate
    from shared.services import credit_ingest

    def process(rt: "Runtime", text: str) -> None:
        event = credit_ingest.parse_event(text)
        annotate(program=event.program)
        credit_ingest.ingest(rt.deps, event)

    handle_message(
        msg,
        context,
        operation="ingest",
        queue=LEARNING_EVENTS,
        poison_queue=LEARNING_EVENTS_POISON,
        process=process,
    )


@bp.queue_trigger(arg_name="msg", queue_name=CREDITS_DUE, connection="AzureWebJobsStorage")
def apply_due_credit(msg: func.QueueMessage, context: func.Context) -> None:
    from shared.entrypoints.background import handle_message
    from shared.observability import annotate
    from shared.services import credit_apply

    def process(rt: "Runtime", text: str) -> None:
        wake = credit_apply.parse_wake(text)
        annotate(program=wake.program)
        credit_apply.apply(rt.deps, wake)

    handle_message(
        msg,
        context,
        operation="apply",
        queue=CREDITS_DUE,
        poison_queue=CREDITS_DUE_POISON,
        process=process,
    )


@bp.timer_trigger(
    arg_name="timer", schedule=SCHEDULER_NCRONTAB, run_on_startup=False, use_monitor=True
)
def send_due_credit_wakes(timer: func.TimerRequest, context: func.Context) -> None:
    from shared.entrypoints.background import handle_timer
    from shared.services import scheduler

    def work(rt: "Runtime") -> str:
        return f"{scheduler.send_due_wakes(rt.deps)} due wake-up(s) sent"

    handle_timer(context, operation="scheduler", work=work)


@bp.timer_trigger(
    arg_name="timer", schedule=EXPIRY_WARNINGS_NCRONTAB, run_on_startup=False, use_monitor=True
)
def send_expiry_warnings(timer: func.TimerRequest, context: func.Context) -> None:
    from shared.entrypoints.background import handle_timer
    from shared.services import expiry

    def work(rt: "Runtime") -> str:
        return f"{expiry.send_expiry_warnings(rt.deps)} expiry warning(s) written"

    handle_timer(context, operation="expiry_warnings", work=work)
