"""The wire shapes of the contract. Field names here are the contract's, exactly."""

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from shared.domain.activity import ACTIVITY_TYPES, ActivityRecord, ActivityType
from shared.domain.emails import MAX_EMAIL_LENGTH
from shared.domain.model import AssociationRecord, CredentialRecord, PartnerUser
from shared.domain.types import (
    PROGRAMS,
    CredentialKind,
    CredentialStatus,
    EndReason,
    Instant,
    Program,
    Track,
    UserStatus,
    format_instant,
    program_named,
)
from shared.domain.webhooks import MAX_URL_LENGTH, WebhookRecord
from shared.errors import CATALOGUE

__all__ = ["PROGRAMS", "Instant", "Program", "format_instant", "program_named"]

ADMIN_ROLES = frozenset({"Partner.GlobalAdmin", "Partner.AccountAdmin"})

# The limits below are the ones the service enforces; the OpenAPI document is
# generated from these models, so a limit changed here changes the document too.
MAX_DISPLAY_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 256
MAX_QUERY_DURATION = timedelta(days=36500)
"""A window past any credential's life; beyond it `now + duration` can overflow."""

Email = Annotated[
    str,
    Field(
        min_length=len("a@b.c"), max_length=MAX_EMAIL_LENGTH, json_schema_extra={"format": "email"}
    ),
]
"""A work account's address: compared after Unicode NFC and lower case; format
characters and compatibility forms are refused (contract v4)."""
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_DISPLAY_NAME_LENGTH),
    Field(pattern=r"\S"),
]
WebhookEvents = Annotated[list[ActivityType], Field(min_length=1, max_length=len(ACTIVITY_TYPES))]
WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="https, no user info, a public host (checked again at every delivery).",
        json_schema_extra={"format": "uri"},
    ),
]


# Text read without its outer whitespace; the schema says the same (lengths, not blank).
EventId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=256),
    Field(pattern=r"\S"),
]
CredentialTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1024),
    Field(pattern=r"\S"),
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
    expires_at: Instant | None
    status: CredentialStatus


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


class NonceRequest(WireModel):
    program: Program


class NonceIssued(WireModel):
    nonce: str
    expires_at: Instant


class WhoAmI(WireModel):
    """GET /whoami: who the principal says is calling; no storage is asked."""

    tenant_id: str
    object_id: str
    email: str
    name: str
    admin: bool


Continuation = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        pattern=r"^[A-Za-z0-9_=-]+$",
        description=(
            "Opaque: the `continuation` of the previous page, sent back as it came "
            "(URL-safe base64). Any other value is `400 invalid_request`."
        ),
    ),
]
WebhookId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
DesignationId = Annotated[str, Field(pattern=r"^[a-z0-9-]+$", max_length=100)]


class TrackRequest(WireModel):
    track: Track | None = Field(
        description="The track the organization is scored on; null: the catalog's default."
    )


