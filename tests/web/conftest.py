"""Fixtures of the web page tests: one ``pba-tunnel ui`` and one token-guarded server, one browser (and a second
one for the conflict test), for the whole package. Each browser test leaves a screenshot in
tests/web/screenshots/<test name>.png (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_server import ChatServer

from .pages import ENHANCE_ANSWER, STORE
from .web_support import Browser, WebServer, browser_recorder, prepare_store, require_chromium, screenshot

TOKEN = "web-test-token-0123456789"
# Two renders, then one a minute: the page's previews draw from the same bucket as MCP renders.
GUARDED_LIMITS = {"PBA_TUNNEL_RATE_RENDERS": str(1 / 60), "PBA_TUNNEL_RATE_RENDERS_BURST": "2"}


@pytest.fixture(scope="package")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, WebServer]]:
    """``pba-tunnel ui`` over the test store, and ``serve --transport http --auth-token`` beside it."""
    home = tmp_path_factory.mktemp("web-home")
    prepare_store(home, STORE)
    chat = ChatServer(ENHANCE_ANSWER)
    browser_command, _record = browser_recorder(home)
    env = {
        "OPENAI_BASE_URL": f"{chat.url}/v1",
        "OPENAI_API_KEY": "test-key",
        "PBA_TUNNEL_PROVIDER_RETRIES": "0",
        "BROWSER": browser_command,  # `ui` opens the page with it: the test reads which address it was given
    }
    guarded_home = tmp_path_factory.mktemp("web-guarded-home")  # its tokens must not lock the other server
    prepare_store(guarded_home, {"delete-demo": STORE["delete-demo"]}, seed=False)
    started = [
        WebServer(home, command="ui", env=env),
        WebServer(guarded_home, "--auth-token", TOKEN, env=GUARDED_LIMITS),
    ]
    try:
        for server in started:
            server.wait_ready()
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()
        chat.stop()


@pytest.fixture(scope="package")
def server(servers: tuple[WebServer, WebServer]) -> WebServer:
    return servers[0]


def opened_browser() -> Iterator[Browser]:
    require_chromium()
    opened = Browser()
    try:
        yield opened
    finally:
        opened.quit()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    yield from opened_browser()


@pytest.fixture(scope="package")
def second_browser() -> Iterator[Browser]:
    yield from opened_browser()


@pytest.fixture
def browser_test(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Browser]:
    """The module's browser at desktop size; a screenshot of what it shows is saved after the test."""
    browser.driver.set_window_size(1280, 900)
    yield browser
    screenshot(browser.driver, request.node.name)
