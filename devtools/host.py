"""Host `function_app.app` the way Azure Functions Core Tools does, from the
functions' own binding metadata: HTTP functions under host.json's route prefix,
queue triggers polled in Storage (honouring maxDequeueCount, visibilityTimeout and
messageEncoding, moving failures to `<queue>-poison`), timers on their NCRONTAB
schedule, and `POST /admin/functions/{name}` to run a non-HTTP function by hand.
A development tool, never deployed (.funcignore)."""

import base64
import binascii
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func
from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage as HostQueueMessage
from azure.functions.timer import TimerRequest as HostTimerRequest
from azure.storage.queue import QueueClient

from devtools.routing import Route, find_route, http_routes, invoke

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("skills_link.host")
PROCESSING_LEASE_SECONDS = 300


def query_params(query: str) -> dict[str, str]:
    """As the Functions host hands a query to the worker: a repeated parameter
    (`?status=a&status=b`) arrives as one comma-separated value, and a parameter whose
    value is empty (`?until=`) does not arrive at all (the host's RpcMessageConversion
    Extensions.ToRpcHttp skips empty values; parse_qsl drops them likewise)."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(query):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def parse_timespan(value: str) -> timedelta:
    hours, minutes, seconds = (float(part) for part in value.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


@dataclass(frozen=True)
class QueueSettings:
    max_dequeue_count: int = 5
    visibility_timeout: timedelta = timedelta(0)
    base64: bool = True
    max_polling_interval: timedelta = timedelta(seconds=2)

    @classmethod
    def from_host_json(cls, host: dict[str, Any]) -> "QueueSettings":
        queues = host.get("extensions", {}).get("queues", {})
        return cls(
            max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
            visibility_timeout=parse_timespan(queues.get("visibilityTimeout", "00:00:00")),
            base64=queues.get("messageEncoding", "base64").lower() == "base64",
            max_polling_interval=parse_timespan(queues.get("maxPollingInterval", "00:00:02")),
        )


@dataclass(frozen=True)
class Trigger:
    name: str
    kind: str
    binding: dict[str, Any]
    function: Any
    retry: dict[str, Any] | None = None


def retry_delays(policy: dict[str, Any]) -> list[float]:
    """The waits before each retry of a function's retry policy, as the host spaces them."""
    tries = int(policy.get("max_retry_count", 0))
    if policy.get("strategy") == "fixed_delay":
        return [parse_timespan(policy["delay_interval"]).total_seconds()] * tries
    low = parse_timespan(policy["minimum_interval"]).total_seconds()
    high = parse_timespan(policy["maximum_interval"]).total_seconds()
    return [min(low * 2**attempt, high) for attempt in range(tries)]


