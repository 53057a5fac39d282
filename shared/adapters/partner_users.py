"""Table `partnerusers`: one partition per organization (tenant), one row per work
account. The row holds the user and its copy of every association it had, as
JSON, plus flat properties that listing filters on."""

from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from shared.adapters.keys import encode_key, normalize_email
from shared.adapters.ports import Versioned
from shared.adapters.rows import (
    conflicts_as_concurrency,
    decode_continuation,
    encode_continuation,
    etag_of,
    parse_row,
)
from shared.adapters.tables import TableStore
from shared.domain.model import PartnerUser

TABLE = "partnerusers"
PAGE_SIZE = 100


def _entity(user: PartnerUser) -> dict[str, Any]:
    return {
        "PartitionKey": encode_key(user.tenant_id),
        "RowKey": encode_key(normalize_email(user.email)),
        "Status": user.status,
        "EverLinked": user.ever_linked,
        "LinkedAny": user.linked_anywhere,
        "Data": user.model_dump_json(),
    }


def _user(entity: dict[str, Any]) -> PartnerUser:
    return parse_row(PartnerUser, entity, TABLE)


class PartnerUserTable:
    def __init__(self, store: TableStore) -> None:
        self._store = store

    def get(self, tenant_id: str, email: str) -> Versioned[PartnerUser] | None:
        try:
            entity = self._store.table(TABLE).get_entity(
                encode_key(tenant_id), encode_key(normalize_email(email))
            )
        except ResourceNotFoundError:
            return None
        return Versioned(_user(entity), str(entity.metadata["etag"]))

    def insert(self, user: PartnerUser) -> str:
        with conflicts_as_concurrency():
            return etag_of(self._store.table(TABLE).create_entity(_entity(user)))

    def replace(self, user: PartnerUser, etag: str) -> str:
        with conflicts_as_concurrency():
            return etag_of(
                self._store.table(TABLE).update_entity(
                    _entity(user),
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            )

    def page(
        self, tenant_id: str, *, linked: bool | None, continuation: str | None
    ) -> tuple[list[PartnerUser], str | None]:
        query = "PartitionKey eq @tenant"
        parameters: dict[str, Any] = {"tenant": encode_key(tenant_id)}
        if linked is False:
            query += " and Status eq @active and EverLinked eq false"
            parameters["active"] = "active"
        elif linked is True:
            query += " and LinkedAny eq true"
        pages = (
            self._store.table(TABLE)
            .query_entities(
                query,
                parameters=parameters,
                results_per_page=PAGE_SIZE,
                select=["PartitionKey", "RowKey", "Data"],
            )
            .by_page(continuation_token=decode_continuation(continuation))  # type: ignore[arg-type]
        )
        users = [_user(entity) for entity in next(pages, [])]
        return users, encode_continuation(getattr(pages, "continuation_token", None))
