"""`make demo`: the help page's whole story against the running service (`make
start`), told step by step in plain words. The end-to-end tests run the same story.

    python -m devtools.demo [--url http://127.0.0.1:7071]
"""

import argparse
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devtools.tokens import KeyPair, learner_assertion, principal_header

DAY = 86_400


@dataclass
class Target:
    url: str
    connection: str
    learn_keys: KeyPair
    issuer: str
    audience: str


class StoryFailed(AssertionError):
    pass


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise StoryFailed(what)


def _wait(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise StoryFailed(f"timed out waiting for {what}")
        time.sleep(0.25)


def tell_the_story(target: Target, say: Callable[[str], None] = print) -> None:  # noqa: PLR0915 - a story reads top to bottom
    run = uuid.uuid4().hex[:6]
    tenant = f"contoso-{run}"
    admin = {
        "X-MS-CLIENT-PRINCIPAL": principal_header(
            tenant, f"admin-{run}@contoso.com", roles=("Partner.GlobalAdmin",)
        )
    }
    pat_email, sam_email = f"pat-{run}@contoso.com", f"sam-{run}@contoso.com"
    pat = {"X-MS-CLIENT-PRINCIPAL": principal_header(tenant, pat_email)}
    learner = f"MCID-{run}"
    offset = 0.0

    def assertion() -> str:
        return learner_assertion(
            target.learn_keys, issuer=target.issuer, audience=target.audience,
            learner_id=learner, issued_at=time.time() + offset, msa=f"pat.{run}@outlook.com",
        )  # fmt: skip

    def advance(seconds: float) -> None:
        nonlocal offset
        http.post("/admin/clock", json={"advance_seconds": seconds}).raise_for_status()
        offset += seconds

    def run_function(name: str) -> None:
        response = http.post(f"/admin/functions/{name}", json={"input": ""})
        _expect(response.status_code == 202, f"running {name} by hand")

    with httpx.Client(base_url=target.url, timeout=30) as http:
        say(f"1. The Global admin of {tenant} adds two people to Partner Center: Pat and Sam.")
        for email, name in ((pat_email, "Pat"), (sam_email, "Sam")):
            added = http.post(
                "/api/org/users", headers=admin, json={"email": email, "display_name": name}
            )
            _expect(added.status_code == 201, f"adding {email}: {added.text}")

        say(
            "2. Pat signs in to Microsoft Learn with a personal account and links learner "
            f"{learner}."
        )
        linked = http.post(
            "/api/me/links", headers=pat, json={"program": "learn", "assertion": assertion()}
        )
        _expect(linked.status_code == 201, f"linking: {linked.text}")
        say(f"   Linked at {linked.json()['started_at']}.")

        say("3. Microsoft Learn reports that Pat completed AZ-104 (a message on learning-events).")
        queue = QueueClient.from_connection_string(
            target.connection, "learning-events", message_encode_policy=TextBase64EncodePolicy()
        )
        queue.send_message(json.dumps({
            "event_id": f"evt-{run}", "type": "credential.completed", "program": "learn",
            "learner_id": learner,
            "credential": {"id": "AZ-104", "kind": "certification", "title": "Azure Administrator"},
            "completed_at": linked.json()["started_at"],
        }))  # fmt: skip
        _wait(
            lambda: len(http.get("/api/me", headers=pat).json()["pending_credits"]) == 1,
            "a pending credit",
        )
        due = http.get("/api/me", headers=pat).json()["pending_credits"][0]["due_at"]
        say(f"   Pat's profile shows the credit pending, due {due}.")

        say("4. Ten days pass (the local runner's dev clock moves on) and the scheduler runs.")
        advance(10 * DAY + 60)
        run_function("send_due_credit_wakes")
        _wait(
            lambda: len(http.get("/api/org/skills-report", headers=admin).json()["rows"]) == 1,
            "credit",
        )
        row = http.get("/api/org/skills-report", headers=admin).json()["rows"][0]
        say(
            f"   The Skills Report shows {row['display_name']}: {row['credential_id']}, "
            f"credited {row['credited_at']}."
        )
        designation = http.get("/api/org/designations", headers=admin).json()["designations"][0]
        say(f"   {designation['name']}: {designation['points']} points.")

        say("5. Pat removes the link and tries to associate again right away.")
        _expect(http.delete("/api/me/links/learn", headers=pat).status_code == 204, "unlinking")
        again = http.post(
            "/api/me/links", headers=pat, json={"program": "learn", "assertion": assertion()}
        )
        _expect(again.status_code == 429, f"the cool-off: {again.text}")
        say(f"   {again.status_code}: {again.json()['error']['message']}")

        say("6. Pat leaves the company; the admin deletes the work account.")
        departed = http.delete(f"/api/org/users/{pat_email}", headers=admin)
        _expect(departed.status_code == 202, f"deleting: {departed.text}")
        removal_on = departed.json()["removal_on"]
        say(f"   Pat's exams stay in the Skills Report until the data refresh on {removal_on}.")

        say("7. Time passes to that refresh, and the admin runs it by hand.")
        advance(45 * DAY)
        run_function("monthly_refresh")
        rows = http.get("/api/org/skills-report", headers=admin).json()["rows"]
        _expect(rows == [], f"the refresh removing Pat's rows: {rows}")
        say("   The Skills Report no longer shows Pat.")

        say("8. The admin reads the organization's activity log, oldest first:")
        log = http.get("/api/org/activity", headers=admin, params={"email": pat_email}).json()[
            "entries"
        ]
        for entry in reversed(log):
            detail = entry["credential_id"] or entry["reason"] or entry["learner_id"] or ""
            say(f"   {entry['at'][:10]}  {entry['type']:<29} {detail}")
        _expect(
            {"user.added", "association.started", "credential.credited", "credential.removed"}
            <= {e["type"] for e in log},
            f"the activity log telling the story: {log}",
        )
        say("   The story is complete.")


def main() -> None:
    parser = argparse.ArgumentParser(description="Tell the help page's story against `make start`.")
    parser.add_argument("--url", default="http://127.0.0.1:7071")
    args = parser.parse_args()
    from devtools.dev_token import AUDIENCE, ISSUERS, dev_keys
    from devtools.runner import ROOT, load_settings

    values = load_settings(ROOT / "local.settings.json")
    target = Target(
        url=args.url,
        connection=values.get("AzureWebJobsStorage", "UseDevelopmentStorage=true"),
        learn_keys=dev_keys("learn"),
        issuer=ISSUERS["learn"],
        audience=AUDIENCE,
    )
    try:
        tell_the_story(target)
    except httpx.ConnectError as error:
        raise SystemExit(
            f"Nothing answers on {args.url}: run `make start` in another terminal first."
        ) from error


if __name__ == "__main__":
    main()
