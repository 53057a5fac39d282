"""What a use case is asked to do, typed and validated: the entrypoints build these
from a request (shared/entrypoints/requests.py), so no service parses bytes, query
strings or paths.

A use case that must first refuse a caller who is not a partner user (403 comes
before 400 in the contract's order) takes its command as `Deferred`: the entrypoint's
parser, called by the use case once the caller is known."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from shared.domain.activity import ActivityType
from shared.domain.types import CredentialStatus, Program, Track

C = TypeVar("C")
Deferred = Callable[[], C]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True)


class LinkLearner(Command):
    program: Program
    assertion: str


class IssueNonce(Command):
    program: Program


class Unlink(Command):
    program: Program


class AddUser(Command):
    email: str
    display_name: str


class ListUsers(Command):
    linked: bool | None = None
    continuation: str | None = None


class RemoveUser(Command):
    email: str


class CreateWebhook(Command):
    url: str
    events: list[ActivityType]
    description: str = ""


class ReadReport(Command):
    continuation: str | None = None
    statuses: frozenset[CredentialStatus] | None = None
    expiring_within: timedelta | None = None


class ReadDesignations(Command):
    on: date | None = None


class ReadDesignationPeople(Command):
    designation_id: str
    on: date | None = None


class ChooseTrack(Command):
    designation_id: str
    track: Track | None
    """None: back to the catalog's default."""


class ReadActivity(Command):
    since: datetime | None = None
    until: datetime | None = None
    types: tuple[ActivityType, ...] = ()
    email: str | None = None
    continuation: str | None = None
