"""Table `organizations`: every organization that ever added a user, so a job that
must visit each organization's partitions (the activity retention) can list them
without a scan. 28 partitions by a hash of the tenant: the retention visits one a day,
so each day's work is about 1/28 of the organizations and every one is seen monthly."""

import zlib

from azure.data.tables import UpdateMode

from shared.adapters.keys import encode_part
from shared.adapters.tables import TableStore

TABLE = "organizations"
SHARDS = 28


def shard_of(tenant_id: str) -> int:
    return zlib.crc32(tenant_id.encode("utf-8")) % SHARDS


class OrganizationTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def add(self, tenant_id: str) -> None:
        """An idempotent upsert: adding an organization twice is one row."""
        self._store.table(TABLE).upsert_entity(
            {
                "PartitionKey": f"{shard_of(tenant_id):02d}",
                "RowKey": encode_part(tenant_id),
                "TenantId": tenant_id,
            },
            mode=UpdateMode.REPLACE,
        )

    def in_shard(self, shard: int) -> list[str]:
        """The organizations of one shard: one partition, 1,000 a request."""
        rows = self._store.table(TABLE).query_entities(
            "PartitionKey eq @pk",
            parameters={"pk": f"{shard % SHARDS:02d}"},
            select=["TenantId"],
            results_per_page=1000,
        )
        return [str(row["TenantId"]) for row in rows]
