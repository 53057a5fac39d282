"""The help page's whole story over real HTTP: Azurite and the local runner as real
processes on free ports, driven with httpx and the queue SDK. The runner's dev
clock stands in for waiting ten days and a month."""

from azure.storage.queue import QueueClient

from devtools.demo import Target, tell_the_story
from shared.queue_names import LEARNING_EVENTS, LEARNING_EVENTS_POISON
from tests.e2e.conftest import Service, wait_until
from tests.support.world import AUDIENCE, ISSUERS, unique

DAY = 86_400


def test_the_help_page_story_over_http(service: Service) -> None:
    steps: list[str] = []
    tell_the_story(
        Target(service.url, service.connection, service.keys["learn"], ISSUERS["learn"], AUDIENCE),
        steps.append,
    )
    assert "The Skills Report no longer shows Pat." in [step.strip() for step in steps]
    assert steps[-1].strip() == "The story is complete."
    assert any("credential.removed" in step for step in steps)
    assert any("still has 4 points" in step for step in steps)  # the renewal kept them
    assert any("The receiver got credential.expired for AZ-500" in step for step in steps)
    assert any("we require a period of 30 days between associations" in step for step in steps)


def test_poison_messages_through_the_runner_while_good_ones_flow(service: Service) -> None:
    raw = QueueClient.from_connection_string(service.connection, LEARNING_EVENTS)
    raw.send_message("%%% not base64 %%%")
    service.send_event("not json")
    service.send_event(
        {"event_id": "good", "type": "credential.completed", "program": "learn", "learner_id": unique("L"),
         "credential": {"id": "AZ-900", "kind": "assessment", "title": "Fundamentals"},
         "completed_at": "2026-11-20T09:30:00Z"}
    )  # fmt: skip
    poison = QueueClient.from_connection_string(service.connection, LEARNING_EVENTS_POISON)
    wait_until(lambda: len(poison.peek_messages(max_messages=32)) >= 2)
    wait_until(lambda: raw.get_queue_properties().approximate_message_count == 0)


def test_unknown_routes_and_methods(service: Service) -> None:
    with service.client() as http:
        assert http.get("/api/nowhere").status_code == 404
        not_allowed = http.put("/api/me")
        assert (not_allowed.status_code, not_allowed.headers["Allow"]) == (405, "GET")
        deleted = http.delete("/api/org/users")
        assert (deleted.status_code, deleted.headers["Allow"]) == (405, "GET, POST")
        assert http.delete("/api/nowhere").status_code == 404
        # GET is the portal's catch-all method; on an API path it is the API's answer.
        got = http.get("/api/me/links")
        assert (got.status_code, got.headers.get("Allow")) == (405, "POST")
        # A literal path is not a value of the template beside it (`{program}`).
        nonce = http.delete("/api/me/links/nonce")
        assert (nonce.status_code, nonce.headers.get("Allow")) == (405, "POST")
        assert http.request("TRACE", "/api/me").status_code == 404  # not declarable: the host's 404
        assert http.post("/admin/functions/nope", json={"input": ""}).status_code == 404
