#!/usr/bin/env python3
"""The console (contract section 14) in a real browser.

Starts the real binary on a fresh database (SQLite, or PostgreSQL with
--postgres URL), creates people with its command line and data with its API,
and drives Debian's Chromium through Playwright through every flow: sign-in
with two steps, search, filters and pages, create and edit with an error next
to its field, delete, restore, erase, bulk export and delete, reports and
their exports, webhooks with a local receiver and Resend, key roll with both
secrets working, invites and every role's limits (each checked by sending the
refused request by hand), test mode, themes, and the operators' page.

On every page it checks the console's headers, that hostile data stored
through the API ran nothing (no dialog, no injected element, no CSP
violation), and runs axe-core in both themes (no serious or critical
violation). With --screenshots DIR it saves each page in both themes there.

    tests/browser/console.py target/debug/clientele [--postgres URL] [--screenshots DIR]
"""

import argparse
import base64
import csv
import hashlib
import hmac
import http.server
import io
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect, sync_playwright

HERE = pathlib.Path(__file__).resolve().parent
AXE = (HERE / "axe.min.js").read_text()
CHROMIUM = os.environ.get("CLIENTELE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
# Stored through the API; each would run or inject something if the console
# rendered it as markup.
HOSTILE = {
    "firstName": "<img src=x onerror=alert(1)>",
    "lastName": "=HYPERLINK(\"http://evil.example\")",
    "externalId": "javascript:alert(3)",
    "metadata": {"note": "<script>alert(2)</script>", "link": "javascript:alert(4)"},
    "shippingAddresses": [{"label": "<svg onload=alert(5)>", "city": "<b>Bold</b>", "country": "DE"}],
    "customFields": {"note": "<iframe src=javascript:alert(6)>"},
}


USED_STEPS: dict[str, int] = {}


def totp(secret: str) -> str:
    """RFC 6238: SHA-1, 6 digits, 30 s steps, as the server checks. The
    server takes each code once: a second one waits for the next step."""
    step = int(time.time() // 30)
    if USED_STEPS.get(secret, -1) >= step:
        time.sleep((step + 1) * 30 - time.time() + 0.2)
        step = int(time.time() // 30)
    USED_STEPS[secret] = step
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", step)
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


class Server:
    """The real binary, on a database of its own, on a free port."""

    def __init__(self, binary: str, database_url: str, work: pathlib.Path):
        self.binary, self.work = binary, work
        self.env = {"PATH": os.environ["PATH"], "CLIENTELE_DATABASE_URL": database_url,
                    "CLIENTELE_BIND": "127.0.0.1:0", "RUST_LOG": "warn,clientele=info",
                    "CLIENTELE_RATE_LIMIT_PER_SECOND": "1000", "CLIENTELE_RATE_LIMIT_BURST": "1000",
                    "CLIENTELE_WEBHOOK_RETRY_BASE_SECONDS": "1"}
        self.stdout = open(work / "stdout", "w+")
        self.stderr = open(work / "stderr", "w+")
        self.process = subprocess.Popen([binary], env=self.env, stdout=self.stdout, stderr=self.stderr)
        for _ in range(300):
            log = (work / "stderr").read_text()
            found = re.search(r"\(port (\d+)\)", log)
            if found:
                break
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log}")
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        self.url = f"http://127.0.0.1:{found.group(1)}"
        first = json.loads((work / "stdout").read_text().splitlines()[0])
        self.org, self.key, self.test_key = first["organizationId"], first["apiKey"], first["testApiKey"]

    def stop(self):
        self.process.terminate()
        self.process.wait(10)

    def cli(self, *args: str) -> dict:
        done = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.splitlines()[-1])

    def invite(self, email: str, role: str | None) -> str:
        scope = ["--platform"] if role is None else ["--organization", self.org, "--role", role]
        url = self.cli("user", "invite", "--email", email, *scope)["inviteUrl"]
        return "/console/" + url.split("/console/", 1)[1]

    def api(self, method: str, path: str, key: str | None = None, body=None, raw=False):
        request = urllib.request.Request(
            f"{self.url}/v1/public-api/organizations/{self.org}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"ApiKey {key or self.key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, (text if raw else json.loads(text or "null"))
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class Receiver:
    """A webhook receiver on a local port: answers 200, remembers each."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def wait_for(self, count: int, seconds: float) -> list:
        deadline = time.time() + seconds
        while len(self.received) < count:
            assert time.time() < deadline, f"{len(self.received)} deliveries, not {count}, in {seconds} s"
            time.sleep(0.05)
        return self.received


class Watch:
    """What must never happen on any page: a dialog, a CSP violation, an
    element made from stored data, an answer without the console's headers,
    a request to any other host."""

    def __init__(self, origin: str):
        self.origin = origin
        self.problems: list[str] = []

    def attach(self, page: Page):
        page.on("request", lambda r: r.url.startswith((self.origin + "/", "data:"))
                or self.problems.append(f"a request to another host: {r.url}"))
        page.on("dialog", lambda d: (self.problems.append(f"a dialog fired: {d.message}"), d.dismiss()))
        page.on("console", lambda m: "Content Security Policy" in m.text
                and self.problems.append(f"CSP violation: {m.text}"))
        page.on("response", self.headers)

    def headers(self, response):
        url = response.url
        if "/console" not in url or "/console/api/" in url:
            return
        headers = response.headers
        expected = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
                    "referrer-policy": "same-origin"}
        for name, value in expected.items():
            if headers.get(name) != value:
                self.problems.append(f"{url}: {name} is {headers.get(name)!r}")

    def check(self, page: Page):
        injected = page.evaluate("""() => document.querySelectorAll(
            'img[src="x"], svg[onload], iframe, script:not([src]), [onerror], [onload]').length""")
        if injected:
            self.problems.append(f"{page.url}: {injected} element(s) made from stored data")
        assert not self.problems, "\n".join(self.problems)


class Console:
    """One person's browser, signed in or not."""

    def __init__(self, browser, server: Server, watch: Watch, shots: pathlib.Path | None):
        self.server, self.watch, self.shots = server, watch, shots
        self.context = browser.new_context(base_url=server.url, accept_downloads=True)
        self.page = self.context.new_page()
        watch.attach(self.page)

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(path)
        assert response.status == status, f"{path}: {response.status}, not {status}"
        self.look()

    def look(self, name: str | None = None):
        """The page as it is: nothing ran, axe finds nothing serious in
        either theme, and (with --screenshots) a picture of each."""
        self.watch.check(self.page)
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            axe(self.page)
            if self.shots and name:
                self.page.screenshot(path=str(self.shots / f"{name}-{scheme}.png"), full_page=True)
        self.page.emulate_media(color_scheme="light")

    def csrf(self) -> str:
        return self.page.locator("input[name=csrf]").first.get_attribute("value")

    def post(self, path: str, form: dict) -> int:
        """A form sent by hand, as a person could without the console's
        buttons: the server alone decides."""
        return self.context.request.post(self.server.url + path, form=form, max_redirects=0).status

    def sign_in(self, email: str, secret: str | None = None):
        self.goto("/console/sign-in")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        if secret:
            self.page.get_by_label("Code").fill(totp(secret))
            self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def accept(self, invite: str):
        self.goto(invite)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Set password").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def nav(self) -> list[str]:
        return self.page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()


def axe(page: Page):
    """axe-core's WCAG 2 A and AA rules: no serious or critical violation.
    Evaluated through the DevTools protocol, which the page's CSP does not
    govern (it refuses an injected script tag, rightly)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    found = page.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)""")
    assert not found, f"{page.url}: axe found\n" + "\n".join(found)


def csv_rows(download) -> list[dict]:
    return list(csv.DictReader(io.StringIO(pathlib.Path(download.path()).read_text())))


def run(binary: str, database_url: str, shots: pathlib.Path | None):
    work = pathlib.Path(tempfile.mkdtemp())
    server = Server(binary, database_url, work)
    watch = Watch(server.url)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            flows(browser, server, watch, shots)
            browser.close()
    finally:
        server.stop()
    print(f"console: every flow passed on {database_url.split(':')[0]}")


def flows(browser, server: Server, watch: Watch, shots):
    # Data, through the API: a custom field, hostile customers, a test-mode one.
    assert server.api("POST", "/custom-fields", body={"name": "note", "type": "string"})[0] == 201
    hostile = server.api("POST", "/customers", body={**HOSTILE, "email": "hostile@example.com"})
    assert hostile[0] == 201, hostile
    hostile_id = hostile[1]["id"]
    for i in range(24):
        country = ["US", "DE", "FR"][i % 3]
        body = {"firstName": f"Paged{i:02d}", "lastName": "Walker", "email": f"paged{i}@example.com",
                "language": ["en", "de"][i % 2], "address": {"country": country}}
        assert server.api("POST", "/customers", body=body)[0] == 201
    assert server.api("POST", "/customers", key=server.test_key, body={"firstName": "Testonly"})[0] == 201

    owner = Console(browser, server, watch, shots)
    # Sign-in, then two-step sign-in set up, then signing in with a code.
    owner.accept(server.invite("owner@example.com", "owner"))
    owner.goto("/console/two-step")
    secret = owner.page.locator("li .secret").inner_text().strip()
    owner.page.get_by_label("Code").fill(totp(secret))
    owner.page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(owner.page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    owner.page.get_by_role("button", name="Sign out").click()
    expect(owner.page.get_by_role("button", name="Sign in")).to_be_visible()
    owner.look("sign-in")
    owner.sign_in("owner@example.com", secret)
    assert {"Customers", "Reports"} <= set(owner.nav()), owner.nav()

    customers(owner, server, hostile_id)
    reports(owner, server)
    developers(owner, server)
    people(browser, owner, server, watch)
    test_mode_and_theme(owner)


def customers(owner: Console, server: Server, hostile_id: str):
    page = owner.page
    owner.goto("/console/customers")
    owner.look("customers")
    # "/" goes to the search box, whose accessible name is "Search customers".
    page.locator("body").press("/")
    assert page.evaluate("() => document.activeElement.id") == "search"
    search = page.get_by_role("searchbox", name="Search customers")
    search.fill("paged07")
    search.press("Enter")
    expect(page.get_by_role("link", name="Paged07 Walker")).to_be_visible()
    assert page.locator("tbody tr").count() == 1
    # Cursor pages of 20, with a total.
    owner.goto("/console/customers?includeTotal=true&sort=createdTime")
    expect(page.get_by_role("status")).to_have_text("25 matching customers.")
    assert page.locator("tbody tr").count() == 20
    page.get_by_role("link", name="Next page").click()
    assert page.locator("tbody tr").count() == 5
    owner.look()
    page.get_by_role("link", name="Previous page").click()
    assert page.locator("tbody tr").count() == 20
    expect(page.get_by_role("link", name="Previous page")).to_have_count(0)
    # A filter, refused with its message next to it.
    owner.goto("/console/customers?createdFrom=yesterday", 422)
    expect(page.locator(".field-error")).to_contain_text("RFC 3339")

    # The hostile customer, shown as text everywhere.
    owner.goto(f"/console/customers/{hostile_id}")
    owner.look("customer")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE["firstName"] + " " + HOSTILE["lastName"])
    expect(page.get_by_text("<script>alert(2)</script>", exact=False)).to_be_visible()
    expect(page.get_by_text("customer.created")).to_be_visible()

    # Create, refused next to the field, then fixed.
    owner.goto("/console/customers/new")
    owner.look("customer-new")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Email", exact=True).fill("grace at navy")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-email-error")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Grace")
    owner.look("customer-refused")
    page.get_by_label("Email", exact=True).fill("grace@navy.mil")
    page.get_by_label("Country").fill("US")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    grace = page.url.rsplit("/", 1)[1]
    assert grace.startswith("cus_"), page.url
    status, body = server.api("GET", f"/customers/{grace}")
    assert status == 200 and body["email"] == "grace@navy.mil" and body["address"]["country"] == "US", body
    # Edit.
    page.get_by_role("link", name="Edit").click()
    owner.look("customer-edit")
    page.get_by_label("Last name").fill("Murray Hopper")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Murray Hopper")
    assert server.api("GET", f"/customers/{grace}")[1]["revision"] == 2
    # Delete, restore.
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("This customer was deleted")).to_be_visible()
    assert server.api("GET", f"/customers/{grace}")[0] == 404
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("button", name="Delete")).to_be_visible()
    assert server.api("GET", f"/customers/{grace}")[0] == 200
    # Erase asks for the id first.
    page.get_by_label(re.compile("Type the customer's id")).fill("cus_wrong")
    page.get_by_role("button", name="Erase").click()
    expect(page.locator("#confirm-error")).to_be_visible()
    page.get_by_label(re.compile("Type the customer's id")).fill(grace)
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_text("personal data was erased")).to_be_visible()
    status, listed = server.api("GET", f"/customers?includeDeleted=true&q=grace")
    assert status == 200 and listed["data"] == [], listed

    # Bulk: export two selected rows, then delete them.
    owner.goto("/console/customers?q=walker&sort=createdTime")
    boxes = page.get_by_role("checkbox", name=re.compile("^Select Paged0[01]"))
    assert boxes.count() == 2
    for i in range(2):
        boxes.nth(i).check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export selected").click()
    rows = csv_rows(download.value)
    assert sorted(r["firstName"] for r in rows) == ["Paged00", "Paged01"], rows
    for i in range(2):
        page.get_by_role("checkbox", name=re.compile("^Select Paged0[01]")).nth(i).check()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_text("Deleted 2 customers.")).to_be_visible()
    assert server.api("GET", "/customers?q=walker&includeTotal=true")[1]["total"] == 22


