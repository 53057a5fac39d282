"""The portal in a real browser: Debian's Chromium driven by Playwright, against
Azurite and the local runner started as real processes (sign-in emulated by the
runner as App Service Authentication would do it)."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.dev_token import dev_settings
from devtools.host import ROOT
from devtools.local_service import local_service

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# As the machine's notes say: without these, Chromium reaches for Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Portal:
    url: str

    def now(self) -> str:
        return str(httpx.get(f"{self.url}/admin/clock", timeout=10).json()["now"])


@pytest.fixture(scope="session")
def portal() -> Iterator[Portal]:
    with local_service(dev_settings()) as running:
        yield Portal(running.url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium "
            "(apt-get install chromium); the browser tests are never skipped."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in(
    browser: Any, portal: Portal, tenant: str, email: str, name: str, *, admin: bool = False
) -> Any:
    """A fresh browser profile that signs in through the (emulated) work sign-in."""
    context = browser.new_context(base_url=portal.url, accept_downloads=True)
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="Sign in with your work account").click()
    page.get_by_label("Tenant (organization)").fill(tenant)
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Display name").fill(name)
    if admin:
        page.get_by_label("Global admin of this organization").check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("nav#nav:not([hidden])")
    return page


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make setup` installs it from package-lock.json")
    page.evaluate(AXE.read_text())
    results = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in results if v.get("impact") in ("serious", "critical")]
