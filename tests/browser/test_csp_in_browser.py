"""Every console page, loaded in Chromium under the strict CSP, breaks no rule of it: no violation
in the browser, none reported to the server's report endpoint."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urljoin, urlsplit

from tests.csp_watch import LISTEN_JS, VIOLATIONS_JS
from tests.live_server import ROOT
from tests.sign_in import totp_code

SKIP = ("/download/", "/logout/", "/export", "/csp-report/")


def _stored_violations(live_demo) -> int:
    code = "from bastion.hardening.models import CspViolation; print(CspViolation.objects.count())"
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "shell", "-c", code], cwd=ROOT,
                            env=live_demo.env, capture_output=True, text=True, check=True)
    return int(result.stdout.strip().splitlines()[-1])


def test_every_console_page_keeps_to_the_csp(page_for, live_demo):
    page = page_for("editor@acme.example")
    page.add_init_script(LISTEN_JS)
    violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    origin = f"{urlsplit(live_demo.url).scheme}://{urlsplit(live_demo.url).netloc}"
    queue = ["/o/acme/", "/accounts/2fa/", "/accounts/sessions/", "/accounts/password/change/",
             "/accounts/email/", "/orgs/"]
    seen: set[str] = set()
    while queue and len(seen) < 60:
        path = queue.pop(0)
        if path in seen or any(part in path for part in SKIP):
            continue
        seen.add(path)
        page.goto(path)
        page.wait_for_load_state()
        violations.extend(f"{path}: {v}" for v in page.evaluate(VIOLATIONS_JS))
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urlsplit(urljoin(origin + path, href))
            if f"{target.scheme}://{target.netloc}" == origin and target.path not in seen:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert len(seen) >= 20, sorted(seen)
    assert violations == []
    # The anonymous pages too: sign-in (with its passkey script), sign-up, reset.
    anonymous = page.context.browser.new_context(base_url=live_demo.url).new_page()
    anonymous.add_init_script(LISTEN_JS)
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/no/such/page/"):
        anonymous.goto(path)
        anonymous.wait_for_load_state()
        violations.extend(f"{path}: {v}" for v in anonymous.evaluate(VIOLATIONS_JS))
    anonymous.context.close()
    assert violations == []
    assert _stored_violations(live_demo) == 0

    # The watch works: a page that does break the policy is seen by the browser and reported.
    page.goto("/o/acme/")
    page.evaluate("() => { const img = document.createElement('img'); img.src = 'https://tracker.invalid/p.gif';"
                  " document.body.appendChild(img); }")
    page.wait_for_function("() => (window.__cspViolations || []).length > 0")
    assert "img-src" in page.evaluate(VIOLATIONS_JS)[0]
    for _ in range(50):
        if _stored_violations(live_demo):
            break
        page.wait_for_timeout(200)
    assert _stored_violations(live_demo) >= 1


def test_the_mfa_and_admin_pages_keep_to_the_csp(browser, live_demo):
    """The pages with scripts or images of their own (TOTP's QR code, WebAuthn, recovery codes) and
    the admins' Security page, walked by an admin enrolling a second factor."""
    page = browser.new_context(base_url=live_demo.url).new_page()
    page.add_init_script(LISTEN_JS)
    violations = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "admin@acme.example")
    page.fill("input[name=password]", live_demo.password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    page.goto("/accounts/2fa/totp/activate/")
    if "/accounts/reauthenticate/" in page.url:
        page.fill("input[name=password]", live_demo.password)
        page.click("form[action='/accounts/reauthenticate/'] button[type=submit]")
        page.wait_for_load_state()
    assert page.locator("img[src^='data:image/svg+xml']").count() == 1  # the QR code, an allowed data: image
    violations.extend(page.evaluate(VIOLATIONS_JS))
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("input[name=code]", totp_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    for path in ("/accounts/2fa/recovery-codes/", "/accounts/2fa/webauthn/add/", "/accounts/2fa/",
                 "/o/acme/security/", "/o/acme/members/", "/o/acme/roles/", "/o/acme/audit/"):
        page.goto(path)
        page.wait_for_load_state()
        assert path in page.url, (path, page.url)
        violations.extend(f"{path}: {v}" for v in page.evaluate(VIOLATIONS_JS))
    page.context.close()
    assert violations == []
