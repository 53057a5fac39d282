"""The load run of `make bench`: concurrent clients against the local runner (a real
process, on 127.0.0.1 only) for a fixed time, mixing links, moves, unlinks, profile
reads, report reads and learning events over a few hundred people in a few
organizations, with hot spots (one big organization, one learner fought over). It
stops by itself and then checks the invariants on what it left."""

import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.queue_names import CREDITS_DUE, LEARNING_EVENTS

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LoadSizes:
    clients: int = 32
    seconds: float = 60
    organizations: int = 4
    people: int = 300
    learners: int = 240


LOAD_SMOKE = LoadSizes(clients=4, seconds=3, organizations=2, people=12, learners=10)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, operation: str, seconds: float, status: int, code: str = "") -> None:
        with self.lock:
            self.latencies[operation].append(seconds)
            self.statuses[(operation, status)] += 1
            if status >= 500:
                self.server_errors[(operation, code)] += 1


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _percentiles_ms(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of latencies in seconds, in milliseconds."""
    return tuple(_percentile(values, f) * 1000 for f in (0.5, 0.95, 0.99))  # type: ignore[return-value]


def run_load(bench: Any, sizes: LoadSizes) -> None:
    from devtools.local_service import local_service
    from tests.support.world import program_app_settings, program_keys

    keys = program_keys()
    settings = {
        **program_app_settings(keys),
        # Limits that let people move around under load (the rules still run). A cap
        # stays: without one, the learner fought over gathers hundreds of associations
        # in a minute and its state row outgrows Table Storage's 64 KiB property (with
        # the contract's 3 a year, that would take a century).
        "ASSOCIATION_COOL_OFF": "PT0S",
        "ASSOCIATION_MAX_PER_WINDOW": "50",
        "CREDIT_DELAY": "PT0S",
    }
    with _runner_log() as log, local_service(settings, runner_log=log) as running:
        _load(bench, sizes, running.url, running.connection_string, keys)


def _runner_log() -> Any:
    """The runner's log, for reading what went wrong (git-ignored)."""
    path = ROOT / "benchmarks" / "results" / "load-runner.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w")


@dataclass
class LoadWorld:
    """People in organizations (one big), learners (one fought over), and their
    principals: what every load run drives."""

    tenants: list[str]
    admins: dict[str, str]
    people: list[tuple[str, str]]
    headers: dict[tuple[str, str], str]
    learners: list[str]
    keys: Any
    queue: Any

    @property
    def hot_learner(self) -> str:
        return self.learners[0]


def _populate(sizes: LoadSizes, url: str, connection: str, keys: Any) -> LoadWorld:
    import httpx
    from azure.storage.queue import QueueClient, TextBase64EncodePolicy

    from devtools.tokens import principal_header

    run = uuid.uuid4().hex[:6]
    tenants = [f"load-{run}-{n}" for n in range(sizes.organizations)]
    admins = {
        t: principal_header(t, f"admin@{t}.com", roles=("Partner.GlobalAdmin",)) for t in tenants
    }
    # Hot spot: half of the people in the first organization.
    people: list[tuple[str, str]] = []
    for n in range(sizes.people):
        tenant = tenants[0] if n % 2 == 0 else tenants[n % len(tenants)]
        people.append((tenant, f"p{n}@{tenant}.com"))
    with httpx.Client(base_url=url, timeout=60) as http:
        for tenant, email in people:
            answer = http.post(
                "/api/org/users",
                headers={"X-MS-CLIENT-PRINCIPAL": admins[tenant]},
                json={"email": email, "display_name": email.split("@")[0]},
            )
            assert answer.status_code == 201, answer.text
    return LoadWorld(
        tenants=tenants,
        admins=admins,
        people=people,
        headers={p: principal_header(p[0], p[1]) for p in people},
        learners=[f"MCID-{run}-{n}" for n in range(sizes.learners)],
        keys=keys,
        queue=QueueClient.from_connection_string(
            connection, LEARNING_EVENTS, message_encode_policy=TextBase64EncodePolicy()
        ),
    )


