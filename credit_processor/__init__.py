"""The learning-events queue, the credit scheduler (timer) and the apply step
(credits-due queue). Heavy modules load on first call, not at import."""

import logging

import azure.functions as func

bp = func.Blueprint()
logger = logging.getLogger("skills_link.credit_processor")

SCHEDULER_NCRONTAB = "0 */5 * * * *"


@bp.queue_trigger(arg_name="msg", queue_name="learning-events", connection="AzureWebJobsStorage")
def ingest_learning_event(msg: func.QueueMessage) -> None:
    from shared import bootstrap as runtime
    from shared.adapters.queues import LEARNING_EVENTS_POISON
    from shared.services import credits

    text = msg.get_body().decode("utf-8", errors="replace")
    rt = runtime.current()
    try:
        event = credits.parse_event(text)
    except credits.PoisonMessage as poison:
        logger.error(
            "Poison learning event %s (message %s): %s", poison.event_id, msg.id, poison.reason
        )
        rt.queues.send_text(LEARNING_EVENTS_POISON, text)
        return
    credits.ingest(rt.credits, event)


@bp.queue_trigger(arg_name="msg", queue_name="credits-due", connection="AzureWebJobsStorage")
def apply_due_credit(msg: func.QueueMessage) -> None:
    from shared import bootstrap as runtime
    from shared.adapters.queues import CREDITS_DUE_POISON
    from shared.services import credits

    text = msg.get_body().decode("utf-8", errors="replace")
    rt = runtime.current()
    try:
        wake = credits.parse_wake(text)
    except credits.PoisonMessage as poison:
        logger.error("Poison credit wake-up (message %s): %s", msg.id, poison.reason)
        rt.queues.send_text(CREDITS_DUE_POISON, text)
        return
    credits.apply(rt.credits, wake)


@bp.timer_trigger(
    arg_name="timer", schedule=SCHEDULER_NCRONTAB, run_on_startup=False, use_monitor=True
)
def send_due_credit_wakes(timer: func.TimerRequest) -> None:
    from shared import bootstrap as runtime
    from shared.services import credits

    credits.send_due_wakes(runtime.current().credits)
