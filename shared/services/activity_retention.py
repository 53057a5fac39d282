"""The activity log's retention: entries of the months before now - ACTIVITY_RETENTION
go. A shard of the organizations registry a day (28 shards), so each run visits about
1/28 of the organizations, one range query and its deletes each, and every
organization is visited at least monthly."""

import logging
from collections.abc import Iterable
from datetime import date

from shared.adapters.organizations import SHARDS
from shared.services.dependencies import Dependencies

logger = logging.getLogger("skills_link.activity_retention")


def shard_for(day: date) -> int:
    return day.toordinal() % SHARDS


def remove_expired_activity(deps: Dependencies, shards: Iterable[int] | None = None) -> int:
    """Today's shard (or the shards given: all of them to catch up by hand). Returns
    how many entries went."""
    now = deps.clock.now()
    cutoff = now - deps.activity_retention
    removed = 0
    for shard in shards if shards is not None else [shard_for(now.date())]:
        for tenant_id in deps.stores.organizations.in_shard(shard):
            removed += deps.stores.activity.remove_before(tenant_id, cutoff)
    logger.info(
        "Activity retention removed %d entries of the months before %s",
        removed,
        cutoff.strftime("%Y-%m"),
    )
    return removed