def _one_operation(
    world: LoadWorld, http: Any, rng: random.Random, tally: Tally, arrived: float | None = None
) -> None:
    """One operation of the mix; its latency from `arrived` (open loop: when it was
    due, so waiting for a free worker counts) or from its own start."""
    from devtools.tokens import learner_assertion
    from tests.support.world import AUDIENCE, ISSUERS

    person = rng.choice(world.people)
    principal = {"X-MS-CLIENT-PRINCIPAL": world.headers[person]}
    roll = rng.random()
    started = arrived if arrived is not None else time.perf_counter()
    if roll < 0.30:
        operation, status = "profile read", http.get("/api/me", headers=principal)
    elif roll < 0.40:
        tenant = rng.choice(world.tenants)
        operation = "report read"
        status = http.get(
            "/api/org/skills-report", headers={"X-MS-CLIENT-PRINCIPAL": world.admins[tenant]}
        )
    elif roll < 0.62:
        learner = world.hot_learner if rng.random() < 0.1 else rng.choice(world.learners)
        operation = "link or move"
        # The program's sign-in page gets a nonce first, as the portal asks; the link is
        # timed from the moment the person comes back with the assertion.
        issued = http.post("/api/me/links/nonce", headers=principal, json={"program": "learn"})
        nonce = issued.json().get("nonce", "") if issued.status_code == 201 else ""
        started = time.perf_counter()
        assertion = learner_assertion(
            world.keys["learn"], issuer=ISSUERS["learn"], audience=AUDIENCE, learner_id=learner,
            msa=f"{learner.lower()}@outlook.com", extra={"nonce": nonce},
        )  # fmt: skip
        status = http.post(
            "/api/me/links", headers=principal, json={"program": "learn", "assertion": assertion}
        )
    elif roll < 0.72:
        operation = "unlink"
        status = http.delete("/api/me/links/learn", headers=principal)
    elif roll < 0.77:
        tenant = rng.choice(world.tenants)
        operation = "activity read"
        status = http.get(
            "/api/org/activity", headers={"X-MS-CLIENT-PRINCIPAL": world.admins[tenant]}
        )
    else:
        learner = world.hot_learner if rng.random() < 0.1 else rng.choice(world.learners)
        world.queue.send_message(
            json.dumps({
                "event_id": uuid.uuid4().hex, "type": "credential.completed",
                "program": "learn", "learner_id": learner,
                "credential": {"id": f"C-{rng.randrange(20)}", "kind": "training",
                               "title": "Load"},
                "completed_at": "2026-01-01T00:00:00Z",
            })
        )  # fmt: skip
        tally.add("learning event", time.perf_counter() - started, 202)
        return
    code = ""
    if status.status_code >= 500:
        code = str(status.json().get("error", {}).get("code", "?"))
    tally.add(operation, time.perf_counter() - started, status.status_code, code)


def _report_answers(bench: Any, tally: Tally, label: str) -> None:
    server_errors = sum(n for (_, status), n in tally.statuses.items() if status >= 500)
    busy = sum(n for (_, status), n in tally.statuses.items() if status == 503)
    codes = Counter(status for (_, status), n in tally.statuses.items() for _ in range(n))
    print(f"{label}: answers by status {dict(sorted(codes.items()))}", flush=True)
    if tally.server_errors:
        print(f"{label}: 5xx by operation and code {dict(tally.server_errors)}", flush=True)
    bench.add(f"{label}: 5xx answers (of which 503 busy or storage)", server_errors, "answers",
              f"== 0 (503: {busy})", server_errors == 0)  # fmt: skip


