"""``serve --transport http --stateless --workers N``: several processes on one port, and when it is refused."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp_server_support import GREET_SOURCE, cli
from team_support import NOTIFY_SECONDS, greet_version, instances, next_change, pg_instance, prepare_pg_store, update

from pba_tunnel.errors import ConfigError
from pba_tunnel.server.serve import check_workers
from postgres_server import PostgresServer


def test_several_workers_without_stateless_http_are_refused_with_the_reason(home: Path) -> None:
    done = cli(home, "serve", "--transport", "http", "--workers", "2")
    assert done.returncode == 1
    assert done.stderr == (
        "error: --workers 2 needs --transport http --stateless: a session lives in the one process that created "
        "it, and with several workers a client's next request may reach another process that does not know it; "
        "pass --stateless (or --workers 1)\n"
    )


@pytest.mark.parametrize(("transport", "stateless"), [("sse", True), ("stdio", True), ("http", False)])
def test_only_stateless_http_may_have_several_workers(transport: str, stateless: bool) -> None:
    with pytest.raises(ConfigError, match="--workers 3 needs --transport http --stateless"):
        check_workers(3, transport=transport, stateless=stateless)
    check_workers(1, transport=transport, stateless=stateless)  # one process is always fine
    check_workers(3, transport="http", stateless=True)


@pytest.mark.slow
@pytest.mark.anyio
async def test_two_workers_on_one_port_serve_and_tell_listeners_of_writes(
    postgres_server: PostgresServer, home: Path
) -> None:
    url = postgres_server.create_database("workers")
    await prepare_pg_store(home, url, {"greet": GREET_SOURCE})
    with instances(pg_instance(home, url, "--workers", "2")) as (server,):
        endpoint = f"{server.base}/mcp"
        async with (
            Client(endpoint, cache=None) as listener,
            Client(endpoint, cache=None) as writer,
            listener.listen(prompts_list_changed=True) as subscription,
        ):
            for number in range(5):  # whichever worker takes each write, the listener hears of it
                result = await update(writer, "greet", greet_version(f"Hi #{number}"))
                assert not result.is_error
                await next_change(subscription, NOTIFY_SECONDS)
            async with anyio.create_task_group() as group:  # concurrent requests, spread over the workers

                async def get() -> None:
                    content = (await writer.get_prompt("greet", {"who": "Ann"})).messages[0].content
                    assert content.type == "text"
                    assert content.text == "Hi #4 Ann!"

                for _ in range(20):
                    group.start_soon(get)
