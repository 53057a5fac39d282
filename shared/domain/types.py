"""The words of the domain that both storage and the wire use: programs, reasons,
statuses, kinds, and UTC instants."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

Program = Literal["learn", "partner_university"]
PROGRAMS: tuple[Program, ...] = ("learn", "partner_university")
EndReason = Literal["unlinked", "moved", "user_departed"]
UserStatus = Literal["active", "departed"]
CredentialKind = Literal["certification", "assessment", "training"]
CredentialStatus = Literal["active", "expiring", "expired"]
Track = Literal["enterprise", "smb"]
"""The two tracks of a Solutions Partner designation's skilling metrics."""
TRACKS: tuple[Track, ...] = ("enterprise", "smb")


def program_named(value: object) -> Program:
    """The program a stored or queued value names; ValueError for anything else."""
    for program in PROGRAMS:
        if value == program:
            return program
    raise ValueError(f"not a program: {value!r}")


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an instant needs a time zone (use Z)")
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


Instant = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(format_instant, return_type=str),
    # Written as a string, but still an RFC 3339 date-time: say so in answers' schemas.
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