def _load(bench: Any, sizes: LoadSizes, url: str, connection: str, keys: Any) -> None:
    import httpx

    world = _populate(sizes, url, connection, keys)
    tally = Tally()
    stop_at = time.monotonic() + sizes.seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < stop_at:
                _one_operation(world, http, rng, tally)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(sizes.clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    total = sum(len(v) for v in tally.latencies.values())
    bench.add(
        f"load: {sizes.clients} clients for {sizes.seconds:.0f} s, all operations",
        total / elapsed,
        "ops/s",
    )
    for operation, values in sorted(tally.latencies.items()):
        p50, p95, p99 = _percentiles_ms(values)
        bench.add(f"load: {operation} p50 / p95 / p99", p50, "ms", f"p95 {p95:.0f} p99 {p99:.0f}")
    _report_answers(bench, tally, "load")
    _drain_and_check(bench, url, connection, world.people, world.learners)


@dataclass(frozen=True)
class OpenLoopSizes:
    instances: int = 3
    steps: tuple[float, ...] = (10, 20, 40, 80, 160)
    """Offered rates (operations/s) tried to find where the instances saturate."""
    step_seconds: float = 8
    fractions: tuple[float, ...] = (0.25, 0.5, 0.75)
    measure_seconds: float = 60
    """At least this long at each rate (with 20 s there were about five activity reads
    at 25 % of saturation, and their p95 was their largest)."""
    min_activity_reads: int = 40
    """Then on until this many activity reads (5 % of the mix) have arrived, so that
    their p95 is not simply their largest (of 16, p95 is the maximum; of 40, the
    second largest), up to `max_measure_seconds`."""
    max_measure_seconds: float = 200
    workers: int = 256
    load: LoadSizes = LoadSizes()


OPEN_LOOP_SMOKE = OpenLoopSizes(
    instances=2, steps=(4, 8), step_seconds=1, measure_seconds=1, min_activity_reads=0,
    max_measure_seconds=1, workers=16, load=LOAD_SMOKE,
)  # fmt: skip


def _offered(
    world: LoadWorld,
    urls: list[str],
    rate: float,
    seconds: float,
    *,
    workers: int,
    seed: int,
    activity_reads: int = 0,
    max_seconds: float = 0,
) -> tuple[Tally, float]:
    """Arrivals at `rate` a second for `seconds`, whatever the answers take (open
    loop), spread over the instances; then on until `activity_reads` activity reads
    have been answered or `max_seconds` have passed. The tally and the completions
    per second."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    local = threading.local()

    def clients() -> list[Any]:
        if not hasattr(local, "clients"):
            local.clients = [httpx.Client(base_url=u, timeout=60) for u in urls]
        return local.clients  # type: ignore[no-any-return]

    tally = Tally()
    rng = random.Random(seed)

    def arrive(n: int, due: float, op_seed: float) -> None:
        _one_operation(world, clients()[n % len(urls)], random.Random(op_seed), tally, due)

    arrivals = max(1, int(rate * seconds))
    last = max(arrivals, int(rate * max_seconds))

    def enough(n: int) -> bool:
        if n < arrivals:
            return False
        with tally.lock:
            answered = len(tally.latencies.get("activity read", ()))
        return answered >= activity_reads or n >= last

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        n = 0
        while not enough(n):
            due = began + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            pool.submit(arrive, n, due, rng.random())
            n += 1
    elapsed = time.perf_counter() - began
    return tally, sum(len(v) for v in tally.latencies.values()) / elapsed


def run_open_loop(bench: Any, sizes: OpenLoopSizes) -> None:
    """Latency as a person feels it: first the saturation throughput of the mix on
    `instances` runners sharing one Azurite (the highest completion rate of the
    steps), then p50/p95/p99 per operation at fractions of it; the invariants after."""
    from devtools.local_service import local_service
    from tests.support.world import program_app_settings, program_keys

    keys = program_keys()
    settings = {
        **program_app_settings(keys),
        "ASSOCIATION_COOL_OFF": "PT0S",
        "ASSOCIATION_MAX_PER_WINDOW": "50",
        "CREDIT_DELAY": "PT0S",
    }
    with (
        _runner_log() as log,
        local_service(settings, runner_log=log, instances=sizes.instances) as running,
    ):
        world = _populate(sizes.load, running.url, running.connection_string, keys)
        saturation = 0.0
        for step, rate in enumerate(sizes.steps):
            _, achieved = _offered(
                world, running.urls, rate, sizes.step_seconds, workers=sizes.workers, seed=step
            )
            saturation = max(saturation, achieved)
            if achieved < 0.9 * rate:
                break
        label = f"open loop, {sizes.instances} instances"
        bench.add(f"{label}: saturation throughput of the mix", saturation, "ops/s")
        everything = Tally()
        for fraction in sizes.fractions:
            rate = max(1.0, fraction * saturation)
            began = time.monotonic()
            tally, _ = _offered(
                world, running.urls, rate, sizes.measure_seconds,
                workers=sizes.workers, seed=int(fraction * 100),
                activity_reads=sizes.min_activity_reads, max_seconds=sizes.max_measure_seconds,
            )  # fmt: skip
            window = time.monotonic() - began
            for operation, values in sorted(tally.latencies.items()):
                p50, p95, p99 = _percentiles_ms(values)
                bench.add(
                    f"{label}: {operation} at {fraction:.0%} ({rate:.0f}/s) p99",
                    p99, "ms", f"p50 {p50:.0f} p95 {p95:.0f}",
                )  # fmt: skip
            for key, count in tally.statuses.items():
                everything.statuses[key] += count
            everything.server_errors.update(tally.server_errors)
            _activity_against_report(bench, label, fraction, tally, window)
        _report_answers(bench, everything, label)
        _drain_and_check(
            bench, running.url, running.connection_string, world.people, world.learners, label=label
        )


def _activity_against_report(
    bench: Any, label: str, fraction: float, tally: Tally, window: float
) -> None:
    """The activity read's p95 against the Skills Report's at the same rate."""
    activity, report = tally.latencies.get("activity read"), tally.latencies.get("report read")
    if not activity or not report:
        return
    ratio = _percentile(activity, 0.95) / _percentile(report, 0.95)
    bench.add(
        f"{label}: activity p95 / report p95 at {fraction:.0%}", ratio, "x",
        f"<= 1.5 (n = {len(activity)} / {len(report)}, {window:.0f} s)", ratio <= 1.5,
    )  # fmt: skip


def _drain_and_check(
    bench: Any,
    url: str,
    connection: str,
    people: list[tuple[str, str]],
    learners: list[str],
    *,
    label: str = "load",
) -> None:
    """Let the runner finish the queues, move its clock past the in-flight window and
    run the reconciler and the scheduler, as the timers would; then check every
    learner and person."""
    from datetime import UTC, datetime, timedelta

    import httpx
    from azure.storage.queue import QueueClient

    from shared import bootstrap
    from shared.settings import Settings
    from tests.support.invariants import invariant_violations

    def drained(*names: str) -> None:
        for name in names:
            client = QueueClient.from_connection_string(connection, name)
            deadline = time.monotonic() + 120
            while (
                client.get_queue_properties().approximate_message_count
                and time.monotonic() < deadline
            ):
                time.sleep(0.5)
        time.sleep(1)

    drained(LEARNING_EVENTS, CREDITS_DUE)
    with httpx.Client(base_url=url, timeout=120) as http:
        http.post("/admin/clock", json={"advance_seconds": 180}).raise_for_status()
        for function in ("reconcile", "send_due_credit_wakes"):
            http.post(f"/admin/functions/{function}", json={"input": ""}).raise_for_status()
        drained(CREDITS_DUE)
        now = datetime.fromisoformat(http.get("/admin/clock").json()["now"]).astimezone(UTC)
    rt = bootstrap.Runtime(Settings(AzureWebJobsStorage=connection))
    found = invariant_violations(
        rt.stores,
        timedelta(0),  # the load run sets CREDIT_DELAY to PT0S
        now,
        [("learn", learner) for learner in learners],
        people,
    )
    for violation in found[:10]:
        print(f"{label}: invariant violated: {violation}", flush=True)
    bench.add(f"{label}: invariant violations afterwards", len(found), "", "== 0", not found)
