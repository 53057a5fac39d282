"""A page signed in by cookie must not be usable by another site: the security
headers, no third-party origin, a cross-site form post refused with 415, and a
program sign-in answer taken only once, by the tab that asked for it."""

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from devtools.dev_token import AUDIENCE, ISSUERS, dev_keys
from devtools.tokens import learner_assertion
from tests.browser.conftest import Portal, sign_in

PAGES = ("/", "/link-return", "/org/users", "/org/skills-report", "/org/designations")
ASSETS = ("/app.js", "/api.js", "/dom.js", "/profile.js", "/org.js", "/portal.css", "/config.json")


@pytest.mark.parametrize("path", PAGES + ASSETS)
def test_portal_responses_carry_the_security_headers(portal: Portal, path: str) -> None:
    response = httpx.get(f"{portal.url}{path}", timeout=10)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy  # no third-party origin is allowed anything
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_portal_serves_no_file_outside_its_folder(portal: Portal) -> None:
    for path in ("/..%2Fportal_site.py", "/%2e%2e/settings.py", "/nope.js", "/org/unknown"):
        assert httpx.get(f"{portal.url}{path}", timeout=10).status_code == 404


def test_the_pages_load_nothing_from_another_origin(browser: Any, portal: Portal) -> None:
    run = uuid.uuid4().hex[:6]
    page = sign_in(browser, portal, f"t-{run}", f"ada-{run}@x.com", "Ada", admin=True)
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert seen and all(url.startswith(portal.url) for url in seen), seen


class _Attacker(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><html><body>"
            f'<form method="post" action="{self.target}/api/me/links" enctype="text/plain">'
            '<input type="hidden" name=\'{"program": "learn", "assertion": "\' value=\'x"}\'>'
            '<button type="submit">Win a prize</button></form></body></html>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker_port(portal: Portal) -> Iterator[int]:
    handler = type("Handler", (_Attacker,), {"target": portal.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    ("attacker_host", "refused_with"),
    [
        # Another port of the same host: another origin but the same site, so even a
        # SameSite=Lax session cookie goes along; the media type is what refuses it.
        ("127.0.0.1", 415),
        # Another site: the browser keeps the Lax cookie back; nobody is identified.
        ("localhost", 401),
    ],
)
def test_a_cross_site_form_post_cannot_link_anyone(
    browser: Any, portal: Portal, attacker_port: int, attacker_host: str, refused_with: int
) -> None:
    attacker_site = f"http://{attacker_host}:{attacker_port}/"
    run = uuid.uuid4().hex[:6]
    tenant, email = f"t-{run}", f"vic-{run}@x.com"
    admin = sign_in(browser, portal, tenant, f"ada-{run}@x.com", "Ada", admin=True)
    added = admin.request.post("/api/org/users", data={"email": email, "display_name": "Vic"})
    assert added.status == 201
    victim = sign_in(browser, portal, tenant, email, "Vic")
    victim.goto(attacker_site)
    with victim.expect_response(lambda r: r.url.endswith("/api/me/links")) as posted:
        victim.get_by_role("button", name="Win a prize").click()
    assert posted.value.status == refused_with
    assert (
        posted.value.json()["error"]["code"]
        == {
            415: "unsupported_media_type",
            401: "unauthenticated",
        }[refused_with]
    )
    profile = victim.request.get(f"{portal.url}/api/me").json()
    assert profile["history"] == [] and profile["programs"]["learn"]["active"] is None


def _assertion(learner_id: str, issued_at: float) -> str:
    return learner_assertion(
        dev_keys("learn"), issuer=ISSUERS["learn"], audience=AUDIENCE,
        learner_id=learner_id, msa=f"{learner_id}@outlook.com", issued_at=issued_at,
    )  # fmt: skip


def _member(browser: Any, portal: Portal) -> tuple[Any, str]:
    run = uuid.uuid4().hex[:6]
    tenant, email = f"t-{run}", f"kim-{run}@x.com"
    admin = sign_in(browser, portal, tenant, f"ada-{run}@x.com", "Ada", admin=True)
    admin.request.post("/api/org/users", data={"email": email, "display_name": "Kim"})
    return sign_in(browser, portal, tenant, email, "Kim"), run


def test_a_sign_in_answer_the_tab_did_not_ask_for_links_nothing(
    browser: Any, portal: Portal
) -> None:
    from datetime import datetime

    page, run = _member(browser, portal)
    now = datetime.fromisoformat(portal.now()).timestamp()
    page.goto(f"/link-return#state=forged&assertion={_assertion(f'MCID-{run}', now)}")
    expect(page.locator("#notice")).to_contain_text("was not started from this page")
    assert page.url.endswith("/")  # the assertion left the address bar
    assert page.request.get(f"{portal.url}/api/me").json()["history"] == []


def test_the_program_sign_in_state_is_single_use(browser: Any, portal: Portal) -> None:
    page, run = _member(browser, portal)
    answers: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: answers.append(frame.url) if "/link-return#" in frame.url else None,
    )
    page.get_by_role("button", name="Link Microsoft Learn").click()
    page.get_by_label("Learner id (MCID)").fill(f"MCID-{run}")
    page.get_by_label("Personal account").fill(f"kim-{run}@outlook.com")
    page.get_by_role("button", name="Continue to Microsoft Learn").click()
    expect(page.locator("#notice")).to_contain_text("Linked Microsoft Learn")
    page.get_by_role("button", name="Unlink Microsoft Learn").click()
    page.get_by_role("dialog").get_by_role("button", name="Unlink").click()
    expect(page.locator("#notice")).to_contain_text("Unlinked")
    assert answers
    page.goto(answers[0])  # the same answer again, in the same tab
    expect(page.locator("#notice")).to_contain_text("was not started from this page")
    history = page.request.get(f"{portal.url}/api/me").json()["history"]
    assert len(history) == 1 and history[0]["end_reason"] == "unlinked"