def reports(owner: Console, server: Server):
    page = owner.page
    owner.goto("/console/reports")
    owner.look("reports")
    stats = server.api("GET", "/customers/stats?groupBy=country")[1]["groups"]
    page.get_by_text("By country, as a table").click()
    shown = page.locator("table[data-chart=country] tbody tr").all_inner_texts()
    expected = [f"{g['key'] or 'none'}\t{g['count']}" for g in stats]
    assert shown == expected, (shown, expected)
    # Exports honour the filters on the page.
    owner.goto("/console/reports?q=walker&period=month")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert len(csv_rows(download.value)) == 22
    with page.expect_download() as download:
        page.get_by_role("link", name="Export NDJSON").click()
    lines = pathlib.Path(download.value.path()).read_text().splitlines()
    assert len(lines) == 22 and all(json.loads(line)["lastName"] == "Walker" for line in lines)


def developers(owner: Console, server: Server):
    page = owner.page
    receiver = Receiver()
    owner.goto("/console/developers/webhooks")
    owner.look("webhooks")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_"), secret
    owner.look("webhook-created")
    owner.goto("/console/developers/webhooks")
    assert page.locator("#new-secret").count() == 0, "the secret is shown once"
    server.api("POST", "/customers", body={"firstName": "Hooked"})
    first = receiver.wait_for(1, 10)[0]
    page.get_by_role("link", name=receiver.url).click()
    expect(page.get_by_text("delivered")).to_be_visible()
    owner.look("webhook-deliveries")
    page.get_by_role("button", name=re.compile("^Resend")).first.click()
    expect(page.get_by_text("Sent again")).to_be_visible()
    again = receiver.wait_for(2, 5)[1]
    assert again[0]["clientele-event-id"] == first[0]["clientele-event-id"]

    # A key, rolled: both secrets work in the grace period; revoked: neither.
    owner.goto("/console/developers/keys")
    owner.look("keys")
    page.get_by_label("Name").fill("reporting")
    page.get_by_role("checkbox", name="customers:read").check()
    page.get_by_role("button", name="Create key").click()
    old = page.locator("#new-secret").inner_text()
    key_id = page.locator(".notice p").first.inner_text().split(":")[0]
    row = page.locator("tr", has_text=key_id)
    row.get_by_label(re.compile("Grace period")).select_option("1h")
    row.get_by_role("button", name=re.compile("^Roll")).click()
    new = page.locator("#new-secret").inner_text()
    assert new != old
    for secret in (old, new):
        assert server.api("GET", "/customers?limit=1", key=secret)[0] == 200
    page.locator("tr", has_text=key_id).get_by_role("button", name=re.compile("^Revoke")).click()
    for _ in range(40):
        if all(server.api("GET", "/customers?limit=1", key=s)[0] == 401 for s in (old, new)):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("a revoked key still works")

    owner.goto("/console/developers/custom-fields")
    owner.look("custom-fields")
    page.get_by_label("Name").fill("tier")
    page.get_by_label("Type").select_option("enum")
    page.get_by_label(re.compile("Allowed values")).fill("gold\nsilver")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("cell", name="gold, silver")).to_be_visible()
    owner.goto("/console/developers/events")
    owner.look("events")
    expect(page.get_by_role("cell", name="customer.created").first).to_be_visible()


