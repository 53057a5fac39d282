"""The one place that builds settings, clients and stores, on first use.

Function packages ask for `current()`; tests `install()` their own runtime (an
Azurite connection, a controlled clock) and `reset()` it after."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.adapters.assertions import AssertionVerifiers
from shared.adapters.tables import TableStore
from shared.clock import Clock, SystemClock
from shared.domain.policy import AssociationPolicy
from shared.services.linking import LinkingContext
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.adapters.credit_wakes import CreditWakeTable
    from shared.adapters.learners import LearnerTable
    from shared.adapters.queues import QueueStore
    from shared.adapters.skills_report import SkillsReportTable
    from shared.services.credits import CreditContext
    from shared.services.removals import RemovalContext


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    request_hook: Callable[[Any], None] | None = None

    @cached_property
    def tables(self) -> TableStore:
        return TableStore(self.settings, self.request_hook)

    @cached_property
    def queues(self) -> "QueueStore":
        from shared.adapters.queues import QueueStore

        return QueueStore(self.settings, self.request_hook)

    @cached_property
    def credits(self) -> "CreditContext":
        from shared.services.credits import CreditContext

        return CreditContext(
            learners=self.learners,
            report=self.report,
            wakes=self.wakes,
            queue=self.queues,
            clock=self.clock,
            delay=self.settings.credit_delay,
        )

    @cached_property
    def policy(self) -> AssociationPolicy:
        return AssociationPolicy(
            max_per_window=self.settings.association_max_per_window,
            window=self.settings.association_window,
            cool_off=self.settings.association_cool_off,
        )

    @cached_property
    def wakes(self) -> "CreditWakeTable":
        from shared.adapters.credit_wakes import CreditWakeTable

        return CreditWakeTable(self.tables)

    @cached_property
    def linking(self) -> LinkingContext:
        from shared.adapters.partner_users import PartnerUserTable

        return LinkingContext(
            users=PartnerUserTable(self.tables),
            learners=self.learners,
            clock=self.clock,
            policy=self.policy,
            verifiers=AssertionVerifiers(self.settings),
            credits=self.credits,
            removal=self.removal,
        )

    @cached_property
    def removal(self) -> "RemovalContext":
        from shared.adapters.report_removals import ReportRemovalTable
        from shared.services.removals import RemovalContext

        return RemovalContext(
            learners=self.learners,
            report=self.report,
            removals=ReportRemovalTable(self.tables),
        )

    @cached_property
    def learners(self) -> "LearnerTable":
        from shared.adapters.learners import LearnerTable

        return LearnerTable(self.tables)

    @cached_property
    def report(self) -> "SkillsReportTable":
        from shared.adapters.skills_report import SkillsReportTable

        return SkillsReportTable(self.tables)


logger = logging.getLogger("skills_link.bootstrap")
_lock = threading.Lock()
_current: Runtime | None = None


def load_settings() -> Settings:
    """The app settings, or the contract's 503 naming what is wrong with them."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as error:
        names = ", ".join(str(e["loc"][0]) for e in error.errors() if e["loc"])
        logger.error("The app settings are not valid: %s", names)
        message = f"The service's settings are not valid: {names}."
        raise errors.SERVICE_MISCONFIGURED(message) from error


def current() -> Runtime:
    global _current
    with _lock:
        if _current is None:
            _current = Runtime(load_settings())
        return _current


def install(runtime: Runtime) -> None:
    global _current
    with _lock:
        _current = runtime


def reset() -> None:
    global _current
    with _lock:
        _current = None
