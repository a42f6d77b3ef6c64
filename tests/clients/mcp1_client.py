"""A real Python ``mcp`` 1.x client driving ``pba-tunnel serve``; run by the interpreter of a client venv.

Usage: python mcp1_client.py '<json plan>'
  plan = {transport: stdio | http | sse, command, args (stdio) | url (http, sse),
          prompt: {name, arguments}, tool: {name, arguments}, unknownPrompt,
          subscribe: {uri, writer: [argv], waitSeconds} (optional)}
It connects (stdio: starts the server with this process's environment, so PBA_TUNNEL_HOME selects the store),
walks every page of prompts/list, gets one prompt, calls one tool and gets a prompt that does not exist. With
``subscribe`` it subscribes to the URI, runs ``writer`` (another process writing to the store) and waits for
``notifications/resources/updated``. Last line on stdout: a JSON summary; exit 0 when every step ran (the test
judges the results), 1 when one raised (the summary says which, with the error).

This file runs under mcp 1.x (1.30.0 or 1.9.4), never under the project's environment: it imports nothing of
pba_tunnel and only the client APIs both versions have.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from contextlib import AbstractAsyncContextManager
from importlib.metadata import version
from typing import Any

import anyio
from mcp import ClientSession, McpError, StdioServerParameters, types
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client

try:  # 1.2x and later; 1.9.4 has only the older name
    from mcp.client.streamable_http import streamable_http_client as http_client
except ImportError:
    from mcp.client.streamable_http import streamablehttp_client as http_client


def connect(plan: dict[str, Any]) -> AbstractAsyncContextManager[Any]:
    """The transport's context manager; it yields (read, write, ...)."""
    if plan["transport"] == "stdio":
        params = StdioServerParameters(command=plan["command"], args=plan["args"], env=dict(os.environ))
        return stdio_client(params)
    if plan["transport"] == "http":
        return http_client(plan["url"])
    return sse_client(plan["url"])


def text_of(content: Any) -> str:
    return content.text if isinstance(content, types.TextContent) else repr(content)


async def main(plan: dict[str, Any], summary: dict[str, Any]) -> None:
    updated: list[str] = []
    got_update = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ServerNotification) and isinstance(
            message.root, types.ResourceUpdatedNotification
        ):
            updated.append(str(message.root.params.uri))
            got_update.set()

    started = time.monotonic()
    summary["step"] = "connect"
    async with connect(plan) as streams, ClientSession(streams[0], streams[1], message_handler=on_message) as session:
        init = await session.initialize()
        summary["connectSeconds"] = round(time.monotonic() - started, 3)
        summary["protocolVersion"] = init.protocolVersion
        summary["serverName"] = init.serverInfo.name
        summary["capabilities"] = init.capabilities.model_dump(mode="json", exclude_none=True)

        summary["step"] = "prompts/list"
        names: list[str] = []
        summary["pageSizes"] = []
        cursor = None
        while True:
            page = await session.list_prompts(cursor)
            summary["pageSizes"].append(len(page.prompts))
            names += [prompt.name for prompt in page.prompts]
            cursor = page.nextCursor
            if not cursor:
                break
        summary["promptNames"] = names

        summary["step"] = "prompts/get"
        prompt = await session.get_prompt(plan["prompt"]["name"], plan["prompt"]["arguments"])
        summary["promptMessages"] = [{"role": m.role, "text": text_of(m.content)} for m in prompt.messages]

        summary["step"] = "tools/call"
        result = await session.call_tool(plan["tool"]["name"], plan["tool"]["arguments"])
        summary["tool"] = {
            "isError": result.isError,
            "text": [text_of(c) for c in result.content],
            "structuredContent": getattr(result, "structuredContent", None),
        }

        summary["step"] = "prompts/get unknown"
        try:
            await session.get_prompt(plan["unknownPrompt"], {})
            summary["unknownPrompt"] = {"error": None}
        except McpError as error:
            summary["unknownPrompt"] = {"code": error.error.code, "message": error.error.message}

        if plan.get("subscribe"):
            subscribe = plan["subscribe"]
            summary["step"] = "resources/subscribe"
            await session.subscribe_resource(subscribe["uri"])
            summary["step"] = "write from another process"
            writer = await anyio.to_thread.run_sync(
                lambda: subprocess.run(subscribe["writer"], capture_output=True, text=True, check=False)
            )
            summary["writer"] = {"exit": writer.returncode, "stdout": writer.stdout, "stderr": writer.stderr[-2000:]}
            summary["step"] = "wait for resources/updated"
            with anyio.move_on_after(subscribe["waitSeconds"]):
                await got_update.wait()
            summary["updatedUris"] = updated
            summary["step"] = "resources/unsubscribe"
            await session.unsubscribe_resource(subscribe["uri"])
    summary["step"] = "done"
    summary["ok"] = True


def describe(error: BaseException | None) -> str:
    """``Type: message`` of the error, or of each error inside an exception group (task groups wrap them)."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    result: dict[str, Any] = {"ok": False, "mcpVersion": version("mcp")}
    try:
        anyio.run(main, json.loads(sys.argv[1]), result)
    except BaseException:  # report any failure, with the step it happened in, as JSON
        result["error"] = describe(sys.exc_info()[1])
        result["traceback"] = traceback.format_exc()[-4000:]
    sys.stdout.write(json.dumps(result) + "\n")
    sys.exit(0 if result["ok"] else 1)
