"""axe-core on every page (no serious or critical finding), and every control
reachable with the keyboard."""

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Portal, axe_violations, sign_in

ADMIN_PAGES = ("/", "/org/users", "/org/skills-report", "/org/designations", "/org/activity")


@pytest.fixture(scope="module")
def admin_page(browser: Any, portal: Portal) -> Any:
    run = uuid.uuid4().hex[:6]
    page = sign_in(browser, portal, f"t-{run}", f"ada-{run}@x.com", "Ada", admin=True)
    page.request.post("/api/org/users", data={"email": f"ada-{run}@x.com", "display_name": "Ada"})
    page.request.post("/api/org/users", data={"email": f"bo-{run}@x.com", "display_name": "Bo"})
    return page


def _settled(page: Any, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    expect(page.locator("main h1")).to_be_visible()


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_axe_finds_no_serious_violation_on_the_portal_pages(admin_page: Any, path: str) -> None:
    _settled(admin_page, path)
    assert axe_violations(admin_page) == []


def test_axe_finds_no_serious_violation_in_the_confirmation_dialog(admin_page: Any) -> None:
    _settled(admin_page, "/org/users")
    admin_page.get_by_role("button", name="Remove").first.click()
    expect(admin_page.get_by_role("dialog")).to_be_visible()
    assert axe_violations(admin_page) == []
    admin_page.keyboard.press("Escape")


@pytest.mark.parametrize(
    "path",
    [
        "/",  # signed out: the sign-in invitation
        "/.auth/login/aad?post_login_redirect_uri=/",
        "/.dev/programs/learn/sign-in?return_url=RETURN&state=s",
        "/.dev/",
    ],
)
def test_axe_finds_no_serious_violation_on_the_sign_in_pages(
    browser: Any, portal: Portal, path: str
) -> None:
    page = browser.new_context(base_url=portal.url).new_page()
    page.goto(path.replace("RETURN", f"{portal.url}/link-return"))
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_every_control_is_reachable_by_keyboard(admin_page: Any, path: str) -> None:
    _settled(admin_page, path)
    controls = admin_page.evaluate(
        """() => {
            const found = [...document.querySelectorAll('a[href], button, input, select, [tabindex="0"]')]
              .filter((e) => e.offsetParent !== null && !e.closest('dialog'));
            found.forEach((e, i) => e.setAttribute('data-control', String(i)));
            return found.length;
        }"""
    )
    reached: set[str] = set()
    admin_page.locator("body").focus()
    for _ in range(controls + 5):
        admin_page.keyboard.press("Tab")
        marker = admin_page.evaluate("() => document.activeElement.getAttribute('data-control')")
        if marker is not None:
            reached.add(marker)
    assert len(reached) == controls