class FunctionHost:
    def __init__(self, functions: list[Any], host_json: dict[str, Any], connection: str) -> None:
        self.routes: list[Route] = http_routes(functions)
        self.route_prefix = (
            host_json.get("extensions", {}).get("http", {}).get("routePrefix", "api")
        )
        self.queue_settings = QueueSettings.from_host_json(host_json)
        self.connection = connection
        self.clock_control: Callable[[float], datetime] | None = None
        self.dev_portal: Any = None  # devtools.dev_portal.DevPortal under the runner
        self.triggers: dict[str, Trigger] = {}
        for function in functions:
            binding = json.loads(function.get_function_json())["bindings"][0]
            name = str(function.get_function_name())
            self.triggers[name] = Trigger(
                name,
                binding["type"],
                binding,
                function.get_user_function(),
                function.get_settings_dict("retry_policy"),
            )
        self.sleep: Callable[[float], None] = time.sleep
        self.timer_leases: Any = None
        """devtools.timer_leases.TimerLeases when several instances share the storage:
        each scheduled timer run then takes the function's lease first."""

    @classmethod
    def for_project(cls, connection: str) -> "FunctionHost":
        import function_app

        host_json = json.loads((ROOT / "host.json").read_text())
        return cls(list(function_app.app.get_functions()), host_json, connection)

    def _timed(self, name: str, trigger: str, call: Any) -> Any:
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = call()
            outcome = "succeeded"
            return result
        finally:
            logger.info(
                "function=%s trigger=%s duration_ms=%.1f outcome=%s",
                name,
                trigger,
                (time.perf_counter() - started) * 1000,
                outcome,
            )

    # HTTP

    def handle_http(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        prefix = f"/{self.route_prefix}/" if self.route_prefix else "/"
        if method == "POST" and path.startswith("/admin/functions/"):
            return self._admin_invoke(path.removeprefix("/admin/functions/"), body)
        if path == "/admin/clock" and self.clock_control is not None:
            return self._admin_clock(method, body)
        if self.dev_portal is not None:
            answered = self.dev_portal.handle(method, path, query, headers, body)
            if answered is not None:
                return answered  # type: ignore[no-any-return]
            principal = self.dev_portal.principal_for(headers)
            if principal is not None:
                # As App Service Authentication does: the session decides who calls.
                headers = {
                    **{k: v for k, v in headers.items() if k.lower() != "x-ms-client-principal"},
                    "x-ms-client-principal": principal,
                }
        if not path.startswith(prefix):
            return 404, {}, b""
        found = find_route(self.routes, method, path[len(prefix) :])
        if found is None:
            # As the Functions host: a method no function declares for the path is
            # 404 (a declared catch-all answers 405 with Allow where the API can).
            return 404, {}, b""
        route, route_params = found
        request = func.HttpRequest(
            method=method,
            url=f"http://localhost{path}" + (f"?{query}" if query else ""),
            headers=headers,
            params=query_params(query),
            route_params=route_params,
            body=body,
        )
        response: func.HttpResponse = self._timed(
            route.name, "http", lambda: invoke(route.function, request, route.name)
        )
        logger.info(
            "%s %s -> %d (request %s)",
            method,
            path,
            response.status_code,
            response.headers.get("x-request-id", "-"),
        )
        out_headers = dict(response.headers)
        if response.mimetype:
            out_headers.setdefault(
                "Content-Type",
                f"{response.mimetype}; charset={response.charset}"
                if response.charset and response.mimetype.startswith(("text/", "application/json"))
                else response.mimetype,
            )
        return response.status_code, out_headers, response.get_body() or b""

    def _admin_clock(self, method: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self.clock_control is not None
        if method == "POST":
            try:
                seconds = float(json.loads(body or b"{}")["advance_seconds"])
            except (ValueError, KeyError, TypeError):
                return 400, {}, b""
            now = self.move_clock(seconds)
        else:
            now = self.clock_control(0)
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"now": now.isoformat()}).encode(),
        )

    def move_clock(self, seconds: float) -> datetime:
        """Move the dev clock, then run once every timer whose schedule passed in the
        jump, as a host that had been running all along would have."""
        assert self.clock_control is not None
        now = self.clock_control(seconds)
        before = now - timedelta(seconds=seconds)
        for trigger in self.triggers.values():
            if trigger.kind == "timerTrigger" and self.next_run(trigger.name, before) <= now:
                with contextlib.suppress(Exception):
                    self.run_scheduled(trigger.name, retry=False)
        return now

    def run_scheduled(self, name: str, *, retry: bool = True) -> bool:
        """A scheduled run, as the host makes it: under the timer's lease when
        instances share the storage; False when another instance holds it."""
        if self.timer_leases is None:
            self.run_timer(name, retry=retry)
            return True
        with self.timer_leases.held(name) as mine:
            if mine:
                self.run_timer(name, retry=retry)
            return bool(mine)

    def _admin_invoke(self, name: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        trigger = self.triggers.get(name)
        if trigger is None or trigger.kind == "httpTrigger":
            return 404, {}, b""
        try:
            payload = json.loads(body or b"{}")
            text = str(payload.get("input", "")) if isinstance(payload, dict) else ""
        except json.JSONDecodeError:
            return 400, {}, b""
        if trigger.kind == "timerTrigger":
            self.run_timer(name)
        else:
            message = HostQueueMessage(id="admin", body=text.encode(), dequeue_count=1)
            self._timed(name, "queue", lambda: invoke(trigger.function, message, name))
        return 202, {}, b""

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        import anyio.to_thread

        status, out_headers, out_body = await anyio.to_thread.run_sync(
            lambda: self.handle_http(
                scope["method"], scope["path"], scope["query_string"].decode(), headers, body
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in out_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": out_body})

    # Queues

    def queue_client(self, name: str) -> QueueClient:
        client = QueueClient.from_connection_string(self.connection, name)
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        return client

    def poll_queue(self, name: str, max_messages: int = 32) -> int:
        """One pass over the queue of function `name`; returns messages handled."""
        trigger = self.triggers[name]
        queue = self.queue_client(trigger.binding["queueName"])
        poison = self.queue_client(f"{trigger.binding['queueName']}-poison")
        retry_after = int(self.queue_settings.visibility_timeout.total_seconds())
        handled = 0
        for message in queue.receive_messages(
            max_messages=max_messages, visibility_timeout=PROCESSING_LEASE_SECONDS
        ):
            handled += 1
            if self.queue_settings.base64:
                try:
                    body = base64.b64decode(message.content, validate=True)
                except (binascii.Error, ValueError):
                    poison.send_message(message.content)
                    queue.delete_message(message)
                    logger.warning("Moved an undecodable message to %s-poison", queue.queue_name)
                    continue
            else:
                body = message.content.encode()
            host_message = HostQueueMessage(
                id=message.id,
                body=body,
                dequeue_count=message.dequeue_count,
                pop_receipt=message.pop_receipt,
            )
            try:
                self._timed(
                    name, "queue", lambda current=host_message: invoke(trigger.function, current)
                )
            except Exception:
                logger.exception("function=%s failed on message %s", name, message.id)
                if (message.dequeue_count or 0) >= self.queue_settings.max_dequeue_count:
                    poison.send_message(message.content)
                    queue.delete_message(message)
                else:
                    queue.update_message(message, visibility_timeout=retry_after)
                continue
            queue.delete_message(message)
        return handled

    def drain(self, name: str, rounds: int = 50) -> int:
        total = 0
        for _ in range(rounds):
            handled = self.poll_queue(name)
            total += handled
            if handled == 0:
                break
        return total

    # Timers

    def run_timer(self, name: str, past_due: bool = False, *, retry: bool = False) -> None:
        """One run; with retry, the function's retry policy as the host applies it to
        scheduled runs (a run by hand is tried once)."""
        trigger = self.triggers[name]
        delays = retry_delays(trigger.retry) if retry and trigger.retry else []
        for attempt in range(len(delays) + 1):
            try:
                self._timed(
                    name,
                    "timer",
                    lambda: invoke(trigger.function, HostTimerRequest(past_due=past_due), name),
                )
                return
            except Exception:
                if attempt == len(delays):
                    raise
                logger.warning(
                    "function=%s failed; retry %d of %d in %.0f s",
                    name,
                    attempt + 1,
                    len(delays),
                    delays[attempt],
                )
                self.sleep(delays[attempt])

    def next_run(self, name: str, after: datetime) -> datetime:
        from croniter import croniter

        schedule = self.triggers[name].binding["schedule"]
        following: datetime = croniter(schedule, after, second_at_beginning=True).get_next(datetime)
        return following

    # Background work

    def start_background(self, stop: threading.Event) -> list[threading.Thread]:
        threads = []
        for trigger in self.triggers.values():
            if trigger.kind == "queueTrigger":
                threads.append(
                    threading.Thread(
                        target=self._queue_loop, args=(trigger.name, stop), daemon=True
                    )
                )
            elif trigger.kind == "timerTrigger":
                threads.append(
                    threading.Thread(
                        target=self._timer_loop, args=(trigger.name, stop), daemon=True
                    )
                )
        for thread in threads:
            thread.start()
        return threads

    def _queue_loop(self, name: str, stop: threading.Event) -> None:
        idle = 0.1
        while not stop.is_set():
            try:
                handled = self.poll_queue(name)
            except Exception:
                logger.exception("Polling for %s failed", name)
                handled = 0
            idle = (
                0.1
                if handled
                else min(idle * 2, self.queue_settings.max_polling_interval.total_seconds())
            )
            stop.wait(0 if handled else idle)

    def _timer_loop(self, name: str, stop: threading.Event) -> None:
        if self.triggers[name].binding.get("runOnStartup"):
            self.run_timer(name)
        while not stop.is_set():
            due = self.next_run(name, datetime.now(UTC))
            if stop.wait((due - datetime.now(UTC)).total_seconds()):
                return
            with contextlib.suppress(Exception):
                self.run_scheduled(name)
