"""The monthly data refresh (rule 9): 02:00 UTC on the 10th, removes every Skills
Report row whose removal date has come, including ones a missed run left."""

import azure.functions as func

bp = func.Blueprint()

REFRESH_NCRONTAB = "0 0 2 10 * *"


@bp.timer_trigger(
    arg_name="timer", schedule=REFRESH_NCRONTAB, run_on_startup=False, use_monitor=True
)
def monthly_refresh(timer: func.TimerRequest) -> None:
    from shared import bootstrap
    from shared.services import refresh

    rt = bootstrap.current()
    refresh.refresh(rt.services, rt.clock.now().date())
