"""What Azure puts around the portal, emulated for the local runner (never deployed):
App Service Authentication's `/.auth/login/aad`, `/.auth/me` and `/.auth/logout` with a
session cookie that becomes the `X-MS-CLIENT-PRINCIPAL` header, a program sign-in
page that returns a dev-signed learner assertion, and `/.dev/` to move the dev clock
and send learning events."""

import html
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from devtools.tokens import principal_claims, principal_header
from shared.entrypoints.portal_site import PROGRAM_NAMES

SESSION_COOKIE = "AppServiceAuthSession"
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Answer = tuple[int, dict[str, str], bytes]


@dataclass
class DevSession:
    tenant_id: str
    email: str
    display_name: str
    admin: bool

    @property
    def roles(self) -> tuple[str, ...]:
        return ("Partner.GlobalAdmin",) if self.admin else ()

    def header(self) -> str:
        return principal_header(
            self.tenant_id, self.email, roles=self.roles, name=self.display_name
        )

    def me(self) -> list[dict[str, Any]]:
        """/.auth/me in App Service's shape."""
        return [
            {
                "provider_name": "aad",
                "user_id": self.email,
                "user_claims": principal_claims(
                    self.tenant_id, self.email, roles=self.roles, name=self.display_name
                ),
            }
        ]


def _page(title: str, *body: str, status: int = 200) -> Answer:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/portal.css"></head><body>'
        '<header class="top"><p class="brand">Development sign-in (local only)</p></header>'
        f'<main id="main"><h1>{html.escape(title)}</h1>{"".join(body)}</main></body></html>'
    )
    return status, dict(PAGE_HEADERS), document.encode()


def _field(name: str, label: str, value: str = "", kind: str = "text") -> str:
    step = ' step="any"' if kind == "number" else ""
    return (
        f'<p><label for="{name}">{html.escape(label)}</label><br><input type="{kind}" '
        f'id="{name}" name="{name}" value="{html.escape(value)}"{step} required></p>'
    )


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{html.escape(value)}">'


def _redirect(location: str, headers: dict[str, str] | None = None) -> Answer:
    return 303, {"Location": location, "Cache-Control": "no-store", **(headers or {})}, b""


