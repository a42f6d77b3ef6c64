"""The web page over plain HTTP: security headers, CSRF, Host checks, sign-in with the API's tokens, ``ui``."""

from __future__ import annotations

import re
import sqlite3
import time

import httpx2
import pytest

from conftest import run_cli

from .conftest import TOKEN
from .web_support import WebServer

pytestmark = pytest.mark.slow  # shares the package's servers (see conftest.py)


def csrf_of(client: httpx2.Client, path: str) -> str:
    page = client.get(path)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def test_pages_carry_a_strict_content_security_policy(servers: tuple[WebServer, WebServer]) -> None:
    server, _ = servers
    for path in ("/", "/t/delete-demo", "/static/app.js", "/t/no-such-template"):
        response = httpx2.get(server.base + path, timeout=5)
        policy = response.headers["content-security-policy"]
        assert policy.startswith("default-src 'none'; script-src 'self'; style-src 'self';"), path
        assert "unsafe-inline" not in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx2.get(server.base + "/t/no-such-template", timeout=5).status_code == 404


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(servers: tuple[WebServer, WebServer]) -> None:
    server, _ = servers
    with httpx2.Client(base_url=server.base, timeout=5) as client:
        token = csrf_of(client, "/t/delete-demo")
        refused = client.post("/t/delete-demo/delete", data={})
        assert refused.status_code == 403
        assert "no valid security token" in refused.text
        forged = client.post("/t/delete-demo/delete", data={"csrf_token": "guessed"})
        assert forged.status_code == 403
        other_site = client.post(
            "/t/delete-demo/delete", data={"csrf_token": token}, headers={"Origin": "http://evil.example"}
        )
        assert other_site.status_code == 403
        assert "Restore" not in client.get("/t/delete-demo").text  # still there
        accepted = client.post("/t/delete-demo/delete", data={"csrf_token": token})
        assert accepted.status_code == 303
        assert client.post("/t/delete-demo/restore", data={"csrf_token": token}).status_code == 303


def test_foreign_hosts_are_refused_as_on_mcp(servers: tuple[WebServer, WebServer]) -> None:
    server, _ = servers
    response = httpx2.get(server.base + "/", headers={"Host": "evil.example.com"}, timeout=5)
    assert response.status_code == 421
    assert httpx2.get(server.base + "/", headers={"Host": f"localhost:{server.port}"}, timeout=5).status_code == 200


def test_with_a_token_the_page_asks_to_sign_in_and_sets_an_http_only_strict_cookie(
    servers: tuple[WebServer, WebServer],
) -> None:
    _, server = servers
    with httpx2.Client(base_url=server.base, timeout=5) as client:
        first = client.get("/t/delete-demo")
        assert (first.status_code, first.headers["location"]) == (303, "/login")
        login = client.get("/login").text  # the server is bound to 127.0.0.1: the page says so, not "the network"
        assert "This server listens on this machine only, but it has access tokens, so it asks for one" in login
        assert "reachable from the network" not in login
        token = csrf_of(client, "/login")
        wrong = client.post("/login", data={"csrf_token": token, "token": "not-it"})
        assert wrong.status_code == 401
        assert "not this server's token" in wrong.text
        signed = client.post("/login", data={"csrf_token": token, "token": TOKEN})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert client.get("/t/delete-demo").status_code == 200
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/t/delete-demo").status_code == 303
    bearer = httpx2.get(server.base + "/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert bearer.status_code == 200
    mcp = httpx2.post(server.base + "/mcp", json={}, timeout=5)
    assert mcp.status_code == 401  # the MCP endpoint still wants the bearer header; a cookie is no way in


def test_a_read_token_from_the_store_signs_in_to_a_page_without_write_buttons(
    servers: tuple[WebServer, WebServer],
) -> None:
    _, server = servers
    created = run_cli("token", "create", "reader", "--scope", "read", home=server.home, env={"PBA_TUNNEL_SEED": "0"})
    assert created.returncode == 0, created.stderr
    secret = created.stdout.split()[0]
    with httpx2.Client(base_url=server.base, timeout=5) as client:
        token = csrf_of(client, "/login")
        assert client.post("/login", data={"csrf_token": token, "token": secret}).status_code == 303
        page = client.get("/t/delete-demo")
        assert page.status_code == 200
        assert 'href="/t/delete-demo/edit"' not in page.text
        assert 'href="/new"' not in page.text
        refused = client.post("/t/delete-demo/delete", data={"csrf_token": token})
        assert refused.status_code == 403
        assert "may only read" in refused.text
        preview = client.post("/t/delete-demo/preview", data={"csrf_token": token, "arg-who": "Ada", "fragment": "1"})
        assert "Bye Ada!" in preview.text  # reading includes trying a template
        revoked = run_cli("token", "revoke", "reader", home=server.home, env={"PBA_TUNNEL_SEED": "0"})
        assert revoked.returncode == 0, revoked.stderr
        deadline = time.monotonic() + 15  # the server trusts what it looked up for at most a second
        while client.get("/t/delete-demo").status_code != 303:
            assert time.monotonic() < deadline, "a revoked token still opens the page"
            time.sleep(0.2)


def test_a_token_stored_with_a_bad_label_is_told_why_it_cannot_sign_in(servers: tuple[WebServer, WebServer]) -> None:
    _, server = servers
    created = run_cli("token", "create", "odd", "--scope", "read", home=server.home, env={"PBA_TUNNEL_SEED": "0"})
    assert created.returncode == 0, created.stderr
    with sqlite3.connect(server.home / "pba-tunnel.db") as connection:  # as stored before labels were checked
        connection.execute("UPDATE api_tokens SET label = 'BAD' WHERE name = 'odd'")
    with httpx2.Client(base_url=server.base, timeout=5) as client:
        refused = client.post("/login", data={"csrf_token": csrf_of(client, "/login"), "token": created.stdout.strip()})
    assert refused.status_code == 401
    assert (
        "The token &#39;odd&#39; is fixed to the label &#39;BAD&#39;, which is not a valid label name, so it cannot be "
        "used: an admin must revoke it and create it again with a valid label." in refused.text
    )


def test_previews_count_against_the_tokens_render_limit(servers: tuple[WebServer, WebServer]) -> None:
    _, server = servers
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx2.Client(base_url=server.base, timeout=5, headers=headers) as client:
        token = csrf_of(client, "/t/delete-demo")
        form = {"csrf_token": token, "arg-who": "Ada", "fragment": "1"}
        answers = [client.post("/t/delete-demo/preview", data=form) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["retry-after"] == "60"
        assert "Too many renders from this token" in answers[2].text
        assert client.get("/t/delete-demo").status_code == 200  # reading a page is no render


def test_ui_serves_the_page_and_mcp_on_loopback_and_opens_the_browser(servers: tuple[WebServer, WebServer]) -> None:
    server, _ = servers
    record = server.log_path.parent / "opened-url.txt"
    deadline = time.monotonic() + 30
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text() == f"http://127.0.0.1:{server.port}/"
    page = httpx2.get(server.base + "/", timeout=5)
    assert page.status_code == 200
    assert "<h1>Library</h1>" in page.text
    assert f"web page at http://127.0.0.1:{server.port}/" in server.log()
    mcp = httpx2.post(
        server.base + "/mcp", json={}, headers={"Accept": "application/json, text/event-stream"}, timeout=5
    )
    assert mcp.status_code == 400  # the MCP endpoint answers beside the page (a bad request, said in JSON-RPC)
