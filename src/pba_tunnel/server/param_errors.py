"""Details for the SDK's refusal of malformed ``prompts/get`` params: which field, and that arguments are strings.

The SDK validates a request's params against the protocol's types before any handler runs, and answers a failure
with -32602 "Invalid request parameters" and empty ``data``. Its server middleware (``Server.middleware``) sees
that failure as the pydantic ``ValidationError`` (``ServerMiddleware``'s docstring says so); this middleware
answers the same -32602 with the fields named. Validation itself stays the SDK's: nothing here accepts params the
SDK refused.
"""

from __future__ import annotations

import json
from typing import Any

from mcp import MCPError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import GetPromptRequest, GetPromptRequestParams
from pydantic import ValidationError

from ..errors import ArgumentError
from .errors import INVALID_PARAMS

# The methods whose params our handler would otherwise have checked itself, with the models the SDK checks them by
# (the request, or its params alone).
DETAILED_METHODS = {"prompts/get": frozenset({GetPromptRequest.__name__, GetPromptRequestParams.__name__})}
MAX_SHOWN = 40  # characters of a refused value shown back


def shown(value: Any) -> str:
    """A refused value as JSON, cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def as_string(value: Any) -> str:
    """How a refused argument value would be sent as a string."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def detailed_error(error: ValidationError) -> MCPError:
    """The SDK's -32602 for ``prompts/get``, with each refused field in its message and data, and the remedy."""
    problems = []
    example: dict[str, str] = {}  # the refused prompt arguments, as strings
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        loc = loc[1:] if loc[:1] == ["params"] else loc
        where = ".".join(loc) or "params"
        if item["type"] != "string_type":
            problems.append(f"{where}: {item['msg']}")
        elif item["input"] is None:
            problems.append(f"{where}: null is not a string (leave the argument out instead)")
        else:
            problems.append(f"{where}: {shown(item['input'])} is not a string")
            if loc[:1] == ["arguments"] and len(loc) == 2:
                example[loc[1]] = as_string(item["input"])
    message = f"Invalid request parameters: {'; '.join(problems)}"
    if example:
        name, value = next(iter(example.items()))
        sample = json.dumps({name: value if len(value) <= MAX_SHOWN else "..."}, ensure_ascii=False)
        message += f"; prompt arguments are strings: send each value as a JSON string, e.g. {sample}"
    reason = ArgumentError.code if any(p.startswith("arguments") for p in problems) else "invalid_params"
    return MCPError(code=INVALID_PARAMS, message=message, data={"reason": reason, "problems": problems})


async def detail_param_errors(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: the SDK's params refusal for ``prompts/get``, with what was wrong."""
    try:
        return await call_next(ctx)
    except ValidationError as exc:
        # Only the SDK's check of the request's params: a result failing validation is the server's fault.
        if exc.title not in DETAILED_METHODS.get(ctx.method, ()):
            raise
        raise detailed_error(exc) from None
