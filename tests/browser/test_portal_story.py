"""The help page's story told through the portal's pages only, in Chromium: the
admin adds two people, one links through the program's sign-in, sees pending credit,
ten days pass, the Skills Report shows the credential and its CSV downloads, the
person unlinks and reads the cool-off message, the admin removes the person."""

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Portal, screenshot, sign_in


def _today(portal: Portal) -> date:
    return datetime.fromisoformat(portal.now()).date()


def _next_refresh(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 10)


def _link_learn(page: Any, learner_id: str, msa: str, shot: str | None = None) -> None:
    page.get_by_role("button", name="Link Microsoft Learn").click()
    page.get_by_label("Learner id (MCID)").fill(learner_id)
    page.get_by_label("Personal account").fill(msa)
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Continue to Microsoft Learn").click()


def _report_completion(page: Any, learner_id: str, credential_id: str, title: str) -> None:
    """The learning platform's side, through the runner's dev page."""
    page.goto("/.dev/")
    page.get_by_label("Learner id").fill(learner_id)
    page.get_by_label("Credential id").fill(credential_id)
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Send the completion").click()
    expect(page.get_by_role("status")).to_contain_text(f"Sent {credential_id}")


def test_the_help_page_story_through_the_pages(browser: Any, portal: Portal) -> None:
    run = uuid.uuid4().hex[:6]
    tenant, learner = f"contoso-{run}", f"MCID-{run}"
    pat_email, sam_email = f"pat-{run}@contoso.com", f"sam-{run}@contoso.com"

    # An admin signs in and adds two people.
    admin = browser.new_context(base_url=portal.url, accept_downloads=True).new_page()
    admin.goto("/")
    screenshot(admin, "01-sign-in")
    admin = sign_in(browser, portal, tenant, f"ada-{run}@contoso.com", "Ada Admin", admin=True)
    admin.get_by_role("link", name="Users").click()
    for email, name in ((pat_email, "Pat Doe"), (sam_email, "Sam Roe")):
        admin.get_by_label("Work email").fill(email)
        admin.get_by_label("Display name").fill(name)
        admin.get_by_role("button", name="Add user").click()
        expect(admin.locator("#notice")).to_contain_text(f"Added {name} ({email})")
    expect(admin.get_by_role("cell", name=pat_email, exact=True)).to_be_visible()
    admin.get_by_label("Only people who never linked a learner account").check()
    expect(admin.get_by_role("cell", name=sam_email, exact=True)).to_be_visible()
    screenshot(admin, "02-organization-users")

    # Pat signs in, is not linked, links through the program's sign-in. The portal
    # needs no token store: who is signed in comes from /api/whoami, never /.auth/me.
    pat = sign_in(browser, portal, tenant, pat_email, "Pat Doe")
    asked: list[str] = []
    pat.on("request", lambda request: asked.append(request.url))
    pat.reload()
    expect(pat.locator("#card-learn")).to_have_text("Microsoft Learn")
    expect(pat.get_by_text("Not linked").first).to_be_visible()
    expect(pat.get_by_role("link", name="Users")).to_have_count(0)
    screenshot(pat, "03-profile-not-linked")
    _link_learn(pat, learner, f"pat-{run}@outlook.com", shot="04-program-sign-in")
    expect(pat.locator("#notice")).to_contain_text(f"Linked Microsoft Learn learner {learner}")
    assert any(url.endswith("/api/whoami") for url in asked)
    assert any(url.endswith("/api/me/links/nonce") for url in asked)
    assert not any("/.auth/me" in url for url in asked)
    linked_on = _today(portal)
    expect(pat.get_by_text("1 of 3 in the last 365 days")).to_be_visible()
    expect(pat.get_by_text(str(linked_on + timedelta(days=30)))).to_be_visible()

    # The learning platform reports a completion; Pat sees it pending, with its date.
    _report_completion(pat, learner, "AZ-104", "Azure Administrator Associate")
    completed_on = _today(portal)
    pat.goto("/")
    pending = pat.get_by_role("table", name="Credentials that count for your organization")
    for _ in range(50):
        if pending.count():
            break
        pat.wait_for_timeout(300)
        pat.reload()
    expect(pending).to_contain_text("Azure Administrator Associate (AZ-104)")
    expect(pending).to_contain_text(str(completed_on + timedelta(days=10)))
    screenshot(pat, "05-profile-linked-pending-credit")

    # Ten days pass on the dev clock; the Skills Report shows the credential.
    pat.goto("/.dev/")
    pat.get_by_label("Days to move forward").fill("10.01")
    pat.get_by_role("button", name="Move the clock").click()
    expect(pat.get_by_role("status")).to_contain_text("The clock is now")
    admin.get_by_role("link", name="Skills Report").click()
    report = admin.get_by_role("table", name="Skills Report")
    for _ in range(50):
        if report.count() and "AZ-104" in report.inner_text():
            break
        admin.wait_for_timeout(300)
        admin.reload()
    expect(report).to_contain_text(pat_email)
    expect(report).to_contain_text("AZ-104")
    screenshot(admin, "06-skills-report")
    with admin.expect_download() as download:
        admin.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [(r["email"], r["credential_id"], r["learner_id"]) for r in rows] == [
        (pat_email, "AZ-104", learner)
    ]
    admin.get_by_role("link", name="Designations").click()
    infrastructure = admin.locator("section[aria-labelledby='infrastructure-azure-title']")
    expect(infrastructure.get_by_role("heading", level=2)).to_contain_text(
        "0 of 25 skilling points"
    )
    # One administrator on the Enterprise track is short of the required step's two people.
    expect(infrastructure).to_contain_text("a required step is short of people")
    # The admin says the organization serves small businesses, by keyboard.
    track = infrastructure.get_by_label("Your organization's track")
    track.focus()
    track.select_option("smb")
    expect(infrastructure.get_by_role("heading", level=2)).to_contain_text(
        "4 of 25 skilling points"
    )
    expect(
        infrastructure.get_by_role("meter", name="Intermediate certifications: 4 of 12.5 points")
    ).to_be_visible()
    infrastructure.get_by_role(
        "button", name="Who counts for Solutions Partner for Infrastructure (Azure)"
    ).press("Enter")
    expect(
        admin.get_by_role(
            "table", name="Who counts for Solutions Partner for Infrastructure (Azure)"
        )
    ).to_contain_text(pat_email)
    with admin.expect_download() as download:
        infrastructure.get_by_role(
            "button", name="Download CSV of Solutions Partner for Infrastructure (Azure)"
        ).click()
    people = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [(p["email"], p["metric"], p["credentials"]) for p in people] == [
        (pat_email, "intermediate-certifications", "AZ-104")
    ]
    expect(infrastructure).to_contain_text("How Microsoft scores it")
    infrastructure.scroll_into_view_if_needed()
    screenshot(admin, "07-designations")

    # Pat sees the credit, unlinks, tries again and reads the cool-off with its date.
    pat.goto("/")
    expect(
        pat.get_by_role("table", name="Credentials credited to your organization")
    ).to_contain_text("AZ-104")
    pat.get_by_role("button", name="Unlink Microsoft Learn").click()
    dialog = pat.get_by_role("dialog")
    expect(dialog).to_contain_text("stay in the Skills Report until the next monthly data refresh")
    screenshot(pat, "08-unlink-confirmation")
    dialog.get_by_role("button", name="Unlink").click()
    expect(pat.locator("#notice")).to_contain_text("Unlinked Microsoft Learn.")
    _link_learn(pat, learner, f"pat-{run}@outlook.com")
    next_date = linked_on + timedelta(days=30)
    expect(pat.locator("#notice")).to_contain_text(
        "However, we require a period of 30 days between associations. Your next available "
        f"date for a subsequent association is {next_date}."
    )
    screenshot(pat, "09-cool-off-message")

    # The admin removes Pat and sees the removal date; Pat's access ends.
    admin.get_by_role("link", name="Users").click()
    admin.get_by_role("button", name=f"Remove {pat_email}").click()
    admin.get_by_role("dialog").get_by_role("button", name="Remove user").click()
    removal_on = _next_refresh(_today(portal))
    expect(admin.locator("#notice")).to_contain_text(
        f"Removed {pat_email}. Their credentials leave the Skills Report on {removal_on}."
    )
    screenshot(admin, "10-user-removed")
    pat.reload()
    expect(pat.locator("main")).to_contain_text("not an active user of your organization")

    # The admin reads what happened to Pat in the activity log, and downloads it.
    admin.get_by_role("link", name="Activity").click()
    admin.get_by_label("Work email").fill(pat_email)
    admin.get_by_role("button", name="Show").click()
    activity = admin.get_by_role("table", name="Activity")
    expect(activity).not_to_contain_text(sam_email)
    for kind in ("user.added", "association.started", "credential.credited", "association.ended"):
        expect(activity).to_contain_text(kind)
    expect(activity).to_contain_text("user.departed")
    expect(activity).to_contain_text(str(removal_on))
    screenshot(admin, "11-activity")
    with admin.expect_download() as download:
        admin.get_by_role("button", name="Download CSV").click()
    entries = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert {e["email"] for e in entries} == {pat_email}
    departed = next(e for e in entries if e["type"] == "user.departed")
    assert departed["removal_on"] == str(removal_on)
    # A link carries the filters (the designations page links to a person's expiry warnings).
    admin.goto(f"/org/activity?type=association.ended&email={pat_email}")
    expect(admin.get_by_label("Type")).to_have_value("association.ended")
    expect(admin.get_by_label("Work email")).to_have_value(pat_email)
    filtered = admin.get_by_role("table", name="Activity")
    expect(filtered).to_contain_text("association.ended")
    expect(filtered).not_to_contain_text("user.added")


def test_a_person_who_is_not_an_admin_never_sees_the_organization_pages(
    browser: Any, portal: Portal
) -> None:
    run = uuid.uuid4().hex[:6]
    page = sign_in(browser, portal, f"fabrikam-{run}", f"lee-{run}@fabrikam.com", "Lee")
    expect(page.get_by_role("link", name="My Learn profile")).to_be_visible()
    for name in ("Users", "Skills Report", "Designations", "Activity"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    for path in ("/org/users", "/org/skills-report", "/org/designations", "/org/activity"):
        page.goto(path)
        expect(page.locator("main")).to_contain_text("for Global admins and Account admins")
        expect(page.get_by_role("table")).to_have_count(0)
