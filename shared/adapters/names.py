"""The one list of every table and queue the code uses: the local set-up creates
them, and tests/unit/test_infra.py checks that infra/ declares them all."""

from shared.adapters import (
    activity,
    credit_wakes,
    expiry_warnings,
    intents,
    learners,
    org_settings,
    organizations,
    partner_users,
    report_removals,
    skills_report,
    webhooks,
)
from shared.adapters.queues import ALL_QUEUES

TABLES: tuple[str, ...] = (
    partner_users.TABLE,
    learners.TABLE,
    credit_wakes.TABLE,
    skills_report.TABLE,
    report_removals.TABLE,
    activity.TABLE,
    webhooks.TABLE,
    expiry_warnings.TABLE,
    intents.TABLE,
    org_settings.TABLE,
    organizations.TABLE,
)
QUEUES: tuple[str, ...] = ALL_QUEUES
