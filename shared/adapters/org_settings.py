"""Table `orgsettings`: what an organization's admins chose, one partition per
organization, so reading all of it is one query: today the track each designation is
scored on (`track|{designation}`)."""

import contextlib

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.keys import encode_part
from shared.adapters.tables import TableStore

TABLE = "orgsettings"
_TRACK = "track|"


class OrgSettingsTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def tracks(self, tenant_id: str) -> dict[str, str]:
        """Designation id -> the track the organization chose: one partition query."""
        rows = self._store.table(TABLE).query_entities(
            "PartitionKey eq @pk",
            parameters={"pk": encode_part(tenant_id)},
            select=["RowKey", "Track"],
        )
        return {
            row["RowKey"].removeprefix(_TRACK): str(row["Track"])
            for row in rows
            if row["RowKey"].startswith(_TRACK)
        }

    def set_track(self, tenant_id: str, designation_id: str, track: str | None) -> None:
        """Choose the track (an idempotent upsert), or go back to the catalog's default."""
        table = self._store.table(TABLE)
        keys = {"PartitionKey": encode_part(tenant_id), "RowKey": _TRACK + designation_id}
        if track is None:
            with contextlib.suppress(ResourceNotFoundError):
                table.delete_entity(keys["PartitionKey"], keys["RowKey"])
            return
        table.upsert_entity({**keys, "Track": track}, mode=UpdateMode.REPLACE)
