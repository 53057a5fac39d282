"""The learning-events queue, the credit scheduler (timer), the apply step
(credits-due queue) and the daily expiry warnings (timer). Heavy modules load on
first call, not at import."""

import logging

import azure.functions as func

bp = func.Blueprint()
logger = logging.getLogger("skills_link.credit_processor")

SCHEDULER_NCRONTAB = "0 */5 * * * *"
EXPIRY_WARNINGS_NCRONTAB = "0 0 6 * * *"


@bp.queue_trigger(arg_name="msg", queue_name="learning-events", connection="AzureWebJobsStorage")
def ingest_learning_event(msg: func.QueueMessage) -> None:
    from shared import bootstrap
    from shared.adapters.queues import LEARNING_EVENTS_POISON
    from shared.services import credit_ingest
    from shared.services.poison import PoisonMessage

    text = msg.get_body().decode("utf-8", errors="replace")
    rt = bootstrap.current()
    try:
        event = credit_ingest.parse_event(text)
    except PoisonMessage as poison:
        logger.error(
            "Poison learning event %s (message %s): %s", poison.event_id, msg.id, poison.reason
        )
        rt.queues.send_text(LEARNING_EVENTS_POISON, text)
        return
    credit_ingest.ingest(rt.services, event)


@bp.queue_trigger(arg_name="msg", queue_name="credits-due", connection="AzureWebJobsStorage")
def apply_due_credit(msg: func.QueueMessage) -> None:
    from shared import bootstrap
    from shared.adapters.queues import CREDITS_DUE_POISON
    from shared.services import credit_apply
    from shared.services.poison import PoisonMessage

    text = msg.get_body().decode("utf-8", errors="replace")
    rt = bootstrap.current()
    try:
        wake = credit_apply.parse_wake(text)
    except PoisonMessage as poison:
        logger.error("Poison credit wake-up (message %s): %s", msg.id, poison.reason)
        rt.queues.send_text(CREDITS_DUE_POISON, text)
        return
    credit_apply.apply(rt.services, wake)


@bp.timer_trigger(
    arg_name="timer", schedule=SCHEDULER_NCRONTAB, run_on_startup=False, use_monitor=True
)
def send_due_credit_wakes(timer: func.TimerRequest) -> None:
    from shared import bootstrap
    from shared.services import scheduler

    scheduler.send_due_wakes(bootstrap.current().services)


@bp.timer_trigger(
    arg_name="timer", schedule=EXPIRY_WARNINGS_NCRONTAB, run_on_startup=False, use_monitor=True
)
def send_expiry_warnings(timer: func.TimerRequest) -> None:
    from shared import bootstrap
    from shared.services import expiry

    expiry.send_expiry_warnings(bootstrap.current().services)
