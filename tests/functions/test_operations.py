"""What an on-call engineer relies on: invocation fields on every log record, no
secret in any log, metrics, storage failures that never poison a good message,
poison replay, the refresh's retry, and a cheap health probe."""

import itertools
import json
import logging
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError

from devtools.request_counter import RequestCounter
from shared import bootstrap
from shared.queue_names import CREDITS_DUE, LEARNING_EVENTS, LEARNING_EVENTS_POISON
from tests.functions.test_credit_rules import event
from tests.functions.test_profile_and_inputs import a_member_whose_row_is_corrupt
from tests.support.api import FunctionClient
from tests.support.queue_host import QueueHost
from tests.support.world import World, unique

DAY = timedelta(days=1)


def test_the_request_id_of_a_500_is_the_invocation_id_on_its_log_records(
    world: World, api: FunctionClient, caplog: pytest.LogCaptureFixture
) -> None:
    person = a_member_whose_row_is_corrupt(world, api, "{}")
    response = api.profile(person)
    request_id = response.json()["error"]["request_id"]
    assert response.status == 500 and response.headers["x-request-id"] == request_id
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(getattr(r, "invocation_id", None) == request_id for r in errors)
    assert {getattr(r, "operation", None) for r in errors} == {"my_profile"}
    assert {getattr(r, "tenant_id", None) for r in errors} == {person.tenant_id}


