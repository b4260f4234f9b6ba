"""Watching a browser page for Content Security Policy violations, the two ways Chromium reports
them: the ``securitypolicyviolation`` event (collected in ``window.__cspViolations``) and its console
messages. Every browser test that promises "zero CSP violations" opens its pages through this."""

from __future__ import annotations

LISTEN_JS = """document.addEventListener('securitypolicyviolation',
  e => (window.__cspViolations = window.__cspViolations || []).push(e.violatedDirective + ' ' + e.blockedURI));"""
VIOLATIONS_JS = """() => window.__cspViolations || []"""


def watch(page):
    """``page`` with both reports collected (``violations(page)`` reads them)."""
    page.add_init_script(LISTEN_JS)
    page.csp_messages = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.csp_messages.append(msg.text))
    return page


def watched_page(browser, base_url: str):
    """A new browser context on ``base_url`` and a watched page in it."""
    return watch(browser.new_context(base_url=base_url).new_page())


def violations(page) -> list:
    """What the page reported so far: console messages, then the events of the page now shown."""
    return page.csp_messages + page.evaluate(VIOLATIONS_JS)
