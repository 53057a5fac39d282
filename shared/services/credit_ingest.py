"""Rule 7 and the learning-events queue contract: a completion is stored (earliest
completion kept) and, if the learner is associated now, its credit is scheduled."""

import json

from pydantic import ValidationError

from shared.domain.model import CredentialRecord
from shared.services.dependencies import Dependencies
from shared.services.poison import PoisonMessage
from shared.services.unit_of_work import UnitOfWork
from shared.wire import LearningEvent


def parse_event(text: str) -> LearningEvent:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise PoisonMessage(None, "the message is not JSON") from error
    if not isinstance(data, dict):
        raise PoisonMessage(None, "the message is not a JSON object")
    event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
    try:
        return LearningEvent.model_validate(data, strict=False)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise PoisonMessage(event_id, f"{where}: {first['msg']}") from error


def ingest(deps: Dependencies, event: LearningEvent) -> None:
    """The credential is written in one transaction with the learner's state row as
    read, so a link committing meanwhile makes it conflict and look again: an
    ingest and a link can never both miss each other."""
    reported = CredentialRecord(
        id=event.credential.id,
        kind=event.credential.kind,
        title=event.credential.title,
        completed_at=event.completed_at,
        expires_at=event.expires_at,
    )
    # An expiry may change rows already credited, so then the whole partition is
    # read (still one request); otherwise just the state row and this credential.
    only = None if event.expires_at is not None else reported.id

    def attempt(uow: UnitOfWork, _: int) -> None:
        learner = uow.stores.learners.load(event.program, event.learner_id, only_credential=only)
        learner.record_credential(reported, uow.credit_delay)
        uow.commit(learner)

    deps.run(attempt)
