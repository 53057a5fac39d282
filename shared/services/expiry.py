"""The daily expiry warnings: `credential.expiring` when a credited credential enters
the warning window, `credential.expired` on its expiry day, each once per credential
and expiry date, into the organization's activity log (and so to its webhooks). It
reads only the warnings whose day has come (a missed day is caught up), and checks
each against the learner's rows: a renewal or a removal since makes it moot."""

import logging
from datetime import datetime

from shared.adapters.ports import ExpiryWarning
from shared.domain import activity
from shared.domain.activity import ActivityRecord
from shared.services.dependencies import Dependencies
from shared.services.webhooks import record_activity

logger = logging.getLogger("skills_link.expiry")
WARNINGS_PER_BATCH = 1_000


def _entry(deps: Dependencies, warning: ExpiryWarning) -> ActivityRecord | None:
    learner = deps.stores.learners.load(warning.program, warning.learner_id)
    row = next(
        (
            c
            for c in learner.credited_for(warning.tenant_id)
            if c.credential.id == warning.credential_id
        ),
        None,
    )
    if row is None or row.credential.expires_at != warning.expires_at:
        return None
    expiring = warning.kind == "expiring"
    at: datetime = warning.expires_at - deps.expiry_warning if expiring else warning.expires_at
    return activity.credential_entry(
        "credential.expiring" if expiring else "credential.expired",
        warning.program,
        warning.learner_id,
        row,
        at=at,
        expires_at=warning.expires_at,
    )


def send_expiry_warnings(deps: Dependencies) -> int:
    """How many entries were written. Safe to run twice or after a crash: an entry's
    id comes from the credential and its expiry, and the index row goes after it."""
    today = deps.clock.now().date()
    written = 0
    while True:
        due = deps.stores.expiry_warnings.due(today, WARNINGS_PER_BATCH)
        if not due:
            break
        entries = [entry for entry in (_entry(deps, w) for w in due) if entry is not None]
        record_activity(deps.stores, entries)
        for warning in due:
            deps.stores.expiry_warnings.remove(warning)
        written += len(entries)
    if written:
        logger.info("Wrote %d expiry warning(s) to the activity log", written)
    return written