def people(browser, owner: Console, server: Server, watch: Watch):
    page = owner.page
    owner.goto("/console/organization")
    owner.look("organization")
    expect(page.get_by_role("cell", name="customer.created").first).to_be_visible()
    owner.goto("/console/members")
    owner.look("members")
    page.get_by_label("Email").fill("support@example.com")
    page.get_by_label("Role", exact=True).select_option("support")
    page.get_by_role("button", name="Invite").click()
    link = page.locator(".notice .secret").inner_text()
    invite = "/console/" + link.split("/console/", 1)[1]

    # Each role sees its parts, and the server refuses the rest when the
    # request is sent by hand.
    support = Console(browser, server, watch, None)
    support.accept(invite)
    assert set(support.nav()) == {"Customers", "Reports", "Account"}, support.nav()
    csrf = support.csrf()
    assert support.context.request.get(server.url + "/console/reports").status == 403
    assert support.post("/console/developers/keys", {"csrf": csrf, "scopes": "customers:read"}) == 403
    assert support.post("/console/customers", {"csrf": csrf, "firstName": "Support"}) == 303

    analyst = Console(browser, server, watch, None)
    analyst.accept(server.invite("analyst@example.com", "analyst"))
    assert set(analyst.nav()) == {"Customers", "Reports", "Account"}, analyst.nav()
    assert analyst.post("/console/customers", {"csrf": analyst.csrf(), "firstName": "No"}) == 403
    analyst.goto("/console/reports")

    developer = Console(browser, server, watch, None)
    developer.accept(server.invite("developer@example.com", "developer"))
    assert set(developer.nav()) == {"Customers", "Reports", "Developers", "Account"}, developer.nav()
    assert developer.post("/console/customers", {"csrf": developer.csrf(), "firstName": "No"}) == 403
    developer.goto("/console/developers/keys")

    operator = Console(browser, server, watch, None)
    operator.accept(server.invite("operator@example.com", None))
    operator.goto("/console/organizations")
    operator.look("organizations")
    row = operator.page.locator("tr", has_text=server.org)
    # 25 made, 2 deleted in bulk, 1 by a webhook's test, 1 by support.
    expect(row.locator("td").nth(2)).to_have_text("25")
    row.get_by_role("button", name=re.compile("^View")).click()
    expect(operator.page.get_by_text("Read only")).to_be_visible()
    assert operator.post("/console/customers", {"csrf": operator.csrf(), "firstName": "No"}) == 403
    status, audit = server.api("GET", "/audit-events?action=organization.viewed")
    assert status == 200 and audit["data"], audit


def test_mode_and_theme(owner: Console):
    page = owner.page
    owner.goto("/console/customers")
    switch = page.get_by_role("switch", name="Test mode")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(page.get_by_role("switch", name="Test mode")).to_have_attribute("aria-checked", "true")
    expect(page.locator(".banner")).to_contain_text("Test mode")
    names = page.locator("tbody td:nth-child(2)").all_inner_texts()
    assert names == ["Testonly"], names
    owner.look("customers-test-mode")
    page.get_by_role("switch", name="Test mode").click()
    expect(page.locator(".banner")).to_have_count(0)
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Use theme").click()
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    owner.look()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--postgres", help="a database URL to run on instead of SQLite")
    parser.add_argument("--screenshots", type=pathlib.Path)
    args = parser.parse_args()
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    database = args.postgres or f"sqlite://{tempfile.mkdtemp()}/console.db"
    run(str(pathlib.Path(args.binary).resolve()), database, args.screenshots)


if __name__ == "__main__":
    sys.exit(main())
