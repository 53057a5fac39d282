"""What every use case is given: the stores behind a unit of work, the clock, the
policy and the program verifiers. Built by shared/bootstrap.py; tests build their
own with in-memory stores."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TypeVar

from shared.adapters.assertions import AssertionVerifier
from shared.adapters.ports import Stores
from shared.clock import Clock
from shared.domain.policy import AssociationPolicy
from shared.domain.types import Program
from shared.domain.webhooks import RETRY_DELAYS
from shared.services.messagebus import HandlerTables, run
from shared.services.unit_of_work import UnitOfWork

T = TypeVar("T")


class Verifiers(Protocol):
    def for_program(self, program: Program) -> AssertionVerifier: ...


@dataclass(frozen=True)
class Dependencies:
    stores: Stores
    clock: Clock
    policy: AssociationPolicy
    verifiers: Verifiers
    credit_delay: timedelta
    handlers: HandlerTables
    expiry_warning: timedelta
    """From the settings (EXPIRY_WARNING): its one default lives there."""
    activity_retention: timedelta
    webhook_retry_delays: tuple[timedelta, ...] = RETRY_DELAYS
    allow_local_webhooks: bool = False
    """http://localhost endpoints: only in local development."""
    check_webhook_addresses: bool = True
    """Everywhere but local development: refuse endpoints whose host resolves to a
    private address (SSRF)."""

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(
            self.stores, self.clock, self.credit_delay, self.handlers, self.expiry_warning
        )

    def run(self, use_case: Callable[[UnitOfWork, int], T], first: UnitOfWork | None = None) -> T:
        """The use case in a fresh unit of work (or `first` for the first attempt),
        retried on a conflict (attempt number given), then 503 busy."""
        return run(self.unit_of_work, use_case, first)
