"""CSV downloads: a header line with the model's fields in their order, empty cells
for null, and no cell a spreadsheet would run as a formula."""

import csv
import io
from collections.abc import Sequence

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
