"""The help page's whole story over real HTTP: Azurite and the local runner as real
processes on free ports, driven with httpx and the queue SDK. The runner's dev
clock stands in for waiting ten days and a month."""

import time

from azure.storage.queue import QueueClient

from devtools.tokens import learner_assertion, principal_header
from tests.e2e.conftest import Service, wait_until
from tests.support.world import AUDIENCE, ISSUERS, unique

DAY = 86_400


def test_the_help_page_story_over_http(service: Service) -> None:
    tenant = unique("contoso")
    admin = {
        "X-MS-CLIENT-PRINCIPAL": principal_header(
            tenant, "boss@contoso.com", roles=("Partner.GlobalAdmin",)
        )
    }
    pat = {"X-MS-CLIENT-PRINCIPAL": principal_header(tenant, "pat@contoso.com")}
    learner = unique("MCID")

    def assertion() -> str:
        now = time.time() + offset[0]
        return learner_assertion(
            service.keys["learn"], issuer=ISSUERS["learn"], audience=AUDIENCE,
            learner_id=learner, issued_at=now,
        )  # fmt: skip

    offset = [0.0]
    with service.client() as http:
        for email in ("pat@contoso.com", "sam@contoso.com"):
            added = http.post(
                "/api/org/users", headers=admin, json={"email": email, "display_name": email[:3]}
            )
            assert added.status_code == 201
        linked = http.post(
            "/api/me/links", headers=pat, json={"program": "learn", "assertion": assertion()}
        )
        assert linked.status_code == 201, linked.text

        service.send_event(
            {"event_id": "e1", "type": "credential.completed", "program": "learn", "learner_id": learner,
             "credential": {"id": "AZ-104", "kind": "certification", "title": "Azure Administrator"},
             "completed_at": linked.json()["started_at"]}
        )  # fmt: skip
        wait_until(lambda: len(http.get("/api/me", headers=pat).json()["pending_credits"]) == 1)

        offset[0] += service.advance(10 * DAY + 60)
        service.run("send_due_credit_wakes")
        wait_until(
            lambda: len(http.get("/api/org/skills-report", headers=admin).json()["rows"]) == 1
        )
        csv = http.get("/api/org/skills-report", headers={**admin, "Accept": "text/csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert "AZ-104" in csv.text
        points = http.get("/api/org/designations", headers=admin).json()["designations"][0][
            "points"
        ]
        assert points == 5

        assert http.delete("/api/me/links/learn", headers=pat).status_code == 204
        too_early = http.post(
            "/api/me/links", headers=pat, json={"program": "learn", "assertion": assertion()}
        )
        assert too_early.status_code == 429
        assert (
            "we require a period of 30 days between associations"
            in too_early.json()["error"]["message"]
        )
        assert int(too_early.headers["retry-after"]) > 0

        departed = http.delete("/api/org/users/pat@contoso.com", headers=admin)
        assert departed.status_code == 202
        removal_on = departed.json()["removal_on"]
        assert (
            http.get("/api/org/skills-report", headers=admin).json()["rows"][0]["removal_on"]
            == removal_on
        )

        offset[0] += service.advance(45 * DAY)
        service.run("monthly_refresh")
        assert http.get("/api/org/skills-report", headers=admin).json()["rows"] == []


def test_poison_messages_through_the_runner_while_good_ones_flow(service: Service) -> None:
    raw = QueueClient.from_connection_string(service.connection, "learning-events")
    raw.send_message("%%% not base64 %%%")
    service.send_event("not json")
    service.send_event(
        {"event_id": "good", "type": "credential.completed", "program": "learn", "learner_id": unique("L"),
         "credential": {"id": "AZ-900", "kind": "assessment", "title": "Fundamentals"},
         "completed_at": "2026-11-20T09:30:00Z"}
    )  # fmt: skip
    poison = QueueClient.from_connection_string(service.connection, "learning-events-poison")
    wait_until(lambda: len(poison.peek_messages(max_messages=32)) >= 2)
    wait_until(lambda: raw.get_queue_properties().approximate_message_count == 0)


def test_unknown_routes_and_methods(service: Service) -> None:
    with service.client() as http:
        assert http.get("/api/nowhere").status_code == 404
        assert http.put("/api/me").status_code == 405
        assert http.post("/admin/functions/nope", json={"input": ""}).status_code == 404
