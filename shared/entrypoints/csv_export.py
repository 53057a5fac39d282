"""CSV downloads: a header line with the model's fields in their order, empty cells
for null, and no cell a spreadsheet would run as a formula."""

import csv
import io
from collections.abc import Sequence

import azure.functions as func
from pydantic import BaseModel

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell that could start a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(value, list):
        text = " ".join(str(item) for item in value)
    else:
        text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(model: type[BaseModel], rows: Sequence[BaseModel]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(model.model_fields), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.model_dump(mode="json").items()})
    return buffer.getvalue()


def json_or_csv(
    request: func.HttpRequest,
    answer: BaseModel,
    row_model: type[BaseModel],
    rows: Sequence[BaseModel],
    continuation: str | None = None,
) -> func.HttpResponse:
    """The answer as JSON; or, when the caller asks for `text/csv`, its rows as CSV with
    the page's continuation in `x-continuation`."""
    from shared.entrypoints.responses import json_response

    if "text/csv" not in (request.headers.get("Accept") or "").lower():
        return json_response(answer)
    return func.HttpResponse(
        body=to_csv(row_model, rows),
        status_code=200,
        mimetype="text/csv",
        headers={"x-continuation": continuation} if continuation else {},
    )
