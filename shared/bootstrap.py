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
from shared.adapters.tables import StorageRetry, TableStore
from shared.clock import Clock, SystemClock
from shared.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.adapters.ports import Stores
    from shared.adapters.queues import QueueStore
    from shared.services.dependencies import Dependencies


@dataclass
class Runtime:
    """Settings, clients, stores and the use cases' dependencies, each built on first use."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    request_hook: Callable[[Any], None] | None = None
    credential: "TokenCredential | None" = None
    """Tests inject one; otherwise made from the settings when they name endpoints."""
    storage_retry: StorageRetry = field(default_factory=StorageRetry)
    storage_transport: Any = None
    """Tests wrap the SDK's HTTP transport to inject storage faults."""

    @cached_property
    def storage_credential(self) -> "TokenCredential | None":
        """One credential object shared by the table and queue clients."""
        from shared.adapters.tables import make_credential, storage_target

        target = storage_target(self.settings)
        if not target.uses_credential:
            return None
        return self.credential or make_credential(target)

    @cached_property
    def tables(self) -> TableStore:
        return TableStore(
            self.settings,
            self.request_hook,
            self.storage_credential,
            self.storage_retry,
            self.storage_transport,
        )

    @cached_property
    def queues(self) -> "QueueStore":
        from shared.adapters.queues import QueueStore

        return QueueStore(
            self.settings,
            self.request_hook,
            self.storage_credential,
            self.storage_retry,
            self.storage_transport,
        )

    @cached_property
    def stores(self) -> "Stores":
        from shared.adapters.activity import ActivityTable
        from shared.adapters.credit_wakes import CreditWakeTable
        from shared.adapters.expiry_warnings import ExpiryWarningTable
        from shared.adapters.intents import IntentTable
        from shared.adapters.learners import LearnerTable
        from shared.adapters.org_settings import OrgSettingsTable
        from shared.adapters.organizations import OrganizationTable
        from shared.adapters.partner_users import PartnerUserTable
        from shared.adapters.ports import Stores
        from shared.adapters.report_removals import ReportRemovalTable
        from shared.adapters.skills_report import SkillsReportTable
        from shared.adapters.webhooks import WebhookTable

        return Stores(
            users=PartnerUserTable(self.tables),
            learners=LearnerTable(self.tables, self.clock),
            wakes=CreditWakeTable(self.tables),
            report=SkillsReportTable(self.tables),
            removals=ReportRemovalTable(self.tables),
            queue=self.queues,
            activity=ActivityTable(self.tables),
            webhooks=WebhookTable(self.tables),
            expiry_warnings=ExpiryWarningTable(self.tables),
            intents=IntentTable(self.tables),
            org_settings=OrgSettingsTable(self.tables),
            organizations=OrganizationTable(self.tables),
        )

    @cached_property
    def deps(self) -> "Dependencies":
        return build_context(self.stores, self.settings, self.clock)


def build_context(stores: "Stores", settings: Settings, clock: Clock) -> "Dependencies":
    """The use cases' dependencies over any stores: Azure ones here, in-memory ones in
    the unit tests."""
    from shared.adapters.assertions import AssertionVerifiers
    from shared.domain.policy import AssociationPolicy
    from shared.services.dependencies import Dependencies
    from shared.services.handlers import HANDLERS

    return Dependencies(
        stores=stores,
        clock=clock,
        policy=AssociationPolicy(
            max_per_window=settings.association_max_per_window,
            window=settings.association_window,
            cool_off=settings.association_cool_off,
        ),
        verifiers=AssertionVerifiers(settings),
        credit_delay=settings.credit_delay,
        handlers=HANDLERS,
        expiry_warning=settings.expiry_warning,
        activity_retention=settings.activity_retention,
        allow_local_webhooks=settings.is_local_development,
        # Fail closed: a production host need not be App Service (Container Apps, a VM).
        check_webhook_addresses=not settings.is_local_development,
    )


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
            _check_catalog()
        return _current


def _check_catalog() -> None:
    """At start, a bad designation catalog is logged naming the entry; the designation
    views and the health check answer 503 with it, and the rest keeps working."""
    from shared.services.designations import catalog_refusal

    refused = catalog_refusal()
    if refused is not None:
        logger.error("%s", refused.message)


def install(runtime: Runtime) -> None:
    global _current
    with _lock:
        _current = runtime


def reset() -> None:
    global _current
    with _lock:
        _current = None