def test_every_http_invocation_logs_its_outcome_with_its_fields(
    world: World, api: FunctionClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    person = api.member(world)
    response = api.profile(person)
    [line] = [
        r
        for r in caplog.records
        if getattr(r, "invocation_id", None) == response.headers["x-request-id"]
        and r.getMessage().endswith("answered 200")
    ]
    assert (line.operation, line.tenant_id, line.outcome) == (  # type: ignore[attr-defined]
        "my_profile",
        person.tenant_id,
        "200",
    )


def test_queue_work_logs_message_id_dequeue_count_and_outcome(
    world: World, api: FunctionClient, host: QueueHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    host.send(LEARNING_EVENTS, event(unique("MCID"), "AZ-900", world.clock.now()))
    assert host.drain(LEARNING_EVENTS, "ingest_learning_event") == 1
    [line] = [
        r
        for r in caplog.records
        if getattr(r, "operation", None) == "ingest" and r.getMessage().startswith("ingest message")
    ]
    assert line.outcome == "succeeded" and line.program == "learn"  # type: ignore[attr-defined]
    assert line.dequeue_count == 1 and line.message_id  # type: ignore[attr-defined]


def test_a_log_capture_of_the_whole_story_holds_no_assertion_principal_or_msa(
    world: World, api: FunctionClient, host: QueueHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = world.tenant()
    admin, person = world.admin(tenant), world.person(tenant)
    msa = f"{unique('private')}@outlook.com"
    learner = unique("MCID")
    assert api.add_user(admin, person).status == 201
    assertion = world.assertion(learner, msa=msa)
    assert api.link(person, "learn", assertion).status == 201
    assert api.link(person, "learn", assertion).status == 200
    host.send(LEARNING_EVENTS, event(learner, "AZ-104", world.clock.now()))
    host.drain(LEARNING_EVENTS, "ingest_learning_event")
    world.clock.advance(10 * DAY + timedelta(minutes=1))
    host.run_timer("send_due_credit_wakes")
    host.drain(CREDITS_DUE, "apply_due_credit")
    assert api.profile(person).json()["credited"]
    assert api.link(person, "learn", world.assertion(learner, msa=msa)).status == 200
    assert api.unlink(person, "learn").status == 204
    assert api.call("DELETE", f"org/users/{person.email}", person=admin).status == 202
    world.clock.advance(45 * DAY)
    host.run_timer("monthly_refresh")
    logged = "\n".join(
        f"{record.getMessage()} {record.__dict__}" for record in caplog.records
    ).lower()
    assert logged  # the capture is not empty
    for secret in (assertion, assertion.split(".")[1], person.header, admin.header, msa):
        assert secret.lower() not in logged


@pytest.fixture
def metrics() -> Any:
    from opentelemetry import metrics as otel_metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from shared import observability

    reader = InMemoryMetricReader()
    # The global provider can be set once per process; the instruments are made anew.
    otel_metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    observability.reset_instruments_for_tests()

    def points() -> dict[str, float]:
        found: dict[str, float] = {}
        data = reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        value: Any = getattr(point, "value", None)
                        if value is None:
                            value = getattr(point, "count", 0)
                        found[metric.name] = found.get(metric.name, 0) + float(value)
        return found

    yield points
    observability.reset_instruments_for_tests()


def test_metrics_count_links_refusals_and_credits(
    world: World, api: FunctionClient, host: QueueHost, metrics: Any
) -> None:
    before = metrics()
    person = api.member(world)
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    assert api.link(person, "learn", world.assertion(unique("MCID"))).status == 409
    host.send(LEARNING_EVENTS, event(learner, "AZ-104", world.clock.now()))
    host.drain(LEARNING_EVENTS, "ingest_learning_event")
    world.clock.advance(10 * DAY + timedelta(minutes=1))
    host.run_timer("send_due_credit_wakes")
    host.drain(CREDITS_DUE, "apply_due_credit")
    after = metrics()

    def grew(name: str) -> float:
        return float(after.get(name, 0)) - float(before.get(name, 0))

    assert grew("skills_link.links_started") == 1
    assert grew("skills_link.refusals") == 1
    assert grew("skills_link.credits_applied") == 1
    assert grew("skills_link.credit_lateness") == 1  # one histogram point


class StorageOutage:
    """Fails every table request while on, as a dropped connection would."""

    def __init__(self) -> None:
        self.on = False
        self.refused = 0

    def __call__(self, request: Any) -> None:
        if self.on and self._is_table(request):
            self.refused += 1
            raise ServiceRequestError("storage is down (test)")

    table_port = 0

    def _is_table(self, request: Any) -> bool:
        return f":{self.table_port}/" in request.http_request.url


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.entrypoints import background

    monkeypatch.setattr(background, "retry_delay", lambda count: timedelta(0))


@pytest.mark.usefixtures("no_retry_delay")
def test_a_storage_outage_during_ingest_never_poisons_the_message_and_loses_nothing(
    world: World,
    api: FunctionClient,
    azure_runtime: bootstrap.Runtime,
    app_functions: list[Any],
    azurite: Any,
) -> None:
    from shared.adapters.tables import StorageRetry

    person = api.member(world)
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    outage = StorageOutage()
    outage.table_port = azurite.table
    failing = bootstrap.Runtime(
        azure_runtime.settings,
        azure_runtime.clock,
        request_hook=outage,
        storage_retry=StorageRetry(total=0),
    )
    bootstrap.install(failing)
    host = QueueHost(app_functions, failing)
    host.send(LEARNING_EVENTS, event(learner, "AZ-104", world.clock.now()))
    outage.on = True
    for _ in range(8):  # more deliveries than maxDequeueCount
        host.host.poll_queue("ingest_learning_event")
    assert outage.refused >= 8
    assert host.peek_texts(LEARNING_EVENTS_POISON) == []
    outage.on = False
    assert host.drain(LEARNING_EVENTS, "ingest_learning_event") == 1
    pending = api.profile(person).json()["pending_credits"]
    assert [p["credential"]["id"] for p in pending] == ["AZ-104"]


def test_a_refresh_that_fails_once_succeeds_on_its_retry(
    world: World,
    api: FunctionClient,
    host: QueueHost,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from shared.services import refresh

    real = refresh.refresh
    calls: list[int] = []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ServiceRequestError("storage hiccup (test)")
        return real(*args, **kwargs)

    monkeypatch.setattr(refresh, "refresh", fails_once)
    waits: list[float] = []
    host.host.sleep = waits.append
    host.host.run_timer("monthly_refresh", retry=True)
    assert len(calls) == 2 and waits == [60.0]
    assert any("still due" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


def test_the_refresh_retry_policy_is_declared_for_the_host(app_functions: list[Any]) -> None:
    [refresh_function] = [f for f in app_functions if f.get_function_name() == "monthly_refresh"]
    assert refresh_function.get_settings_dict("retry_policy") == {
        "setting_name": "retry_policy",
        "strategy": "exponential_backoff",
        "max_retry_count": "4",
        "minimum_interval": "00:01:00",
        "maximum_interval": "00:15:00",
    }


def test_poison_replay_restores_a_message_poisoned_because_a_setting_was_missing(
    world: World,
    api: FunctionClient,
    azure_runtime: bootstrap.Runtime,
    app_functions: list[Any],
) -> None:
    person = api.member(world)
    learner = unique("MCID")
    assert api.link(person, "learn", world.assertion(learner)).status == 201
    host = QueueHost(app_functions, azure_runtime)
    host.clear(LEARNING_EVENTS_POISON)
    broken = azure_runtime.settings.model_copy(
        update={"storage_connection": None, "website_instance_id": "in-azure"}
    )
    bootstrap.install(bootstrap.Runtime(broken, azure_runtime.clock))
    host.send(LEARNING_EVENTS, event(learner, "AZ-400", world.clock.now()))
    host.host.queue_settings = type(host.host.queue_settings)(
        max_dequeue_count=5, visibility_timeout=timedelta(0)
    )
    for _ in range(6):
        host.host.poll_queue("ingest_learning_event")
    assert len(host.peek_texts(LEARNING_EVENTS_POISON)) == 1
    bootstrap.install(azure_runtime)  # the setting is back
    replayed = api.call(
        "POST", "ops/poison/learning-events/replay", params={"limit": "10"}, body=b""
    )
    assert replayed.status == 200 and replayed.json()["moved"] == 1
    # Replaying again is harmless: nothing is left, and ingest is idempotent anyway.
    assert api.call("POST", "ops/poison/learning-events/replay", body=b"").json()["moved"] == 0
    host.drain(LEARNING_EVENTS, "ingest_learning_event")
    pending = api.profile(person).json()["pending_credits"]
    assert [p["credential"]["id"] for p in pending] == ["AZ-400"]


def test_health_asks_storage_at_most_once_in_a_few_seconds(
    api: FunctionClient, azure_runtime: bootstrap.Runtime
) -> None:
    counter = RequestCounter()
    bootstrap.install(
        bootstrap.Runtime(azure_runtime.settings, azure_runtime.clock, request_hook=counter)
    )
    assert api.call("GET", "health").status == 200
    first = counter.total
    for _ in range(5):
        assert api.call("GET", "health").status == 200
    assert counter.total == first <= 2  # create-if-missing of the probe table, one query


def test_importing_the_app_loads_no_telemetry_and_no_storage_sdk() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, function_app; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert not [m for m in loaded if m.startswith(("opentelemetry", "azure.monitor"))]
    assert not [m for m in loaded if m.startswith(("azure.data", "azure.storage"))]


def test_a_put_back_copy_carries_its_attempts_so_the_backoff_grows() -> None:
    from shared.entrypoints.background import RETRIES_FIELD, put_back_copy, retry_delay

    event_text = json.dumps({"event_id": "e1", "type": "credential.completed"})
    first, attempt = put_back_copy(event_text, 1)
    assert attempt == 1 and json.loads(first)[RETRIES_FIELD] == 1
    second, attempt = put_back_copy(first, 1)
    assert attempt == 2
    _, attempt = put_back_copy(second, 3)  # this copy itself failed three deliveries
    assert attempt == 5
    assert put_back_copy("not json", 2) == ("not json", 2)
    waits = [retry_delay(n).total_seconds() for n in range(1, 8)]
    assert 24 <= waits[0] <= 36 and 480 <= waits[-1] <= 720
    assert all(later >= earlier * 1.3 for earlier, later in itertools.pairwise(waits[:5]))
