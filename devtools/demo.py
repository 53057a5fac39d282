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

from devtools.dev_token import app_now
from devtools.tokens import KeyPair, learner_assertion, principal_header
from shared.queue_names import LEARNING_EVENTS

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


def _shift(instant: str, seconds: float) -> str:
    from datetime import datetime, timedelta

    moved = datetime.fromisoformat(instant.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moved.isoformat().replace("+00:00", "Z")


class _Receiver:
    """A webhook receiver on 127.0.0.1 for the story (local development allows http)."""

    def __enter__(self) -> "_Receiver":
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []  # type: list[tuple[dict[str, str], bytes]]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/skills-link"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()

    def types(self) -> list[str]:
        seen: dict[str, str] = {}
        for _, body in self.received:
            entry = json.loads(body)
            seen.setdefault(entry["id"], entry["type"])
        return list(seen.values())

    def all_signed(self, secret: str) -> bool:
        from shared.domain.webhooks import signature

        return all(
            signature(secret, h["webhook-id"], int(h["webhook-timestamp"]), body)
            == h["webhook-signature"]
            for h, body in self.received
        )


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
    # The running app's clock may have moved already (an earlier demo, /.dev/).
    offset = app_now(target.url) - time.time()

    def assertion(learner_id: str = learner, who: dict[str, str] | None = None) -> str:
        """What the program's sign-in page returns: its assertion carries the nonce the
        portal asked for this person (contract v4)."""
        issued = http.post("/api/me/links/nonce", headers=who or pat, json={"program": "learn"})
        _expect(issued.status_code == 201, f"asking for a nonce: {issued.text}")
        return learner_assertion(
            target.learn_keys, issuer=target.issuer, audience=target.audience,
            learner_id=learner_id, issued_at=time.time() + offset, msa=f"{learner_id}@outlook.com",
            extra={"nonce": issued.json()["nonce"]},
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
            target.connection, LEARNING_EVENTS, message_encode_policy=TextBase64EncodePolicy()
        )

        def report(kind: str, who: str, credential: str, completed: str, expires: str) -> None:
            queue.send_message(json.dumps({
                "event_id": f"evt-{uuid.uuid4().hex[:8]}", "type": kind, "program": "learn",
                "learner_id": who, "credential": {"id": credential, "kind": "certification",
                "title": f"Certification {credential}"},
                "completed_at": completed, "expires_at": expires,
            }))  # fmt: skip

        started = linked.json()["started_at"]
        first_expiry = _shift(started, 365 * DAY)
        report("credential.completed", learner, "AZ-104", started, first_expiry)
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
        say("   The admin says Contoso serves small and medium businesses (the SMB track).")
        chosen = http.put(
            "/api/org/designations/infrastructure-azure/track", headers=admin,
            json={"track": "smb"},
        )  # fmt: skip
        _expect(chosen.status_code == 200, f"choosing the track: {chosen.text}")
        designation = chosen.json()
        say(f"   {designation['name']}: {designation['points']:g} skilling points.")

        say(f"   AZ-104 expires on {first_expiry[:10]}; Pat renews it early on Microsoft Learn.")
        report("credential.renewed", learner, "AZ-104", started, _shift(first_expiry, 365 * DAY))
        _wait(
            lambda: (
                http.get("/api/org/skills-report", headers=admin).json()["rows"][0]["expires_at"]
                != first_expiry
            ),
            "the renewal",
        )
        on_old_expiry = next(
            d
            for d in http.get(
                "/api/org/designations", headers=admin, params={"on": first_expiry[:10]}
            ).json()["designations"]
            if d["id"] == "infrastructure-azure"
        )
        _expect(on_old_expiry["points"] == designation["points"], "points kept by the renewal")
        say(
            f"   On {first_expiry[:10]} the designation still has {on_old_expiry['points']:g} "
            "points."
        )

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

        say("9. Sam's certification lapses, and the admin's webhook receiver hears of it.")
        with _Receiver() as receiver:
            hook = http.post(
                "/api/org/webhooks", headers=admin,
                json={"url": receiver.url, "events": ["credential.expiring", "credential.expired"],
                      "description": "demo receiver"},
            )  # fmt: skip
            _expect(hook.status_code == 201, f"registering a webhook: {hook.text}")
            sam = {"X-MS-CLIENT-PRINCIPAL": principal_header(tenant, sam_email)}
            sam_learner = f"MCID-sam-{run}"
            sam_linked = http.post(
                "/api/me/links", headers=sam,
                json={"program": "learn", "assertion": assertion(sam_learner, sam)},
            )  # fmt: skip
            _expect(sam_linked.status_code == 201, f"Sam linking: {sam_linked.text}")
            sam_started = sam_linked.json()["started_at"]
            report(
                "credential.completed",
                sam_learner,
                "AZ-500",
                sam_started,
                _shift(sam_started, 40 * DAY),
            )
            advance(10 * DAY + 60)
            run_function("send_due_credit_wakes")
            _wait(lambda: any(
                r["credential_id"] == "AZ-500"
                for r in http.get("/api/org/skills-report", headers=admin).json()["rows"]
            ), "Sam's credit")  # fmt: skip
            run_function("send_expiry_warnings")
            advance(31 * DAY)
            run_function("send_expiry_warnings")
            _wait(lambda: receiver.types() == ["credential.expiring", "credential.expired"],
                  "the webhook receiver hearing both warnings")  # fmt: skip
            _expect(receiver.all_signed(hook.json()["secret"]), "valid webhook signatures")
            for kind in receiver.types():
                say(f"   The receiver got {kind} for AZ-500 (signature valid).")
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
