"""The wire shapes of the contract. Field names here are the contract's, exactly."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

Program = Literal["learn", "partner_university"]
PROGRAMS: tuple[Program, ...] = ("learn", "partner_university")
EndReason = Literal["unlinked", "moved", "user_departed"]
UserStatus = Literal["active", "departed"]
CredentialKind = Literal["certification", "assessment", "training"]


def program_named(value: object) -> Program:
    """The program a stored or queued value names; ValueError for anything else."""
    for program in PROGRAMS:
        if value == program:
            return program
    raise ValueError(f"not a program: {value!r}")


ADMIN_ROLES = frozenset({"Partner.GlobalAdmin", "Partner.AccountAdmin"})


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an instant needs a time zone (use Z)")
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _bounded_id(value: str) -> str:
    stripped = value.strip()
    if not stripped or len(stripped) > 256:
        raise ValueError("must hold 1 to 256 characters")
    return stripped


def _bounded_title(value: str) -> str:
    stripped = value.strip()
    if not stripped or len(stripped) > 1024:
        raise ValueError("must hold 1 to 1024 characters")
    return stripped


Instant = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(format_instant, return_type=str),
]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Association(WireModel):
    program: Program
    learner_id: str
    tenant_id: str
    user_email: str
    started_at: Instant
    ended_at: Instant | None
    end_reason: EndReason | None


class UserSummary(WireModel):
    tenant_id: str
    email: str
    display_name: str
    status: UserStatus


class ProgramStatus(WireModel):
    active: Association | None
    associations_in_window: int
    next_association_available_at: Instant | None


class Credential(WireModel):
    id: str
    kind: CredentialKind
    title: str
    completed_at: Instant


class PendingCredit(WireModel):
    credential: Credential
    due_at: Instant


class CreditedCredential(WireModel):
    credential: Credential
    credited_at: Instant
    removal_on: date | None


class Profile(WireModel):
    user: UserSummary
    programs: dict[Program, ProgramStatus]
    history: list[Association]
    pending_credits: list[PendingCredit]
    credited: list[CreditedCredential]


class LinkedPrograms(WireModel):
    learn: bool
    partner_university: bool


class OrgUser(WireModel):
    email: str
    display_name: str
    status: UserStatus
    created_at: Instant
    first_seen_at: Instant | None
    linked: LinkedPrograms


class OrgUserPage(WireModel):
    users: list[OrgUser]
    continuation: str | None


class LinkRequest(WireModel):
    program: Program
    assertion: Annotated[str, AfterValidator(lambda v: v.strip())]


class AddUserRequest(WireModel):
    email: str
    display_name: str


class ReportRow(WireModel):
    email: str
    display_name: str
    program: Program
    learner_id: str
    credential_id: str
    kind: CredentialKind
    title: str
    completed_at: Instant
    credited_at: Instant
    removal_on: date | None


class ReportPage(WireModel):
    rows: list[ReportRow]
    continuation: str | None


class LearningCredential(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, AfterValidator(_bounded_id)]
    kind: CredentialKind
    title: Annotated[str, AfterValidator(_bounded_title)]


class LearningEvent(BaseModel):
    """A message on the learning-events queue. Unknown extra fields are ignored so a
    platform can add some without its messages turning to poison."""

    model_config = ConfigDict(extra="ignore")

    event_id: Annotated[str, AfterValidator(_bounded_id)]
    type: Literal["credential.completed"]
    program: Program
    learner_id: Annotated[str, AfterValidator(_bounded_id)]
    credential: LearningCredential
    completed_at: Instant


class Departure(WireModel):
    email: str
    removal_on: date
    already_departed: bool


class ErrorDetail(BaseModel):
    """The contract's error body; the extra keys appear only where the contract says."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    field: str | None = None
    reason: str | None = None
    next_available_at: Instant | None = None
    guidance: str | None = None


class ErrorResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail
