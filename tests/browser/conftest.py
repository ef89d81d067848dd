"""Playwright harness: a real Chromium against apps served on 127.0.0.1, plus an axe-core check.

Browser tests never skip: a missing Chromium fails them, so CI cannot go green without running them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Keep Chromium quiet and offline: the tests only ever talk to 127.0.0.1.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before `-m 'not browser'` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM_PATH, os.X_OK):
        pytest.fail(
            f"Chromium is required for the browser tests and was not found at {CHROMIUM_PATH} "
            "(install the Debian package 'chromium' or set CHROMIUM_PATH)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page in a fresh context (no cookies shared between tests), in Swedish."""
    context = browser.new_context(locale="sv-SE")
    context.set_default_timeout(10_000)  # fail fast instead of Playwright's 30 s
    yield context.new_page()
    context.close()


@pytest.fixture
def live_server():
    """``live_server(app) -> base URL``: serve a WSGI app on a free port until the test ends."""
    running = []

    def serve(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live_server", daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server, thread in running:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def assert_no_axe_violations(page, context=None, options=None):
    """Run axe-core on the page as it is now; fail listing every violation and where it is."""
    kwargs = {"context": context} if context is not None else {}
    if options is not None:
        kwargs["options"] = options
    results = Axe().run(page, **kwargs)
    violations = results.response["violations"]
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
        for v in violations:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
            lines.extend(f"    at {' '.join(map(str, node['target']))}" for node in v["nodes"])
        pytest.fail("\n".join(lines), pytrace=False)
    return results
