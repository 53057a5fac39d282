"""The admin views of credit: the Skills Report (JSON or CSV, paged) and
designation points."""

import csv
import io
from collections.abc import Iterator

from shared.adapters.errors import InvalidContinuation
from shared.entrypoints.principal import Caller
from shared.errors import invalid_request
from shared.services.context import Context
from shared.services.designations import DesignationsView, designation_points, load_catalog
from shared.wire import ReportPage, ReportRow

CSV_COLUMNS = list(ReportRow.model_fields)


def skills_report(ctx: Context, caller: Caller, continuation: str | None) -> ReportPage:
    caller.require_admin()
    store = ctx.stores.report
    try:
        rows, next_token = store.page(caller.tenant_id, continuation or None)
    except InvalidContinuation as error:
        raise invalid_request(
            "continuation", "continuation is not a token from this report."
        ) from error
    return ReportPage(rows=rows, continuation=next_token)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet opens as text: one that could start a formula gets a
    leading apostrophe (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_csv(rows: list[ReportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.model_dump(mode="json").items()})
    return buffer.getvalue()


def _all_rows(ctx: Context, tenant_id: str) -> Iterator[ReportRow]:
    token: str | None = None
    while True:
        rows, token = ctx.stores.report.page(tenant_id, token)
        yield from rows
        if token is None:
            return


def designations(ctx: Context, caller: Caller) -> DesignationsView:
    caller.require_admin()
    return designation_points(load_catalog(), _all_rows(ctx, caller.tenant_id))
