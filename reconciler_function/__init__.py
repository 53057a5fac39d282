"""The reconciler (timer, every 5 minutes): finishes changes that a crash left half
done (a departure, the copy of a move's end, a claim that never committed), found by
their intent rows. Heavy modules load on first call, not at import."""

from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.bootstrap import Runtime

bp = func.Blueprint()

RECONCILER_NCRONTAB = "30 */5 * * * *"


@bp.timer_trigger(
    arg_name="timer", schedule=RECONCILER_NCRONTAB, run_on_startup=False, use_monitor=True
)
def reconcile(timer: func.TimerRequest, context: func.Context) -> None:
    from shared.entrypoints.background import handle_timer
    from shared.services import reconciler

    def work(rt: "Runtime") -> str:
        done = reconciler.reconcile(rt.deps)
        return f"{done.finished} interrupted change(s) finished, {done.left_for_next_run} left"

    handle_timer(context, operation="reconcile", work=work)