def _session_token(headers: dict[str, str]) -> str | None:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except Exception:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def _local_path(target: str | None) -> str:
    """Only a path of this site: a sign-in never sends anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@dataclass
class DevPortal:
    """The runner's dev-only endpoints. `now` is the app's clock (the dev clock when
    it is moved), so assertions minted here are fresh at the app's time."""

    now: Callable[[], datetime]
    advance: Callable[[float], datetime] | None = None
    send_event: Callable[[dict[str, Any]], None] | None = None
    sessions: dict[str, DevSession] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session_of(self, headers: dict[str, str]) -> DevSession | None:
        token = _session_token(headers)
        with self._lock:
            return self.sessions.get(token) if token else None

    def principal_for(self, headers: dict[str, str]) -> str | None:
        session = self.session_of(headers)
        return session.header() if session else None

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Answer | None:
        params = dict(parse_qsl(query))
        form = dict(parse_qsl(body.decode("utf-8", "replace"))) if method == "POST" else {}
        if path == "/.auth/login/aad":
            return self._login(method, params, form)
        if path == "/.auth/me" and method == "GET":
            session = self.session_of(headers)
            if session is None:
                return 401, {"Content-Type": "application/json"}, b"[]"
            return 200, {"Content-Type": "application/json"}, json.dumps(session.me()).encode()
        if path == "/.auth/logout":
            token = _session_token(headers)
            if token:
                with self._lock:
                    self.sessions.pop(token, None)
            expired = f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
            target = _local_path(params.get("post_logout_redirect_uri"))
            return _redirect(target, {"Set-Cookie": expired})
        if path.startswith("/.dev/programs/") and path.endswith("/sign-in"):
            program = path.removeprefix("/.dev/programs/").removesuffix("/sign-in")
            if program in PROGRAM_NAMES:
                return self._program_sign_in(method, program, params, form, headers)
        if path in ("/.dev", "/.dev/"):
            return self._tools(params.get("done", ""))
        if path == "/.dev/clock" and method == "POST":
            return self._move_clock(form)
        if path == "/.dev/learning-events" and method == "POST":
            return self._learning_event(form)
        return None

    def _login(self, method: str, params: dict[str, str], form: dict[str, str]) -> Answer:
        if method == "POST":
            email = form.get("email", "").strip().lower()
            tenant = form.get("tenant", "").strip()
            if not email or not tenant:
                return _page("Sign in", "<p>Tenant and email are needed.</p>", status=400)
            token = secrets.token_urlsafe(32)
            session = DevSession(
                tenant, email, form.get("display_name", "").strip() or email, "admin" in form
            )
            with self._lock:
                self.sessions[token] = session
            cookie = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax"
            return _redirect(_local_path(form.get("redirect")), {"Set-Cookie": cookie})
        return _page(
            "Sign in with a work account",
            "<p>The local stand-in for Microsoft Entra sign-in: pick who you are.</p>",
            '<form method="post" action="/.auth/login/aad">',
            _hidden("redirect", _local_path(params.get("post_login_redirect_uri"))),
            _field("tenant", "Tenant (organization)", "contoso-tenant"),
            _field("email", "Work email", "", "email"),
            _field("display_name", "Display name"),
            '<p><input type="checkbox" id="admin" name="admin" value="yes"> '
            '<label for="admin">Global admin of this organization</label></p>',
            '<p><button type="submit">Sign in</button></p></form>',
        )

    def _program_sign_in(
        self,
        method: str,
        program: str,
        params: dict[str, str],
        form: dict[str, str],
        headers: dict[str, str],
    ) -> Answer:
        values = form if method == "POST" else params
        return_url, state = values.get("return_url", ""), values.get("state", "")
        nonce = values.get("nonce", "")
        target = urlsplit(return_url)
        if target.scheme not in ("http", "https") or target.netloc != headers.get("host"):
            return _page(
                "Sign-in refused", "<p>The return address is not this site.</p>", status=400
            )
        name = PROGRAM_NAMES[program]
        if method == "POST":
            from devtools.dev_token import AUDIENCE, ISSUERS, dev_keys
            from devtools.tokens import learner_assertion

            assertion = learner_assertion(
                dev_keys(program),
                issuer=ISSUERS[program],
                audience=AUDIENCE,
                learner_id=form.get("learner_id", "").strip(),
                msa=form.get("msa", "").strip() or None,
                issued_at=self.now().timestamp(),
                # As OpenID Connect does: the nonce the portal got for this person comes
                # back inside the assertion, binding it to them.
                extra={"nonce": nonce} if nonce else None,
            )
            fragment = urlencode({"state": state, "assertion": assertion})
            return _redirect(f"{return_url}#{fragment}")
        return _page(
            f"Sign in to {name}",
            f"<p>The local stand-in for the {html.escape(name)} sign-in with a personal "
            "account. It returns a dev-signed proof to the portal.</p>",
            f'<form method="post" action="/.dev/programs/{program}/sign-in">',
            _hidden("return_url", return_url),
            _hidden("state", state),
            _hidden("nonce", nonce),
            _field("learner_id", "Learner id (MCID)" if program == "learn" else "Learner id"),
            '<p><label for="msa">Personal account (leave empty for a profile without '
            'one)</label><br><input type="email" id="msa" name="msa"></p>',
            f'<p><button type="submit">Continue to {html.escape(name)}</button></p></form>',
        )

    def _tools(self, done: str) -> Answer:
        return _page(
            "Development tools",
            f'<p role="status">{html.escape(done)}</p>' if done else "",
            f"<p>App clock: {html.escape(self.now().isoformat(timespec='seconds'))}</p>",
            '<form method="post" action="/.dev/clock"><h2>Move the clock</h2>',
            _field("days", "Days to move forward", "10", "number"),
            '<p><button type="submit">Move the clock</button></p></form>',
            '<form method="post" action="/.dev/learning-events"><h2>A learning platform '
            "reports a completion</h2>",
            '<p><label for="program">Program</label><br><select id="program" name="program">'
            '<option value="learn">Microsoft Learn</option>'
            '<option value="partner_university">Partner University</option></select></p>',
            _field("learner_id", "Learner id"),
            _field("credential_id", "Credential id", "AZ-104"),
            '<p><label for="kind">Kind</label><br><select id="kind" name="kind">'
            "<option>certification</option><option>assessment</option><option>training</option>"
            "</select></p>",
            _field("title", "Title", "Azure Administrator Associate"),
            '<p><button type="submit">Send the completion</button></p></form>',
        )

    def _move_clock(self, form: dict[str, str]) -> Answer:
        if self.advance is None:
            return _page(
                "Development tools", "<p>Start the runner with --dev-clock.</p>", status=400
            )
        try:
            days = float(form.get("days", ""))
        except ValueError:
            return _page("Development tools", "<p>Days must be a number.</p>", status=400)
        now = self.advance(days * 86400)
        return _redirect("/.dev/?" + urlencode({"done": f"The clock is now {now:%Y-%m-%d %H:%M}."}))

    def _learning_event(self, form: dict[str, str]) -> Answer:
        if self.send_event is None:
            return _page("Development tools", "<p>No queue to send to.</p>", status=400)
        event: dict[str, Any] = {
            "event_id": secrets.token_hex(8),
            "type": "credential.completed",
            "program": form.get("program", "learn"),
            "learner_id": form.get("learner_id", "").strip(),
            "credential": {
                "id": form.get("credential_id", "").strip(),
                "kind": form.get("kind", "certification"),
                "title": form.get("title", "").strip(),
            },
            "completed_at": self.now().isoformat().replace("+00:00", "Z"),
        }
        self.send_event(event)
        done = f"Sent {event['credential']['id']} for {event['learner_id']}."
        return _redirect("/.dev/?" + urlencode({"done": done}))
