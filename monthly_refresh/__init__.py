"""The monthly data refresh (rule 9): 02:00 UTC on the 10th, removes every Skills
Report row whose removal date has come, including ones a missed run left."""

import azure.functions as func

bp = func.Blueprint()

REFRESH_NCRONTAB = "0 0 2 10 * *"


@bp.timer_trigger(
    arg_name="timer", schedule=REFRESH_NCRONTAB, run_on_startup=False, use_monitor=True
)
@bp.retry(
    strategy="exponential_backoff",
    max_retry_count="4",
    minimum_interval="00:01:00",
    maximum_interval="00:15:00",
)
def monthly_refresh(timer: func.TimerRequest, context: func.Context) -> None:
    """A failed run is retried by the host (exponential backoff, 4 more tries within
    about half an hour); a run that still fails leaves its error log, and the next run,
    or one by hand, removes what is still due."""
    from shared.entrypoints.background import handle_timer
    from shared.services import refresh

    handle_timer(context, operation="refresh", work=lambda rt: refresh.run_and_report(rt.deps))


ACTIVITY_RETENTION_NCRONTAB = "0 30 3 * * *"


@bp.timer_trigger(
    arg_name="timer", schedule=ACTIVITY_RETENTION_NCRONTAB, run_on_startup=False, use_monitor=True
)
def activity_retention(timer: func.TimerRequest, context: func.Context) -> None:
    """Daily at 03:30 UTC: one shard of the organizations loses its activity entries
    past ACTIVITY_RETENTION; a missed day's shard is visited again 28 days later."""
    from shared.entrypoints.background import handle_timer
    from shared.services.activity_retention import remove_expired_activity

    handle_timer(
        context,
        operation="activity retention",
        work=lambda rt: f"{remove_expired_activity(rt.deps)} entries removed",
    )
