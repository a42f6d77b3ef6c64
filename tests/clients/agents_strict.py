"""openai-agents (0.24.0, over mcp 1.30.0) turns every tool of ``pba-tunnel serve`` into an OpenAI strict tool.

Usage: python agents_strict.py '<json plan>'   plan = {command, args}
Run by the interpreter of the client venv. It starts the server over stdio (with this process's environment,
so PBA_TUNNEL_HOME selects the store) the way an agent author does, ``Agent(mcp_servers=[...],
mcp_config={"convert_schemas_to_strict": True})``, and asks the agent for its MCP tools: the same conversion
an agent run does before it sends the tools to the model. A tool whose schema cannot be made strict is not an
error there: openai-agents logs it and quietly sends the tool non-strict; the summary shows it as
``strict: false`` with the logged reason. Last line on stdout: a JSON summary; exit 0 when the tools were
listed, 1 when something raised.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from importlib.metadata import version
from typing import Any

import anyio
from agents import Agent, FunctionTool, RunContextWrapper
from agents.mcp import MCPServerStdio


class Collect(logging.Handler):
    """Keeps the records openai-agents logs (the reason a schema fell back to non-strict is logged at INFO)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def main(plan: dict[str, Any], summary: dict[str, Any], logs: Collect) -> None:
    params = {"command": plan["command"], "args": plan["args"], "env": dict(os.environ)}
    async with MCPServerStdio(params=params, name="pba-tunnel", client_session_timeout_seconds=120) as server:
        agent = Agent(name="probe", mcp_servers=[server], mcp_config={"convert_schemas_to_strict": True})
        tools = await agent.get_mcp_tools(RunContextWrapper(context=None))
    summary["tools"] = [
        {
            "name": tool.name,
            "strict": tool.strict_json_schema,
            "schema": tool.params_json_schema,
        }
        for tool in tools
        if isinstance(tool, FunctionTool)
    ]
    summary["others"] = [type(tool).__name__ for tool in tools if not isinstance(tool, FunctionTool)]
    summary["strictErrors"] = [message for message in logs.messages if "strict" in message.lower()]
    summary["ok"] = True


def describe(error: BaseException | None) -> str:
    """``Type: message`` of the error, or of each error inside an exception group (task groups wrap them)."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    result: dict[str, Any] = {"ok": False, "versions": {name: version(name) for name in ("openai-agents", "mcp")}}
    handler = Collect()
    logger = logging.getLogger("openai.agents")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        anyio.run(main, json.loads(sys.argv[1]), result, handler)
    except BaseException:  # report any failure as JSON
        result["error"] = describe(sys.exc_info()[1])
        result["traceback"] = traceback.format_exc()[-4000:]
    sys.stdout.write(json.dumps(result) + "\n")
    sys.exit(0 if result["ok"] else 1)