def _matching(pattern: str, what: str) -> BeforeValidator:
    """A query value is text: it must look like what the document says it is before
    pydantic's lax parsing reads it (which would take `0.5` as an instant, `1` as a
    duration in seconds or `yes` as true)."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return BeforeValidator(check)


def _bounded_duration(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("cannot be negative")
    if value > MAX_QUERY_DURATION:
        raise ValueError(f"is at most 100 years (P{MAX_QUERY_DURATION.days}D)")
    return value


QueryInstant = Annotated[
    Instant,
    _matching(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})",
        "an RFC 3339 date-time with Z or an offset",
    ),
]
QueryDay = Annotated[date, _matching(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date, YYYY-MM-DD")]
QueryDuration = Annotated[
    timedelta,
    _matching(r"-?P[0-9TYMWDHS.,]+", "an ISO 8601 duration (P30D)"),
    AfterValidator(_bounded_duration),
]
QueryFlag = Annotated[bool, _matching(r"true|false", "true or false")]


class UsersQuery(WireModel):
    linked: QueryFlag | None = None
    continuation: Continuation | None = None


class ReportQuery(WireModel):
    continuation: Continuation | None = None
    status: list[CredentialStatus] | None = Field(
        default=None, min_length=1, description="Comma-separated."
    )
    expiring_within: QueryDuration | None = Field(
        default=None,
        description=f"ISO 8601 duration, at most P{MAX_QUERY_DURATION.days}D (100 years).",
    )


class DesignationsQuery(WireModel):
    on: QueryDay | None = None


class ActivityQuery(WireModel):
    since: QueryInstant | None = Field(
        default=None,
        description=(
            "RFC 3339 date-time with Z or an offset (read as UTC). With `until`, not after "
            "it (else 400); later than now alone: an empty page."
        ),
    )
    until: QueryInstant | None = Field(
        default=None,
        description="RFC 3339 date-time with Z or an offset (read as UTC).",
    )
    type: list[ActivityType] | None = Field(
        default=None, min_length=1, description="Comma-separated."
    )
    email: Email | None = None
    continuation: Continuation | None = None


class AddUserRequest(WireModel):
    email: Email
    display_name: DisplayName


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
    # New columns go at the end; defaults let rows stored before them be read.
    expires_at: Instant | None = None
    status: CredentialStatus = "active"


class ActivityEntry(WireModel):
    id: str
    type: ActivityType
    at: Instant
    tenant_id: str
    email: str
    display_name: str
    program: Program | None
    learner_id: str | None
    credential_id: str | None
    reason: EndReason | None
    removal_on: date | None


class ActivityPage(WireModel):
    entries: list[ActivityEntry]
    continuation: str | None


class WebhookRequest(WireModel):
    url: WebhookUrl
    events: WebhookEvents
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)] = ""


class Webhook(WireModel):
    id: str
    url: str
    events: list[ActivityType]
    description: str
    created_at: Instant
    disabled: bool
    consecutive_failures: int
    last_failure_at: Instant | None


class WebhookCreated(Webhook):
    secret: str
    """Shown once: the receiver verifies signatures with it."""


class WebhookList(WireModel):
    webhooks: list[Webhook]


class HealthStatus(WireModel):
    status: Literal["ok"]
    checks: dict[str, str]


class ReportPage(WireModel):
    rows: list[ReportRow]
    continuation: str | None


class LearningCredential(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: EventId
    kind: CredentialKind
    title: CredentialTitle


class LearningEvent(BaseModel):
    """A message on the learning-events queue. Unknown extra fields are ignored so a
    platform can add some without its messages turning to poison."""

    model_config = ConfigDict(
        extra="ignore",
        # What _a_renewal_says_until_when enforces, said in the schema.
        json_schema_extra={
            "if": {"properties": {"type": {"const": "credential.renewed"}}},
            "then": {"required": ["expires_at"], "properties": {"expires_at": {"type": "string"}}},
        },
    )

    event_id: EventId
    type: Literal["credential.completed", "credential.renewed"]
    program: Program
    learner_id: EventId
    credential: LearningCredential
    completed_at: Instant
    expires_at: Instant | None = None

    @model_validator(mode="after")
    def _a_renewal_says_until_when(self) -> "LearningEvent":
        if self.type == "credential.renewed" and self.expires_at is None:
            raise ValueError("a credential.renewed event needs expires_at")
        return self


class Departure(WireModel):
    email: str
    removal_on: date
    already_departed: bool


class ErrorDetail(BaseModel):
    """The contract's error body; the extra keys appear only where the contract says."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(json_schema_extra={"enum": [kind.code for kind in CATALOGUE]})]
    """One of the catalogue's codes; each operation's responses say which it can give."""
    message: str
    request_id: str | None = None
    field: str | None = None
    reason: str | None = None
    next_available_at: Instant | None = None
    guidance: str | None = None
    dependency: str | None = None
    """GET /health's 503: which dependency failed (settings, storage, catalog)."""


class ErrorResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def association_of(record: AssociationRecord) -> Association:
    return Association(
        program=record.program,
        learner_id=record.learner_id,
        tenant_id=record.tenant_id,
        user_email=record.user_email,
        started_at=record.started_at,
        ended_at=record.ended_at,
        end_reason=record.end_reason,
    )


def credential_of(record: CredentialRecord, now: datetime, warning: timedelta) -> Credential:
    """Its status is computed when read, with the clock and EXPIRY_WARNING."""
    return Credential(
        id=record.id,
        kind=record.kind,
        title=record.title,
        completed_at=record.completed_at,
        expires_at=record.expires_at,
        status=record.status(now, warning),
    )


def user_summary_of(user: PartnerUser) -> UserSummary:
    return UserSummary(
        tenant_id=user.tenant_id,
        email=user.email,
        display_name=user.display_name,
        status=user.status,
    )


def org_user_of(user: PartnerUser) -> OrgUser:
    return OrgUser(
        email=user.email,
        display_name=user.display_name,
        status=user.status,
        created_at=user.created_at,
        first_seen_at=user.first_seen_at,
        linked=LinkedPrograms(**{p: user.linked_in(p) for p in PROGRAMS}),
    )


def activity_entry_of(record: ActivityRecord) -> ActivityEntry:
    # Read from the record's attributes: a dump to a dict first cost twice as much,
    # 100 times a page of the log (1.3 ms against 0.55 ms).
    return ActivityEntry.model_validate(record, from_attributes=True)


def webhook_of(record: WebhookRecord) -> Webhook:
    return Webhook(
        id=record.id,
        url=record.url,
        events=record.events,
        description=record.description,
        created_at=record.created_at,
        disabled=record.disabled,
        consecutive_failures=record.consecutive_failures,
        last_failure_at=record.last_failure_at,
    )
